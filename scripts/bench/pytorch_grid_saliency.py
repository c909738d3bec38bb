#!/usr/bin/env python3
"""PyTorch side of `npm run bench:saliency` for issue 13's targets (never needed by CI).

Two modes, both timing grid saliency written the same way as src/main/saliency: bilinear half-pixel upsampling
by interpolation matrices, p = x*M + a*(1-M) with the zero baseline, loss = lambda*|M|_1 +
sum(R*relu(f_c(x) - f_c(p)))/|R|, SGD on M, M clamped to [0, 1].

- LR-ASPP (default): exports torchvision's LR-ASPP MobileNetV3-Large (random weights: none can be downloaded here)
  at 512x1024 to ONNX for Context Lens, and times it with the paper's Cityscapes settings (Sec. 5: 16x32 mask,
  SGD lr 1, 80 steps, lambda 0.01).
- --onnx-unet FILE: runs the zoo U-Net exported to ONNX (e.g. resources/benchmark-models/strong-d2-t3/model.onnx)
  in PyTorch on the same weights (its few op types interpreted with torch ops, NCHW inside), and times the
  synthetic preset (4x4 mask, SGD lr 0.2 momentum 0.5, 100 steps, lambda 0.05) at batch 1 and 16 on the same
  requests as scripts/bench-saliency.ts.

  apt-get install -y python3-torch python3-torchvision python3-onnx
  /usr/bin/python3 scripts/bench/pytorch_grid_saliency.py --out /tmp/lraspp-512x1024.onnx [--threads 2] [--steps 80]
  /usr/bin/python3 scripts/bench/pytorch_grid_saliency.py --onnx-unet resources/benchmark-models/strong-d2-t3/model.onnx

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


def asymmetric_linear_matrix(out_size: int, in_size: int) -> torch.Tensor:
    # ONNX Resize linear, coordinate_transformation_mode=asymmetric (what the zoo exporter writes for tfjs upsampling).
    a = torch.zeros(out_size, in_size)
    for i in range(out_size):
        src = min(i * in_size / out_size, in_size - 1)
        lo = int(src)
        hi = min(lo + 1, in_size - 1)
        t = src - lo
        a[i, lo] += 1 - t
        a[i, hi] += t
    return a


class OnnxUnet(torch.nn.Module):
    """The zoo U-Net's ONNX export run with torch ops: Transpose, Conv, Relu, MaxPool, Resize, Concat, Softmax."""

    def __init__(self, path: str):
        super().__init__()
        import onnx
        from onnx import numpy_helper

        m = onnx.load(path)
        self.nodes = [(n.op_type, list(n.input), list(n.output), {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}) for n in m.graph.node]
        self.weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
        self.input_name = m.graph.input[0].name
        self.output_name = m.graph.output[0].name
        self.ops = sorted({n[0] for n in self.nodes})
        dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
        self.hwc = dims[1:]

    def forward(self, x):
        v = {self.input_name: x, **self.weights}
        for op, ins, outs, at in self.nodes:
            a = [v[i] if i else None for i in ins]
            if op == 'Transpose':
                y = a[0].permute(*at['perm'])
            elif op == 'Conv':
                p = at.get('pads', [0, 0, 0, 0])
                xin = torch.nn.functional.pad(a[0], (p[1], p[3], p[0], p[2])) if p[0] != p[2] or p[1] != p[3] else a[0]
                pad = 0 if p[0] != p[2] or p[1] != p[3] else (p[0], p[1])
                y = torch.nn.functional.conv2d(xin, a[1], a[2] if len(a) > 2 else None, stride=at.get('strides', [1, 1]), padding=pad, dilation=at.get('dilations', [1, 1]), groups=at.get('group', 1))
            elif op == 'Relu':
                y = torch.relu(a[0])
            elif op == 'MaxPool':
                y = torch.nn.functional.max_pool2d(a[0], at['kernel_shape'], at['strides'])
            elif op == 'Resize':
                assert at.get('coordinate_transformation_mode') == b'asymmetric' and at.get('mode') == b'linear', at
                scales = a[2].tolist()
                h, w = a[0].shape[2], a[0].shape[3]
                ah = asymmetric_linear_matrix(int(h * scales[2]), h)
                aw = asymmetric_linear_matrix(int(w * scales[3]), w)
                y = torch.einsum('ih,nchw,jw->ncij', ah, a[0], aw)
            elif op == 'Concat':
                y = torch.cat(a, dim=at['axis'])
            elif op == 'Softmax':
                y = torch.softmax(a[0], dim=at.get('axis', -1))
            else:
                raise SystemExit(f'op {op} is not interpreted here')
            v[outs[0]] = y
        return v[self.output_name]


def bench_unet(args) -> None:
    """Grid saliency on the zoo U-Net export, synthetic preset, the requests of scripts/bench-saliency.ts."""
    model = OnnxUnet(args.onnx_unet).eval()
    h, w, c = model.hwc
    k = None
    results = []
    for b in [int(x) for x in args.batches.split(',')]:
        n = b
        xs = torch.zeros(n, h, w, c)
        rs = torch.zeros(n, h, w)
        for i in range(n):
            p = torch.arange(h * w * c)
            xs[i] = (((p * 7919 + i * 104729) % 1000).float() / 1000).reshape(h, w, c)
            y0, x0 = int(h * 0.3), int(w * 0.25) + (i % 8)
            rs[i, y0:int(h * 0.7), x0:min(w, x0 + int(w * 0.4))] = 1
        with torch.no_grad():
            probs = model(xs)
        k = probs.shape[3]
        cls = torch.tensor([i % k for i in range(n)])
        onehot = torch.nn.functional.one_hot(cls, k).float().view(n, 1, 1, k)
        orig = (probs * onehot).sum(3)
        mh, mw, lam, lr, mom = 4, 4, 0.05, 0.2, 0.5
        ah, aw = interpolation_matrix(h, mh), interpolation_matrix(w, mw)
        baseline = torch.zeros_like(xs)

        def run():
            m = torch.full((n, mh, mw), 0.5, requires_grad=True)
            opt = torch.optim.SGD([m], lr=lr, momentum=mom)
            for _ in range(args.unet_steps):
                opt.zero_grad()
                up = (ah @ m @ aw.t()).unsqueeze(3)
                p = torch.clamp(xs * up + baseline * (1 - up), 0, 1)
                fc = (model(p) * onehot).sum(3)
                loss = (lam * m.sum((1, 2)) + (rs * torch.relu(orig - fc)).sum((1, 2)) / rs.sum((1, 2))).sum()
                loss.backward()
                opt.step()
                with torch.no_grad():
                    m.clamp_(0, 1)

        with torch.no_grad():
            t0 = time.perf_counter()
            for _ in range(3):
                model(xs)
            forward_ms = (time.perf_counter() - t0) / 3 * 1000 / n
        t0 = time.perf_counter()
        run()
        per = (time.perf_counter() - t0) / n
        results.append({'batch': b, 'forward_ms_per_image': round(forward_ms, 2), 's_per_request': round(per, 3)})
    print(json.dumps({'model': args.onnx_unet, 'ops': model.ops, 'threads': args.threads, 'steps': args.unet_steps, 'results': results}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', help='where to write the LR-ASPP ONNX export')
    ap.add_argument('--onnx-unet', help='time the zoo U-Net export instead (see the module docstring)')
    ap.add_argument('--batches', default='1,16')
    ap.add_argument('--unet-steps', type=int, default=100)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--steps', type=int, default=80)
    ap.add_argument('--height', type=int, default=512)
    ap.add_argument('--width', type=int, default=1024)
    ap.add_argument('--classes', type=int, default=21)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.onnx_unet:
        bench_unet(args)
        return
    if not args.out:
        raise SystemExit('--out FILE.onnx is needed for the LR-ASPP export')

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
