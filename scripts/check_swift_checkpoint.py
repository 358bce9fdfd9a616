#!/usr/bin/env python3
"""The Swift -> PyTorch half of the checkpoint round trip.

Loads the checkpoints that Backprop wrote (Tests/BackpropTests/Fixtures/
safetensors/swift_mlp_{f32,f64}.safetensors, made by the Swift test
"Swift checkpoint fixture" with BACKPROP_REGENERATE_FIXTURES=1) with
`safetensors.torch.load_file`, rebuilds the nn.Sequential from the
architecture in the file's metadata, loads the weights with
`load_state_dict(strict=True)`, and records PyTorch's predictions in
swift_mlp_expected.json. The Swift test checks its own forward pass against
them, so the tests need no Python.

    pip install torch safetensors
    python3 scripts/check_swift_checkpoint.py
"""
import json, os

import torch
from safetensors import safe_open
from safetensors.torch import load_file

HERE = os.path.join(os.path.dirname(__file__), "..", "Tests", "BackpropTests", "Fixtures", "safetensors")
ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU,
               "elu": torch.nn.ELU, "silu": torch.nn.SiLU, "softplus": torch.nn.Softplus, "leaky_relu": torch.nn.LeakyReLU,
               "identity": torch.nn.Identity, "softmax": lambda: torch.nn.Softmax(dim=-1),
               "log_softmax": lambda: torch.nn.LogSoftmax(dim=-1)}


def build(arch):
    """nn.Sequential from the checkpoint's architecture: layer objects named as PyTorch names them
    ({"type": "linear", "in_features": 4, "out_features": 8}, {"type": "relu"}, ...), or the older
    shorthand of widths with one activation."""
    layers = []
    if arch["layers"] and isinstance(arch["layers"][0], int):
        widths = arch["layers"]
        for i in range(len(widths) - 1):
            layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
            if i < len(widths) - 2:
                layers.append(ACTIVATIONS[arch["activation"]]())
                if arch.get("dropout", 0) > 0:
                    layers.append(torch.nn.Dropout(arch["dropout"]))
        return torch.nn.Sequential(*layers)
    for layer in arch["layers"]:
        kind, params = layer["type"], {k: v for k, v in layer.items() if k != "type"}
        if kind == "linear":
            layers.append(torch.nn.Linear(params["in_features"], params["out_features"], bias=params.get("bias", True)))
        elif kind == "dropout":
            layers.append(torch.nn.Dropout(**params))
        else:
            layers.append(ACTIVATIONS[kind](**params))
    return torch.nn.Sequential(*layers)


# Inputs that are exact in float32: multiples of 1/16.
g = torch.Generator().manual_seed(3)
x = torch.round(torch.randn(6, 4, generator=g, dtype=torch.float64) * 16) / 16

result = {"meta": {"generator": "scripts/check_swift_checkpoint.py", "torch": torch.__version__.split("+")[0]},
          "x": x.tolist(), "files": {}}
for name, dtype in [("swift_mlp_f32.safetensors", torch.float32), ("swift_mlp_f64.safetensors", torch.float64)]:
    path = os.path.join(HERE, name)
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata()
    state = load_file(path)
    arch = json.loads(metadata["architecture"])
    model = build(arch).to(dtype)
    model.load_state_dict(state, strict=True)   # raises on any missing, extra or misshapen tensor
    model.eval()
    with torch.no_grad():
        native = model(x.to(dtype))
        wide = build(arch).double()
        wide.load_state_dict({k: v.double() for k, v in state.items()}, strict=True)
        exact = wide(x)
    result["files"][name] = {
        "metadata": metadata,
        "keys": list(state.keys()),
        "dtypes": {k: str(v.dtype) for k, v in state.items()},
        "shapes": {k: list(v.shape) for k, v in state.items()},
        "pytorch_model": repr(model).replace("\n", " "),
        "outputs_native": native.double().tolist(),
        "outputs_float64": exact.tolist(),
        "predicted_classes": exact.argmax(dim=1).tolist(),
    }
out = os.path.join(HERE, "swift_mlp_expected.json")
with open(out, "w") as f:
    json.dump(result, f, separators=(",", ":"))
print("wrote", os.path.normpath(out))
for name, r in result["files"].items():
    print(name, r["pytorch_model"], "classes", r["predicted_classes"])
