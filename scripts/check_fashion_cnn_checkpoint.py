#!/usr/bin/env python3
"""Both directions of the CNN checkpoint round trip, with the README's PyTorch recipe.

Runs the Python definitions of README.md's "Checkpoints that PyTorch reads" (fashion_cnn, read_idx,
preprocess, load_checkpoint: taken from the README itself, so the recipe there is what is checked) on
the tiny Fashion-MNIST fixture (Tests/BackpropTests/Fixtures/conv/fashion-mnist-tiny: 6 training and
4 test images), with the small model fashion_cnn(4, 8) (the layers of examples/fashion-cnn.json with
4 and 8 channels, batch norm included, so buffers are covered):

1. Swift -> PyTorch: loads conv/swift_fashion_cnn.safetensors, a checkpoint that `backprop train` wrote
   (the Swift test CNNInteropTests with BACKPROP_REGENERATE_FIXTURES=1), with strict=True, preprocesses the
   stored test pixels as its metadata says, and records the logits and predictions.
2. PyTorch -> Swift: trains fashion_cnn(4, 8) for 5 SGD steps in training mode (the batch norms' running
   statistics move), saves its state dict with safetensors.torch.save_file as
   conv/torch_fashion_cnn.safetensors, and records its evaluation-mode logits on the test images.

Both go to conv/fashion_cnn_expected.json; the Swift tests compare with them and need no Python.

    pip install torch safetensors numpy
    python3 scripts/check_fashion_cnn_checkpoint.py
"""
import json, os, re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
HERE = os.path.join(ROOT, "Tests", "BackpropTests", "Fixtures", "conv")
TINY = os.path.join(HERE, "fashion-mnist-tiny")


def readme_recipe():
    """The README's Python block that defines fashion_cnn, executed: its functions and imports."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    code = next(b for b in blocks if "def fashion_cnn" in b and "def preprocess" in b)
    names = {}
    exec(code, names)
    return names


r = readme_recipe()
torch, np = r["torch"], r["np"]
fashion_cnn, read_idx, preprocess, load_checkpoint = r["fashion_cnn"], r["read_idx"], r["preprocess"], r["load_checkpoint"]
from safetensors.torch import save_file

test_images = read_idx(os.path.join(TINY, "t10k-images-idx3-ubyte.gz"))
train_images = read_idx(os.path.join(TINY, "train-images-idx3-ubyte.gz"))
train_labels = read_idx(os.path.join(TINY, "train-labels-idx1-ubyte.gz"))
result = {"meta": {"generator": "scripts/check_fashion_cnn_checkpoint.py", "torch": torch.__version__.split("+")[0]}}

# 1. The checkpoint Backprop wrote, through the README's recipe.
swift_path = os.path.join(HERE, "swift_fashion_cnn.safetensors")
model = fashion_cnn(4, 8)
preprocessing = load_checkpoint(swift_path, model)   # strict=True: raises on any missing, extra or misshapen tensor
with torch.no_grad():
    logits = model(preprocess(test_images, preprocessing))
result["swift_checkpoint"] = {"file": "swift_fashion_cnn.safetensors", "preprocessing": preprocessing,
                              "keys": list(model.state_dict().keys()),
                              "num_batches_tracked": int(model[1].num_batches_tracked),
                              "logits": logits.double().tolist(), "predictions": logits.argmax(1).tolist()}

# 2. A state dict PyTorch trained, for Backprop to load.
torch.manual_seed(0)
model = fashion_cnn(4, 8)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
x = preprocess(train_images, {"scale": 255, "input_shape": [1, 28, 28]})
y = torch.tensor(train_labels.astype(np.int64))
model.train()
for step in range(5):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
model.eval()
torch_path = os.path.join(HERE, "torch_fashion_cnn.safetensors")
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, torch_path, metadata={"format": "pt"})
with torch.no_grad():
    logits = model(preprocess(test_images, {"scale": 255, "input_shape": [1, 28, 28]}))
result["torch_state_dict"] = {"file": "torch_fashion_cnn.safetensors", "steps": 5,
                              "num_batches_tracked": int(model[1].num_batches_tracked),
                              "running_mean_1": model[1].running_mean.double().tolist(),
                              "logits": logits.double().tolist(), "predictions": logits.argmax(1).tolist()}

with open(os.path.join(HERE, "fashion_cnn_expected.json"), "w") as f:
    json.dump(result, f, separators=(",", ":"))
print("wrote", os.path.join(HERE, "fashion_cnn_expected.json"))
