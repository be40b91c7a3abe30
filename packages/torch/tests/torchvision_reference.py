"""torchvision's vgg16, vgg16_bn, resnet18, resnet50 and densenet121 in plain torch (torchvision is not a
dependency): VGG here, the others cxr_ssl.twins (the module tree load_encoder falls back to, checked
against torchvision itself by packages/train/src/export/hub.test.ts), hence the same state-dict names
and shapes as torchvision.models, and the same forward. The independent reference for our imported encoders: fed the grey X-ray copied to
RGB and normalised the torchvision way, its `features` + global average pooling must equal our
encoder's features on the raw grey pixels.

As a script (used by packages/train/src/torchvision-import.test.ts):
  python torchvision_reference.py MODEL OUT.pth PIXELS.f32 REF.f32 N SIZE [MODEL OUT.pth ...]
saves a seeded random MODEL state dict as a .pth and writes the reference features of the N
float32 grey images SIZE x SIZE (0..255) in PIXELS.f32 to REF.f32; repeated per group of six.
"""
import os
import re
import sys
from collections import OrderedDict

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'python'))  # run as a script too
from cxr_ssl.twins import TWINS  # noqa: E402

VGG16_CFG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


class VGG(nn.Module):
    """torchvision.models.vgg16 / vgg16_bn; the classifier keeps torchvision's names (classifier.0,
    .3, .6) at a token width, since the importer only has to drop it."""

    def __init__(self, bn, classifier_width=8):
        super().__init__()
        layers, cin = [], 3
        for v in VGG16_CFG:
            if v == 'M':
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1)] + ([nn.BatchNorm2d(v)] if bn else []) + [nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        w = classifier_width
        self.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, w), nn.ReLU(True), nn.Dropout(), nn.Linear(w, w),
                                        nn.ReLU(True), nn.Dropout(), nn.Linear(w, 1000))

    def pooled_features(self, x):
        return self.features(x).mean(dim=(2, 3))


class Headless(nn.Module):
    """A cxr_ssl.twins network (torchvision's module tree, its own independent implementation of the
    forward) with `pooled_features`: the classifier skipped."""

    def __init__(self, arch):
        super().__init__()
        self.net = TWINS[arch]()
        self.head = 'fc' if arch.startswith('resnet') else 'classifier'

    def state_dict(self, *args, **kwargs):
        return self.net.state_dict(*args, **kwargs)

    def pooled_features(self, x):
        head = getattr(self.net, self.head)
        setattr(self.net, self.head, nn.Identity())
        try:
            return self.net(x)
        finally:
            setattr(self.net, self.head, head)


MODELS = {'vgg16': lambda: VGG(bn=False), 'vgg16_bn': lambda: VGG(bn=True), 'resnet18': lambda: Headless('resnet18'),
          'resnet50': lambda: Headless('resnet50'), 'densenet121': lambda: Headless('densenet121')}


def legacy_densenet_names(state):
    """torchvision's published densenet .pth files name a dense layer's modules `norm.1`, `conv.2`, ...
    (torchvision renames them on load): save the reference that way, as a user's download is."""
    return OrderedDict((re.sub(r'(denselayer\d+\.(?:norm|relu|conv))([12])\.', r'\1.\2.', k), v) for k, v in state.items())


def random_model(name, seed=0):
    """A MODELS[name] in eval mode with seeded weights of trained-looking scale: biases and BatchNorm
    scale, shift and running statistics randomised too, so that a mis-mapped one shows."""
    torch.manual_seed(seed)
    model = MODELS[name]().eval()
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            if m.bias is not None:
                nn.init.uniform_(m.bias, -0.05, 0.05)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.2, 0.2)
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.num_batches_tracked.fill_(1000)
    return model


def imagenet_input(grey):
    """float [N, 1, H, W] grey pixels 0..255 -> torchvision's input: RGB copies on [0, 1], ImageNet mean / std."""
    rgb = grey.float().repeat(1, 3, 1, 1) / 255
    return (rgb - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def main(argv):
    for i in range(0, len(argv), 6):
        save_reference(*argv[i:i + 6])


def save_reference(name, pth, pixels, ref, n, size):
    n, size = int(n), int(size)
    model = random_model(name)
    state = model.state_dict()
    torch.save(legacy_densenet_names(state) if name == 'densenet121' else state, pth)
    x = torch.frombuffer(bytearray(open(pixels, 'rb').read()), dtype=torch.float32).reshape(n, 1, size, size)
    with torch.no_grad():
        feats = model.pooled_features(imagenet_input(x))
    with open(ref, 'wb') as f:
        f.write(feats.contiguous().numpy().tobytes())


if __name__ == '__main__':
    main(sys.argv[1:])
