"""Grad-CAM the way PyTorch users compute it, the reference for packages/eval/src/grad-cam.ts (run by its
test): load_encoder's torchvision network, a forward hook on its last block keeping the activation,
autograd from the head's logit back to it, channel weights = the gradient's spatial mean.

    python tests/grad_cam_reference.py <export dir> <head.json> <images.u8> <n> <out.f32>

head.json: eval's LinearHead (mean, invStd, w1 [hidden, dim], b1, w2 [2, hidden], b2). Writes the maps of
both classes [2, n, h, w] (float32, ReLU'd, not normalised) and prints a JSON line with the module, the
map shape and the logits."""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cxr_ssl import LAST_BLOCK, load_encoder, read_config  # noqa: E402


def main(folder, head_path, images_path, n, out_path):
    model, preprocess = load_encoder(folder)
    block = model.get_submodule(LAST_BLOCK[read_config(folder)['torchvision_architecture']])
    kept = []
    block.register_forward_hook(lambda _m, _i, output: kept.append(output))
    h = json.loads(Path(head_path).read_text())
    t = {k: torch.tensor(v, dtype=torch.float32) for k, v in h.items() if isinstance(v, list)}
    w1, w2 = t['w1'].reshape(h['hidden'], h['dim']), t['w2'].reshape(2, h['hidden'])
    size = preprocess.size
    raw = torch.frombuffer(bytearray(Path(images_path).read_bytes()), dtype=torch.uint8).reshape(n, size[0], size[1])
    x = torch.stack([preprocess(raw[i]) for i in range(n)])
    out = []
    for cls in (0, 1):
        kept.clear()
        features = model(x)
        activation = kept[0]
        activation.retain_grad()
        hidden = torch.relu(((features - t['mean']) * t['invStd']) @ w1.T + t['b1'])
        logits = hidden @ w2.T + t['b2']
        logits[:, cls].sum().backward()  # images are independent: one backward gives each its own gradient
        alpha = activation.grad.mean(dim=(2, 3), keepdim=True)
        out.append(torch.relu((alpha * activation).sum(dim=1)).detach())
    maps = torch.stack(out)
    Path(out_path).write_bytes(maps.contiguous().numpy().tobytes())
    print(json.dumps({'module': model.cxr_ssl_module, 'shape': list(maps.shape), 'logits': logits.detach().tolist()}))


if __name__ == '__main__':
    a = sys.argv[1:]
    main(a[0], a[1], a[2], int(a[3]), a[4])
