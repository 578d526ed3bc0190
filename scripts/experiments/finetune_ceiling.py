#!/usr/bin/env python3
"""finetune_ceiling.py - what adapting the encoder to the task buys, before
any of it is written in C.  An experiment, not part of the product: PyTorch
from PyPI (scripts/experiments/finetune_env.sh makes its venv).

One harness, five ways to use the encoder, everything else equal:
  frozen   the encoder as casie reads it today: each word token's vector is
           the mean over its pieces of the mean of layers FIRST..LAST
  top2     the same, with the last 2 of the layers read trained
  top4     the same, with the last 4 trained
  lora     low-rank adapters (rank 8) on the attention and feed-forward
           matrices of every layer read, the encoder's own weights frozen
  (any of these over another checkpoint: --ckpt of all-MiniLM-L6-v2 and
   --layers 3-6 --config top4 trains the small encoder's last four layers)
Heads, the same for all: a BiLSTM (128 states each way) over the document's
token vectors, as casie's taggers have; triggers are a BIO tagger over the
five subtypes (a linear layer over a token's states); arguments, given the
gold triggers, a BIO tagger over roles for each event, over the tokens
within ARG_WINDOW of its trigger (the token's states, the trigger's, their
product, the event's subtype and the token's distance bucket, one hidden
layer).

Scores are on the tuning slice of train (the last 70 ids of train.txt, as
scripts/train_*.sh tune), never on dev: trigger spans with their subtype
(trig_c) and, with gold triggers, argument spans with their role for their
event (arg_c), exact token spans, F1.  Layers below the first trained one
run once, and their outputs are cached for every epoch.

  scripts/experiments/finetune_ceiling.py --ckpt DIR --config frozen,top2 \
      --seeds 1,2,3 --epochs 4 [--train-docs N] [--threads 2] [--out FILE]
DIR is a Hugging Face checkpoint folder (config.json, model.safetensors,
vocab.txt) of all-mpnet-base-v2 or all-MiniLM-L6-v2, as bench/encoder.sh
keeps them (build/bench-ckpt-mpnet, build/bench-ckpt).
"""
import argparse
import json
import math
import os
import random
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import BertWordPieceTokenizer

SUBTYPES = ["Databreach", "Phishing", "Ransom", "DiscoverVulnerability", "PatchVulnerability"]
WINDOW_PIECES = 256  # pieces per encoder window, [CLS] and [SEP] included
ARG_WINDOW = 40  # tokens either side of a trigger searched for its arguments
BUCKETS = [1, 2, 3, 5, 8, 13, 21, 34]  # distance buckets (the last: farther)


# ---- the corpus ----
def load_corpus(root, split):
    with open(os.path.join(root, "splits", split + ".txt")) as f:
        ids = [x.strip() for x in f if x.strip()]
    docs = []
    for i in ids:
        with open(os.path.join(root, "annotation", i + ".json"), encoding="utf-8") as f:
            d = json.load(f)
        text = d["content"]
        toks = [(m.start(), m.end()) for m in re.finditer(r"\w+|[^\w\s]", text)]
        events = []
        for hop in (d.get("cyberevent") or {}).get("hopper", []):
            for e in hop.get("events", []):
                n = e["nugget"]
                args = [(a["startOffset"], a["endOffset"], a["role"]["type"]) for a in e.get("argument", [])]
                events.append((n["startOffset"], n["endOffset"], e["subtype"], args))
        docs.append({"id": i, "text": text, "toks": toks, "events": events})
    return docs


def span_tokens(toks, s, e):
    """Tokens overlapping [s, e): (first, last + 1), or None."""
    hit = [k for k, (a, b) in enumerate(toks) if a < e and b > s]
    return (hit[0], hit[-1] + 1) if hit else None


def bio(n, spans):
    """Labels: 0 O, 1 + 2t B-t, 2 + 2t I-t."""
    y = [0] * n
    for b, e, t in spans:
        if any(y[k] for k in range(b, e)):
            continue  # overlapping gold spans: the first kept
        y[b] = 1 + 2 * t
        for k in range(b + 1, e):
            y[k] = 2 + 2 * t
    return y


def decode(labels):
    """Spans (b, e, t) from BIO labels; an I without its B starts a span."""
    out, cur = [], None
    for k, l in enumerate(labels + [0]):
        t = (l - 1) // 2 if l else -1
        if l and l % 2 == 0 and cur and cur[2] == t:
            continue
        if cur:
            out.append((cur[0], k, cur[2]))
            cur = None
        if l:
            cur = (k, None, t)
    return out


def prepare(docs, tok, roles):
    """Pieces in windows, and gold labels on word tokens."""
    for d in docs:
        words = [d["text"][a:b] for a, b in d["toks"]]
        enc = tok.encode(words, is_pretokenized=True, add_special_tokens=False)
        wid = enc.word_ids
        pieces = [[] for _ in words]
        for p, w in zip(enc.ids, wid):
            if w is not None:
                pieces[w].append(p)
        for w in range(len(words)):
            if not pieces[w]:
                pieces[w] = [tok.token_to_id("[UNK]")]
        # windows at word boundaries
        wins, cur, first = [], [], 0
        for w, ps in enumerate(pieces):
            ps = ps[: WINDOW_PIECES - 2]
            if len(cur) + len(ps) > WINDOW_PIECES - 2:
                wins.append((first, w, cur))
                cur, first = [], w
            cur = cur + ps
        wins.append((first, len(words), cur))
        d["wins"] = [(a, b, ps, [len(pieces[w][: WINDOW_PIECES - 2]) for w in range(a, b)]) for a, b, ps in wins]
        n = len(words)
        trig = []
        d["gold_events"] = []
        for s, e, st, args in d["events"]:
            sp = span_tokens(d["toks"], s, e)
            if not sp:
                continue
            t = SUBTYPES.index(st)
            trig.append((sp[0], sp[1], t))
            a_spans = []
            for a0, a1, r in args:
                asp = span_tokens(d["toks"], a0, a1)
                if asp:
                    a_spans.append((asp[0], asp[1], roles.index(r)))
            d["gold_events"].append((sp[0], sp[1], t, a_spans))
        d["y_trig"] = bio(n, trig)
        d["gold_trig"] = set(trig)


# ---- the encoder: BERT or MPNet, post-norm, read from a checkpoint ----
class Lora(nn.Module):
    def __init__(self, base, rank, alpha, seed):
        super().__init__()
        self.base = base
        g = torch.Generator().manual_seed(seed)
        self.a = nn.Parameter(torch.randn(rank, base.in_features, generator=g) / math.sqrt(base.in_features))
        self.b = nn.Parameter(torch.zeros(base.out_features, rank))
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + (x @ self.a.t() @ self.b.t()) * self.scale


class Encoder(nn.Module):
    def __init__(self, ckpt, last_layer):
        super().__init__()
        with open(os.path.join(ckpt, "config.json")) as f:
            cfg = json.load(f)
        sd = load_file(os.path.join(ckpt, "model.safetensors"))
        sd = {re.sub(r"^(bert|mpnet)\.", "", k): v for k, v in sd.items()}
        self.mpnet = cfg["model_type"] == "mpnet"
        self.H, self.nh = cfg["hidden_size"], cfg["num_attention_heads"]
        self.eps = cfg["layer_norm_eps"]
        self.pad = cfg.get("pad_token_id", 0)
        self.word = nn.Embedding.from_pretrained(sd["embeddings.word_embeddings.weight"], freeze=True)
        self.pos = nn.Embedding.from_pretrained(sd["embeddings.position_embeddings.weight"], freeze=True)
        self.type0 = None if self.mpnet else nn.Parameter(sd["embeddings.token_type_embeddings.weight"][0], False)
        self.emb_ln = self._ln(sd, "embeddings.LayerNorm")
        self.rel = sd.get("encoder.relative_attention_bias.weight")
        self.n_buckets = cfg.get("relative_attention_num_buckets", 0)
        names = (
            ("attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm")
            if self.mpnet
            else (
                "attention.self.query",
                "attention.self.key",
                "attention.self.value",
                "attention.output.dense",
                "attention.output.LayerNorm",
            )
        )
        self.layers = nn.ModuleList()
        for l in range(last_layer):
            p = "encoder.layer.%d." % l
            m = nn.Module()
            m.q, m.k, m.v, m.o = (self._lin(sd, p + n) for n in names[:4])
            m.ln1 = self._ln(sd, p + names[4])
            m.ff1 = self._lin(sd, p + "intermediate.dense")
            m.ff2 = self._lin(sd, p + "output.dense")
            m.ln2 = self._ln(sd, p + "output.LayerNorm")
            self.layers.append(m)
        for prm in self.parameters():
            prm.requires_grad_(False)
        self.cls = 0 if self.mpnet else 101
        self.sep = 2 if self.mpnet else 102

    def _lin(self, sd, p):
        w = sd[p + ".weight"]
        m = nn.Linear(w.shape[1], w.shape[0])
        m.weight.data.copy_(w)
        m.bias.data.copy_(sd[p + ".bias"])
        return m

    def _ln(self, sd, p):
        m = nn.LayerNorm(sd[p + ".weight"].shape[0], eps=self.eps)
        m.weight.data.copy_(sd[p + ".weight"])
        m.bias.data.copy_(sd[p + ".bias"])
        return m

    def add_lora(self, layers, rank, seed):
        for l in layers:
            m = self.layers[l - 1]
            for name in ("q", "k", "v", "o", "ff1", "ff2"):
                setattr(m, name, Lora(getattr(m, name), rank, 2 * rank, seed * 1000 + l * 10 + len(name)))

    def bias(self, n, device):
        """MPNet's relative position bias (heads, n, n), or None."""
        if self.rel is None:
            return None
        rel = torch.arange(n)[None, :] - torch.arange(n)[:, None]  # key - query
        half = self.n_buckets // 2
        exact = half // 2
        ret = (rel > 0).long() * half
        d = rel.abs()
        large = exact + (torch.log(d.float().clamp(min=1) / exact) / math.log(128 / exact) * (half - exact)).long()
        large = large.clamp(max=half - 1)
        b = ret + torch.where(d < exact, d, large)
        return self.rel.to(device)[b].permute(2, 0, 1)

    def embed(self, ids):
        n = ids.shape[0]
        pos = torch.arange(n, device=ids.device) + (self.pad + 1 if self.mpnet else 0)
        x = self.word(ids) + self.pos(pos)
        if self.type0 is not None:
            x = x + self.type0
        return self.emb_ln(x)

    def layer(self, l, x, bias):
        m = self.layers[l - 1]
        n, H, nh = x.shape[0], self.H, self.nh
        dh = H // nh
        q = m.q(x).view(n, nh, dh).transpose(0, 1)
        k = m.k(x).view(n, nh, dh).transpose(0, 1)
        v = m.v(x).view(n, nh, dh).transpose(0, 1)
        s = q @ k.transpose(1, 2) / math.sqrt(dh)
        if bias is not None:
            s = s + bias
        ctx = (s.softmax(-1) @ v).transpose(0, 1).reshape(n, H)
        x = m.ln1(x + m.o(ctx))
        return m.ln2(x + m.ff2(F.gelu(m.ff1(x))))


# ---- the heads ----
class Heads(nn.Module):
    """A BiLSTM over the document's token vectors (as casie's taggers read
    them), then the trigger and argument layers over its states."""

    def __init__(self, H, n_roles, hidden=256, states=128):
        super().__init__()
        self.drop = nn.Dropout(0.1)
        self.lstm = nn.LSTM(H, states, bidirectional=True, batch_first=True)
        S = 2 * states
        self.trig = nn.Linear(S, 1 + 2 * len(SUBTYPES))
        self.arg_in = nn.Linear(3 * S, hidden)
        self.sub = nn.Embedding(len(SUBTYPES), hidden)
        self.dist = nn.Embedding(2 * (len(BUCKETS) + 1) + 1, hidden)
        self.arg_out = nn.Linear(hidden, 1 + 2 * n_roles)

    def states(self, V):
        return self.lstm(self.drop(V)[None])[0][0]

    @staticmethod
    def bucket(k, tb, te):
        if tb <= k < te:
            return 0
        d = tb - k if k < tb else k - te + 1
        b = next((i for i, x in enumerate(BUCKETS) if d <= x), len(BUCKETS))
        return 1 + b + (len(BUCKETS) + 1) * (k >= te)

    def arg_logits(self, V, tb, te, st):
        n = V.shape[0]
        lo, hi = max(0, tb - ARG_WINDOW), min(n, te + ARG_WINDOW)
        t = V[tb:te].mean(0, keepdim=True)
        x = V[lo:hi]
        u = self.arg_in(self.drop(torch.cat([x, t.expand_as(x), x * t], 1)))
        dist = torch.tensor([self.bucket(k, tb, te) for k in range(lo, hi)], device=V.device)
        u = torch.tanh(u + self.sub.weight[st] + self.dist(dist))
        return lo, hi, self.arg_out(self.drop(u))


# ---- token vectors of one document ----
def token_vectors(enc, d, cfg, cache, device, train):
    """(n_tokens, H): each token's mean over its pieces of the mean of the
    read layers.  cache[d id]: per window, the input of the first trained
    layer and the sum of the read layers below it."""
    first, last, k = cfg["first"], cfg["last"], cfg["trained_from"]
    outs = []
    for w, (a, b, ps, counts) in enumerate(d["wins"]):
        ids = torch.tensor([enc.cls] + ps + [enc.sep], device=device)
        bias = enc.bias(len(ids), device)
        key = (d["id"], w)
        if key not in cache:
            with torch.no_grad():
                x = enc.embed(ids)
                acc = torch.zeros_like(x)
                for l in range(1, k):
                    x = enc.layer(l, x, bias)
                    if first <= l <= last:
                        acc = acc + x
                cache[key] = (x.detach(), acc.detach())
        x, acc = cache[key]
        with torch.set_grad_enabled(train and k <= last):
            for l in range(k, last + 1):
                x = enc.layer(l, x, bias)
                if first <= l:
                    acc = acc + x
        h = (acc / (last - first + 1))[1:-1]
        # mean over each token's pieces
        idx = torch.repeat_interleave(torch.arange(len(counts), device=device), torch.tensor(counts, device=device))
        s = torch.zeros(len(counts), h.shape[1], device=device).index_add_(0, idx, h)
        outs.append(s / torch.tensor(counts, device=device, dtype=s.dtype)[:, None])
    return torch.cat(outs, 0)


def doc_loss(enc, heads, d, cfg, cache, device):
    V = heads.states(token_vectors(enc, d, cfg, cache, device, True))
    loss = F.cross_entropy(heads.trig(heads.drop(V)), torch.tensor(d["y_trig"], device=device))
    for tb, te, st, args in d["gold_events"]:
        lo, hi, logits = heads.arg_logits(V, tb, te, st)
        y = bio(hi - lo, [(b - lo, e - lo, r) for b, e, r in args if b >= lo and e <= hi])
        loss = loss + F.cross_entropy(logits, torch.tensor(y, device=device)) / max(1, len(d["gold_events"]))
    return loss


def evaluate(enc, heads, docs, cfg, cache, device):
    ct = [0, 0, 0]  # tp, predicted, gold: triggers
    ca = [0, 0, 0]  # arguments with gold triggers
    with torch.no_grad():
        for d in docs:
            V = heads.states(token_vectors(enc, d, cfg, cache, device, False))
            pred = set(decode(heads.trig(V).argmax(1).tolist()))
            ct[0] += len(pred & d["gold_trig"])
            ct[1] += len(pred)
            ct[2] += len(d["gold_trig"])
            for i, (tb, te, st, args) in enumerate(d["gold_events"]):
                lo, hi, logits = heads.arg_logits(V, tb, te, st)
                p = {(b + lo, e + lo, r) for b, e, r in decode(logits.argmax(1).tolist())}
                g = set(args)
                ca[0] += len(p & g)
                ca[1] += len(p)
                ca[2] += len(g)

    def f1(c):
        return 200.0 * c[0] / (c[1] + c[2]) if c[1] + c[2] else 0.0

    return f1(ct), f1(ca)


def run(name, args, train, tune, roles, device, seed):
    torch.manual_seed(seed)
    random.seed(seed)
    first, last = args.first, args.last
    trained = {"frozen": 0, "top2": 2, "top4": 4, "lora": last - first + 1}[name]
    cfg = {"first": first, "last": last, "trained_from": last - trained + 1 if trained else last + 1}
    enc = Encoder(args.ckpt, last).to(device)
    params = []
    if name == "lora":
        enc.add_lora(range(first, last + 1), 8, seed)
        enc.to(device)
        params = [p for n, p in enc.named_parameters() if n.endswith(".a") or n.endswith(".b")]
        for p in params:
            p.requires_grad_(True)
        enc_lr = args.lora_lr
    elif trained:
        for l in range(cfg["trained_from"], last + 1):
            for p in enc.layers[l - 1].parameters():
                p.requires_grad_(True)
                params.append(p)
        enc_lr = args.enc_lr
    heads = Heads(enc.H, len(roles)).to(device)
    groups = [{"params": list(heads.parameters()), "lr": args.head_lr}]
    if params:
        groups.append({"params": params, "lr": enc_lr})
    opt = torch.optim.AdamW(groups, weight_decay=0.01)
    steps = args.epochs * len(train)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))
    cache = {}
    rows = []
    t0 = time.time()
    for ep in range(args.epochs):
        enc.train(False)
        heads.train(True)
        order = list(range(len(train)))
        random.Random(seed * 100 + ep).shuffle(order)
        total = 0.0
        for i in order:
            loss = doc_loss(enc, heads, train[i], cfg, cache, device)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], 1.0)
            opt.step()
            sched.step()
            total += loss.item()
        heads.train(False)
        tc, ac = evaluate(enc, heads, tune, cfg, cache, device)
        row = {"config": name, "seed": seed, "epoch": ep + 1, "loss": round(total / len(train), 4),
               "trig_c": round(tc, 2), "arg_c_gold_trig": round(ac, 2), "seconds": round(time.time() - t0, 1)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--corpus", default=os.environ.get("CASIE_CORPUS", "../shared/casie"))
    ap.add_argument("--layers", default="4-7", help="the layers read, FIRST-LAST (1-based)")
    ap.add_argument("--config", default="frozen,top2,top4,lora")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--train-docs", type=int, default=0, help="use only the first N training documents (0: all)")
    ap.add_argument("--tune", type=int, default=70, help="the tuning slice: the last N of train.txt")
    ap.add_argument("--enc-lr", type=float, default=3e-5)
    ap.add_argument("--lora-lr", type=float, default=5e-4)
    ap.add_argument("--head-lr", type=float, default=5e-3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    args.first, args.last = (int(x) for x in args.layers.split("-"))
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    docs = load_corpus(args.corpus, "train")
    train, tune = docs[: -args.tune], docs[-args.tune :]
    if args.train_docs:
        train = train[: args.train_docs]
    roles = sorted({r for d in docs for e in d["events"] for _, _, r in e[3]})
    tok = BertWordPieceTokenizer(os.path.join(args.ckpt, "vocab.txt"), lowercase=True)
    prepare(train + tune, tok, roles)
    n_pieces = sum(len(w[2]) for d in train for w in d["wins"])
    print(json.dumps({"device": device, "threads": torch.get_num_threads(), "train_docs": len(train),
                      "tune_docs": len(tune), "train_pieces": n_pieces, "roles": len(roles),
                      "ckpt": os.path.basename(os.path.normpath(args.ckpt)), "layers": args.layers}), flush=True)
    rows = []
    for name in args.config.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            rows += run(name, args, train, tune, roles, device, seed)
            if args.out:
                with open(args.out, "w") as f:
                    for r in rows:
                        f.write(json.dumps(r) + "\n")
    # the table: each config's last epoch, mean and range over seeds
    print("\n| config | seeds | trig_c | arg_c (gold triggers) | seconds a run |")
    print("|---|---|---|---|---|")
    for name in args.config.split(","):
        last = [r for r in rows if r["config"] == name and r["epoch"] == args.epochs]
        if not last:
            continue
        m = lambda k: sum(r[k] for r in last) / len(last)
        rng = lambda k: "%.1f-%.1f" % (min(r[k] for r in last), max(r[k] for r in last))
        print("| %s | %d | %.2f (%s) | %.2f (%s) | %.0f |" % (name, len(last), m("trig_c"), rng("trig_c"),
                                                        m("arg_c_gold_trig"), rng("arg_c_gold_trig"), m("seconds")))


if __name__ == "__main__":
    sys.exit(main())
