"""Model + SGD on one device, fed uint8 batches; answers lazily so the GPU queue never drains.

A step's loss/accuracy are copied out at launch and read by `resolve()` once that step's kernels are
done; the server resolves step n only after step n+lag has been launched (or when no further request
is waiting), so the host never waits on an idle GPU.
"""
import time
from collections import OrderedDict

import torch

from . import ddp
from .lars import LARS
from .methods import make_hook
from .model import PretextNet, canonical_state
from .protocol import ProtocolError, buffer_of
from .render import PlanError, Renderer, check_block
from cxr_ssl.safetensors_io import read_safetensors, write_safetensors

RING = 4  # staging slots: a slot is reused only after its host->device copy has finished


def pick_device(asked):
    if asked == 'cpu':
        return torch.device('cpu')
    if asked == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('device "cuda" was asked for but torch %s sees no CUDA device' % torch.__version__)
    if asked in ('cuda', 'auto') and torch.cuda.is_available():
        return torch.device('cuda', torch.cuda.current_device())
    if asked == 'auto':
        return torch.device('cpu')
    raise ValueError('unknown device "%s": expected auto, cpu or cuda' % asked)


METHOD_STATE_PREFIXES = ('key.', 'loss.')  # a method hook's own state (models/spec.ts isBuffer): checked by the hook


def load_named(model, path, what, trainable_only=False):
    """Reads a safetensors file whose names must be exactly the model's canonical weights (parameters
    and BN running statistics) plus, in a checkpoint, a loss's own state; or, for optimiser state,
    its trainable parameters."""
    tensors = read_safetensors(path)
    params = OrderedDict(model.named_parameters()) if trainable_only else canonical_state(model)
    missing = [n for n in params if n not in tensors]
    extra = [n for n in tensors if n not in params and (trainable_only or not n.startswith(METHOD_STATE_PREFIXES))]
    if missing or extra:
        raise ValueError('%s (%s): names do not match the spec: missing %s, unexpected %s' % (path, what, missing[:8], extra[:8]))
    for name, p in params.items():
        if tuple(tensors[name].shape) != tuple(p.shape):
            raise ValueError('%s (%s): %s has shape %s, the spec needs %s' % (path, what, name, list(tensors[name].shape), list(p.shape)))
    return tensors


class Pending:
    """A launched step's [loss, correct]. On CUDA they are copied out at launch, behind this step only:
    a later `.tolist()` of the device tensor would queue its copy behind every step launched since
    (one stream runs in order) and so drain the GPU queue at each answer."""
    __slots__ = ('stats', 'batch', 'step', 'kind', 'ready')

    def __init__(self, stats, batch, step, kind):
        self.ready = None
        if stats.is_cuda:
            host = torch.empty(stats.shape, dtype=stats.dtype, pin_memory=True)
            host.copy_(stats, non_blocking=True)
            self.ready = torch.cuda.Event()
            self.ready.record()
            stats = host
        self.stats, self.batch, self.step, self.kind = stats, batch, step, kind

    def values(self):
        if self.ready is not None:
            self.ready.synchronize()  # this step's kernels only; later steps keep the device busy
        return self.stats.tolist()


class Trainer:
    def __init__(self, req):
        ddp.join(req)  # a rank of --gpus N: binds its GPU, joins the group (nothing otherwise)
        self.device = pick_device(req.get('device', 'auto'))
        self.cuda = self.device.type == 'cuda'
        torch.manual_seed(int(req.get('seed', 0)))
        if self.cuda:
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        else:
            threads = int(req.get('threads') or 0)
            if threads > 0:
                torch.set_num_threads(threads)
        self.dtype = 'bf16' if self.cuda else 'fp32'
        self.model = PretextNet(req['encoder'], req['head'])
        precision = req.get('precision', 'fp32')
        if precision not in ('fp32', 'fp64'):
            raise ValueError('unknown precision "%s": expected fp32 or fp64' % precision)
        if precision == 'fp64':
            # a test mode: reduction order (DDP, GlobalBatchNorm2d, batch-size-dependent kernels) then costs
            # ~1e-16 instead of fp32's ~1e-7, so runs that differ only in how the batch is split agree to 1e-6+
            if self.cuda:
                raise ValueError('precision fp64 is a CPU test mode (the GPU trains in bf16): use device cpu')
            self.model.double()
            self.dtype = 'fp64'
        weights = load_named(self.model, req['weightsPath'], 'weights')
        with torch.no_grad():
            for name, t in canonical_state(self.model).items():
                t.copy_(weights[name])
        # made after the weights: a fresh run's key network starts as their copy; a checkpoint's replaces it
        self.hook = make_hook(req['loss'], self.model, self.autocast)
        own = self.hook.state()
        given = [n for n in weights if n.startswith(METHOD_STATE_PREFIXES)]
        if given and sorted(given) != sorted(own):
            raise ValueError('%s: the method state does not match the method: missing %s, unexpected %s' % (
                req['weightsPath'], [n for n in own if n not in weights][:8], [n for n in given if n not in own][:8]))
        if given:
            self.hook.load(weights)
        self.model.to(self.device)
        self.hook.to(self.device)
        if self.cuda:
            self.model.to(memory_format=torch.channels_last)
        o = req['optimizer']  # validated by the server against the schema: every field is there
        kind = o['name']
        common = dict(lr=float(o['lr']), momentum=float(o['momentum']), weight_decay=float(o['weightDecay']))
        self.opt = (LARS(self.model.parameters(), eta=float(o['trustCoefficient']), **common) if kind == 'lars'
                    else torch.optim.SGD(self.model.parameters(), **common))
        if req.get('optimizerStatePath'):
            bufs = load_named(self.model, req['optimizerStatePath'], 'optimizer state', trainable_only=True)
            for name, p in self.model.named_parameters():
                self.opt.state[p]['momentum_buffer'] = bufs[name].to(self.device, p.dtype).clone()
        self.module = ddp.wrap(self.model, self.device)
        if req.get('compile') and hasattr(torch, 'compile'):
            self.module = torch.compile(self.module)
        self.steps = 0
        self.slots = [None] * RING
        self.slot = 0
        self.copy_stream = None
        self.renderer = None  # made by the first planned batch
        self.last_resolved = None  # (time, samples) for samplesPerSec

    def describe(self):
        if self.cuda:
            return 'cuda:%d %s %s%s' % (self.device.index or 0, torch.cuda.get_device_name(self.device), self.dtype, ddp.describe())
        return 'cpu (%d threads%s)%s' % (torch.get_num_threads(), ', fp64' if self.dtype == 'fp64' else '', ddp.describe())

    # -- staging: the reader fills host buffers in place, then they go to the device -------------
    def staging(self, nx, ny, nf=0):
        """-> (x host tensor uint8 [nx], y host tensor int32 [ny], plan rows float64 [nf], slot); pinned on CUDA."""
        self.slot = (self.slot + 1) % RING
        slot = self.slots[self.slot]
        if slot is not None and slot[2] is not None:
            slot[2].synchronize()  # the copy that last used this slot has landed
        if slot is None or slot[0].numel() < nx or slot[1].numel() < ny or slot[3].numel() < nf:
            pin = self.cuda
            slot = [torch.empty(max(nx, 1), dtype=torch.uint8, pin_memory=pin),
                    torch.empty(max(ny, 1), dtype=torch.int32, pin_memory=pin), None,
                    torch.empty(max(nf, 1), dtype=torch.float64, pin_memory=pin)]
            self.slots[self.slot] = slot
        return slot[0][:nx], slot[1][:ny], slot[3][:nf], slot

    def read_batch(self, reader, header):
        """-> (x, y) of a train/eval/forward request: x [B, V, P, P] uint8 on the device, or (global, local)
        crops of a multi-crop method. A planned batch (`render` in the header) brings the cache images and
        the views' plans; they are painted here, on the device (cxr_torch/render)."""
        shape, local = header.get('shape'), header.get('local')
        for name, s in (('shape', shape), ('local', local)):
            if (s is not None or name == 'shape') and not (isinstance(s, list) and len(s) == 4 and all(isinstance(d, int) and d > 0 for d in s)):
                raise ProtocolError('%s: "%s" must be [B, views, P, P] positive integers, got %r' % (header['type'], name, s))
        if local is not None and local[0] != shape[0]:
            raise ProtocolError('%s: "local" has %d samples, "shape" %d' % (header['type'], local[0], shape[0]))
        b, v, p, q = shape
        ny = b if header.get('labels', True) else 0
        render = header.get('render')
        blocks = self.plan_blocks(header, render, shape, local) if render is not None else []
        if render is not None:
            nw = 0
            nx = b * render['size'] ** 2
            nf = sum(b * views * block['width'] for _, block, views, _ in blocks)
            what = '%d images of %d px (uint8) + %d plan numbers (float64)' % (b, render['size'], nf)
        else:
            nw = b * v * p * q
            nx = nw + (local[0] * local[1] * local[2] * local[3] if local else 0)  # multi-crop: the local block follows
            nf = 0
            what = 'shape %s needs %d (uint8 x)' % (shape, nx)
        if header.get('bytes') != nx + 8 * nf + 4 * ny:
            raise ProtocolError('%s: payload is %s bytes, %s + %d (int32 y)' % (header['type'], header.get('bytes'), what, 4 * ny))
        hx, hy, hf, slot = self.staging(nx, ny, nf)
        if not reader.read_into(buffer_of(hx)) or (nf and not reader.read_into(buffer_of(hf))) or (ny and not reader.read_into(buffer_of(hy))):
            raise ProtocolError('stdin closed inside a %s payload' % header['type'])
        if self.cuda:
            # on a side stream, so the copy of batch n+1 overlaps step n; the compute stream waits for it
            if self.copy_stream is None:
                self.copy_stream = torch.cuda.Stream(self.device)
            compute = torch.cuda.current_stream(self.device)
            with torch.cuda.stream(self.copy_stream):
                x = hx.to(self.device, non_blocking=True)
                y = hy.to(self.device, non_blocking=True)
                ev = torch.cuda.Event()
                ev.record(self.copy_stream)
            compute.wait_event(ev)
            x.record_stream(compute)  # the allocator must not hand these out before compute is done
            y.record_stream(compute)
            slot[2] = ev
        else:
            x, y = hx, hy
        y = y.long() if ny else None
        if render is not None:
            images = x.view(b, render['size'], render['size'])
            painted, at = [], 0
            for _, block, views, _ in blocks:
                rows = hf[at:at + b * views * block['width']].view(b * views, block['width'])
                at += rows.numel()
                painted.append(self.renderer.render(images, block['program'], rows, views))
            return (tuple(painted) if local else painted[0]), y
        whole = x[:nw].view(b, v, p, q)
        return (whole, x[nw:].view(*local)) if local else whole, y

    def plan_blocks(self, header, render, shape, local):
        """The header's plan blocks, checked against the batch shape: [(name, block, views, patch)]."""
        size = render.get('size') if isinstance(render, dict) else None
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ProtocolError('%s: "render" must be {size, views, local?} with a positive image size, got %r' % (header['type'], render))
        if ('local' in render) != (local is not None):
            raise ProtocolError('%s: "render.local" and "local" must come together' % header['type'])
        blocks = [('views', render.get('views'), shape[1], shape[2])] + ([('local', render['local'], local[1], local[2])] if local else [])
        for name, block, views, patch in blocks:
            try:
                check_block('render.' + name, block, views, patch, size)
            except PlanError as e:
                raise ProtocolError('%s: %s' % (header['type'], e)) from None
        if self.renderer is None:
            self.renderer = Renderer(self.device)
        return blocks

    def forward(self, x):
        """The network under the trainer's mixed precision; losses do their arithmetic in fp32 outside it."""
        with self.autocast():
            return self.module(x)

    def autocast(self):
        if self.cuda:
            return torch.autocast(device_type='cuda', dtype=torch.bfloat16)
        return torch.autocast(device_type='cpu', enabled=False)

    def launch(self, x, y, scalars=None):
        """Queues one step (train when the step's scalars are given, else eval) and returns its Pending
        result. x is [B, V, P, P], or (global, local) crops of a multi-crop method."""
        train = scalars is not None
        b = (x[0] if isinstance(x, tuple) else x).shape[0]
        self.model.train(train)
        if train:
            for g in self.opt.param_groups:
                g['lr'] = float(scalars['lr'])
            loss, logits, target = self.hook(self.forward, x, y, True, scalars)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.steps += 1
        else:
            with torch.no_grad():
                loss, logits, target = self.hook(self.forward, x, y, False, None)
        correct = (logits.detach().argmax(1) == target).float().mean() * b
        return Pending(torch.stack([loss.detach().float(), correct]), b, self.steps, 'train' if train else 'eval')

    def resolve(self, pending):
        loss, correct = pending.values()  # the one wait per step, on a step launched `lag` steps ago
        now = time.perf_counter()
        out = {'loss': loss, 'accuracy': correct / pending.batch}
        if pending.kind == 'train':
            out['step'] = pending.step
            if self.last_resolved is not None and now > self.last_resolved:
                out['samplesPerSec'] = pending.batch / (now - self.last_resolved)
            self.last_resolved = now
        return out

    def features(self, x, out_path):
        """fp32 forward (no autocast): per-view features [B, V, F] and logits, written as safetensors."""
        self.model.eval()
        with torch.no_grad():
            feats = self.model.encode(x)
            logits = self.model.head_out(feats)
        write_safetensors(out_path, OrderedDict([('features', feats.float().cpu()), ('logits', logits.float().cpu())]))
        return list(feats.shape)

    def save(self, weights_path, optimizer_path):
        state = OrderedDict(canonical_state(self.model))
        state.update(self.hook.state())
        write_safetensors(weights_path, OrderedDict((n, t.detach()) for n, t in state.items()))
        params = OrderedDict(self.model.named_parameters())
        bufs = OrderedDict()
        for n, p in params.items():
            buf = self.opt.state.get(p, {}).get('momentum_buffer')
            bufs[n] = buf.detach() if buf is not None else torch.zeros_like(p)
        write_safetensors(optimizer_path, bufs)

    def names(self):
        return list(canonical_state(self.model)) + list(self.hook.state())


__all__ = ['Trainer']
