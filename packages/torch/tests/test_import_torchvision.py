import os
import sys
import tempfile
import unittest
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(__file__))
from fixture import VGG16_BLOCKS, vgg_spec, xrays  # noqa: E402
from torchvision_reference import imagenet_input, random_model  # noqa: E402

from cxr_ssl.safetensors_io import read_safetensors  # noqa: E402
from cxr_torch.import_torchvision import convert, load_state_dict, main  # noqa: E402
from cxr_torch.model import PretextNet  # noqa: E402

VGG16_TV = vgg_spec('vgg16-torchvision', VGG16_BLOCKS, 'torchvision-rgb')
VGG16_BN_TV = vgg_spec('vgg16-bn-torchvision', VGG16_BLOCKS, 'torchvision-rgb', bn=True)


def relative_diff(got, want):
    return ((got - want).abs().max() / want.abs().max()).item()


class ImportTorchvision(unittest.TestCase):
    def test_vgg16_bn_imports_to_our_encoder_computing_torchvisions_features_on_a_real_xray(self):
        reference = random_model('vgg16_bn')
        state = reference.state_dict()
        out, dropped = convert(state, 'vgg16_bn.pth', VGG16_BN_TV, 'vgg16_bn')
        self.assertEqual(sorted(dropped), sorted(k for k in state if k.startswith('classifier.') or k.endswith('num_batches_tracked')))
        self.assertEqual(len([k for k in dropped if k.endswith('num_batches_tracked')]), 13)
        self.assertTrue(torch.equal(out['features.1.running_var'], state['features.1.running_var']))
        self.assertEqual(tuple(out['features.0.weight'].shape), (64, 3, 3, 3))

        net = PretextNet(VGG16_BN_TV).eval()
        net.load_state_dict(out)
        x = xrays(2, 32).unsqueeze(1)  # uint8 [2, 1, 32, 32], as the engine receives it
        with torch.no_grad():
            ours = net.encode(x).reshape(2, -1)
            want = reference.pooled_features(imagenet_input(x))
        self.assertGreater(want.abs().max().item(), 1e-2)
        self.assertLessEqual(relative_diff(ours, want), 1e-4)

    def test_folding_the_norm_into_a_grey_kernel_is_wrong_at_the_borders_hence_three_channels(self):
        # per-channel mean / std folded into a summed grey kernel and a bias is exact inside the
        # image, but zero padding pads the normalised channels, whose constants differ per channel
        w = random_model('vgg16').state_dict()['features.0.weight']  # [64, 3, 3, 3]
        mean, std = torch.tensor((0.485, 0.456, 0.406)), torch.tensor((0.229, 0.224, 0.225))
        x = xrays(1, 32).unsqueeze(1).float()
        rgb = torch.nn.functional.conv2d(imagenet_input(x), w, padding=1)
        grey_w = (w / std.view(1, 3, 1, 1)).sum(dim=1, keepdim=True) / 255
        grey_b = -(w * (mean / std).view(1, 3, 1, 1)).sum(dim=(1, 2, 3))
        folded = torch.nn.functional.conv2d(x, grey_w, grey_b, padding=1)
        diff = (rgb - folded).abs()
        self.assertLess(diff[:, :, 1:-1, 1:-1].max().item(), 1e-4 * rgb.abs().max().item())
        self.assertGreater(diff[:, :, 0, :].max().item(), 1e-2 * rgb.abs().max().item())

    def test_reads_wrapped_and_data_parallel_state_dicts(self):
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, 'wrapped.pth')
        state = random_model('vgg16').state_dict()
        torch.save({'state_dict': OrderedDict(('module.' + k, v) for k, v in state.items())}, path)
        self.assertEqual(list(load_state_dict(path))[:2], ['features.0.weight', 'features.0.bias'])
        answer = main([path, os.path.join(folder, 'out.safetensors')], {'model': 'vgg16', 'encoder': VGG16_TV})
        self.assertEqual(answer['tensors'], 26)
        self.assertEqual(answer['dropped'], [k for k in state if k.startswith('classifier.')])
        self.assertEqual(len(read_safetensors(os.path.join(folder, 'out.safetensors'))), 26)

    def test_errors_name_the_file_and_the_expected_model(self):
        bn_state = random_model('vgg16_bn').state_dict()
        with self.assertRaisesRegex(ValueError, r'bn\.pth: no features\.2\.weight\. Expected a torchvision vgg16 state dict '
                                                r'\(for encoder vgg16-torchvision\).*a \*_bn model\?'):
            convert(bn_state, 'bn.pth', VGG16_TV, 'vgg16')
        state = random_model('vgg16').state_dict()
        state['features.2.weight'] = torch.zeros(64, 32, 3, 3)
        with self.assertRaisesRegex(ValueError, r'w\.pth: features\.2\.weight has shape \[64, 32, 3, 3\], vgg16-torchvision expects \[64, 64, 3, 3\]'):
            convert(state, 'w.pth', VGG16_TV, 'vgg16')
        state = random_model('vgg16').state_dict()
        state['extra.weight'] = torch.zeros(1)
        with self.assertRaisesRegex(ValueError, r'x\.pth: unexpected weights extra\.weight: not a torchvision vgg16'):
            convert(state, 'x.pth', VGG16_TV, 'vgg16')


if __name__ == '__main__':
    unittest.main()
