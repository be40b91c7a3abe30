import os
import sys
import tempfile
import unittest
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(__file__))
from fixture import xrays  # noqa: E402

from cxr_torch.import_torchvision import VGG16_CONVS, convert, load_state_dict, main  # noqa: E402
from cxr_torch.safetensors_io import read_safetensors  # noqa: E402


def vgg16_state(seed=0):
    """A torchvision-vgg16-shaped state dict (features + a token classifier), random values."""
    g = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for index, (cin, cout) in VGG16_CONVS.items():
        state['features.%d.weight' % index] = torch.randn(cout, cin, 3, 3, generator=g)
        state['features.%d.bias' % index] = torch.randn(cout, generator=g)
    state['classifier.0.weight'] = torch.randn(4, 4, generator=g)
    return state


class ImportTorchvision(unittest.TestCase):
    def test_grey_first_conv_equals_rgb_conv_on_replicated_grey(self):
        state = vgg16_state()
        out, dropped = convert(state, 'x.pth')
        self.assertEqual(dropped, ['classifier.0.weight'])
        self.assertEqual(tuple(out['features.0.weight'].shape), (64, 1, 3, 3))
        grey = xrays(2, 32).float().unsqueeze(1) / 255  # [2, 1, 32, 32] real X-rays
        rgb = torch.nn.functional.conv2d(grey.repeat(1, 3, 1, 1), state['features.0.weight'], state['features.0.bias'], padding=1)
        ours = torch.nn.functional.conv2d(grey, out['features.0.weight'], out['features.0.bias'], padding=1)
        self.assertLess((rgb - ours).abs().max().item(), 1e-4)
        self.assertTrue(torch.equal(out['features.28.weight'], state['features.28.weight']))

    def test_reads_wrapped_and_data_parallel_state_dicts(self):
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, 'wrapped.pth')
        torch.save({'state_dict': OrderedDict(('module.' + k, v) for k, v in vgg16_state().items())}, path)
        self.assertEqual(list(load_state_dict(path))[:2], ['features.0.weight', 'features.0.bias'])
        answer = main([path, os.path.join(folder, 'out.safetensors')])
        self.assertEqual(answer['tensors'], 26)
        self.assertEqual(len(read_safetensors(os.path.join(folder, 'out.safetensors'))), 26)

    def test_rejects_batchnorm_vgg_and_wrong_shapes_naming_the_file(self):
        state = vgg16_state()
        state['features.1.running_mean'] = torch.zeros(64)
        with self.assertRaisesRegex(ValueError, r'bn\.pth: unexpected weights features\.1\.running_mean'):
            convert(state, 'bn.pth')
        state = vgg16_state()
        state['features.2.weight'] = torch.zeros(64, 32, 3, 3)
        with self.assertRaisesRegex(ValueError, r'w\.pth: features\.2\.weight has shape \[64, 32, 3, 3\]'):
            convert(state, 'w.pth')


if __name__ == '__main__':
    unittest.main()
