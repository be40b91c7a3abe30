"""BYOL (Grill et al. 2020): the online network (projector + predictor) predicts the target
network's projection of the other view; the target is a moving average of the online network
(`key.*`) with tau from the step's scalars (cosine from the method's tau up to 1). No negatives."""
from ..losses import byol_terms
from .ema import EmaNetwork
from .hook import Hook


class Byol(Hook):
    def __init__(self, spec, model, autocast):
        super().__init__(spec, model, autocast)
        self.target = EmaNetwork(model)
        self.out = model.out_parts[0]  # the head emits the projection: [projection | prediction] per view

    def to(self, device):
        self.target.to(device)

    def state(self):
        return self.target.state()

    def __call__(self, forward, x, y, train, scalars):
        if train:  # as MoCo: the target follows the weights the previous step left
            self.target.follow(scalars['tau'])
        prediction = forward(x)[..., self.out:]
        projection = self.target(x, train, self.autocast)[..., :self.out]
        return byol_terms(prediction, projection)
