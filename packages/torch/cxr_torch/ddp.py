"""Data-parallel training over several processes (`--gpus N`), one rank per process.

The TypeScript engine (packages/train/src/engines/ddp.ts) is the launcher: it starts a node's servers
with RANK (global), WORLD_SIZE, LOCAL_RANK and CXR_SSL_DDP_INIT: a file:// rendezvous on one machine
(no port can clash), torch's c10d TCPStore (tcp://master:port, served by global rank 0) across
machines. It feeds each rank its slice of the global batch over its own pipe. Without
CXR_SSL_DDP_INIT the env:// rendezvous is used (MASTER_ADDR/PORT; a torchrun agent's store when
TORCHELASTIC_USE_AGENT_STORE says so). A process without WORLD_SIZE is a plain single-process
engine and nothing here changes it.

Gradients are averaged by DDP over equal slices, so an update equals the single-process update on
the global batch. BatchNorm uses the global batch's statistics, as in one process: SyncBatchNorm on
CUDA, global_bn.GlobalBatchNorm2d on CPU (torch has no SyncBatchNorm there).
"""
import inspect
import os
from datetime import timedelta

import torch
import torch.distributed as dist

from . import global_bn
from .lifeline import die_with_parent


def world_size():
    return int(os.environ['WORLD_SIZE']) if 'WORLD_SIZE' in os.environ else None


def rank():
    return int(os.environ.get('RANK', '0')) if world_size() else 0


def join(req):
    """Before the device is picked: binds this rank to its GPU and joins the process group."""
    world = world_size()
    if world is None:
        return
    die_with_parent()  # a rank blocked in a collective never reads the EOF of a dead parent
    rank, local = int(os.environ.get('RANK', '0')), int(os.environ.get('LOCAL_RANK', os.environ.get('RANK', '0')))
    cuda = req.get('device', 'auto') != 'cpu' and torch.cuda.is_available()
    if cuda:
        if torch.cuda.device_count() <= local:
            raise RuntimeError('rank %d needs CUDA device %d but torch sees %d: ask for at most %d GPUs' % (
                rank, local, torch.cuda.device_count(), torch.cuda.device_count()))
        torch.cuda.set_device(local)
    dist.init_process_group('nccl' if cuda else 'gloo', init_method=os.environ.get('CXR_SSL_DDP_INIT', 'env://'),
                            rank=rank, world_size=world, timeout=timedelta(minutes=10))
    agree_on_start(req.get('startStep'), torch.device('cuda', local) if cuda else torch.device('cpu'))


def agree_on_start(step, device):
    """Every rank must start at the same step (each node reads the run folder's checkpoint itself): a
    node that resumes from another checkpoint, or starts fresh beside a resumed run, would draw other
    batches than its peers and silently train on the wrong samples."""
    if step is None:
        return
    mine = torch.tensor([int(step)], dtype=torch.int64, device=device)
    steps = [torch.zeros_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(steps, mine)
    steps = [int(s.item()) for s in steps]
    if len(set(steps)) > 1:
        raise RuntimeError('the ranks start at different steps (%s, by global rank): every node must see the same run '
                           'folder (a shared file system, or a copy of rank 0\'s latest checkpoint) and the same --resume' % steps)


def wrap(model, device):
    """-> what the trainer calls forward on: the model itself, or its DDP wrapper (SyncBN on CUDA)."""
    if world_size() is None:
        return model
    if device.type == 'cuda':
        sync_batchnorm(model)
    elif world_size() > 1:
        global_bn.convert(model)
    # no buffer sync in forward: no collective there, so held-out slices may differ per rank
    ddp = torch.nn.parallel.DistributedDataParallel
    no_sync = {'forward_sync_buffers': False} if 'forward_sync_buffers' in inspect.signature(ddp).parameters else {'broadcast_buffers': False}
    return ddp(model, device_ids=[device.index] if device.type == 'cuda' else None, gradient_as_bucket_view=True, **no_sync)


def sync_batchnorm(model):
    """BatchNorm2d -> SyncBatchNorm in place, same parameters and running statistics (so the optimiser
    and the canonical names are untouched); the graph's op list is pointed at the new modules."""
    torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)  # replaces the modules below the root
    model.graph.rebind(model)


def gather(z):
    """Every rank's rows of z, concatenated in rank order, for contrastive losses whose negatives are
    the global batch (NT-Xent, InfoNCE). Gradients flow back to each rank's own rows, summed over the
    ranks' losses, so with each rank's loss over its own rows, DDP's mean gradient equals the
    single-process gradient of the global batch. z itself in a plain process, and in held-out
    evaluation (no grad): the TypeScript engine gives a held-out batch whole to one rank, with no
    collective that the other ranks, which sit it out, would never join."""
    if world_size() in (None, 1) or not torch.is_grad_enabled():
        return z
    import warnings

    from torch.distributed.nn.functional import all_gather

    with warnings.catch_warnings():  # deprecated for a private successor (_functional_collectives)
        warnings.simplefilter('ignore', FutureWarning)
        return torch.cat(all_gather(z), 0)


def describe():
    world = world_size()
    return '' if world is None else ' DDP rank %d/%d (%s)' % (dist.get_rank(), world, dist.get_backend())
