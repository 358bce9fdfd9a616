#!/usr/bin/env python3
"""PyTorch resumes from Backprop's optimizer state.

Loads the checkpoints written by the Swift test "Optimizer state: PyTorch resumes from our checkpoints"
(Tests/BackpropTests/Fixtures/safetensors/swift_{sgd,adam,rmsprop}_state.safetensors: a 3-4-2 network and
its optimizer after three steps; regenerate with BACKPROP_REGENERATE_FIXTURES=1), rebuilds the model with
load_state_dict(strict=True) on the tensors not named optimizer.*, rebuilds torch.optim's state from the
optimizer.state.<index>.<buffer> tensors with optimizer.load_state_dict, takes one more step on the same data
and records the parameters in swift_optimizer_state_expected.json. The Swift test takes the same step from
the same file and compares, so the tests need no Python.

    pip install torch safetensors
    python3 scripts/check_optimizer_state.py
"""
import json, os

import torch
from safetensors.torch import load_file

HERE = os.path.join(os.path.dirname(__file__), "..", "Tests", "BackpropTests", "Fixtures", "safetensors")
x = torch.tensor([[0.5, -1, 2], [1, 0.25, -0.5], [-0.75, 1.5, 0.125]])
y = torch.tensor([[1.0, 0], [0, 1], [0.5, -0.5]])


def optimizer(kind, params):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=0.1, momentum=0.9)
    if kind == "adam":
        return torch.optim.Adam(params, lr=0.01)
    return torch.optim.RMSprop(params, lr=0.01, momentum=0.5)


result = {"meta": {"generator": "scripts/check_optimizer_state.py", "torch": torch.__version__.split("+")[0]}}
for kind in ["sgd", "adam", "rmsprop"]:
    tensors = load_file(os.path.join(HERE, f"swift_{kind}_state.safetensors"))
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("optimizer.")}, strict=True)
    opt = optimizer(kind, model.parameters())
    state = {}
    for key, value in tensors.items():
        if key.startswith("optimizer.state."):
            index, buffer = key[len("optimizer.state."):].split(".")
            state.setdefault(int(index), {})[buffer] = value
    opt.load_state_dict({"state": state, "param_groups": opt.state_dict()["param_groups"]})
    loss = torch.nn.functional.mse_loss(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    result[kind] = {
        "optimizer_keys": sorted(k for k in tensors if k.startswith("optimizer.")),
        "after_step": {k: v.tolist() for k, v in model.state_dict().items()},
        "step_after": {str(i): float(s["step"]) for i, s in opt.state_dict()["state"].items() if "step" in s},
    }
out = os.path.join(HERE, "swift_optimizer_state_expected.json")
with open(out, "w") as f:
    json.dump(result, f, separators=(",", ":"))
print("wrote", os.path.normpath(out))
