"""BatchNorm over the global batch for CPU ranks (gloo), where torch has no SyncBatchNorm.

Each rank normalises with the mean and biased variance of every rank's rows, reduced by
differentiable all_reduce (two passes: the mean, then squared deviations from it, as precise as
one process's batch_norm). The backward of all_reduce sums each rank's gradient with respect to the
statistics, so with DDP's mean over ranks the update equals one process on the global batch. The
running statistics follow torch's BatchNorm2d (momentum, unbiased variance over the global count).
"""
import torch


class GlobalBatchNorm2d(torch.nn.BatchNorm2d):
    """Drop-in for BatchNorm2d (same parameters, buffers and names); collective in training only."""

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        import warnings

        from torch.distributed.nn.functional import all_reduce

        c = x.shape[1]
        # float64 like ATen's CPU batch_norm accumulates: the backward's sums over B·H·W values cancel
        # (g - mean(g) - x̂·mean(g·x̂)), and float32 sums put ~1e-3 relative error into early layers
        xd = x.double()
        with warnings.catch_warnings():  # deprecated for a private successor (_functional_collectives)
            warnings.simplefilter('ignore', FutureWarning)
            count = all_reduce(torch.tensor([float(x.numel() // c)], dtype=xd.dtype, device=x.device)).detach()
            mean = all_reduce(xd.sum(dim=(0, 2, 3))) / count
            var = all_reduce(((xd - mean.view(1, c, 1, 1)) ** 2).sum(dim=(0, 2, 3))) / count
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - m).add_(mean.detach().to(x.dtype), alpha=m)
                self.running_var.mul_(1 - m).add_((var.detach() * (count / (count - 1).clamp(min=1))).to(x.dtype), alpha=m)
        y = ((xd - mean.view(1, c, 1, 1)) * torch.rsqrt(var.view(1, c, 1, 1) + self.eps)).to(x.dtype)
        return y * self.weight.view(1, c, 1, 1) + self.bias.view(1, c, 1, 1) if self.affine else y


def convert(model):
    """BatchNorm2d -> GlobalBatchNorm2d in place, keeping the very parameter and buffer tensors."""
    for m in model.modules():
        if type(m) is torch.nn.BatchNorm2d:
            m.__class__ = GlobalBatchNorm2d  # same object: the optimiser's parameters and the names stay
    return model

