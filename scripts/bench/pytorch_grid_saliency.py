#!/usr/bin/env python3
"""PyTorch side of `npm run bench:saliency` for issue 13's LR-ASPP target (never needed by CI).

Exports torchvision's LR-ASPP MobileNetV3-Large (random weights: none can be downloaded here) at 512x1024 to ONNX
for Context Lens, and times grid saliency in PyTorch with the paper's Cityscapes settings (Sec. 5: 16x32 mask, SGD
lr 1, 80 steps, lambda 0.01), written the same way as src/main/saliency: bilinear half-pixel upsampling by
interpolation matrices, p = x*M + a*(1-M) with the zero baseline, loss = lambda*|M|_1 + sum(R*relu(f_c(x) - f_c(p)))/|R|.

  apt-get install -y python3-torch python3-torchvision python3-onnx
  /usr/bin/python3 scripts/bench/pytorch_grid_saliency.py --out /tmp/lraspp-512x1024.onnx [--threads 2] [--steps 80]

Run it on an idle machine: PyTorch's OpenMP threads spin-wait, and any other load makes its timings meaningless.
"""
import argparse
import json
import time

import torch
import torchvision


def interpolation_matrix(out_size: int, in_size: int) -> torch.Tensor:
    # The same rule as src/main/saliency/upsample.ts interpolationMatrix (TensorFlow's halfPixelCenters).
    a = torch.zeros(out_size, in_size)
    scale = in_size / out_size
    for i in range(out_size):
        src = (i + 0.5) * scale - 0.5
        fl = int(torch.floor(torch.tensor(src)).item())
        lo = max(fl, 0)
        hi = min(int(torch.ceil(torch.tensor(src)).item()), in_size - 1)
        t = src - fl
        a[i, lo] += 1 - t
        a[i, hi] += t
    return a


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True, help='where to write the ONNX export')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--steps', type=int, default=80)
    ap.add_argument('--height', type=int, default=512)
    ap.add_argument('--width', type=int, default=1024)
    ap.add_argument('--classes', type=int, default=21)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    net = torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=args.classes).eval()

    class Out(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m(x)['out']

    model = Out(net).eval()
    h, w = args.height, args.width
    x = torch.rand(1, 3, h, w)
    torch.onnx.export(model, x, args.out, opset_version=13, input_names=['image'], output_names=['logits'])

    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(3):
            model(x)
        forward_s = (time.perf_counter() - t0) / 3

    mh, mw = 16, 32
    ah, aw = interpolation_matrix(h, mh), interpolation_matrix(w, mw)
    r = torch.zeros(1, h, w)
    r[:, h // 2 - 64:h // 2 + 64, w // 2 - 128:w // 2 + 128] = 1
    with torch.no_grad():
        probs = torch.softmax(model(x), dim=1)
        c = int(probs[0, :, h // 2, w // 2].argmax())
        orig = probs[:, c]
    baseline = torch.zeros_like(x)
    m = torch.full((1, mh, mw), 0.5, requires_grad=True)
    opt = torch.optim.SGD([m], lr=1.0, momentum=0.0)
    lam = 0.01
    t0 = time.perf_counter()
    for _ in range(args.steps):
        opt.zero_grad()
        up = (ah @ m @ aw.t()).unsqueeze(1)
        p = x * up + baseline * (1 - up)
        fc = torch.softmax(model(p), dim=1)[:, c]
        loss = lam * m.sum() + (r * torch.relu(orig - fc)).sum() / r.sum()
        loss.backward()
        opt.step()
        with torch.no_grad():
            m.clamp_(0, 1)
    request_s = time.perf_counter() - t0
    print(json.dumps({
        'model': 'lraspp_mobilenet_v3_large', 'size': [h, w], 'threads': args.threads, 'steps': args.steps,
        'forward_s': round(forward_s, 4), 'step_s': round(request_s / args.steps, 4), 'request_s': round(request_s, 2),
        'onnx': args.out,
    }))


if __name__ == '__main__':
    main()
