"""Small custom models for the importer's tests: each is what a user might have written in
PyTorch, covering one way of writing a network (no torchvision needed)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def sequential_cnn() -> nn.Module:
    """A plain nn.Sequential CNN: numbered layers, parameterless ones counted."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
        nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(16, 10))


class Bottleneck(nn.Module):
    """ResNet's bottleneck as torchvision writes it: a projection when the shape changes."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = None
        if stride != 1 or inplanes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=stride,
                                                    bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + short)


class SmallResNet(nn.Module):
    """A residual network of a block class used several times, with and without a
    projection; functional relu and torch.flatten in forward."""

    def __init__(self, block="bottleneck", layers=(2, 2, 2), classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.inplanes = 16
        stages = []
        for i, n in enumerate(layers):
            stages.append(self._stage(block, 8 * 2 ** i, n, 1 if i == 0 else 2))
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.inplanes, classes)

    def _stage(self, block, planes, n, stride):
        layers = []
        for j in range(n):
            s = stride if j == 0 else 1
            if block == "bottleneck":
                down = None
                if s != 1 or self.inplanes != planes * 4:
                    down = nn.Sequential(nn.Conv2d(self.inplanes, planes * 4, 1, stride=s,
                                                   bias=False), nn.BatchNorm2d(planes * 4))
                layers.append(Bottleneck(self.inplanes, planes, s, down))
                self.inplanes = planes * 4
            else:
                layers.append(BasicBlock(self.inplanes, planes, s))
                self.inplanes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class Inception(nn.Module):
    """A concat of branches, each a Sequential or a layer; one branch pools first."""

    def __init__(self, cin, c1, c3r, c3, pool):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(cin, c1, 1), nn.ReLU(inplace=True))
        self.b2 = nn.Sequential(nn.Conv2d(cin, c3r, 1), nn.ReLU(inplace=True),
                                nn.Conv2d(c3r, c3, 3, padding=1), nn.ReLU(inplace=True))
        self.b3 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(cin, pool, 1),
                                nn.ReLU(inplace=True))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x)], 1)


class InceptionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.mix1 = Inception(16, 8, 8, 16, 8)
        self.mix2 = Inception(32, 16, 8, 16, 8)
        self.pool = nn.AvgPool2d(2)
        self.head = nn.Linear(40 * 8 * 8, 5)

    def forward(self, x):
        x = self.mix2(self.mix1(F.relu(self.stem(x))))
        x = self.pool(x)
        return self.head(x.view(x.size(0), -1))


class MLP(nn.Module):
    """Flatten and a linear head, with functional activations and a method call."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3 * 8 * 8, 32)
        self.fc2 = nn.Linear(32, 32)
        self.out = nn.Linear(32, 4)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = torch.tanh(self.fc1(x))
        x = F.gelu(self.fc2(x)) + x
        return self.out(x).softmax(dim=-1)


class SqueezeExcite(nn.Module):
    def __init__(self, c, r=4):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * s


class SENet(nn.Module):
    """A gate (squeeze-and-excitation): the input times a function of it, functional mean."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU6(inplace=True),
                                      SqueezeExcite(16), nn.Conv2d(16, 32, 3, stride=2),
                                      nn.Hardswish(), SqueezeExcite(32))
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 3))

    def forward(self, x):
        return self.classifier(self.features(x))


CUSTOM = {
    "sequential_cnn": (sequential_cnn, (3, 16, 16)),
    "bottleneck_resnet": (lambda: SmallResNet("bottleneck", (2, 3, 2)), (3, 32, 32)),
    "basic_resnet": (lambda: SmallResNet("basic", (2, 2, 2)), (3, 32, 32)),
    "inception": (InceptionNet, (3, 16, 16)),
    "mlp": (MLP, (3, 8, 8)),
    "senet": (SENet, (3, 16, 16)),
}


class Attention(nn.Module):
    """Not expressible: multi-head attention, and a parameter used in forward."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.pos = nn.Parameter(torch.zeros(1, 4, 8))

    def forward(self, x):
        x = self.proj(x) + self.pos
        return self.attn(x, x, x)[0]


class Skips(nn.Module):
    """Skip connections across several layers (named values), functional pooling, a
    channel chunk, a sub and a max of two tensors."""

    def __init__(self):
        super().__init__()
        self.conv0 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Conv2d(24, 4, 1)

    def forward(self, x):
        x0 = self.conv0(x)
        x1 = F.relu(self.conv1(x0))
        x2 = self.conv2(F.max_pool2d(x1, 3, stride=1, padding=1))
        y = torch.cat([x2, x0, x1 - x0], dim=1)
        a, b = y.chunk(2, dim=1)
        return self.head(torch.cat([torch.maximum(a, b), a], 1))


CUSTOM["skips"] = (Skips, (3, 8, 8))


class Segmenter(nn.Module):
    """A segmentation head resized to the input's size (read at run time), returning
    {"out": x} as torchvision's segmentation models do."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.classifier = nn.Conv2d(8, 3, 1)

    def forward(self, x):
        size = x.shape[-2:]
        y = self.classifier(self.backbone(x))
        return {"out": F.interpolate(y, size=size, mode="bilinear", align_corners=False)}


class Listed(nn.Module):
    """Modules in an nn.ModuleList, called from the parent's forward: no archdsl scope."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(3, 3, 1), nn.Conv2d(3, 3, 1)])

    def forward(self, x):
        for conv in self.convs:
            x = conv(x)
        return x
