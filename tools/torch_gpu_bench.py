#!/usr/bin/env python3
"""PyTorch twin of fuselab's GPU bench model (tools/webgpu/workloads.ts BenchModel).

Token embeddings scaled by sqrt(d_model), sinusoidal positions, a pre-norm
Transformer encoder (the Annotated Transformer's LayerNorm, attention and
feed-forward), a final LayerNorm and the generator (linear + log-softmax),
trained to predict each token's successor (NLL) with Adam (0.9, 0.98, 1e-9).
Times forward + backward + Adam per step, synchronised by reading the loss,
and prints the median over the timed steps as the last line, in JSON:

    {"device": "...", "step_ms": 12.3, "params": 2100000, ...}

Used by `deno task gpu-check`; runs alone too (--device cpu for a dry run).
"""
import argparse
import json
import math
import statistics
import time

import torch
from torch import nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    """a * (x - mean) / (std + eps) + b, with the unbiased std as in the reference."""

    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.a_2 = nn.Parameter(torch.ones(d))
        self.b_2 = nn.Parameter(torch.zeros(d))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        std = x.std(-1, keepdim=True)
        return self.a_2 * (x - mean) / (std + self.eps) + self.b_2


class MultiHeadedAttention(nn.Module):
    def __init__(self, h, d, p):
        super().__init__()
        self.h, self.d_k = h, d // h
        self.linears = nn.ModuleList([nn.Linear(d, d) for _ in range(4)])
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = [
            lin(x).view(b, t, self.h, self.d_k).transpose(1, 2) for lin in self.linears[:3]
        ]
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        attn = self.dropout(scores.softmax(-1))
        y = (attn @ v).transpose(1, 2).contiguous().view(b, t, d)
        return self.linears[3](y)


class EncoderLayer(nn.Module):
    def __init__(self, d, h, d_ff, p):
        super().__init__()
        self.self_attn = MultiHeadedAttention(h, d, p)
        self.w_1, self.w_2 = nn.Linear(d, d_ff), nn.Linear(d_ff, d)
        self.norms = nn.ModuleList([LayerNorm(d), LayerNorm(d)])
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        x = x + self.dropout(self.self_attn(self.norms[0](x)))
        ff = self.w_2(self.dropout(F.relu(self.w_1(self.norms[1](x)))))
        return x + self.dropout(ff)


class BenchModel(nn.Module):
    def __init__(self, vocab, d, h, d_ff, layers, p, max_len=512):
        super().__init__()
        self.d = d
        self.lut = nn.Embedding(vocab, d)
        pe = torch.zeros(max_len, d)
        pos = torch.arange(max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, d, 2) * -(math.log(10000.0) / d))
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
        self.register_buffer("pe", pe)
        self.dropout = nn.Dropout(p)
        self.layers = nn.ModuleList([EncoderLayer(d, h, d_ff, p) for _ in range(layers)])
        self.norm = LayerNorm(d)
        self.proj = nn.Linear(d, vocab)

    def forward(self, ids):
        x = self.dropout(self.lut(ids) * math.sqrt(self.d) + self.pe[: ids.shape[1]])
        for layer in self.layers:
            x = layer(x)
        return F.log_softmax(self.proj(self.norm(x)), dim=-1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--steady-steps", type=int, default=None,
                    help="steps of the steady measure (default: --steps)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=1000)
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--d-ff", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.0)
    a = ap.parse_args()
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("torch_gpu_bench: CUDA is not available (use --device cpu for a dry run)")
    dev = torch.device(a.device)
    torch.manual_seed(3)
    model = BenchModel(a.vocab, a.d_model, a.heads, a.d_ff, a.layers, a.dropout).to(dev)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9)

    def train_step(ids):
        """Forward, backward and Adam on one batch; returns the loss, unread."""
        logp = model(ids[:, :-1])
        loss = F.nll_loss(logp.reshape(-1, a.vocab), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    ms, losses = [], []
    for i in range(a.warmup + a.steps):
        ids = torch.randint(0, a.vocab, (a.batch, a.seq + 1), device=dev)
        t0 = time.perf_counter()
        loss = train_step(ids)
        losses.append(loss.item())  # waits for the GPU
        if i >= a.warmup:
            ms.append((time.perf_counter() - t0) * 1000)
    # Pipelined: each loss is read one step late, so the next step's kernels are
    # queued while the GPU finishes the previous one (the same way gpu-check
    # times fuselab's pipelined steps).
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    pending = None
    for i in range(a.steps):
        ids = torch.randint(0, a.vocab, (a.batch, a.seq + 1), device=dev)
        loss = train_step(ids)
        if pending is not None:
            losses.append(pending.item())
        pending = loss.detach()
    losses.append(pending.item())
    pipelined = (time.perf_counter() - t0) * 1000 / max(1, a.steps)
    # Steady: the losses kept on the device and read once at the end, as a
    # training loop that reads them only when it logs (gpu-check's "steady").
    sync()
    t0 = time.perf_counter()
    kept = []
    steady_steps = a.steady_steps or a.steps
    for i in range(steady_steps):
        ids = torch.randint(0, a.vocab, (a.batch, a.seq + 1), device=dev)
        loss = train_step(ids)
        kept.append(loss.detach())
    losses.extend(torch.stack(kept).tolist())
    steady = (time.perf_counter() - t0) * 1000 / max(1, steady_steps)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__} on {name}: step ms {' '.join(f'{x:.2f}' for x in ms)}")
    print(json.dumps({
        "device": name,
        "torch": torch.__version__,
        "step_ms": statistics.median(ms),
        "pipelined_step_ms": pipelined,
        "steady_step_ms": steady,
        "steps_ms": ms,
        "params": params,
        "loss_first": losses[0],
        "loss_last": losses[-1],
    }))


if __name__ == "__main__":
    main()
