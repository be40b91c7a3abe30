"""LARS (You et al. 2017) as SimCLR trains with it, written like Barlow Twins' PyTorch LARS.

For weights with more than one dimension, d = grad + weight_decay * w is scaled by
eta * |w| / |d| (1 where either norm is 0); biases and BatchNorm parameters get neither weight
decay nor the scaling. Then, exactly as torch's SGD: buf = momentum * buf + d; w -= lr * buf, so the
optimiser state ('momentum_buffer') has SGD's format and checkpoints move between the two.
The tfjs engine implements the same update (packages/train/src/engines/tfjs.ts).
"""
import torch


class LARS(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0, eta=0.001):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g['params']:
                if p.grad is None:
                    continue
                d = p.grad
                if p.ndim > 1:
                    d = d.add(p, alpha=g['weight_decay'])
                    wn, dn = torch.norm(p), torch.norm(d)
                    one = torch.ones_like(wn)
                    d = d.mul(torch.where((wn > 0) & (dn > 0), g['eta'] * wn / dn.clamp_min(1e-30), one))
                state = self.state[p]
                buf = state.get('momentum_buffer')
                if buf is None:
                    buf = state['momentum_buffer'] = torch.clone(d).detach()
                else:
                    buf.mul_(g['momentum']).add_(d)
                p.add_(buf, alpha=-g['lr'])
