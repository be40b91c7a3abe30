"""Method hooks by the name of the loss spec they implement (packages/train/src/engine.ts LossSpec):
one file per method, one line here. A hook owns its method's state between steps."""
from .byol import Byol
from .classify import Classify
from .dino import Dino
from .moco import Moco
from .simclr import SimCLR

HOOKS = {'cross-entropy': Classify, 'nt-xent': SimCLR, 'info-nce': Moco, 'prediction-cosine': Byol, 'self-distillation': Dino}


def make_hook(spec, model, autocast):
    """The hook of the (validated) loss spec for `model`; `autocast` is the trainer's mixed precision."""
    return HOOKS[spec['name']](spec, model, autocast)
