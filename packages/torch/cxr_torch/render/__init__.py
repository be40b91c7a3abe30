"""The torch renderer of view plans (the TypeScript side plans; packages/data/src/augment/plan.ts).

A block is B samples x V views that share one program: stages, each a resampling of its input (the
cache image, then the previous stage's output) at the points of one affine map per view, then its
pixel ops in order. A view's numbers are one row of `params` ([B * V, width] float64, on the host):
per stage its map (a, b, c, d, e, f: out pixel (i, j) -> input point y = a i + b j + c,
x = d i + e j + f), then per op [on, ...its parameters]. Everything derived from the numbers (the
grids' matrices, kernels, which views an op touches) is computed on the host and sent to the device
beside the batch, so rendering never waits on the device.

Pixel ops by name, one file each; adding one = its file + one line in OPS (and its TypeScript twin,
packages/data/src/augment/<name>.ts, listed in pixel-ops.ts).
"""
import torch

from . import blur, intensity, mask, noise, standardize
from .affine import sample_stage

OPS = {'intensity': intensity, 'blur': blur, 'noise': noise, 'standardize': standardize, 'mask': mask}


class PlanError(ValueError):
    pass


def width(program):
    """Numbers per view of a program (as data/src/batch-plans.ts planWidth)."""
    return sum(6 + sum(1 + len(OPS[op].PARAMS) for op in stage['ops']) for stage in program['stages'])


def check_block(where, block, views, patch, source):
    """Raises PlanError naming the field when a block's header does not describe what the batch holds."""
    program = block.get('program') if isinstance(block, dict) else None
    stages = program.get('stages') if isinstance(program, dict) else None
    if not isinstance(stages, list) or not stages:
        raise PlanError('%s.program: expected {source, stages: [{size, ops}]} with at least one stage, got %r' % (where, program))
    if program.get('source') != source:
        raise PlanError('%s.program.source is %r, the images are %d px' % (where, program.get('source'), source))
    for k, stage in enumerate(stages):
        size, ops = stage.get('size') if isinstance(stage, dict) else None, stage.get('ops') if isinstance(stage, dict) else None
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 4096 or not isinstance(ops, list):
            raise PlanError('%s.program.stages[%d]: expected {size: 1..4096, ops: [names]}, got %r' % (where, k, stage))
        for j, op in enumerate(ops):
            if op not in OPS:
                raise PlanError('%s.program.stages[%d].ops[%d]: unknown pixel op %r (this engine paints %s): TypeScript and cxr_torch '
                                'come from different versions; use one checkout for both' % (where, k, j, op, ', '.join(OPS)))
    if stages[-1]['size'] != patch:
        raise PlanError('%s: the last stage paints %d px views, the batch shape says %d' % (where, stages[-1]['size'], patch))
    if block.get('width') != width(program):
        raise PlanError('%s.width is %r, the program needs %d numbers per view' % (where, block.get('width'), width(program)))
    if views < 1:
        raise PlanError('%s: no views' % where)


class Renderer:
    """Paints blocks on one device; `to_device` moves host tensors there without waiting on the device."""

    def __init__(self, device, every_view=None):
        self.device = device
        self.cuda = device.type == 'cuda'
        # ops marked EVERY_VIEW run on every view of a block (the skipped ones with their identity), so
        # their shapes stay fixed; by default on CUDA (cudnn.benchmark), where the extra work is cheap
        self.every_view = self.cuda if every_view is None else every_view

    def to_device(self, t):
        if not self.cuda:
            return t
        return t.pin_memory().to(self.device, non_blocking=True)

    def render(self, images, program, params, views):
        """images: [B, S, S] uint8 on the device; params: [B * views, width] float64 on the host
        -> [B, views, P, P] uint8 on the device."""
        b = images.shape[0]
        x = images.unsqueeze(1).float()  # [B, 1, S, S]
        col = 0
        for k, stage in enumerate(program['stages']):
            size = stage['size']
            maps = params[:, col:col + 6]
            col += 6
            # the first stage reads each sample's image once for all its views (no copy per view)
            x = sample_stage(self, x, maps, size, views if k == 0 else 1)
            for name in stage['ops']:
                op = OPS[name]
                n = len(op.PARAMS)
                on = params[:, col] != 0
                p = params[:, col + 1:col + 1 + n]
                col += 1 + n
                if bool(on.all()):
                    x = op.render(self, x, p)
                elif self.every_view and getattr(op, 'EVERY_VIEW', False):
                    # the skipped views with zeros, the op's identity
                    x = op.render(self, x, torch.where(on[:, None], p, torch.zeros_like(p)))
                elif bool(on.any()):
                    idx = on.nonzero().squeeze(1)
                    d = self.to_device(idx)
                    x[d] = op.render(self, x[d], p[idx])
        return (x.clamp(0, 255) + 0.5).floor().to(torch.uint8).view(b, views, x.shape[-2], x.shape[-1])


__all__ = ['OPS', 'PlanError', 'Renderer', 'check_block', 'width']
