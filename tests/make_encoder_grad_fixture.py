#!/usr/bin/env python3
"""make_encoder_grad_fixture.py - the PyTorch fixture of tests/test_encoder_grad.c.

An independent implementation of one post-layer-norm BERT/MPNet encoder layer
in PyTorch (float64, autograd), written from the BERT paper and the Hugging
Face BertLayer's documented behaviour, not from casie's C code: the C
backward pass (src/encoder_grad.c) is compared against torch's gradients.

    build/ft-venv/bin/python tests/make_encoder_grad_fixture.py [OUT]

writes OUT (default tests/data/encoder_grad/layers.bin).  torch is not needed
to run the tests: the file is generated once and committed.  The same seed
gives the same file.

The layer, for x (n, H), an optional bias (heads, n, n) and a key mask (n,):
    qkv = x Wqkv^T + bqkv                          Wqkv (3H, H): q, k, v stacked
    per head h (dh = H / heads, columns [h dh, (h+1) dh) of q, k and v):
      s = q k^T / sqrt(dh) + bias[h];  keys with mask 0 -> -inf;  p = softmax(s)
      ctx[:, head h] = p v
    h1 = LayerNorm(x + ctx Wout^T + bout; g1, b1, eps)
    out = LayerNorm(h1 + GELU(h1 W1^T + b1f) W2^T + b2f; g2, b2, eps)   GELU: erf form
and the loss sum(out * dout), whose gradients torch computes.

File format (all little-endian):
    magic       8 bytes  "CASIEEGF"
    version     u32      1
    n_cases     u32
    then each case:
      H, heads, I, n, has_bias   u32 each
      eps                        f32
      mask                       n bytes (1 a real piece, 0 padding), then
                                 zeros up to a multiple of 4 bytes
      params                     f32, the 12 tensors in this order, each
                                 row-major, packed without padding: Wqkv (3H, H),
                                 bqkv (3H), Wout (H, H), bout (H), g1 (H),
                                 b1 (H), W1 (I, H), b1f (I), W2 (H, I), b2f (H),
                                 g2 (H), b2 (H)
      x                          f32 (n, H)
      bias                       f32 (heads, n, n), only when has_bias
      dout                       f32 (n, H)
      out                        f32 (n, H)   torch's forward output
      dx                         f32 (n, H)   torch's gradient of x
      dparams                    f32, the gradients of params, in their layout
Values are computed in float64 and stored rounded to float32.

The cases: "bert" (H 12, 3 heads, I 20, 7 pieces of which the last 2 are
padding, no bias, eps 1e-12) and "mpnet" (the same shapes with a random
relative-position-like bias per head, eps 1e-5).  Weights have standard
deviation 0.3, as harsh as a trained model's.
"""
import os
import struct
import sys

import torch

MAGIC = b"CASIEEGF"
VERSION = 1


def layer_forward(p, x, bias, mask, heads, eps):
    (wqkv, bqkv, wout, bout, g1, b1, w1, b1f, w2, b2f, g2, b2) = p
    n, H = x.shape
    dh = H // heads
    qkv = x @ wqkv.T + bqkv
    q, k, v = qkv[:, :H], qkv[:, H : 2 * H], qkv[:, 2 * H :]
    q = q.reshape(n, heads, dh).transpose(0, 1)  # (heads, n, dh)
    k = k.reshape(n, heads, dh).transpose(0, 1)
    v = v.reshape(n, heads, dh).transpose(0, 1)
    s = q @ k.transpose(1, 2) / (dh ** 0.5)
    if bias is not None:
        s = s + bias
    s = s.masked_fill(~mask.bool()[None, None, :], float("-inf"))
    att = torch.softmax(s, dim=-1)
    ctx = (att @ v).transpose(0, 1).reshape(n, H)
    h1 = torch.nn.functional.layer_norm(x + ctx @ wout.T + bout, (H,), g1, b1, eps)
    f = torch.nn.functional.gelu(h1 @ w1.T + b1f, approximate="none")
    return torch.nn.functional.layer_norm(h1 + f @ w2.T + b2f, (H,), g2, b2, eps)


def make_case(gen, H, heads, I, n, n_pad, with_bias, eps):
    def rnd(*shape, scale=1.0):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).float().double()

    shapes = [(3 * H, H), (3 * H,), (H, H), (H,), (H,), (H,), (I, H), (I,), (H, I), (H,), (H,), (H,)]
    params = []
    for i, sh in enumerate(shapes):
        if i in (4, 10):  # the norms' gains, near 1
            t = 1.0 + rnd(*sh, scale=0.1)
        else:
            t = rnd(*sh, scale=0.3 if len(sh) == 2 else 0.1)
        params.append(t.requires_grad_(True))
    x = rnd(n, H).requires_grad_(True)
    bias = rnd(heads, n, n, scale=0.5) if with_bias else None
    mask = torch.tensor([1] * (n - n_pad) + [0] * n_pad, dtype=torch.uint8)
    dout = rnd(n, H)
    out = layer_forward(params, x, bias, mask, heads, eps)
    (out * dout).sum().backward()
    b = struct.pack("<5If", H, heads, I, n, 1 if with_bias else 0, eps)
    b += bytes(mask.tolist()) + bytes((-n) % 4)

    def f32(t):
        return struct.pack("<%df" % t.numel(), *t.detach().reshape(-1).tolist())

    b += b"".join(f32(t) for t in params)
    b += f32(x)
    if bias is not None:
        b += f32(bias)
    b += f32(dout) + f32(out) + f32(x.grad)
    b += b"".join(f32(t.grad) for t in params)
    return b


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/encoder_grad/layers.bin"
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(20240611)
    cases = [
        make_case(gen, 12, 3, 20, 7, 2, False, 1e-12),  # BERT-style
        make_case(gen, 12, 3, 20, 7, 2, True, 1e-5),  # MPNet-style: the bias
    ]
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "wb") as f:
        f.write(MAGIC + struct.pack("<II", VERSION, len(cases)))
        for c in cases:
            f.write(c)
    print("wrote %s (%d bytes, %d cases)" % (out, os.path.getsize(out), len(cases)))


if __name__ == "__main__":
    main()
