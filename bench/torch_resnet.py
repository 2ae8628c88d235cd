#!/usr/bin/env python3
"""Peer benchmark: the small-ResNet template (examples/small-resnet.json, bench/resnet-bench.ts) trained with PyTorch on CPU, side by side.

Usage: torch_resnet.py [--threads N] [--batches N] [--warmup N] [--batch-size N] [--data DIR]
Prints human lines, then one JSON line: {"peer":"pytorch", "trainImgPerSec":..., "evalImgPerSec":..., ...}
The network mirrors resnet-bench.ts: a stem Conv 3x3 (16) -> BN -> ReLU, then three residual blocks (16 identity,
32 and 64 with stride 2 and a 1x1 projection + BN on the shortcut), each Conv3x3-BN-ReLU-Conv3x3-BN + shortcut ->
ReLU, then global average pooling and Dense 10. Convolutions before a BatchNorm have no bias; Keras' BatchNorm
defaults (eps 1e-3, momentum 0.99 == torch momentum 0.01); Adam lr 1e-3. (PyTorch pads a stride-2 3x3 convolution
by 1 on both sides where TensorFlow's 'same' pads 0 before and 1 after: the same cost, another alignment.)
"""
import argparse, gzip, json, os, time

import numpy as np
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
p.add_argument("--batches", type=int, default=20)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--batch-size", type=int, default=128)
p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(123)


def load(n):
    def read(name, offset):
        with gzip.open(os.path.join(a.data, name)) as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)
    x = read("train-images-idx3-ubyte.gz", 16)[: n * 784].reshape(n, 1, 28, 28).astype(np.float32) / 255
    y = read("train-labels-idx1-ubyte.gz", 8)[:n].astype(np.int64)
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


class Block(nn.Module):
    def __init__(self, i, o, stride):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(i, o, 3, stride, 1, bias=False), bn(o), nn.ReLU(),
                                  nn.Conv2d(o, o, 3, 1, 1, bias=False), bn(o))
        self.short = nn.Sequential(nn.Conv2d(i, o, 1, stride, bias=False), bn(o)) if stride != 1 or i != o else nn.Identity()
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + self.short(x))


model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1, bias=False), bn(16), nn.ReLU(),
    Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
)  # softmax is folded into the cross-entropy loss
params = sum(p.numel() for p in model.parameters())
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
B = a.batch_size
X, Y = load(B * (a.warmup + a.batches))


def step(i):
    xb, yb = X[i * B:(i + 1) * B], Y[i * B:(i + 1) * B]
    opt.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    opt.step()
    return loss.item()


model.train()
for i in range(a.warmup):
    step(i)
t0 = time.perf_counter()
for i in range(a.warmup, a.warmup + a.batches):
    loss = step(i)
train_s = time.perf_counter() - t0
train_ips = a.batches * B / train_s

model.eval()
with torch.no_grad():
    model(X[:B])
    t0 = time.perf_counter()
    for _ in range(a.batches):
        model(X[:B])
    eval_ips = a.batches * B / (time.perf_counter() - t0)

print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads, params {params}, last loss {loss:.4f}")
print(f"train {train_ips:.1f} img/s; eval {eval_ips:.1f} img/s")
print(json.dumps({"peer": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
                  "params": params, "batchSize": B, "batches": a.batches,
                  "trainImgPerSec": round(train_ips, 1), "evalImgPerSec": round(eval_ips, 1)}))
