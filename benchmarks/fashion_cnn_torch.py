#!/usr/bin/env python3
"""examples/fashion-cnn.json trained in PyTorch (eager, float32, CPU) with the options of
`backprop train --dataset fashion-mnist --model examples/fashion-cnn.json --epochs 10 --schedule cosine
--validation-split 0`: Adam lr 1e-3, batch 64, 10 epochs with CosineAnnealingLR to 0 stepped after each
epoch, all 60,000 training images (--validation-split holds some out, as backprop's option), pixels / 255
as [N, 1, 28, 28], cross-entropy. Prints each epoch's time like `backprop train` and the accuracy on the
official 10,000-image test set, so the two can be put side by side in one run:

    swift build -c release --product backprop
    .build/release/backprop train --dataset fashion-mnist --model examples/fashion-cnn.json --epochs 10 --schedule cosine --validation-split 0 --threads 2
    python3 benchmarks/fashion_cnn_torch.py --threads 2                # add --epochs 2 for the time per epoch only

Needs torch and numpy (pip) and the Debian files (apt-get install dataset-fashion-mnist).
"""
import argparse, gzip, os, time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path):
    """An IDX file (MNIST's format; raw or gzip) as a uint8 array."""
    data = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(data[3])]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * data[3]).reshape(shape)


def fashion_cnn(c1=32, c2=64):
    """examples/fashion-cnn.json in PyTorch, as in the README."""
    return nn.Sequential(nn.Conv2d(1, c1, 3), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(c1, c2, 3), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Dropout(0.25), nn.Linear(c2 * 5 * 5, 10))


def images(folder, split):
    x = read_idx(os.path.join(folder, f"{split}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(folder, f"{split}-labels-idx1-ubyte.gz"))
    return torch.tensor(x, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255, torch.tensor(y.astype(np.int64))


def evaluate(model, x, y, batch=512):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(x[i:i + batch])
            loss += nn.functional.cross_entropy(out, y[i:i + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    return loss / len(x), correct / len(x)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--folder", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--schedule", choices=["cosine", "none"], default="cosine")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--validation-split", type=float, default=0.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, y = images(a.folder, "train")
    x_test, y_test = images(a.folder, "t10k")
    order = torch.randperm(len(x))
    n_val = int(len(x) * a.validation_split)
    val, train = order[:n_val], order[n_val:]
    x_val, y_val, x_train, y_train = x[val], y[val], x[train], y[train]
    model = fashion_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr)
    # As `--schedule cosine`: to 0 over the run, one step after each epoch.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=a.epochs) if a.schedule == "cosine" else None
    print(f"torch {torch.__version__}, {a.threads} threads: {len(x_train)} training, {len(x_val)} validation, "
          f"{len(x_test)} test images; adam lr {a.lr}, batch {a.batch_size}, {a.epochs} epochs, schedule {a.schedule}")
    times = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        start = time.perf_counter()
        total, correct, seen = 0.0, 0, 0
        for idx in torch.randperm(len(x_train)).split(a.batch_size):
            xb, yb = x_train[idx], y_train[idx]
            out = model(xb)
            loss = nn.functional.cross_entropy(out, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
            seen += len(idx)
        seconds = time.perf_counter() - start
        times.append(seconds)
        if schedule:
            schedule.step()
        val = ""
        if len(x_val):
            val_loss, val_acc = evaluate(model, x_val, y_val)
            val = f"val_loss {val_loss:.4f}  val_acc {100 * val_acc:.2f}%  "
        print(f"epoch {epoch}/{a.epochs}  loss {total / seen:.4f}  acc {100 * correct / seen:.2f}%  "
              f"{val}{seconds:.2f} s  {seen / seconds:,.0f} samples/s")
    test_loss, test_acc = evaluate(model, x_test, y_test)
    print(f"median epoch {sorted(times)[len(times) // 2]:.2f} s")
    print(f"test:       loss {test_loss:.4f} accuracy {100 * test_acc:.2f}% ({round(test_acc * len(x_test))}/{len(x_test)})")


if __name__ == "__main__":
    main()
