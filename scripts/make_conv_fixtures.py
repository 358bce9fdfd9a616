#!/usr/bin/env python3
"""PyTorch-made fixtures for the convolution, pooling and normalization ops
and for the CNN state-dict round trip (Tests/BackpropTests/Fixtures/conv/).

    python3 scripts/make_conv_fixtures.py            # ops.json and torch_cnn.*
    python3 scripts/make_conv_fixtures.py check      # also check swift_cnn.safetensors in PyTorch

ops.json: {"cases": [{"op", "args", "inputs": {name: tensor}, "cotangent", "output",
"grads": {name: tensor}}]}, all float64. "grads" are the gradients of
sum(output * cotangent) with respect to each input, so the Swift tests compare
forward and backward (float64, 1e-10) without Python. Batch-norm cases also
record the running statistics after the call ("running_mean_after",
"running_var_after").

torch_cnn.safetensors: the state dict (buffers included, num_batches_tracked
int64) of nn.Sequential(Conv2d(1,4,3), BatchNorm2d(4), ReLU(), MaxPool2d(2),
Flatten(), Linear(36,3)) after three SGD steps in float32, saved with
safetensors.torch.save_file; torch_cnn.json holds an input, the eval-mode
output, and the training-mode output with the running statistics after it.

fashion-mnist-tiny/ and fashion_tiny.json: see fashion_tiny() (needs the
Debian package dataset-fashion-mnist).

check: loads swift_cnn.safetensors (written by the Swift test "CNN checkpoint
written for PyTorch" with BACKPROP_REGENERATE_FIXTURES=1) into the same
nn.Sequential with strict=True and writes PyTorch's eval-mode output on its
input to swift_cnn_expected.json, which the Swift test compares.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "BackpropTests", "Fixtures", "conv")
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)
D = torch.float64


def gen(seed):
    return torch.Generator().manual_seed(seed)


def L(t):
    t = t.detach()
    if t.dtype in (torch.int64, torch.int32):
        return t.tolist()
    return t.to(D).tolist()


def randn(shape, seed):
    return torch.randn(*shape, generator=gen(seed), dtype=D)


def case(op, args, inputs, fn, seed, extra=None):
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    out = fn(**leaves)
    cot = torch.randn(out.shape, generator=gen(seed + 1000), dtype=D)
    (out * cot).sum().backward()
    c = {"op": op, "args": args, "inputs": {k: L(v) for k, v in inputs.items()}, "cotangent": L(cot),
         "output": L(out), "grads": {k: L(v.grad) for k, v in leaves.items()}}
    if extra:
        c.update(extra())
    return c


def conv2d_cases():
    cases = []
    configs = [
        # (N, C, H, W, O, kH, kW, stride, padding, dilation, groups, bias)
        (2, 3, 7, 6, 4, 3, 3, 1, 0, 1, 1, True),
        (2, 3, 9, 8, 4, 3, 2, 2, 1, 1, 1, True),
        (1, 4, 9, 9, 6, 3, 3, (2, 1), (1, 2), 2, 2, True),
        (2, 4, 5, 7, 4, 3, 3, 1, "same", 1, 4, False),
        (1, 2, 6, 6, 3, 2, 4, 1, "same", (1, 2), 1, True),
        (2, 3, 5, 5, 2, 1, 1, 3, "valid", 1, 1, True),
        (1, 6, 8, 7, 4, 3, 3, 2, 2, 2, 2, True),
    ]
    for i, (n, c, h, w, o, kh, kw, s, p, d, g, b) in enumerate(configs):
        seed = 100 + i
        inputs = {"x": randn([n, c, h, w], seed), "weight": randn([o, c // g, kh, kw], seed + 1)}
        if b:
            inputs["bias"] = randn([o], seed + 2)
        args = {"stride": s, "padding": p, "dilation": d, "groups": g}
        cases.append(case("conv2d", args, inputs,
                          lambda x, weight, bias=None: F.conv2d(x, weight, bias, s, p, d, g), seed))
    return cases


def conv1d_cases():
    cases = []
    configs = [(2, 3, 11, 4, 3, 1, 0, 1, 1, True), (1, 4, 10, 6, 3, 2, 2, 2, 2, True), (2, 2, 9, 4, 4, 1, "same", 2, 2, False)]
    for i, (n, c, l, o, k, s, p, d, g, b) in enumerate(configs):
        seed = 200 + i
        inputs = {"x": randn([n, c, l], seed), "weight": randn([o, c // g, k], seed + 1)}
        if b:
            inputs["bias"] = randn([o], seed + 2)
        args = {"stride": s, "padding": p, "dilation": d, "groups": g}
        cases.append(case("conv1d", args, inputs,
                          lambda x, weight, bias=None: F.conv1d(x, weight, bias, s, p, d, g), seed))
    return cases


def pool_cases():
    cases = []
    for i, (shape, k, s, p, d) in enumerate([([2, 3, 6, 7], 2, None, 0, 1), ([1, 2, 7, 7], 3, 2, 1, 1),
                                             ([2, 2, 9, 8], (3, 2), (2, 1), (1, 0), 1), ([1, 2, 9, 9], 2, 2, 1, 2)]):
        seed = 300 + i
        args = {"kernel_size": k, "stride": s, "padding": p, "dilation": d}
        cases.append(case("max_pool2d", args, {"x": randn(shape, seed)},
                          lambda x: F.max_pool2d(x, k, s, p, d), seed))
    for i, (shape, k, s, p) in enumerate([([2, 3, 6, 7], 2, None, 0), ([1, 2, 7, 7], 3, 2, 1), ([2, 2, 9, 8], (3, 2), (2, 1), (1, 0))]):
        seed = 320 + i
        args = {"kernel_size": k, "stride": s, "padding": p}
        cases.append(case("avg_pool2d", args, {"x": randn(shape, seed)},
                          lambda x: F.avg_pool2d(x, k, s, p), seed))
    for i, (shape, o) in enumerate([([2, 3, 5, 6], 1), ([1, 2, 7, 5], (3, 2)), ([2, 2, 8, 8], 4)]):
        seed = 340 + i
        cases.append(case("adaptive_avg_pool2d", {"output_size": o}, {"x": randn(shape, seed)},
                          lambda x: F.adaptive_avg_pool2d(x, o), seed))
    return cases


def norm_cases():
    cases = []
    for i, (shape, training, momentum) in enumerate([([4, 3, 5, 4], True, 0.1), ([3, 3, 4, 5], False, 0.1),
                                                     ([6, 4], True, 0.3), ([5, 3, 7], True, 0.1), ([4, 3, 6], False, 0.1)]):
        seed = 400 + i
        c = shape[1]
        rm = randn([c], seed + 5) * 0.5
        rv = randn([c], seed + 6).abs() + 0.5
        state = {}

        def fn(x, weight, bias, rm=rm, rv=rv):
            state["rm"], state["rv"] = rm.clone(), rv.clone()
            return F.batch_norm(x, state["rm"], state["rv"], weight, bias, training, momentum, 1e-5)

        args = {"training": training, "momentum": momentum, "eps": 1e-5,
                "running_mean": L(rm), "running_var": L(rv)}
        inputs = {"x": randn(shape, seed), "weight": randn([c], seed + 1), "bias": randn([c], seed + 2)}
        cases.append(case("batch_norm", args, inputs, fn, seed,
                          extra=lambda: {"running_mean_after": L(state["rm"]), "running_var_after": L(state["rv"])}))
    for i, (shape, normalized, affine) in enumerate([([3, 5], [5], True), ([2, 3, 4], [3, 4], True), ([4, 6], [6], False)]):
        seed = 450 + i
        inputs = {"x": randn(shape, seed)}
        if affine:
            inputs["weight"] = randn(normalized, seed + 1)
            inputs["bias"] = randn(normalized, seed + 2)
        cases.append(case("layer_norm", {"normalized_shape": normalized, "eps": 1e-5}, inputs,
                          lambda x, weight=None, bias=None: F.layer_norm(x, normalized, weight, bias, 1e-5), seed))
    return cases


def cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 3))


def torch_cnn():
    torch.manual_seed(7)
    model = cnn()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    g = gen(8)
    for _ in range(3):
        x = torch.randn(5, 1, 8, 8, generator=g)
        y = torch.randint(0, 3, (5,), generator=g)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    save_file(dict(model.state_dict()), os.path.join(OUT, "torch_cnn.safetensors"), metadata={"format": "pt"})
    x = torch.randn(3, 1, 8, 8, generator=g)
    model.eval()
    with torch.no_grad():
        eval_out = model(x)
    model.train()
    with torch.no_grad():
        train_out = model(x)
    bn = model[1]
    data = {"input": L(x), "eval_output": L(eval_out), "train_output": L(train_out),
            "running_mean_after": L(bn.running_mean), "running_var_after": L(bn.running_var),
            "num_batches_tracked_after": int(bn.num_batches_tracked)}
    with open(os.path.join(OUT, "torch_cnn.json"), "w") as f:
        json.dump(data, f)


def check_swift_cnn():
    path = os.path.join(OUT, "swift_cnn.safetensors")
    state = load_file(path)
    assert state["1.num_batches_tracked"].dtype == torch.int64, state["1.num_batches_tracked"].dtype
    model = cnn()
    model.load_state_dict(state, strict=True)
    model.eval()
    x = torch.randn(4, 1, 8, 8, generator=gen(11))
    with torch.no_grad():
        out = model(x)
    with open(os.path.join(OUT, "swift_cnn_expected.json"), "w") as f:
        json.dump({"input": L(x), "eval_output": L(out),
                   "num_batches_tracked": int(state["1.num_batches_tracked"])}, f)
    print("swift_cnn.safetensors loads into PyTorch with strict=True")


def fashion_tiny():
    """The first 6 training and 4 test images of Fashion-MNIST
    (/usr/share/datasets/fashion-mnist, `apt-get install dataset-fashion-mnist`)
    as the four gzip IDX files in fashion-mnist-tiny/, plus their labels and
    pixel sums / 255 in fashion_tiny.json."""
    import gzip
    import struct
    src = "/usr/share/datasets/fashion-mnist"
    dst = os.path.join(OUT, "fashion-mnist-tiny")
    os.makedirs(dst, exist_ok=True)
    expected = {}
    for prefix, n in (("train", 6), ("t10k", 4)):
        with gzip.open(os.path.join(src, f"{prefix}-images-idx3-ubyte.gz")) as f:
            magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
            pixels = f.read(n * rows * cols)
        with gzip.open(os.path.join(src, f"{prefix}-labels-idx1-ubyte.gz")) as f:
            f.read(8)
            labels = f.read(n)
        for kind, body in (("images-idx3-ubyte", struct.pack(">IIII", magic, n, rows, cols) + pixels),
                           ("labels-idx1-ubyte", struct.pack(">II", 0x801, n) + labels)):
            with open(os.path.join(dst, f"{prefix}-{kind}.gz"), "wb") as raw:
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as z:
                    z.write(body)
        expected[prefix] = {"labels": list(labels),
                            "pixel_sums": [sum(pixels[i * 784:(i + 1) * 784]) / 255 for i in range(n)]}
    with open(os.path.join(OUT, "fashion_tiny.json"), "w") as f:
        json.dump(expected, f)


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = conv2d_cases() + conv1d_cases() + pool_cases() + norm_cases()
    with open(os.path.join(OUT, "ops.json"), "w") as f:
        json.dump({"cases": cases}, f)
    torch_cnn()
    if os.path.isdir("/usr/share/datasets/fashion-mnist"):
        fashion_tiny()
    if "check" in sys.argv[1:]:
        check_swift_cnn()


if __name__ == "__main__":
    main()
