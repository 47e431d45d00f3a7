#!/usr/bin/python3
"""The fuselab bench model in PyTorch (run with Debian's /usr/bin/python3, torch 1.13).

Same shapes and the same computation as bench/model.ts: token embeddings scaled
by sqrt(d_model), the sinusoid positional encoding, N pre-norm Transformer
encoder layers with a padding mask, a final LayerNorm, the generator's
projection, token-level cross-entropy, and Adam (betas 0.9/0.98, eps 1e-9).

It is a long-lived worker driven by JSON lines on stdin, so that `deno task
bench` can alternate fuselab steps and PyTorch steps and machine noise falls
on both. Commands, one per line:
  {"cmd": "setup", "shape": {...}, "threads": 2, "seed": 0}  -> {"ok": true, "params": N}
  {"cmd": "steps", "n": 5}                      -> {"ms": [..], "cpu_ms": [..], "loss": x}
  {"cmd": "mem"}                                              -> {"max_rss_mb": x}
  {"cmd": "quit"}
Run alone (`/usr/bin/python3 tools/torch_bench.py --standalone`) it prints
the median step time of the default shape.
"""
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_SHAPE = dict(dModel=256, heads=8, dFF=1024, layers=2, seq=64, batch=32, vocab=1000,
                     dropout=0.0)


def sinusoid(length, d):
    pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(length, d)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


class BenchModel(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.d = s["dModel"]
        self.embed = nn.Embedding(s["vocab"], s["dModel"])
        self.drop = nn.Dropout(s["dropout"])
        self.register_buffer("pe", sinusoid(s["seq"], s["dModel"]))
        layer = lambda: nn.TransformerEncoderLayer(  # noqa: E731
            s["dModel"], s["heads"], s["dFF"], s["dropout"], batch_first=True, norm_first=True)
        self.layers = nn.ModuleList([layer() for _ in range(s["layers"])])
        self.norm = nn.LayerNorm(s["dModel"], eps=1e-6)
        self.proj = nn.Linear(s["dModel"], s["vocab"])

    def loss(self, ids, targets, pad):
        x = self.drop(self.embed(ids) * math.sqrt(self.d) + self.pe[: ids.shape[1]])
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=pad)
        logits = self.proj(self.norm(x))
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


class Worker:
    def __init__(self):
        self.model = None

    def setup(self, shape, threads=2, seed=0):
        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        s = dict(DEFAULT_SHAPE, **shape)
        self.model = BenchModel(s).train()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(1, s["vocab"], (s["batch"], s["seq"]), generator=g)
        self.targets = torch.randint(1, s["vocab"], (s["batch"], s["seq"]), generator=g)
        self.pad = torch.zeros(s["batch"], s["seq"], dtype=torch.bool)  # nothing padded
        return {"ok": True, "params": sum(p.numel() for p in self.model.parameters()),
                "threads": torch.get_num_threads(), "torch": torch.__version__}

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = self.model.loss(self.ids, self.targets, self.pad)
        loss.backward()
        self.opt.step()
        return loss.item()

    def steps(self, n):
        ms, cpu, loss = [], [], float("nan")
        for _ in range(n):
            c = time.process_time()
            t = time.perf_counter()
            loss = self.step()
            ms.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        return {"ms": ms, "cpu_ms": cpu, "loss": loss}


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve():
    w = Worker()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            cmd = req.get("cmd")
            if cmd == "setup":
                out = w.setup(req.get("shape", {}), req.get("threads", 2), req.get("seed", 0))
            elif cmd == "steps":
                out = w.steps(int(req.get("n", 1)))
            elif cmd == "mem":
                out = {"max_rss_mb": max_rss_mb()}
            elif cmd == "quit":
                print(json.dumps({"ok": True}), flush=True)
                return
            else:
                out = {"error": f"unknown command {cmd!r}"}
        except Exception as e:  # report, keep serving
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)


def standalone():
    w = Worker()
    info = w.setup({})
    w.steps(3)
    ms = w.steps(10)["ms"]
    print(f"torch {info['torch']} threads={info['threads']} params={info['params']} "
          f"median step {statistics.median(ms):.1f} ms (max RSS {max_rss_mb():.0f} MB)")


if __name__ == "__main__":
    if "--standalone" in sys.argv:
        standalone()
    else:
        serve()
