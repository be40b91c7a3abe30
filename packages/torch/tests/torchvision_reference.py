"""torchvision's vgg16, vgg16_bn and resnet18 rebuilt in plain torch (torchvision is not a dependency):
the same module tree, hence the same state-dict names and shapes as torchvision.models, and the
same forward. The independent reference for our imported encoders: fed the grey X-ray copied to
RGB and normalised the torchvision way, its `features` + global average pooling must equal our
encoder's features on the raw grey pixels.

As a script (used by packages/train/src/torchvision-import.test.ts):
  python torchvision_reference.py MODEL OUT.pth PIXELS.f32 REF.f32 N SIZE [MODEL OUT.pth ...]
saves a seeded random MODEL state dict as a .pth and writes the reference features of the N
float32 grey images SIZE x SIZE (0..255) in PIXELS.f32 to REF.f32; repeated per group of six.
"""
import sys

import torch
from torch import nn

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


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """torchvision.models.resnet18."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        cin = 64
        for i, width in enumerate((64, 128, 256, 512)):
            stride = 1 if i == 0 else 2
            self.add_module('layer%d' % (i + 1), nn.Sequential(BasicBlock(cin, width, stride), BasicBlock(width, width, 1)))
            cin = width
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, 1000)

    def pooled_features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return x.mean(dim=(2, 3))


MODELS = {'vgg16': lambda: VGG(bn=False), 'vgg16_bn': lambda: VGG(bn=True), 'resnet18': ResNet18}


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
    torch.save(model.state_dict(), pth)
    x = torch.frombuffer(bytearray(open(pixels, 'rb').read()), dtype=torch.float32).reshape(n, 1, size, size)
    with torch.no_grad():
        feats = model.pooled_features(imagenet_input(x))
    with open(ref, 'wb') as f:
        f.write(feats.contiguous().numpy().tobytes())


if __name__ == '__main__':
    main(sys.argv[1:])
