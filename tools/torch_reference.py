#!/usr/bin/python3
"""Independent PyTorch reference for fuselab's model library (parity fixtures).

Run with Debian's Python, which has torch 1.13:

    /usr/bin/python3 tools/torch_reference.py [out_dir]

It builds the same components as lib/nn, lib/fusion and lib/train in PyTorch,
draws small float32 weights and inputs from a fixed seed, evaluates in float64
(so the reference is as exact as possible), and writes one JSON fixture per
component under tests/fixtures/parity/: the state dict (PyTorch names and
layouts), the inputs, the outputs, and the gradients of a probe loss
L = sum(output * probe) with respect to the inputs and every parameter.
Dropout is 0 everywhere. The TS parity tests load these with loadStateDict.
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1234)
DT = torch.float64
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "parity")


# ---------------------------------------------------------------- components

class LayerNormRef(nn.Module):
    """a_2 * (x - mean) / (std + eps) + b_2, unbiased std, eps on the std."""

    def __init__(self, features, eps=1e-6):
        super().__init__()
        self.a_2 = nn.Parameter(torch.ones(features, dtype=DT))
        self.b_2 = nn.Parameter(torch.zeros(features, dtype=DT))
        self.eps = eps

    def forward(self, x):
        mu = x.mean(dim=-1, keepdim=True)
        sd = torch.sqrt(((x - mu) ** 2).sum(dim=-1, keepdim=True) / (x.shape[-1] - 1))
        return self.a_2 * (x - mu) / (sd + self.eps) + self.b_2


def lin(i, o, bias=True):
    return nn.Linear(i, o, bias=bias).to(DT)


def alibi_slopes(h):
    def geometric(n):
        first = 2.0 ** (-8.0 / n)
        return [first ** (k + 1) for k in range(n)]
    if math.log2(h).is_integer():
        return geometric(h)
    c = 2 ** int(math.floor(math.log2(h)))
    return geometric(c) + geometric(2 * c)[0::2][: h - c]


def alibi_bias(h, tq, tk):
    i = torch.arange(tq, dtype=DT).view(tq, 1)
    j = torch.arange(tk, dtype=DT).view(1, tk)
    dist = (i - j).abs()
    m = torch.tensor(alibi_slopes(h), dtype=DT).view(h, 1, 1)
    return -m * dist


def rope(x, base=10000.0):
    """x [..., T, d]; pairs dimension i with i + d/2 (rotate half)."""
    t, d = x.shape[-2], x.shape[-1]
    half = d // 2
    inv = base ** (-2.0 * torch.arange(half, dtype=DT) / d)
    ang = torch.arange(t, dtype=DT).view(t, 1) * inv.view(1, half)
    cos = torch.cat([ang.cos(), ang.cos()], -1)
    sin = torch.cat([ang.sin(), ang.sin()], -1)
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def sdp_attention(q, k, v, mask=None, bias=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if bias is not None:
        scores = scores + bias
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -1e9)
    probs = scores.softmax(-1)
    return probs @ v, probs


class MHA(nn.Module):
    def __init__(self, h, d, positional="none"):
        super().__init__()
        assert d % h == 0
        self.h, self.dk, self.positional = h, d // h, positional
        self.linears = nn.ModuleList([lin(d, d) for _ in range(4)])

    def forward(self, q, k, v, mask=None):
        b = q.shape[0]
        if mask is not None:
            mask = mask.unsqueeze(1)
        q, k, v = [l(x).view(b, -1, self.h, self.dk).transpose(1, 2)
                   for l, x in zip(self.linears, (q, k, v))]
        if self.positional == "rope":
            q, k = rope(q), rope(k)
        bias = alibi_bias(self.h, q.shape[2], k.shape[2]) if self.positional == "alibi" else None
        x, self.probs = sdp_attention(q, k, v, mask, bias)
        x = x.transpose(1, 2).contiguous().view(b, -1, self.h * self.dk)
        return self.linears[3](x)


class FFN(nn.Module):
    def __init__(self, d, dff):
        super().__init__()
        self.w_1, self.w_2 = lin(d, dff), lin(dff, d)

    def forward(self, x):
        return self.w_2(F.relu(self.w_1(x)))


class Sublayer(nn.Module):
    def __init__(self, d, placement):
        super().__init__()
        self.norm, self.placement = LayerNormRef(d), placement

    def forward(self, x, fn):
        if self.placement == "pre":
            return x + fn(self.norm(x))
        return self.norm(x + fn(x))


class EncLayer(nn.Module):
    def __init__(self, d, h, dff, placement, positional="none"):
        super().__init__()
        self.self_attn = MHA(h, d, positional)
        self.feed_forward = FFN(d, dff)
        self.sublayer = nn.ModuleList([Sublayer(d, placement) for _ in range(2)])
        self.size = d

    def forward(self, x, mask):
        x = self.sublayer[0](x, lambda z: self.self_attn(z, z, z, mask))
        return self.sublayer[1](x, self.feed_forward)


class DecLayer(nn.Module):
    def __init__(self, d, h, dff, placement, positional="none"):
        super().__init__()
        self.self_attn = MHA(h, d, positional)
        self.src_attn = MHA(h, d)
        self.feed_forward = FFN(d, dff)
        self.sublayer = nn.ModuleList([Sublayer(d, placement) for _ in range(3)])

    def forward(self, x, mem, src_mask, tgt_mask):
        x = self.sublayer[0](x, lambda z: self.self_attn(z, z, z, tgt_mask))
        x = self.sublayer[1](x, lambda z: self.src_attn(z, mem, mem, src_mask))
        return self.sublayer[2](x, self.feed_forward)


class Stack(nn.Module):
    def __init__(self, layers, d, final_norm):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        if final_norm:
            self.norm = LayerNormRef(d)
        self.final_norm = final_norm

    def forward(self, x, *args):
        for l in self.layers:
            x = l(x, *args)
        return self.norm(x) if self.final_norm else x


class Emb(nn.Module):
    def __init__(self, vocab, d):
        super().__init__()
        self.lut = nn.Embedding(vocab, d).to(DT)
        self.d = d

    def forward(self, ids):
        return self.lut(ids) * math.sqrt(self.d)


def sinusoid(t, d):
    pe = torch.zeros(t, d, dtype=DT)
    pos = torch.arange(t, dtype=DT).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2, dtype=DT) * -(math.log(10000.0) / d))
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


class SinusoidPE(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.d = d

    def forward(self, x):
        return x + sinusoid(x.shape[1], self.d)


class LearnedPE(nn.Module):
    def __init__(self, max_len, d):
        super().__init__()
        self.pe = nn.Embedding(max_len, d).to(DT)

    def forward(self, x):
        return x + self.pe.weight[: x.shape[1]]


class NoPE(nn.Module):
    def forward(self, x):
        return x


class Gen(nn.Module):
    def __init__(self, d, vocab):
        super().__init__()
        self.proj = lin(d, vocab)

    def forward(self, x):
        return F.log_softmax(self.proj(x), dim=-1)


class EncDec(nn.Module):
    def __init__(self, src_vocab, tgt_vocab, n, d, dff, h, placement="pre", positional="sinusoid",
                 max_len=16):
        super().__init__()
        post = placement == "post"
        self.encoder = Stack([EncLayer(d, h, dff, placement, positional) for _ in range(n)], d,
                             not post)
        self.decoder = Stack([DecLayer(d, h, dff, placement, positional) for _ in range(n)], d,
                             not post)

        def pos():
            if positional == "sinusoid":
                return SinusoidPE(d)
            if positional == "learned":
                return LearnedPE(max_len, d)
            return NoPE()
        self.src_embed = nn.Sequential(Emb(src_vocab, d), pos())
        self.tgt_embed = nn.Sequential(Emb(tgt_vocab, d), pos())
        self.generator = Gen(d, tgt_vocab)

    def forward(self, src, tgt, src_mask, tgt_mask):
        mem = self.encoder(self.src_embed(src), src_mask)
        return self.decoder(self.tgt_embed(tgt), mem, src_mask, tgt_mask)


def positional_stage(positional, d, max_len):
    if positional == "sinusoid":
        return SinusoidPE(d)
    if positional == "learned":
        return LearnedPE(max_len, d)
    return NoPE()


class DecOnly(nn.Module):
    """The decoder-only language model: embed, N causal blocks, final norm (pre-norm), generator."""

    def __init__(self, vocab, n, d, dff, h, placement="pre", positional="sinusoid", max_len=16):
        super().__init__()
        self.embed = nn.Sequential(Emb(vocab, d), positional_stage(positional, d, max_len))
        self.layers = nn.ModuleList([EncLayer(d, h, dff, placement, positional)
                                     for _ in range(n)])
        self.final_norm = placement != "post"
        if self.final_norm:
            self.norm = LayerNormRef(d)
        self.generator = Gen(d, vocab)

    def forward(self, ids):
        mask = sub_mask(ids.shape[1])
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x, mask)
        return self.generator(self.norm(x) if self.final_norm else x)


def label_smoothing_loss(x, target, size, pad, smoothing):
    """KL(q || exp(x)) summed; rows with a padding target and the padding column get no mass."""
    q = torch.full_like(x, smoothing / (size - 2))
    q.scatter_(1, target.unsqueeze(1), 1.0 - smoothing)
    q[:, pad] = 0
    q = q * (target != pad).to(DT).unsqueeze(1)
    logq = torch.where(q > 0, q, torch.ones_like(q)).log()
    return (q * (logq - x)).sum(), q


class GMU(nn.Module):
    def __init__(self, dims, hidden, n_modal=False):
        super().__init__()
        total = sum(dims)
        self.n_modal = n_modal or len(dims) > 2
        self.hidden = nn.ModuleList([lin(d, hidden, bias=False) for d in dims])
        if self.n_modal:
            self.gates = nn.ModuleList([lin(total, hidden, bias=False) for _ in dims])
        else:
            self.gate = lin(total, hidden, bias=False)

    def forward(self, xs):
        hs = [torch.tanh(l(x)) for l, x in zip(self.hidden, xs)]
        joint = torch.cat(xs, -1)
        if not self.n_modal:
            z = torch.sigmoid(self.gate(joint))
            return z * hs[0] + (1 - z) * hs[1], [z, 1 - z]
        zs = [torch.sigmoid(g(joint)) for g in self.gates]
        return sum(z * h for z, h in zip(zs, hs)), zs


def noam(step, d_model, factor, warmup):
    step = max(step, 1)
    return factor * d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


# ------------------------------------------------------------------- helpers

def f32(shape, scale=1.0):
    """Random values rounded to float32, held as float64."""
    return (torch.randn(*shape) * scale).to(torch.float32).to(DT)


def randomize(module, scale=0.5):
    """Fresh float32-representable weights; LayerNorm gains near 1 so norms matter."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("a_2"):
                p.copy_(1 + f32(p.shape, 0.1))
            elif name.endswith("b_2"):
                p.copy_(f32(p.shape, 0.1))
            else:
                p.copy_(f32(p.shape, scale))


def enc(t):
    t = t.detach()
    vals = t.reshape(-1).tolist()
    if t.dtype in (torch.int64, torch.int32, torch.bool):
        return {"shape": list(t.shape), "data": [int(v) for v in vals]}
    return {"shape": list(t.shape), "data": [float("%.9g" % v) for v in vals]}


def state(module):
    return {n: enc(p) for n, p in module.named_parameters()}


def param_grads(module):
    return {n: enc(p.grad) for n, p in module.named_parameters() if p.grad is not None}


def write(name, obj):
    path = os.path.join(OUT, name + ".json")
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    print(f"{path}: {os.path.getsize(path)} bytes")


def leaf(shape, scale=1.0):
    return f32(shape, scale).requires_grad_(True)


def pad_mask(lengths, t):
    return torch.tensor([[[1.0 if j < n else 0.0 for j in range(t)]] for n in lengths], dtype=DT)


def sub_mask(t):
    return torch.tril(torch.ones(1, t, t, dtype=DT))


# ------------------------------------------------------------------ fixtures

def fx_attention():
    b, t, d = 2, 5, 4
    cases = {}
    for kind in ("padding", "subsequent"):
        q, k, v = leaf([b, t, d]), leaf([b, t, d]), leaf([b, t, d])
        mask = pad_mask([5, 3], t) if kind == "padding" else pad_mask([5, 4], t) * sub_mask(t)
        out, probs = sdp_attention(q, k, v, mask)
        probe = f32(out.shape)
        (out * probe).sum().backward()
        cases[kind] = {
            "inputs": {"query": enc(q), "key": enc(k), "value": enc(v), "mask": enc(mask)},
            "probe": enc(probe),
            "outputs": {"output": enc(out), "probs": enc(probs)},
            "grads": {"query": enc(q.grad), "key": enc(k.grad), "value": enc(v.grad)},
        }
    write("attention", cases)


def fx_mha():
    out = {}
    for name, positional, h, tq, tk in (("self", "none", 2, 5, 5), ("cross", "none", 2, 4, 5),
                                        ("rope", "rope", 2, 5, 5), ("alibi", "alibi", 4, 5, 5),
                                        ("alibi3", "alibi", 3, 5, 5)):
        d = 12 if h == 3 else 8
        m = MHA(h, d, positional)
        randomize(m)
        q = leaf([2, tq, d])
        kv = q if tq == tk and name != "cross" else leaf([2, tk, d])
        mask = pad_mask([tk, tk - 2], tk)
        if name in ("self", "rope", "alibi", "alibi3"):
            mask = mask * sub_mask(tk) if name == "alibi" else mask
        y = m(q, kv, kv, mask)
        probe = f32(y.shape)
        (y * probe).sum().backward()
        inputs = {"query": enc(q), "mask": enc(mask)}
        grads = {"query": enc(q.grad)}
        if kv is not q:
            inputs["key"] = enc(kv)
            grads["key"] = enc(kv.grad)
        out[name] = {
            "h": h, "dModel": d, "positional": positional, "state": state(m), "inputs": inputs,
            "probe": enc(probe), "outputs": {"output": enc(y), "probs": enc(m.probs)},
            "grads": grads, "paramGrads": param_grads(m),
        }
    out["alibiSlopes"] = {str(h): alibi_slopes(h) for h in (1, 2, 3, 4, 6, 8, 12)}
    write("mha", out)


def fx_layer_norm():
    m = LayerNormRef(6)
    randomize(m)
    x = leaf([2, 3, 6], 2.0)
    y = m(x)
    probe = f32(y.shape)
    (y * probe).sum().backward()
    write("layer_norm", {"state": state(m), "inputs": {"x": enc(x)}, "probe": enc(probe),
                         "outputs": {"y": enc(y)}, "grads": {"x": enc(x.grad)},
                         "paramGrads": param_grads(m)})


def fx_sublayer():
    out = {}
    for placement in ("pre", "post"):
        s, ff = Sublayer(6, placement), FFN(6, 10)
        randomize(s)
        randomize(ff)
        x = leaf([2, 3, 6])
        y = s(x, ff)
        probe = f32(y.shape)
        (y * probe).sum().backward()
        out[placement] = {"state": state(s), "ffState": state(ff), "inputs": {"x": enc(x)},
                          "probe": enc(probe), "outputs": {"y": enc(y)},
                          "grads": {"x": enc(x.grad)}, "paramGrads": param_grads(s),
                          "ffGrads": param_grads(ff)}
    write("sublayer", out)


def fx_layers():
    out = {}
    d, h, dff, t, s = 8, 2, 12, 4, 5
    for placement in ("pre", "post"):
        e = EncLayer(d, h, dff, placement)
        randomize(e)
        x = leaf([2, s, d])
        mask = pad_mask([5, 3], s)
        y = e(x, mask)
        probe = f32(y.shape)
        (y * probe).sum().backward()
        out["encoder_" + placement] = {
            "state": state(e), "inputs": {"x": enc(x), "mask": enc(mask)}, "probe": enc(probe),
            "outputs": {"y": enc(y)}, "grads": {"x": enc(x.grad)}, "paramGrads": param_grads(e)}
        dl = DecLayer(d, h, dff, placement)
        randomize(dl)
        x, mem = leaf([2, t, d]), leaf([2, s, d])
        src_mask, tgt_mask = pad_mask([5, 3], s), pad_mask([4, 3], t) * sub_mask(t)
        y = dl(x, mem, src_mask, tgt_mask)
        probe = f32(y.shape)
        (y * probe).sum().backward()
        out["decoder_" + placement] = {
            "state": state(dl),
            "inputs": {"x": enc(x), "memory": enc(mem), "srcMask": enc(src_mask),
                       "tgtMask": enc(tgt_mask)},
            "probe": enc(probe), "outputs": {"y": enc(y)},
            "grads": {"x": enc(x.grad), "memory": enc(mem.grad)}, "paramGrads": param_grads(dl)}
    write("layers", out)


def fx_encoder_decoder():
    out = {}
    vocab, pad = 9, 0
    src = torch.tensor([[1, 4, 5, 6, 2], [1, 7, 3, 0, 0]])
    tgt = torch.tensor([[1, 4, 5, 6], [1, 7, 3, 0]])
    tgt_y = torch.tensor([[4, 5, 6, 2], [7, 3, 2, 0]])
    for name, placement, positional in (("pre_sinusoid", "pre", "sinusoid"),
                                        ("post_learned", "post", "learned"),
                                        ("pre_rope", "pre", "rope"),
                                        ("pre_alibi", "pre", "alibi"),
                                        ("pre_none", "pre", "none")):
        n = 2 if name == "pre_sinusoid" else 1
        m = EncDec(vocab, vocab, n, 8, 12, 2, placement, positional, max_len=8)
        randomize(m)
        src_mask = (src != pad).to(DT).unsqueeze(1)
        tgt_mask = (tgt != pad).to(DT).unsqueeze(1) * sub_mask(tgt.shape[1])
        logp = m.generator(m(src, tgt, src_mask, tgt_mask))
        loss, _ = label_smoothing_loss(logp.reshape(-1, vocab), tgt_y.reshape(-1), vocab, pad, 0.1)
        loss.backward()
        out[name] = {"N": n, "dModel": 8, "dFF": 12, "h": 2, "vocab": vocab, "norm": placement,
                     "positional": positional, "maxLen": 8, "smoothing": 0.1,
                     "state": state(m),
                     "inputs": {"src": enc(src), "tgt": enc(tgt), "tgtY": enc(tgt_y)},
                     "outputs": {"logProbs": enc(logp), "loss": float(loss)},
                     "paramGrads": param_grads(m)}
    write("encoder_decoder", out)


def fx_label_smoothing():
    out = {}
    size, pad = 7, 0
    for name, target, smoothing in (("with_padding", [2, 1, 0, 3, 0], 0.4),
                                    ("no_padding", [2, 1, 5, 3, 6], 0.4),
                                    ("no_smoothing", [2, 0, 5, 3, 6], 0.0)):
        x = F.log_softmax(f32([5, size]), -1).detach().requires_grad_(True)
        t = torch.tensor(target)
        loss, q = label_smoothing_loss(x, t, size, pad, smoothing)
        loss.backward()
        # Cross-check the masked form against the Annotated Transformer's index_fill_ form
        # (which this torch accepts even with an empty index) and PyTorch's own KL divergence.
        ref_q = torch.full_like(x, smoothing / (size - 2)).detach()
        ref_q.scatter_(1, t.unsqueeze(1), 1.0 - smoothing)
        ref_q[:, pad] = 0
        rows = torch.nonzero(t == pad)
        if rows.dim() > 0:
            ref_q.index_fill_(0, rows.squeeze(), 0.0)
        assert torch.equal(ref_q, q.detach()), name
        kl = nn.KLDivLoss(reduction="sum")(x.detach(), q)
        assert abs(float(kl) - float(loss)) < 1e-9, (float(kl), float(loss))
        out[name] = {"size": size, "paddingIdx": pad, "smoothing": smoothing,
                     "inputs": {"x": enc(x), "target": enc(t)},
                     "outputs": {"loss": float(loss), "trueDist": enc(q)},
                     "grads": {"x": enc(x.grad)}}
    write("label_smoothing", out)


def fx_positional():
    d, t = 8, 6
    x = leaf([2, t, d])
    y = SinusoidPE(d)(x)
    learned = LearnedPE(8, d)
    randomize(learned)
    x2 = leaf([2, t, d])
    y2 = learned(x2)
    probe = f32(y2.shape)
    (y2 * probe).sum().backward()
    q = f32([2, 2, t, d])
    write("positional", {
        "sinusoid": {"dModel": d, "len": 50, "table": enc(sinusoid(50, d)),
                     "inputs": {"x": enc(x)}, "outputs": {"y": enc(y)}},
        "learned": {"maxLen": 8, "dModel": d, "state": state(learned), "inputs": {"x": enc(x2)},
                    "probe": enc(probe), "outputs": {"y": enc(y2)},
                    "grads": {"x": enc(x2.grad)}, "paramGrads": param_grads(learned)},
        "rope": {"inputs": {"x": enc(q)}, "outputs": {"y": enc(rope(q))}},
        "alibi": {"h": 4, "len": 5, "bias": enc(alibi_bias(4, 5, 5))},
    })


def fx_gmu():
    out = {}
    for name, dims, n_modal in (("bimodal", [5, 4], False), ("trimodal", [5, 4, 3], False),
                                ("bimodal_nmodal", [5, 4], True)):
        g = GMU(dims, 6, n_modal)
        randomize(g)
        xs = [leaf([3, dd]) for dd in dims]
        h, gates = g(xs)
        probe = f32(h.shape)
        (h * probe).sum().backward()
        out[name] = {"inputDims": dims, "hiddenDim": 6, "nModal": n_modal, "state": state(g),
                     "inputs": {"xs": [enc(x) for x in xs]}, "probe": enc(probe),
                     "outputs": {"h": enc(h), "gates": [enc(z) for z in gates]},
                     "grads": {"xs": [enc(x.grad) for x in xs]}, "paramGrads": param_grads(g)}
    write("gmu", out)


def fx_noam_adam():
    rates = {str(s): noam(s, 512, 1.0, 4000) for s in (0, 1, 2, 100, 3999, 4000, 4001, 20000)}
    rates_small = {str(s): noam(s, 32, 2.0, 400) for s in (1, 10, 400, 401, 1000)}
    w = f32([3, 4]).to(torch.float32).requires_grad_(True)
    b = f32([4]).to(torch.float32).requires_grad_(True)
    init = {"w": enc(w), "b": enc(b)}
    opt = torch.optim.Adam([w, b], lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    steps = []
    for s in range(1, 6):
        gw, gb = f32([3, 4]).float(), f32([4], 0.01 * s).float()
        lr = noam(s, 32, 2.0, 4)
        for g in opt.param_groups:
            g["lr"] = lr
        w.grad, b.grad = gw.clone(), gb.clone()
        opt.step()
        steps.append({"lr": lr, "grads": {"w": enc(gw), "b": enc(gb)},
                      "params": {"w": enc(w), "b": enc(b)}})
    # AdamW: decoupled weight decay, p <- p (1 - lr wd) then the Adam step.
    w2 = f32([3, 4]).to(torch.float32).requires_grad_(True)
    init_w = enc(w2)
    opt_w = torch.optim.AdamW([w2], lr=1.0, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.1)
    steps_w = []
    for s in range(1, 4):
        g = f32([3, 4]).float()
        lr = 0.05 / s
        for grp in opt_w.param_groups:
            grp["lr"] = lr
        w2.grad = g.clone()
        opt_w.step()
        steps_w.append({"lr": lr, "grads": {"w": enc(g)}, "params": {"w": enc(w2)}})
    write("noam_adam", {"noam512": {"dModel": 512, "factor": 1.0, "warmup": 4000, "rates": rates},
                        "adamw": {"betas": [0.9, 0.98], "eps": 1e-9, "weightDecay": 0.1,
                                  "init": {"w": init_w}, "steps": steps_w},
                        "noam32": {"dModel": 32, "factor": 2.0, "warmup": 400,
                                   "rates": rates_small},
                        "adam": {"betas": [0.9, 0.98], "eps": 1e-9, "init": init,
                                 "steps": steps}})


def fx_decoder_only():
    """Next-token NLL (mean over tokens) of the decoder-only model; its own seed, so the
    fixtures written before it do not change."""
    torch.manual_seed(4321)
    out = {}
    vocab, t = 11, 7
    ids = torch.randint(0, vocab, (2, t))
    target = torch.randint(0, vocab, (2, t))
    for name, placement, positional, n in (("pre_sinusoid", "pre", "sinusoid", 2),
                                           ("post_sinusoid", "post", "sinusoid", 2),
                                           ("pre_learned", "pre", "learned", 1),
                                           ("post_learned", "post", "learned", 1),
                                           ("pre_none", "pre", "none", 2),
                                           ("post_none", "post", "none", 1),
                                           ("pre_rope", "pre", "rope", 2),
                                           ("pre_alibi", "pre", "alibi", 2),
                                           ("post_alibi", "post", "alibi", 1)):
        m = DecOnly(vocab, n, 8, 12, 2, placement, positional, max_len=8)
        randomize(m)
        logp = m(ids)
        loss = -logp.gather(-1, target.unsqueeze(-1)).mean()
        loss.backward()
        out[name] = {"N": n, "dModel": 8, "dFF": 12, "h": 2, "vocab": vocab, "norm": placement,
                     "positional": positional, "maxLen": 8, "state": state(m),
                     "inputs": {"ids": enc(ids), "target": enc(target)},
                     "outputs": {"logProbs": enc(logp), "loss": float(loss)},
                     "paramGrads": param_grads(m)}
    write("decoder_only", out)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for fx in (fx_attention, fx_mha, fx_layer_norm, fx_sublayer, fx_layers, fx_encoder_decoder,
               fx_label_smoothing, fx_positional, fx_gmu, fx_noam_adam, fx_decoder_only):
        fx()
