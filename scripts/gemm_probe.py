#!/usr/bin/env python3
# Usage: .venv/bin/python scripts/gemm_probe.py [THREADS]  (the torch that scripts/setup installs)
# GEMM throughput of libtorch 2.4 (the wheel both sides use) on the dense-layer shapes of
# all-MiniLM-L6-v2 (hidden 384, FFN 1536): rows = tokens of a batch.
import sys, time, torch
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(0)
for rows in (192, 2720):
    for k, n in ((384, 1152), (384, 384), (384, 1536), (1536, 384)):
        a, w, b = torch.randn(rows, k), torch.randn(n, k), torch.randn(n)
        for _ in range(5):
            torch.nn.functional.linear(a, w, b)
        reps, t = 0, time.perf_counter()
        while time.perf_counter() - t < 1.5:
            torch.nn.functional.linear(a, w, b)
            reps += 1
        dt = (time.perf_counter() - t) / reps
        print(f"threads {threads} rows {rows:5d} {k:4d}x{n:4d}: {2 * rows * k * n / dt / 1e9:6.1f} GFLOP/s")
