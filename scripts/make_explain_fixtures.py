#!/usr/bin/env python3
"""PyTorch-made fixtures for `backprop explain` on conv networks
(Tests/BackpropTests/Fixtures/explain/).

    python3 scripts/make_explain_fixtures.py

For each explain problem below (the shipped conv examples and the extra
problems in Fixtures/explain/), runs the same network with
torch.nn.functional in float64 and writes NAME.expected.json:

    {"outputs": [each layer's output], "loss": C,
     "gradients": {state_dict name: dC/dθ}, "input_gradient": dC/dx,
     "buffers": {state_dict name: value after the pass}}

Keys follow the problem file (torch.nn.functional's names). One example
([C, H, W] or [C, L]) runs as a batch of one and is reported without the
batch axis, as explain does. Batch norm in training mode updates the running
statistics (momentum, unbiased variance) and num_batches_tracked by one.
"""
import json
import os

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "BackpropTests", "Fixtures", "explain")
D = torch.float64
PROBLEMS = [
    ("conv2d", os.path.join(ROOT, "examples", "conv2d.json")),
    ("conv-batchnorm", os.path.join(ROOT, "examples", "conv-batchnorm.json")),
    ("conv1d", os.path.join(ROOT, "examples", "conv1d.json")),
    ("conv-groups-adaptive", os.path.join(OUT, "conv-groups-adaptive.json")),
]
# The rank of one example each layer type takes (None: any).
EXAMPLE_RANK = {"conv1d": 2, "conv2d": 3, "max_pool2d": 3, "avg_pool2d": 3, "adaptive_avg_pool2d": 3,
                "batch_norm2d": 3, "linear": 1}


def T(v):
    return torch.tensor(v, dtype=D)


def L(t):
    return t.detach().tolist()


def run(problem):
    layers = problem["layers"]
    x = T(problem["x"])
    first = next((EXAMPLE_RANK[l["type"]] for l in layers if l["type"] in EXAMPLE_RANK), 1)
    batched = x.dim() > first
    x.requires_grad_(True)
    h = x if batched else x.unsqueeze(0)
    params, buffers, outputs = {}, {}, []

    def param(i, name, value):
        t = T(value).requires_grad_(True)
        params[f"{i}.{name}"] = t
        return t

    for i, l in enumerate(layers):
        kind = l["type"]
        if kind in ("conv1d", "conv2d"):
            w = param(i, "weight", l["weight"])
            b = param(i, "bias", l["bias"]) if l.get("bias") is not None else None
            f = F.conv1d if kind == "conv1d" else F.conv2d
            h = f(h, w, b, stride=l.get("stride", 1), padding=l.get("padding", 0), dilation=l.get("dilation", 1),
                  groups=l.get("groups", 1))
        elif kind == "linear":
            w = param(i, "weight", l["weight"])
            b = param(i, "bias", l["bias"]) if l.get("bias") is not None else None
            h = F.linear(h, w, b)
        elif kind in ("batch_norm1d", "batch_norm2d"):
            c = h.shape[1]
            w = param(i, "weight", l.get("weight", [1.0] * c))
            b = param(i, "bias", l.get("bias", [0.0] * c))
            rm, rv = T(l.get("running_mean", [0.0] * c)), T(l.get("running_var", [1.0] * c))
            training = l.get("training", False)
            h = F.batch_norm(h, rm, rv, w, b, training=training, momentum=l.get("momentum", 0.1), eps=l.get("eps", 1e-5))
            buffers[f"{i}.running_mean"], buffers[f"{i}.running_var"] = L(rm), L(rv)
            buffers[f"{i}.num_batches_tracked"] = 1 if training else 0
        elif kind == "layer_norm":
            shape = l["normalized_shape"]
            shape = [shape] if isinstance(shape, int) else shape
            w = param(i, "weight", l["weight"]) if "weight" in l else None
            b = param(i, "bias", l["bias"]) if "bias" in l else None
            h = F.layer_norm(h, shape, w, b, eps=l.get("eps", 1e-5))
        elif kind == "max_pool2d":
            h = F.max_pool2d(h, l["kernel_size"], l.get("stride"), l.get("padding", 0))
        elif kind == "avg_pool2d":
            h = F.avg_pool2d(h, l["kernel_size"], l.get("stride"), l.get("padding", 0))
        elif kind == "adaptive_avg_pool2d":
            h = F.adaptive_avg_pool2d(h, l["output_size"])
        elif kind == "flatten":
            h = torch.flatten(h, l.get("start_dim", 1), l.get("end_dim", -1))
        elif kind == "relu":
            h = F.relu(h)
        elif kind == "tanh":
            h = torch.tanh(h)
        else:
            raise ValueError(f"layer type {kind} is not in this script")
        h.retain_grad()
        outputs.append(h)

    out = h if batched else h.squeeze(0)
    loss = problem["loss"]
    y = T(problem["y"])
    reduction = loss.get("reduction", "mean")
    if loss["type"] == "mse":
        c = F.mse_loss(out, y, reduction=reduction)
    elif loss["type"] == "cross_entropy":
        c = F.cross_entropy(out, y.long(), reduction=reduction)
    else:
        raise ValueError(f"loss {loss['type']} is not in this script")
    c.backward()
    view = (lambda t: t) if batched else (lambda t: t.squeeze(0))
    return {
        "outputs": [L(view(o)) for o in outputs],
        "loss": c.item(),
        "gradients": {k: L(v.grad) for k, v in params.items()},
        "input_gradient": L(x.grad),
        "output_gradients": [L(view(o.grad)) for o in outputs],
        "buffers": buffers,
    }


def main():
    for name, path in PROBLEMS:
        with open(path) as f:
            result = run(json.load(f))
        target = os.path.join(OUT, name + ".expected.json")
        with open(target, "w") as f:
            json.dump(result, f)
            f.write("\n")
        print(target)


if __name__ == "__main__":
    main()
