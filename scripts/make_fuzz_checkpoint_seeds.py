"""Seed corpus of the `checkpoint` fuzz target (Fuzz/corpus/checkpoint): small backprop checkpoints whose
metadata records each kind of dataset eval can regenerate without reading another file.

    python3 scripts/make_fuzz_checkpoint_seeds.py
"""
import json
import os

import numpy as np
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Fuzz", "corpus", "checkpoint")


def mlp(sizes, loss, preprocessing, training, name, seed=0):
    rng = np.random.default_rng(seed)
    layers, tensors = [], {}
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        if i:
            layers.append({"type": "relu"})
        index = len(layers)
        layers.append({"type": "linear", "in_features": a, "out_features": b})
        tensors[f"{index}.weight"] = rng.uniform(-1, 1, (b, a)).astype(np.float32)
        tensors[f"{index}.bias"] = rng.uniform(-1, 1, (b,)).astype(np.float32)
    metadata = {
        "format": "pt",
        "architecture": json.dumps({"layers": layers, "loss": loss}, separators=(",", ":")),
        "preprocessing": json.dumps(preprocessing, separators=(",", ":")),
        "training": json.dumps(training, separators=(",", ":")),
    }
    save_file(tensors, os.path.join(OUT, name), metadata=metadata)


os.makedirs(OUT, exist_ok=True)
mlp([2, 4, 2], "cross_entropy", {"standardize": {"mean": [0.5, 0.25], "std": [0.9, 0.5]}},
    {"dataset": "moons", "seed": 7, "samples": 200, "validation_split": 0.2}, "moons.safetensors")
mlp([1, 4, 1], "mse", {}, {"dataset": "sine", "seed": 1, "samples": 64}, "sine.safetensors")
mlp([2, 3, 3], "cross_entropy", {"classes": ["a", "b", "c"]},
    {"dataset": "spirals:3", "seed": 3, "samples": 90, "validation_split": 0.5}, "spirals.safetensors")
mlp([2, 3, 4], "cross_entropy", {}, {"dataset": "blobs:4", "seed": 2, "samples": 40}, "blobs.safetensors")
mlp([64, 3, 10], "cross_entropy", {"scale": 16}, {"dataset": "digits", "seed": 1, "validation_split": 0.1},
    "digits.safetensors")
