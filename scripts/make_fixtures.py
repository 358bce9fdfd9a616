#!/usr/bin/env python3
"""Regenerate every PyTorch-computed fixture of the Backprop test suite.

    python3 scripts/make_fixtures.py            # everything
    python3 scripts/make_fixtures.py losses     # only some parts

Needs torch, safetensors, scikit-learn and numpy. Output is deterministic:
every random tensor comes from a torch.Generator with a fixed seed, and the
JSON is written with Python's shortest round-trip float repr, so a float64
parsed back is bit-identical to the value PyTorch computed.

Formats are described in Tests/BackpropTests/Fixtures/README.md.
"""
import gzip
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests", "BackpropTests", "Fixtures")
DATA = os.path.join(ROOT, "Data")

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

D = torch.float64


# ----------------------------------------------------------------- helpers

def gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def L(t):
    """Tensor -> nested list of Python floats (float64) or ints."""
    if isinstance(t, torch.Tensor):
        t = t.detach()
        if t.dtype in (torch.int64, torch.int32, torch.uint8, torch.bool):
            return t.tolist()
        return t.to(D).tolist()
    if isinstance(t, (list, tuple)):
        return [L(v) for v in t]
    if isinstance(t, float):
        return float(t)
    return t


def check_finite(obj, where=""):
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"non-finite number at {where}")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            check_finite(v, f"{where}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            check_finite(v, f"{where}[{i}]")


def write_json(path, obj):
    check_finite(obj, os.path.basename(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    size = os.path.getsize(path)
    assert size < 200_000, f"{path} is {size} bytes"
    print(f"wrote {os.path.relpath(path, ROOT)} ({size} bytes)")


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    print(f"wrote {os.path.relpath(path, ROOT)} ({len(data)} bytes)")


def meta():
    return {"generator": "scripts/make_fixtures.py", "torch": torch.__version__.split("+")[0]}


# ------------------------------------------------------------- activations

def activation_input():
    g = gen(1001)
    x = torch.randn(3, 5, generator=g) * 3
    x[0, 0] = 0.0          # exact zeros: derivative conventions at the kink
    x[1, 3] = 0.0
    x[0, 4] = 25.0         # beyond softplus's threshold (beta*x > 20)
    x[2, 1] = -25.0
    x[1, 0] = 10.0         # beta=2: beta*x == 20 exactly, still the log1p branch
    x[2, 4] = 10.5         # beta=2: beta*x = 21 > 20, linear branch; beta=1: log1p branch
    return x


ACTIVATIONS = [
    # id, name, params, function
    ("relu", "relu", {}, lambda x: F.relu(x)),
    ("relu_scaled_3", "relu_scaled", {"scale": 3.0}, lambda x: 3.0 * F.relu(x)),
    ("leaky_relu_0.1", "leaky_relu", {"negative_slope": 0.1}, lambda x: F.leaky_relu(x, 0.1)),
    ("leaky_relu_0.01", "leaky_relu", {"negative_slope": 0.01}, lambda x: F.leaky_relu(x, 0.01)),
    ("tanh", "tanh", {}, torch.tanh),
    ("sigmoid", "sigmoid", {}, torch.sigmoid),
    ("softplus_1", "softplus", {"beta": 1.0, "threshold": 20.0}, lambda x: F.softplus(x, beta=1.0, threshold=20.0)),
    ("softplus_2", "softplus", {"beta": 2.0, "threshold": 20.0}, lambda x: F.softplus(x, beta=2.0, threshold=20.0)),
    ("gelu", "gelu", {"approximate": "none"}, lambda x: F.gelu(x, approximate="none")),
    ("gelu_tanh", "gelu", {"approximate": "tanh"}, lambda x: F.gelu(x, approximate="tanh")),
    ("elu_1", "elu", {"alpha": 1.0}, lambda x: F.elu(x, alpha=1.0)),
    ("elu_0.5", "elu", {"alpha": 0.5}, lambda x: F.elu(x, alpha=0.5)),
    ("silu", "silu", {}, F.silu),
    ("softmax_dim-1", "softmax", {"dim": -1}, lambda x: F.softmax(x, dim=-1)),
    ("softmax_dim0", "softmax", {"dim": 0}, lambda x: F.softmax(x, dim=0)),
    ("log_softmax_dim-1", "log_softmax", {"dim": -1}, lambda x: F.log_softmax(x, dim=-1)),
    ("softargmax_beta2", "softargmax", {"beta": 2.0, "dim": -1}, lambda x: F.softmax(2.0 * x, dim=-1)),
    ("smooth_max_beta2", "smooth_max", {"beta": 2.0, "dim": -1},
     lambda x: torch.logsumexp(2.0 * x, dim=-1) / 2.0),
]

POINT_ACTIVATIONS = [
    ("relu", "relu", {}, lambda x: F.relu(x)),
    ("leaky_relu:0.1", "leaky_relu", {"negative_slope": 0.1}, lambda x: F.leaky_relu(x, 0.1)),
    ("softplus:1", "softplus", {"beta": 1.0, "threshold": 20.0}, lambda x: F.softplus(x, beta=1.0)),
    ("gelu", "gelu", {"approximate": "none"}, lambda x: F.gelu(x)),
]
POINTS = [-3.0, -1.5, -0.5, -0.1, 0.0, 0.1, 0.5, 1.5, 3.0]


def make_activations():
    x0 = activation_input()
    cases = []
    for i, (cid, name, params, fn) in enumerate(ACTIVATIONS):
        x = x0.clone().requires_grad_(True)
        y = fn(x)
        up = torch.randn(y.shape, generator=gen(2000 + i))
        (y * up).sum().backward()
        cases.append({"id": cid, "name": name, "params": params, "x": L(x), "upstream": L(up),
                      "y": L(y), "dx": L(x.grad)})
    points = []
    for cid, name, params, fn in POINT_ACTIVATIONS:
        x = torch.tensor(POINTS, dtype=D, requires_grad=True)
        y = fn(x)
        y.sum().backward()
        points.append({"id": cid, "name": name, "params": params, "x": L(x), "y": L(y),
                       "dydx": L(x.grad)})
    write_json(os.path.join(FIX, "activations.json"),
               {"meta": meta(), "cases": cases, "activation_points": points})


# ------------------------------------------------------------------ losses

def loss_inputs(kind, g):
    """(input, target) for one loss family; float64 unless class indices."""
    if kind == "regression":
        inp = torch.randn(4, 3, generator=g)
        tgt = torch.randn(4, 3, generator=g)
        inp[0, 0] = tgt[0, 0]          # an exact zero residual (sign(0) = 0 for L1)
        inp[1, 1] = tgt[1, 1] + 0.5    # |residual| == 0.5 exactly-ish: Huber boundary region
        inp[2, 2] = tgt[2, 2] - 2.5    # far in the linear region
        return inp, tgt
    if kind == "bce":
        inp = torch.sigmoid(torch.randn(4, 3, generator=g) * 2)
        tgt = (torch.rand(4, 3, generator=g) > 0.5).to(D)
        tgt[0, 1] = 0.3                # some soft targets
        tgt[2, 0] = 0.75
        tgt[3, 2] = 0.5
        return inp, tgt
    if kind == "bce_logits":
        inp = torch.randn(4, 3, generator=g) * 3
        inp[0, 0] = 40.0
        inp[1, 1] = -40.0
        inp[2, 2] = 40.0
        inp[3, 0] = -40.0
        tgt = (torch.rand(4, 3, generator=g) > 0.5).to(D)
        tgt[0, 0] = 1.0                # confident and right
        tgt[1, 1] = 0.0
        tgt[2, 2] = 0.0                # confident and wrong
        tgt[3, 0] = 1.0
        tgt[1, 2] = 0.25               # a soft target
        return inp, tgt
    if kind == "ce_index":
        inp = torch.randn(4, 5, generator=g) * 2
        tgt = torch.randint(0, 5, (4,), generator=g)
        return inp, tgt
    if kind == "ce_probs":
        inp = torch.randn(4, 5, generator=g) * 2
        tgt = torch.softmax(torch.randn(4, 5, generator=g), dim=1)
        return inp, tgt
    if kind == "nll":
        inp = torch.log_softmax(torch.randn(4, 5, generator=g) * 2, dim=1)
        tgt = torch.randint(0, 5, (4,), generator=g)
        return inp, tgt
    raise KeyError(kind)


LOSSES = [
    # id prefix, torch name, params, input kind, function(input, target, reduction)
    ("mse_loss", "mse_loss", {}, "regression", lambda i, t, r: F.mse_loss(i, t, reduction=r)),
    ("l1_loss", "l1_loss", {}, "regression", lambda i, t, r: F.l1_loss(i, t, reduction=r)),
    ("huber_loss_delta1", "huber_loss", {"delta": 1.0}, "regression",
     lambda i, t, r: F.huber_loss(i, t, reduction=r, delta=1.0)),
    ("huber_loss_delta0.5", "huber_loss", {"delta": 0.5}, "regression",
     lambda i, t, r: F.huber_loss(i, t, reduction=r, delta=0.5)),
    ("smooth_l1_loss_beta1", "smooth_l1_loss", {"beta": 1.0}, "regression",
     lambda i, t, r: F.smooth_l1_loss(i, t, reduction=r, beta=1.0)),
    ("smooth_l1_loss_beta0.5", "smooth_l1_loss", {"beta": 0.5}, "regression",
     lambda i, t, r: F.smooth_l1_loss(i, t, reduction=r, beta=0.5)),
    ("binary_cross_entropy", "binary_cross_entropy", {}, "bce",
     lambda i, t, r: F.binary_cross_entropy(i, t, reduction=r)),
    ("binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits", {}, "bce_logits",
     lambda i, t, r: F.binary_cross_entropy_with_logits(i, t, reduction=r)),
    ("cross_entropy_index", "cross_entropy", {"target": "class_indices"}, "ce_index",
     lambda i, t, r: F.cross_entropy(i, t, reduction=r)),
    ("cross_entropy_probs", "cross_entropy", {"target": "class_probabilities"}, "ce_probs",
     lambda i, t, r: F.cross_entropy(i, t, reduction=r)),
    ("nll_loss", "nll_loss", {}, "nll", lambda i, t, r: F.nll_loss(i, t, reduction=r)),
]


def make_losses():
    cases = []
    for li, (pid, name, params, kind, fn) in enumerate(LOSSES):
        inp0, tgt = loss_inputs(kind, gen(3000 + li))
        for ri, red in enumerate(("mean", "sum", "none")):
            inp = inp0.clone().requires_grad_(True)
            loss = fn(inp, tgt, red)
            case = {"id": f"{pid}_{red}", "name": name, "reduction": red, "params": params,
                    "input": L(inp), "target": L(tgt)}
            if red == "none":
                up = torch.randn(loss.shape, generator=gen(3500 + li))
                (loss * up).sum().backward()
                case["upstream"] = L(up)
                case["loss"] = L(loss)
            else:
                loss.backward()
                case["loss"] = loss.item()
            case["dinput"] = L(inp.grad)
            cases.append(case)
    # half_l2: 0.5 * sum((o - y)^2), the lab's L2 loss, by hand in torch.
    o = torch.randn(4, 3, generator=gen(3900)).requires_grad_(True)
    y = torch.randn(4, 3, generator=gen(3901))
    loss = 0.5 * ((o - y) ** 2).sum()
    loss.backward()
    cases.append({"id": "half_l2", "name": "half_l2", "reduction": "sum", "params": {},
                  "input": L(o), "target": L(y), "loss": loss.item(), "dinput": L(o.grad)})
    write_json(os.path.join(FIX, "losses.json"), {"meta": meta(), "cases": cases})


# -------------------------------------------------------------------- main

PARTS = {
    "activations": lambda: make_activations(),
    "losses": lambda: make_losses(),
}


def main(argv):
    wanted = argv or list(PARTS)
    for name in wanted:
        if name not in PARTS:
            sys.exit(f"unknown part {name!r}; parts: {', '.join(PARTS)}")
    for name in wanted:
        PARTS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
