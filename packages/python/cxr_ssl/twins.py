"""torchvision's resnet18 / resnet50 / densenet121 / vgg16 / vgg16_bn rebuilt in plain torch: the same
module tree, attribute names and forward as torchvision.models (0.14 and later), for where torchvision
does not import (a torch without its matching torchvision). load_encoder returns torchvision's own
module when it can and one of these otherwise, so `model.layer4[-1]`, forward hooks, torch.compile and
Grad-CAM libraries see the structure they know either way. Like timm, `in_chans` sets the first conv's
input channels and `num_classes=0` replaces the classifier by an identity (the forward then returns the
globally average-pooled features)."""
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


def classifier(features, num_classes):
    return nn.Linear(features, num_classes) if num_classes else nn.Identity()


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """torchvision's "ResNet v1.5" bottleneck: the stride sits in the 3x3 conv."""
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, block, layers, in_chans=3, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_chans, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            self.add_module('layer%d' % (i + 1), self._make_layer(block, planes, blocks, 1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = classifier(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class _DenseLayer(nn.Module):
    def __init__(self, num_input_features, growth_rate, bn_size):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)

    def forward(self, features):
        concatenated = torch.cat(features, 1) if isinstance(features, (list, tuple)) else features
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(concatenated))))))


class _DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers, num_input_features, bn_size, growth_rate):
        super().__init__()
        for i in range(num_layers):
            self.add_module('denselayer%d' % (i + 1), _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size))

    def forward(self, init_features):
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, bn_size=4, in_chans=3, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ('conv0', nn.Conv2d(in_chans, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
            ('norm0', nn.BatchNorm2d(num_init_features)),
            ('relu0', nn.ReLU(inplace=True)),
            ('pool0', nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module('denseblock%d' % (i + 1), _DenseBlock(num_layers, num_features, bn_size, growth_rate))
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module('transition%d' % (i + 1), _Transition(num_features, num_features // 2))
                num_features //= 2
        self.features.add_module('norm5', nn.BatchNorm2d(num_features))
        self.classifier = classifier(num_features, num_classes)

    def forward(self, x):
        out = F.relu(self.features(x), inplace=True)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(out, (1, 1)), 1))


VGG16_CFG = (64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M')


class VGG(nn.Module):
    """torchvision's VGG; with num_classes=0 its 7x7 pool and 3-layer classifier give way to a global
    average pool (what cxr-ssl's encoders end in) and an identity."""

    def __init__(self, batch_norm, in_chans=3, num_classes=1000):
        super().__init__()
        layers, cin = [], in_chans
        for v in VGG16_CFG:
            if v == 'M':
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1)] + ([nn.BatchNorm2d(v)] if batch_norm else []) + [nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)
        if num_classes:
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 4096),
                                            nn.ReLU(True), nn.Dropout(), nn.Linear(4096, num_classes))
        else:
            self.avgpool, self.classifier = nn.AdaptiveAvgPool2d((1, 1)), nn.Identity()

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


TWINS = {
    'resnet18': lambda **kw: ResNet(BasicBlock, (2, 2, 2, 2), **kw),
    'resnet50': lambda **kw: ResNet(Bottleneck, (3, 4, 6, 3), **kw),
    'densenet121': lambda **kw: DenseNet(**kw),
    'vgg16': lambda **kw: VGG(False, **kw),
    'vgg16_bn': lambda **kw: VGG(True, **kw),
}

# The module whose output Grad-CAM looks at: the last block before the global pool.
LAST_BLOCK = {'resnet18': 'layer4', 'resnet50': 'layer4', 'densenet121': 'features', 'vgg16': 'features', 'vgg16_bn': 'features'}


def headless_torchvision(arch, in_chans):
    """torchvision's own `arch` with `in_chans` input channels and no classifier (forward -> pooled features).
    Raises whatever importing torchvision raises (ImportError, or a RuntimeError for a torchvision built
    for another torch)."""
    import torchvision
    m = getattr(torchvision.models, arch)()
    if arch.startswith('resnet'):
        m.conv1 = nn.Conv2d(in_chans, 64, kernel_size=7, stride=2, padding=3, bias=False)
        m.fc = nn.Identity()
    elif arch.startswith('densenet'):
        m.features.conv0 = nn.Conv2d(in_chans, m.features.conv0.out_channels, kernel_size=7, stride=2, padding=3, bias=False)
        m.classifier = nn.Identity()
    else:
        m.features[0] = nn.Conv2d(in_chans, 64, kernel_size=3, padding=1)
        m.avgpool, m.classifier = nn.AdaptiveAvgPool2d((1, 1)), nn.Identity()
    return m, 'torchvision %s' % torchvision.__version__
