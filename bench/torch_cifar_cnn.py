#!/usr/bin/env python3
"""Peer benchmark for `npm run bench -- --data`: the CIFAR-sized CNN trained with PyTorch on CPU.

The same network as bench/data-bench.ts trains in the workbench — 3×32×32 input, Conv 32-32 (3×3, same, ReLU),
MaxPool 2, Conv 64-64, MaxPool 2, Dense 512 ReLU, Dense 10 softmax (folded into the loss), Adam 1e-3 — following
../shared/bench/torch_lesson_cnn.py's approach: the data is in memory before timing (seeded uniform pixels here:
the figures do not depend on them), warm-up batches, then timed batches.

Usage: torch_cifar_cnn.py [--threads N] [--batches N] [--warmup N] [--batch-size N]
Prints human lines, then one JSON line: {"peer":"pytorch", "trainImgPerSec":..., ...}
"""
import argparse, json, os, time

import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
p.add_argument("--batches", type=int, default=20)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--batch-size", type=int, default=128)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(123)

model = nn.Sequential(
    nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(8 * 8 * 64, 512), nn.ReLU(), nn.Linear(512, 10),
)
params = sum(p.numel() for p in model.parameters())
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
B = a.batch_size
n = B * (a.warmup + a.batches)
X = torch.rand(n, 3, 32, 32)
Y = torch.randint(0, 10, (n,))


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
    step(i)
train_ips = a.batches * B / (time.perf_counter() - t0)

print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads, params {params}")
print(f"train {train_ips:.1f} img/s (an epoch of 50,000 ~ {50000 / train_ips / 60:.2f} min)")
print(json.dumps({"peer": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
                  "params": params, "batchSize": B, "batches": a.batches, "trainImgPerSec": round(train_ips, 1)}))
