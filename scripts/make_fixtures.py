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



# -------------------------------------------------------------- optimizers

PARAM_KEYS = ("0.weight", "0.bias", "2.weight", "2.bias")
HYPER_KEYS = ("lr", "momentum", "dampening", "nesterov", "weight_decay", "betas", "eps",
              "alpha", "centered", "amsgrad", "maximize")

OPTIMIZERS = [
    ("sgd", "SGD", {"lr": 0.1}),
    ("sgd_momentum", "SGD", {"lr": 0.1, "momentum": 0.9}),
    ("sgd_nesterov", "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("sgd_momentum_dampening_wd", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1,
                                          "weight_decay": 0.01}),
    ("adam", "Adam", {"lr": 0.01}),
    ("adam_wd", "Adam", {"lr": 0.01, "weight_decay": 0.01}),
    ("adamw_wd", "AdamW", {"lr": 0.01, "weight_decay": 0.01}),
    ("rmsprop", "RMSprop", {"lr": 0.01}),
    ("rmsprop_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9}),
]


def opt_network():
    g = gen(4000)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(D)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.8)
    x = torch.randn(6, 3, generator=g)
    y = torch.randn(6, 2, generator=g)
    init = {k: v.clone() for k, v in net.state_dict().items()}
    return net, init, x, y


def state(net):
    sd = net.state_dict()
    return {k: L(sd[k]) for k in PARAM_KEYS}


def make_optimizers():
    _, init, x, y = opt_network()
    runs = []
    for rid, cls, kwargs in OPTIMIZERS:
        net, _, _, _ = opt_network()
        net.load_state_dict(init)
        opt = getattr(torch.optim, cls)(net.parameters(), foreach=False, **kwargs)
        hyper = {}
        for k, v in opt.defaults.items():
            if k not in HYPER_KEYS:
                continue
            if isinstance(v, tuple):
                v = [float(e) for e in v]
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                v = float(v)
            hyper[k] = v
        losses, params = [], []
        for _ in range(10):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            params.append(state(net))
        runs.append({"id": rid, "optimizer": cls, "hyperparameters": hyper,
                     "losses": losses, "params_after_step": params})

    def lr_sequence(make_sched):
        p = nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make_sched(opt)
        lrs = []
        for _ in range(11):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return lrs

    schedulers = [
        {"id": "step_lr", "name": "StepLR", "params": {"step_size": 3, "gamma": 0.5},
         "initial_lr": 0.1,
         "lrs": lr_sequence(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5))},
        {"id": "cosine_annealing_lr", "name": "CosineAnnealingLR",
         "params": {"T_max": 10, "eta_min": 0.001}, "initial_lr": 0.1,
         "lrs": lr_sequence(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
             o, T_max=10, eta_min=0.001))},
    ]

    net, _, _, _ = opt_network()
    net.load_state_dict(init)
    net.zero_grad()
    F.mse_loss(net(x), y).backward()
    before = {k: L(p.grad) for k, p in zip(PARAM_KEYS, net.parameters())}
    total = torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=0.5, norm_type=2.0,
                                           foreach=False)
    after = {k: L(p.grad) for k, p in zip(PARAM_KEYS, net.parameters())}
    assert total.item() > 0.5, "pick data whose gradient norm exceeds max_norm"
    clip = {"max_norm": 0.5, "norm_type": 2.0, "total_norm": total.item(),
            "grads_before": before, "grads_after": after}

    write_json(os.path.join(FIX, "optimizers.json"), {
        "meta": meta(),
        "network": {"layers": ["Linear(3,4)", "Tanh()", "Linear(4,2)"], "loss": "mse_loss mean",
                    "initial_params": {k: L(init[k]) for k in PARAM_KEYS},
                    "x": L(x), "y": L(y)},
        "runs": runs,
        "schedulers": schedulers,
        "clip_grad_norm": clip,
    })



# ----------------------------------------------------------- seed networks

SEED_CONFIGS = [
    # id, f, g, cost, y kind
    ("relu_identity_sqdist", "relu", "identity", "squared_distance", "real"),
    ("relu3_identity_sqdist", "relu_scaled_3", "identity", "squared_distance", "real"),
    ("tanh_sigmoid_sqdist", "tanh", "sigmoid", "squared_distance", "binary"),
    ("tanh_sigmoid_bce", "tanh", "sigmoid", "bce_mean_over_K", "binary"),
    ("relu_tanh_sqdist", "relu", "tanh", "squared_distance", "real_pm1"),
]
ACT = {"relu": F.relu, "relu_scaled_3": lambda s: 3.0 * F.relu(s), "tanh": torch.tanh,
       "sigmoid": torch.sigmoid, "identity": lambda s: s}


def cost_fn(name, y, yt):
    if name == "squared_distance":
        return ((yt - y) ** 2).sum()
    if name == "bce_mean_over_K":
        return (-(y * torch.log(yt) + (1 - y) * torch.log(1 - yt))).mean()
    raise KeyError(name)


def two_layer(W1, b1, W2, b2, x, y, f, g, cost):
    """Forward of Linear1 -> f -> Linear2 -> g, cost, and every gradient."""
    leaves = [t.clone().requires_grad_(True) for t in (W1, b1, W2, b2, x)]
    W1, b1, W2, b2, x = leaves
    s1 = W1 @ x + b1
    a1 = ACT[f](s1)
    s2 = W2 @ a1 + b2
    yt = ACT[g](s2)
    for t in (s1, a1, s2, yt):
        t.retain_grad()
    C = cost_fn(cost, y, yt)
    C.backward()
    return {
        "forward": {"s1": L(s1), "a1": L(a1), "s2": L(s2), "y_tilde": L(yt), "cost": C.item()},
        "gradients": {"W1": L(W1.grad), "b1": L(b1.grad), "W2": L(W2.grad), "b2": L(b2.grad),
                      "x": L(x.grad)},
        "intermediate_gradients": {"dC_dy_tilde": L(yt.grad), "dC_ds2": L(s2.grad),
                                   "dC_da1": L(a1.grad), "dC_ds1": L(s1.grad)},
    }


def make_seed_networks():
    n, d, K = 3, 4, 2
    nets = []
    for i, (cid, f, g, cost, ykind) in enumerate(SEED_CONFIGS):
        gg = gen(5000 + i)
        W1 = torch.randn(d, n, generator=gg)
        b1 = torch.randn(d, generator=gg)
        W2 = torch.randn(K, d, generator=gg)
        b2 = torch.randn(K, generator=gg)
        x = torch.randn(n, generator=gg)
        if ykind == "binary":
            y = torch.tensor([1.0, 0.0])
        elif ykind == "real_pm1":
            y = torch.tensor([0.5, -0.25])
        else:
            y = torch.randn(K, generator=gg)
        r = two_layer(W1, b1, W2, b2, x, y, f, g, cost)
        s1 = torch.tensor(r["forward"]["s1"])
        if f.startswith("relu"):
            assert (s1 > 0).any() and (s1 < 0).any(), f"{cid}: want a mixed ReLU mask"
        nets.append({"id": cid, "f": f, "g": g, "cost": cost, "n": n, "d": d, "K": K,
                     "W1": L(W1), "b1": L(b1), "W2": L(W2), "b2": L(b2), "x": L(x), "y": L(y),
                     **r})

    # The lab's full network: Linear(W, b) -> ReLU -> Linear(M, c).
    W = torch.tensor([[1.0, 2.0], [2.0, 5.0], [7.0, 3.0]])
    b = torch.tensor([4.0, 2.0, 1.0])
    M = torch.tensor([[4.0, 1.0, 2.0], [3.0, 4.0, 1.0]])
    c = torch.tensor([5.0, 1.0])
    x = torch.tensor([10.0, 5.0])
    y = torch.tensor([320.0, 340.0])
    labs = []
    for lid, f in (("lab_network", "relu"), ("lab_network_relu3_variant", "relu_scaled_3")):
        r = two_layer(W, b, M, c, x, y, f, "identity", "squared_distance")
        if f == "relu":
            assert r["forward"]["y_tilde"] == [320.0, 347.0]
        labs.append({"id": lid, "f": f, "g": "identity", "cost": "squared_distance",
                     "W1": L(W), "b1": L(b), "W2": L(M), "b2": L(c), "x": L(x), "y": L(y), **r})

    # The lecture's computational graph: a = x*y + z, b = a*(x + x), w = a*b + b.
    xs = [torch.tensor(v, requires_grad=True) for v in (1.0, 2.0, 3.0)]
    gx, gy, gz = xs
    a = gx * gy + gz
    bb = a * (gx + gx)
    w = a * bb + bb
    w.backward()
    graph = {"inputs": {"x": 1.0, "y": 2.0, "z": 3.0}, "a": a.item(), "b": bb.item(),
             "w": w.item(), "dw_dx": gx.grad.item(), "dw_dy": gy.grad.item(),
             "dw_dz": gz.grad.item()}
    assert (graph["w"], graph["dw_dx"], graph["dw_dy"], graph["dw_dz"]) == (60.0, 104.0, 22.0, 22.0)

    write_json(os.path.join(FIX, "seed_networks.json"),
               {"meta": meta(), "networks": nets, "lab_networks": labs,
                "computational_graph": graph})



# ------------------------------------------------------------- safetensors

ST_DTYPES = [("F32", torch.float32), ("F64", torch.float64), ("F16", torch.float16),
             ("BF16", torch.bfloat16)]


def bad_safetensors(header_bytes, data, declared_len=None):
    n = len(header_bytes) if declared_len is None else declared_len
    return struct.pack("<Q", n) + header_bytes + data


def make_safetensors():
    from safetensors.torch import save_file, load_file
    out = os.path.join(FIX, "safetensors")
    os.makedirs(out, exist_ok=True)

    torch.set_default_dtype(torch.float32)     # the ordinary float32 init
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    torch.set_default_dtype(torch.float64)

    # Inputs are multiples of 1/16 in (-4, 4): exact in every dtype used here.
    x = torch.round(torch.randn(5, 4, generator=gen(6000)) * 16) / 16

    expected = {"meta": meta(), "model": ["Linear(4,8)", "ReLU()", "Linear(8,3)"],
                "init": "torch.manual_seed(0), default float32 init",
                "keys": ["0.weight", "0.bias", "2.weight", "2.bias"],
                "x": L(x), "variants": {}}
    for name, dt in ST_DTYPES:
        sd = {k: v.detach().to(dt).contiguous() for k, v in model.state_dict().items()}
        fname = f"torch_mlp_{name.lower()}.safetensors"
        path = os.path.join(out, fname)
        save_file(sd, path, metadata={"format": "pt"})
        print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")
        back = load_file(path)
        wide = {k: back[k].to(torch.float64) for k in sd}
        m64 = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(D)
        m64.load_state_dict(wide)
        with torch.no_grad():
            y64 = m64(x)
        var = {"file": fname, "dtype": name,
               "shapes": {k: list(v.shape) for k, v in sd.items()},
               "weights_as_float64": {k: L(v) for k, v in wide.items()},
               "outputs": L(y64)}
        if name == "F32":
            with torch.no_grad():
                var["outputs_native_float32"] = L(model(x.to(torch.float32)))
        expected["variants"][name] = var

    # A tiny valid file with other dtypes, a 0-d scalar and an empty tensor.
    tiny = {"a_f32": torch.tensor([[1.5, -2.0, 0.25], [3.0, 0.0, -0.125]], dtype=torch.float32),
            "i_i64": torch.tensor([-3, 0, 7], dtype=torch.int64),
            "s_f64": torch.tensor(2.5, dtype=torch.float64),
            "e_f32": torch.zeros(0, 3, dtype=torch.float32),
            "u_u8": torch.tensor([0, 255, 16], dtype=torch.uint8)}
    save_file(tiny, os.path.join(out, "tiny_mixed.safetensors"))
    tiny_back = load_file(os.path.join(out, "tiny_mixed.safetensors"))
    expected["tiny_mixed"] = {
        "file": "tiny_mixed.safetensors",
        "tensors": {k: {"dtype": {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64",
                                  torch.uint8: "U8"}[v.dtype],
                        "shape": list(v.shape), "values": v.tolist()}
                    for k, v in ((k, tiny_back[k]) for k in tiny)}}

    def hdr(obj):
        return json.dumps(obj, separators=(",", ":")).encode()

    bad = {
        "bad_header_too_large.safetensors": (
            bad_safetensors(hdr({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}),
                            b"\0" * 8, declared_len=1_000_000),
            "header length (1,000,000) is larger than the file"),
        "bad_header_not_json.safetensors": (
            bad_safetensors(b"this is not json {{{    ", b"\0" * 8),
            "header bytes are not JSON"),
        "bad_unknown_dtype.safetensors": (
            bad_safetensors(hdr({"w": {"dtype": "F8_E9", "shape": [2], "data_offsets": [0, 2]}}),
                            b"\0" * 2),
            "unknown dtype F8_E9"),
        "bad_overlapping_offsets.safetensors": (
            bad_safetensors(hdr({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}),
                            b"\0" * 12),
            "data_offsets of a and b overlap ([0,8] and [4,12])"),
        "bad_offsets_past_end.safetensors": (
            bad_safetensors(hdr({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}),
                            b"\0" * 8),
            "data_offsets end (16) is past the 8 data bytes"),
        "bad_shape_mismatch.safetensors": (
            bad_safetensors(hdr({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}),
                            b"\0" * 8),
            "shape [3] F32 needs 12 bytes, offsets give 8"),
        "bad_truncated_length.safetensors": (b"\x10\x00\x00", "file shorter than the 8-byte length"),
    }
    expected["bad_files"] = []
    for fname, (data, why) in bad.items():
        path = os.path.join(out, fname)
        write_bytes(path, data)
        try:
            load_file(path)
            err = None
        except Exception as e:          # noqa: BLE001 - any rejection is what we want
            err = f"{type(e).__name__}: {e}"
        assert err is not None, f"safetensors accepted {fname}"
        expected["bad_files"].append({"file": fname, "problem": why,
                                      "python_safetensors_error": err.splitlines()[0][:200]})
    write_json(os.path.join(out, "torch_mlp_expected.json"), expected)



# ------------------------------------------------------------ digits / IDX

def idx_bytes(arr):
    """MNIST IDX encoding of a uint8 array: magic 0x0000 08 ndim, big-endian u32 dims."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    head = struct.pack(">I", 0x0800 | arr.ndim) + b"".join(struct.pack(">I", n) for n in arr.shape)
    return head + arr.tobytes()


def gz(data):
    # mtime=0 and no file name: the .gz bytes are reproducible.
    return gzip.compress(data, compresslevel=9, mtime=0)


def make_digits():
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = digits.images
    assert images.shape == (1797, 8, 8)
    assert images.min() == 0 and images.max() == 16 and np.all(images == np.round(images))
    imgs = images.astype(np.uint8)
    labels = digits.target.astype(np.uint8)
    assert labels.shape == (1797,) and set(labels.tolist()) == set(range(10))
    out = os.path.join(DATA, "digits")
    write_bytes(os.path.join(out, "digits-images.idx3-ubyte"), idx_bytes(imgs))
    write_bytes(os.path.join(out, "digits-labels.idx1-ubyte"), idx_bytes(labels))

    fx = os.path.join(FIX, "idx")
    img20, lab20 = idx_bytes(imgs[:20]), idx_bytes(labels[:20])
    write_bytes(os.path.join(fx, "digits20-images.idx3-ubyte"), img20)
    write_bytes(os.path.join(fx, "digits20-labels.idx1-ubyte"), lab20)
    write_bytes(os.path.join(fx, "digits20-images.idx3-ubyte.gz"), gz(img20))
    write_bytes(os.path.join(fx, "digits20-labels.idx1-ubyte.gz"), gz(lab20))
    # Error cases.
    write_bytes(os.path.join(fx, "truncated-images.idx3-ubyte"), img20[:16 + 64 * 5 + 10])
    write_bytes(os.path.join(fx, "truncated-header.idx1-ubyte"), lab20[:6])
    wrong = bytearray(img20)
    wrong[0:4] = struct.pack(">I", 0x00000D03)      # type byte 0x0D (float) is not uint8
    write_bytes(os.path.join(fx, "wrong-magic-images.idx3-ubyte"), bytes(wrong))
    wrong = bytearray(lab20)
    wrong[0:4] = struct.pack("<I", 0x00000801)      # little-endian magic: 01 08 00 00
    write_bytes(os.path.join(fx, "wrong-magic-labels.idx1-ubyte"), bytes(wrong))
    write_json(os.path.join(fx, "digits20_expected.json"), {
        "meta": meta(),
        "images": imgs[:20].tolist(), "labels": labels[:20].tolist(),
        "full_dataset": {"count": 1797, "label_counts": np.bincount(labels, minlength=10).tolist(),
                         "pixel_sum": int(imgs.astype(np.int64).sum()),
                         "first_label": int(labels[0]), "last_label": int(labels[-1])},
    })


# -------------------------------------------------------------------- main

PARTS = {
    "activations": lambda: make_activations(),
    "losses": lambda: make_losses(),
    "optimizers": lambda: make_optimizers(),
    "seed_networks": lambda: make_seed_networks(),
    "safetensors": lambda: make_safetensors(),
    "digits": lambda: make_digits(),
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
