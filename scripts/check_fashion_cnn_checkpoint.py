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

With --full CHECKPOINT, the same both ways at full size on the real test set (/usr/share/datasets/fashion-mnist,
`apt-get install dataset-fashion-mnist`), for the model of examples/fashion-cnn.json:

1. Swift -> PyTorch: CHECKPOINT is what the README's bare command wrote
   (`backprop train --dataset fashion-mnist --model examples/fashion-cnn.json --checkpoint CHECKPOINT`); its
   optimizer tensors are dropped and the rest (model tensors in F32 and metadata) is written as
   conv/fashion_cnn_full.safetensors (~140 KB). PyTorch loads it with the README's recipe (strict=True) and
   predicts the 10,000 test images.
2. PyTorch -> Swift: fashion_cnn() trained by PyTorch for 100 Adam steps of 64 training images (seed 0), saved
   as conv/torch_fashion_cnn_full.safetensors, and its predictions on the 10,000 test images.

Both go to conv/fashion_cnn_full_expected.json: the 10,000 predicted classes as a string of digits, the test
images whose two largest logits are within 1e-3 (where float rounding may pick either; none is expected),
the number correct, and the logits of the first 16 images.

    pip install torch safetensors numpy
    python3 scripts/check_fashion_cnn_checkpoint.py
    python3 scripts/check_fashion_cnn_checkpoint.py --full /tmp/fashion-cnn.safetensors
"""
import json, os, re, sys

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
from safetensors.torch import save_file, load_file
from safetensors import safe_open

DATA = "/usr/share/datasets/fashion-mnist"


def scored(model, x, labels):
    """Evaluation-mode predictions of `model` on `x` (in batches of 1,000), as the fixture records them."""
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 1000]) for i in range(0, len(x), 1000)])
    top2 = logits.topk(2, dim=1).values
    predictions = logits.argmax(1)
    return {"predictions": "".join(str(int(c)) for c in predictions),
            "near_ties": [i for i, m in enumerate((top2[:, 0] - top2[:, 1]).tolist()) if m < 1e-3],
            "correct": int((predictions.numpy() == labels).sum()),
            "logits": logits[:16].double().tolist()}


def full(checkpoint):
    images = read_idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    result = {"meta": {"generator": "scripts/check_fashion_cnn_checkpoint.py --full", "torch": torch.__version__.split("+")[0]}}

    # 1. The checkpoint of the README's command, without its optimizer state, through the README's recipe.
    state = {k: v for k, v in load_file(checkpoint).items() if not k.startswith("optimizer.")}
    with safe_open(checkpoint, framework="pt") as f:
        metadata = f.metadata()
    swift_path = os.path.join(HERE, "fashion_cnn_full.safetensors")
    save_file(state, swift_path, metadata=metadata)
    model = fashion_cnn()
    preprocessing = load_checkpoint(swift_path, model)   # strict=True
    training = json.loads(metadata.get("training", "{}"))
    result["swift_checkpoint"] = {"file": "fashion_cnn_full.safetensors", "preprocessing": preprocessing,
                                  "options": training.get("options"), "test_accuracy": training.get("test_accuracy"),
                                  **scored(model, preprocess(images, preprocessing), labels)}

    # 2. The same model trained by PyTorch for a few steps, for Backprop to load.
    torch.manual_seed(0)
    model = fashion_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_images = read_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz"))
    train_labels = torch.tensor(read_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    pre = {"scale": 255, "input_shape": [1, 28, 28]}
    order = torch.randperm(len(train_images))
    model.train()
    for step in range(100):
        batch = order[step * 64:(step + 1) * 64].numpy()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(preprocess(train_images[batch], pre)), train_labels[batch]).backward()
        optimizer.step()
    torch_path = os.path.join(HERE, "torch_fashion_cnn_full.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, torch_path, metadata={"format": "pt"})
    result["torch_state_dict"] = {"file": "torch_fashion_cnn_full.safetensors", "steps": 100,
                                  "num_batches_tracked": int(model[1].num_batches_tracked),
                                  **scored(model, preprocess(images, pre), labels)}

    out = os.path.join(HERE, "fashion_cnn_full_expected.json")
    with open(out, "w") as f:
        json.dump(result, f, separators=(",", ":"))
    print("wrote", swift_path, torch_path, out)
    for k in ["swift_checkpoint", "torch_state_dict"]:
        print(k, "correct", result[k]["correct"], "near ties", result[k]["near_ties"])


if len(sys.argv) == 3 and sys.argv[1] == "--full":
    full(sys.argv[2])
    sys.exit(0)

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
