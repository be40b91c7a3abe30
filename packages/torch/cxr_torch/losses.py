"""The losses of the torch engine: small pure functions of embeddings and targets.

Each returns (mean loss, logits, target): the step's accuracy is the top-1 accuracy of those logits,
whatever the loss. The state a method keeps between steps (MoCo's key network and queue, BYOL's
target network, DINO's teacher and centre) is its hook's (methods/), never a loss's. The tfjs
engine's twins are in packages/train/src/engines/tfjs-losses.ts; the parity tests hold them to each other.
"""
import torch
import torch.nn.functional as F

from . import ddp

def widen(t):
    """At least float32 (bf16 under autocast -> fp32); float64 stays float64 (the fp64 test mode)."""
    return t if t.dtype == torch.float64 else t.float()


MASKED = -1e9  # stands in for -inf on NT-Xent's diagonal (a view is not its own negative)


def cross_entropy(logits, y):
    if y is None:
        raise ValueError('cross-entropy needs labelled batches, this batch has none')
    logits = widen(logits)
    return F.cross_entropy(logits, y), logits, y


def nt_xent_terms(z, temperature):
    """z [B, 2, D] -> (mean loss, logits, target) for SimCLR. The candidates are the views of the
    global batch (every rank's, under --gpus); the anchors are this rank's own 2B views, so with DDP
    averaging the ranks' gradients the step equals one process on the global batch."""
    b, views, _ = z.shape
    if views != 2:
        raise ValueError('nt-xent compares 2 views per image, the batch has %d' % views)
    z = widen(z)
    rows = torch.cat([ddp.gather(z[:, 0]), ddp.gather(z[:, 1])])  # all view 0, then all view 1
    n = rows.shape[0] // 2
    first = ddp.rank() * b
    mine = torch.cat([torch.arange(first, first + b), n + torch.arange(first, first + b)]).to(z.device)
    u = F.normalize(rows, dim=1)
    sim = (u[mine] @ u.t()) / temperature
    logits = sim.masked_fill(F.one_hot(mine, 2 * n).bool(), MASKED)
    target = (mine + n) % (2 * n)
    return F.cross_entropy(logits, target), logits, target


def info_nce(q, k, queue, temperature):
    """MoCo: unit queries q [B, D] against their keys k [B, D] (the positive, column 0) and a queue
    [K, D] of earlier keys (the negatives)."""
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.t()], 1) / temperature
    target = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    return F.cross_entropy(logits, target), logits, target


def byol_terms(p, z):
    """BYOL, symmetric: the online predictions p [B, 2, D] of each view against the target
    projections z [B, 2, D] of the other view, 2 - 2 cos each, averaged over both directions. The
    logits rank each prediction against every image's other-view target (accuracy: its own is nearest)."""
    p, z = F.normalize(widen(p), dim=-1), F.normalize(widen(z), dim=-1)
    loss = ((2 - 2 * (p[:, 0] * z[:, 1]).sum(1)) + (2 - 2 * (p[:, 1] * z[:, 0]).sum(1))).mean() / 2
    logits = p[:, 0] @ z[:, 1].t()
    return loss, logits, torch.arange(p.shape[0], device=p.device)


def dino_terms(student, teacher, center, student_temp, teacher_temp):
    """DINO: student outputs [B, V, K] of every crop (the 2 global ones first), teacher outputs
    [B, G, K] of the G global crops. The teacher's distributions are centred and sharpened,
    softmax((t - c) / teacher_temp); each is the target of every student crop but its own view's:
    cross-entropy against log_softmax(s / student_temp), averaged over the pairs and the batch.
    Logits: each image's student distribution of its second global crop against every image's teacher
    distribution of the first (cosine), target its own image: top-1 says whether an image's crops are
    told apart from other images' (chance 1/B), where agreeing on one prototype is also what collapse does."""
    log_p = F.log_softmax(widen(student) / student_temp, dim=-1)
    q = F.softmax((widen(teacher) - center) / teacher_temp, dim=-1)
    total, pairs = 0.0, 0
    for i in range(q.shape[1]):
        for j in range(log_p.shape[1]):
            if i == j:
                continue
            total = total + (-(q[:, i] * log_p[:, j]).sum(-1)).mean()
            pairs += 1
    logits = F.normalize(log_p[:, 1].exp(), dim=-1) @ F.normalize(q[:, 0], dim=-1).t()
    return total / pairs, logits, torch.arange(q.shape[0], device=q.device)
