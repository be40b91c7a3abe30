"""DINO (Caron et al. 2021), on CNN backbones: the student sees every crop (2 global + N local),
the teacher (a moving average of the student, `key.*`, tau from the step's scalars) only the
global ones; its outputs are centred by `loss.center` (a moving average of its batch means) and
sharpened by the teacher temperature, warmed up by the step's `teacherTemp` scalar."""
import torch

from .. import ddp
from ..losses import dino_terms, widen
from .ema import EmaNetwork
from .hook import Hook


class Dino(Hook):
    def __init__(self, spec, model, autocast):
        super().__init__(spec, model, autocast)
        self.teacher = EmaNetwork(model)
        self.center = torch.zeros(model.out_width)

    def to(self, device):
        self.teacher.to(device)
        self.center = self.center.to(device)

    def state(self):
        out = self.teacher.state()
        out['loss.center'] = self.center
        return out

    def __call__(self, forward, x, y, train, scalars):
        whole, local = x if isinstance(x, tuple) else (x, None)
        if train:
            self.teacher.follow(scalars['tau'])
        student = forward(whole)
        if local is not None:
            student = torch.cat([student, forward(local)], 1)
        teacher = widen(self.teacher(whole, train, self.autocast))
        # held-out passes have no step: they use the temperature the warm-up ends at
        temp = scalars['teacherTemp'] if train else self.spec['teacherTemperature']
        out = dino_terms(student, teacher, self.center, self.spec['studentTemperature'], temp)
        if train:
            with torch.no_grad():
                mean = ddp.gather(teacher.mean(1)).mean(0)
                m = self.spec['centerMomentum']
                self.center.mul_(m).add_(mean, alpha=1 - m)
        return out
