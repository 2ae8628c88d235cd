#!/usr/bin/env python3
"""Runs the PyTorch peer (shared/bench/torch_lesson_cnn.py, read-only, owned by the lead) at a width and reports
its peak RSS, for `npm run bench` and its --scaling tables.

Usage: peer-width.py WIDTH [--bf16] PEER_SCRIPT [peer args...]
--bf16 runs the network's forward pass under torch.autocast("cpu", dtype=torch.bfloat16) (PyTorch's mixed precision
on CPU: convolutions and Linear in bfloat16, the loss on the float32 logits), the peer of our mixed_bfloat16.
WIDTH multiplies every hidden channel count and hidden unit count, as bench.ts' widen() does for ours
(round(c * WIDTH), at least 1): the image's single input channel and the 10 class outputs stay. The peer's own
lines pass through; its last (JSON) line gets "width" and "peakRssMb" (this process' ru_maxrss) added.
"""
import contextlib, io, json, resource, runpy, sys

width = float(sys.argv[1])
bf16 = sys.argv[2] == "--bf16"
rest = sys.argv[3:] if bf16 else sys.argv[2:]
script = rest[0]
sys.argv = rest


def scaled(c):
    return max(1, int(round(c * width)))


if width != 1:
    import torch.nn as nn

    class Conv2d(nn.Conv2d):
        def __init__(self, i, o, *a, **k):
            super().__init__(i if i == 1 else scaled(i), scaled(o), *a, **k)

    class BatchNorm2d(nn.BatchNorm2d):
        def __init__(self, c, *a, **k):
            super().__init__(scaled(c), *a, **k)

    class Linear(nn.Linear):
        # The flattened 7×7×C features scale with C; the 10 class outputs stay.
        def __init__(self, i, o, *a, **k):
            i2 = 49 * scaled(i // 49) if i % 49 == 0 and i > 49 * 16 else scaled(i)
            super().__init__(i2, o if o == 10 else scaled(o), *a, **k)

    nn.Conv2d, nn.BatchNorm2d, nn.Linear = Conv2d, BatchNorm2d, Linear

if bf16:
    import torch
    import torch.nn as nn

    forward = nn.Sequential.forward

    def autocast_forward(self, x):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return forward(self, x).float()

    nn.Sequential.forward = autocast_forward

out = io.StringIO()
with contextlib.redirect_stdout(out):
    runpy.run_path(script, run_name="__main__")
lines = out.getvalue().strip().split("\n")
last = json.loads(lines[-1])
last["width"] = width
last["bf16"] = bf16
last["peakRssMb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
for line in lines[:-1]:
    print(line)
print(json.dumps(last))
