import copy
import os
import sys
import unittest

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from fixture import NORMALISATION, TINY, bn_layer, mlp_head, rotation_batch, vgg_spec, xrays  # noqa: E402

from cxr_ssl.graph import Encoder, same_padding  # noqa: E402
from cxr_torch.model import InputNorm as EngineInputNorm  # noqa: E402
from cxr_torch.model import PretextNet  # noqa: E402


# MobileNetV2's ops: a stride-2 SAME conv, relu6, a depthwise conv without bias, a residual add
SAME_PADDED = {'name': 'g', 'channels': 1, 'inputNorm': 'minus1to1', 'normalisation': NORMALISATION['minus1to1'], 'features': 8, 'ops': [
    {'op': 'conv', 'id': 'a', 'name': 'stem', 'in': 1, 'out': 8, 'k': 3, 'stride': 2, 'pad': 'same', 'groups': 1, 'bias': True},
    {'op': 'relu6', 'id': 'a6'},
    {'op': 'conv', 'id': 'dw', 'name': 'dw', 'in': 8, 'out': 8, 'k': 3, 'stride': 1, 'pad': 1, 'groups': 8, 'bias': False},
    {'op': 'add', 'id': 'sum', 'inputs': ['a6', 'dw']},
    {'op': 'maxpool', 'id': 'mp', 'k': 2, 'stride': 2, 'pad': 0},
    {'op': 'gap', 'id': 'gap'}]}


def normalise(x, mode):
    return EngineInputNorm(NORMALISATION[mode])(x)


VGG16 = vgg_spec('vgg16', [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]])


class ModelNames(unittest.TestCase):
    def test_vgg16_state_dict_uses_torchvision_names_in_canonical_order(self):
        head = {'kind': 'classifier', 'views': 2, 'proj': 128, 'hidden': 256, 'classes': 8}
        net = PretextNet(VGG16, head)
        convs = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
        expected = [n for i in convs for n in ('features.%d.weight' % i, 'features.%d.bias' % i)]
        self.assertEqual(list(Encoder(VGG16).state_dict().keys()), expected)  # load_encoder's module: the same names
        expected += ['head.proj.weight', 'head.proj.bias', 'head.fc1.weight', 'head.fc1.bias', 'head.fc2.weight', 'head.fc2.bias']
        self.assertEqual(list(net.state_dict().keys()), expected)
        self.assertEqual(tuple(net.state_dict()['features.0.weight'].shape), (64, 1, 3, 3))
        self.assertEqual(tuple(net.state_dict()['head.fc1.weight'].shape), (256, 2 * 128))

    def test_projector_layer_lists_names_follow_the_module_order(self):
        predictor = [{'layer': 'emit'}, {'layer': 'dense', 'name': 'head.pred1', 'out': 32}, bn_layer('head.predbn1'),
                     {'layer': 'relu'}, {'layer': 'dense', 'name': 'head.pred2', 'out': 16}]
        mlp = mlp_head(16, 32, 16, bn='head.bn1')
        fc = ['head.fc1.weight', 'head.fc1.bias']
        bn1 = ['head.bn1.' + s for s in ('weight', 'bias', 'running_mean', 'running_var')]
        fc2 = ['head.fc2.weight', 'head.fc2.bias']
        for head, names, width in (
                (mlp, fc + bn1 + fc2, 16),
                (dict(mlp, layers=mlp['layers'] + predictor, inputs=mlp['inputs'] + [16, 16, 32, 32, 32], parts=[16, 16]),
                 fc + bn1 + fc2 + ['head.pred1.weight', 'head.pred1.bias'] + ['head.predbn1.' + s for s in ('weight', 'bias', 'running_mean', 'running_var')]
                 + ['head.pred2.weight', 'head.pred2.bias'], 32),
                (dict(mlp_head(16, 32, 16), layers=mlp_head(16, 32, 16)['layers'] + [{'layer': 'cosine', 'name': 'head.proto', 'out': 64}],
                      inputs=[16, 32, 32, 16], parts=[64]), fc + fc2 + ['head.proto.weight'], 64)):
            net = PretextNet(TINY, head)
            self.assertEqual([n for n in net.state_dict() if not n.endswith('num_batches_tracked')], list(Encoder(TINY).state_dict()) + names)
            self.assertEqual(net.head_out(torch.randn(4, 2, 16)).shape[-1], width)

    def test_projector_layers_by_hand(self):
        """dense, bn (batch statistics over every view), relu, emit and cosine against the same maths
        written out: the emitted value comes first, then the cosines to the unit rows."""
        head = {'kind': 'projector', 'views': 2, 'layers': [
            {'layer': 'dense', 'name': 'head.fc1', 'out': 5}, bn_layer('head.bn1'), {'layer': 'relu'},
            {'layer': 'dense', 'name': 'head.fc2', 'out': 3}, {'layer': 'emit'}, {'layer': 'cosine', 'name': 'head.proto', 'out': 4}],
            'inputs': [16, 5, 5, 5, 3, 3], 'parts': [3, 4]}
        net = PretextNet(TINY, head).train()
        self.assertEqual((net.out_parts, net.out_width), ([3, 4], 7))
        f = torch.randn(3, 2, 16)
        h = f.reshape(6, 16) @ net.head.fc1.weight.T + net.head.fc1.bias
        h = (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + 1e-5)  # BN's affine starts at 1, 0
        z = torch.relu(h) @ net.head.fc2.weight.T + net.head.fc2.bias
        w = net.head.proto.weight
        cos = torch.stack([torch.stack([torch.dot(zi, wk) / zi.norm() / wk.norm() for wk in w]) for zi in z])
        want = torch.cat([z, cos], 1).reshape(3, 2, 7)
        self.assertTrue(torch.allclose(net.head_out(f), want, atol=1e-5))

    def test_an_op_without_a_field_is_an_error_naming_op_and_field(self):
        """No defaults: a graph missing a field (here a conv's stride) is refused, not completed."""
        conv = {k: v for k, v in TINY['ops'][0].items() if k != 'stride'}
        with self.assertRaisesRegex(ValueError, "encoder tiny: op features.0 \\(conv\\) has no field 'stride'"):
            Encoder(dict(TINY, ops=[conv] + TINY['ops'][1:]))

    def test_duplicate_weight_name_is_an_error(self):
        spec = dict(TINY, ops=[dict(TINY['ops'][0]), dict(TINY['ops'][0], id='again')] + TINY['ops'][1:])
        with self.assertRaisesRegex(ValueError, 'features.0'):
            PretextNet(spec, None)


class InputNorm(unittest.TestCase):
    def test_per_view_standardises_each_view_with_population_variance(self):
        x = xrays(4, 32).reshape(4, 1, 32, 32)
        z = normalise(x, 'per-view')
        for i in range(4):
            vals = [float(p) for p in x[i, 0].flatten().tolist()]
            mean = sum(vals) / len(vals)
            var = sum((p - mean) ** 2 for p in vals) / len(vals)
            want = (vals[37] - mean) / (var + 1e-5) ** 0.5
            self.assertAlmostEqual(float(z[i, 0].flatten()[37]), want, places=4)
        self.assertNotAlmostEqual(float(x[0, 0].float().mean()), float(x[1, 0].float().mean()), places=1)

    def test_minus1to1(self):
        x = xrays(1, 32).reshape(1, 1, 32, 32)
        z = normalise(x, 'minus1to1')
        self.assertAlmostEqual(float(z[0, 0, 5, 7]), int(x[0, 0, 5, 7]) / 127.5 - 1, places=6)

    def test_imagenet_norms_give_three_channels_scaled_as_the_originals(self):
        x = xrays(2, 32).reshape(2, 1, 32, 32)
        g = int(x[1, 0, 5, 7])
        tv = normalise(x, 'torchvision-rgb')
        self.assertEqual(tuple(tv.shape), (2, 3, 32, 32))
        for c, (mean, std) in enumerate(zip((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))):
            self.assertAlmostEqual(float(tv[1, c, 5, 7]), (g / 255 - mean) / std, places=5)
        caffe = normalise(x, 'caffe-bgr')
        for c, mean in enumerate((103.939, 116.779, 123.68)):  # B, G, R
            self.assertAlmostEqual(float(caffe[1, c, 5, 7]), g - mean, places=4)


class Graph(unittest.TestCase):
    def test_tf_same_padding_is_asymmetric_for_stride_2(self):
        self.assertEqual(same_padding(8, 3, 2), (0, 1))
        self.assertEqual(same_padding(7, 3, 2), (1, 1))
        self.assertEqual(same_padding(8, 3, 1), (1, 1))

    def test_graph_ops_match_a_hand_composition(self):
        spec = SAME_PADDED
        torch.manual_seed(0)
        net = PretextNet(spec, None)
        self.assertEqual(list(net.state_dict().keys()), ['stem.weight', 'stem.bias', 'dw.weight'])
        x = xrays(2, 16).reshape(2, 1, 16, 16)
        got = net(x)
        sd = net.state_dict()
        z = x.float() / 127.5 - 1
        a6 = F.conv2d(F.pad(z, (0, 1, 0, 1)), sd['stem.weight'], sd['stem.bias'], stride=2).clamp(0, 6)
        dw = F.conv2d(a6, sd['dw.weight'], None, padding=1, groups=8)
        want = F.max_pool2d(a6 + dw, 2, 2).mean(dim=(2, 3))
        self.assertEqual(tuple(got.shape), (2, 1, 8))
        self.assertLess(float((got[:, 0] - want).abs().max()), 1e-5)

    def test_a_deep_copy_runs_its_own_layers(self):
        """A method's moving-average copy (copy.deepcopy of the model) must run its own convs, SAME-padded
        ones included: with the copy's stem zeroed its features are 0, the original's are not."""
        net = PretextNet(SAME_PADDED, None)
        twin = copy.deepcopy(net)
        with torch.no_grad():
            twin.stem.weight.zero_()
            twin.stem.bias.zero_()
        x = xrays(2, 16).reshape(2, 1, 16, 16)
        self.assertEqual(float(twin(x).abs().max()), 0.0)
        self.assertGreater(float(net(x).abs().max()), 0.0)

    def test_head_concatenates_views_in_order_then_fc1_relu_fc2(self):
        head = {'kind': 'classifier', 'views': 2, 'proj': 6, 'hidden': 5, 'classes': 3}
        torch.manual_seed(1)
        net = PretextNet(TINY, head)
        x, _ = rotation_batch(4, 32)
        x = x.reshape(2, 2, 32, 32)
        f = net.encode(x)
        p = F.relu(net.head.proj(f))
        h = F.relu(F.linear(torch.cat([p[:, 0], p[:, 1]], dim=1), net.head.fc1.weight, net.head.fc1.bias))
        want = F.linear(h, net.head.fc2.weight, net.head.fc2.bias)
        self.assertLess(float((net(x) - want).abs().max()), 1e-6)


if __name__ == '__main__':
    unittest.main()
