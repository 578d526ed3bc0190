#!/usr/bin/env python3
"""encoder_reference.py - reference hidden states for tests/test_encoder.c.

An independent BERT and MPNet forward pass in numpy (float64), written from
the BERT and MPNet papers and the Hugging Face BertModel's and MPNetModel's
documented behaviour, not from casie's C code.  config.json's model_type
("bert" or "mpnet") picks the forward pass.  Uses:

  encoder_reference.py tiny [OUTDIR]
      makes the tiny random BERT fixture (2 layers, hidden 32, 4 heads,
      intermediate 40, 48 pieces, 16 positions) in OUTDIR (default
      tests/data/encoder/tiny): config.json, vocab.txt, tokenizer_config.json,
      model.safetensors (names with a "bert." prefix; the embeddings F32,
      layer 0 F16, layer 1 BF16) and reference.txt, every hidden state of
      two sequences (the second with padding).

  encoder_reference.py tiny-mpnet [OUTDIR]
      makes the tiny random MPNet fixture (2 layers, hidden 32, 4 heads,
      intermediate 40, 48 pieces starting <s> <pad> </s> <unk> [UNK], 18
      position rows = 16 usable + the offset 2, 32 relative-attention buckets)
      in OUTDIR (default tests/data/encoder/tiny-mpnet), the same files as
      `tiny`: names with an "mpnet." prefix (the embeddings F32, the
      relative attention bias F16, layer 0 F16, layer 1 BF16), and in
      reference.txt every hidden state of two sequences of 16 and 15 pieces
      (the second ending in 3 <pad>), long enough for distances past the
      exact buckets (|j - i| >= 8).

  encoder_reference.py real CHECKPOINT_DIR OUT_FILE
      runs the real checkpoint (config.json, vocab.txt, model.safetensors,
      tokenizer_config.json if present for the special tokens) over three
      fixed sentences, each wrapped in [CLS] ... [SEP] (BERT) or
      <s> ... </s> (MPNet), and writes a small summary: the piece ids, the
      first 8 dimensions of every piece's last-layer state and the mean of
      the last layer over the pieces.

Needs numpy only (pip install numpy).  The outputs are committed; the tests
read them and never run this script.
"""
import json
import math
import os
import struct
import sys

import numpy as np

# ---------------------------------------------------------------------------
# safetensors, by hand: 8-byte little-endian header length, JSON header, data
# ---------------------------------------------------------------------------


def to_bf16_bytes(a):
    """Rounds float32 to bfloat16 (nearest even) and returns the raw bytes and the rounded values."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    back = (r.astype(np.uint32) << 16).view(np.float32)
    return r.tobytes(), back


def write_safetensors(path, tensors):
    """tensors: list of (name, array float32, dtype 'F32'|'F16'|'BF16'); returns the values as stored."""
    header, blobs, stored, off = {}, [], {}, 0
    for name, a, dt in tensors:
        a = np.asarray(a, dtype=np.float32)
        if dt == "F32":
            b, v = a.astype("<f4").tobytes(), a
        elif dt == "F16":
            h = a.astype("<f2")
            b, v = h.tobytes(), h.astype(np.float32)
        else:
            b, v = to_bf16_bytes(a)
            v = v.reshape(a.shape)
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        stored[name] = v.astype(np.float64)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    return stored


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] not in ("F32", "F16", "BF16"):
            continue  # e.g. the position_ids buffer (I64) of BertModel and MPNetModel
        a, b = t["data_offsets"]
        dt = {"F32": "<f4", "F16": "<f2"}.get(t["dtype"])
        if dt:
            v = np.frombuffer(data[a:b], dtype=dt).astype(np.float64)
        elif t["dtype"] == "BF16":
            v = (np.frombuffer(data[a:b], dtype="<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        else:
            raise SystemExit("%s: dtype %s" % (name, t["dtype"]))
        for prefix in ("bert.", "mpnet."):
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        out[name] = v.reshape(t["shape"])
    return out


# ---------------------------------------------------------------------------
# BERT, float64
# ---------------------------------------------------------------------------

ERF = np.vectorize(math.erf)


def layer_norm(x, g, b, eps):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b


def gelu(x):
    return 0.5 * x * (1.0 + ERF(x / math.sqrt(2.0)))


# The parameter names of one post-LN layer, after "encoder.layer.N.".
BERT_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "o": "attention.output.dense", "ln1": "attention.output.LayerNorm",
    "ffn1": "intermediate.dense", "ffn2": "output.dense", "ln2": "output.LayerNorm",
}
MPNET_NAMES = {
    "q": "attention.attn.q", "k": "attention.attn.k", "v": "attention.attn.v",
    "o": "attention.attn.o", "ln1": "attention.LayerNorm",
    "ffn1": "intermediate.dense", "ffn2": "output.dense", "ln2": "output.LayerNorm",
}


def post_ln_layers(w, cfg, x, add, names, eps):
    """Runs the encoder layers over the embeddings x (n, H); add is what is added to
    every layer's scaled attention scores (broadcast to (heads, n, n)).  Returns the
    hidden states (n_layers + 1, n, H)."""
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    dh, n = H // nh, x.shape[0]
    out = [x]
    for l in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % l

        def lin(key, v):
            return v @ w[p + names[key] + ".weight"].T + w[p + names[key] + ".bias"]

        def ln(key, v):
            return layer_norm(v, w[p + names[key] + ".weight"], w[p + names[key] + ".bias"], eps)

        q = lin("q", x).reshape(n, nh, dh).transpose(1, 0, 2)
        k = lin("k", x).reshape(n, nh, dh).transpose(1, 0, 2)
        v = lin("v", x).reshape(n, nh, dh).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh) + add
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, H)
        x = ln("ln1", x + lin("o", ctx))
        f = gelu(lin("ffn1", x))
        x = ln("ln2", x + lin("ffn2", f))
        out.append(x)
    return np.stack(out)


def mask_bias(mask):
    """Padding keys get a large negative score added, as the models' extended attention masks do."""
    return np.where(np.asarray(mask) > 0, 0.0, -1e30)


def bert(w, cfg, ids, mask):
    """Hidden states (n_layers + 1, n, H) of one sequence; mask 1 = real piece, 0 = padding."""
    eps, n = cfg.get("layer_norm_eps", 1e-12), len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
    x = x + w["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    return post_ln_layers(w, cfg, x, mask_bias(mask), BERT_NAMES, eps)


# ---------------------------------------------------------------------------
# MPNet, float64 (but the relative-position buckets in float32, as MPNetModel)
# ---------------------------------------------------------------------------


def mpnet_positions(ids, pad_id):
    """Position ids as MPNetModel makes them from the input ids: the k-th (1-based)
    non-pad piece gets pad_id + k, every pad piece gets pad_id."""
    real = np.asarray(ids) != pad_id
    return np.where(real, pad_id + np.cumsum(real), pad_id)


def relative_bucket(rel, num_buckets=32, max_distance=128):
    """Bidirectional bucket of the relative position rel = key - query (T5-style).
    Half the buckets for keys before the query (or at it), half for keys after it;
    within each half, distances below a quarter of the buckets are exact, the
    rest logarithmic up to max_distance.  The logarithmic part is float32 and
    truncated toward zero, as MPNetModel computes it."""
    n = -np.asarray(rel, dtype=np.int64)
    nb = num_buckets // 2
    ret = np.where(n < 0, nb, 0)
    n = np.abs(n)
    max_exact = nb // 2
    nf = np.maximum(n, 1).astype(np.float32)  # n = 0 is exact anyway; avoids log(0)
    big = (np.log(nf / np.float32(max_exact)) / np.float32(math.log(max_distance / max_exact))
           * np.float32(nb - max_exact)).astype(np.float32)
    big = np.minimum(max_exact + big.astype(np.int64), nb - 1)
    return ret + np.where(n < max_exact, n, big)


def mpnet_position_bias(w, cfg, n):
    """(heads, n, n): bias[h, i, j] = relative_attention_bias[bucket(j - i), h]."""
    i = np.arange(n)
    buckets = relative_bucket(i[None, :] - i[:, None], cfg.get("relative_attention_num_buckets", 32))
    return w["encoder.relative_attention_bias.weight"][buckets].transpose(2, 0, 1)


def mpnet(w, cfg, ids, mask):
    """Hidden states (n_layers + 1, n, H) of one sequence; mask 1 = real piece, 0 = padding."""
    eps, n = cfg.get("layer_norm_eps", 1e-12), len(ids)
    pos = mpnet_positions(ids, cfg.get("pad_token_id", 1))
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][pos]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    return post_ln_layers(w, cfg, x, mpnet_position_bias(w, cfg, n) + mask_bias(mask), MPNET_NAMES, eps)


def forward(w, cfg, ids, mask):
    kind = cfg.get("model_type", "bert")
    if kind == "bert":
        return bert(w, cfg, ids, mask)
    if kind == "mpnet":
        return mpnet(w, cfg, ids, mask)
    raise SystemExit("model_type %r: not bert nor mpnet" % kind)


# ---------------------------------------------------------------------------
# the tiny fixture
# ---------------------------------------------------------------------------


def tiny(outdir):
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(20)
    cfg = {
        "_name_or_path": "casie-tiny-random-bert",
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_act": "gelu",
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 40,
        "max_position_embeddings": 16,
        "type_vocab_size": 2,
        "vocab_size": 48,
        "layer_norm_eps": 1e-12,
        "position_embedding_type": "absolute",
    }
    H, I, V, P = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["max_position_embeddings"]
    words = ["the", "attack", "##er", "##s", "stole", "data", "from", "a", "bank", "patch", "released", "by",
             "microsoft", "ransom", "paid", "phishing", "email", "sent", "to", "users", "vulnerability", "in",
             "windows", "cve", "-", "2017", "0144", ",", ".", "hackers", "breach", "of", "credit", "card", "numbers",
             "exploit", "kit", "server", "malware", "was", "found", "on"]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words
    assert len(vocab) >= V - 1
    vocab = vocab[:V]
    while len(vocab) < V:
        vocab.append("##x%d" % len(vocab))
    with open(os.path.join(outdir, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(outdir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(outdir, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": P}, f, indent=2)
        f.write("\n")

    def mat(r, c, s=0.15):
        return rng.normal(0, s, (r, c)).astype(np.float32)

    def vec(n, s=0.1, m=0.0):
        return (m + rng.normal(0, s, n)).astype(np.float32)

    t = [
        ("bert.embeddings.word_embeddings.weight", mat(V, H, 0.5), "F32"),
        ("bert.embeddings.position_embeddings.weight", mat(P, H, 0.2), "F32"),
        ("bert.embeddings.token_type_embeddings.weight", mat(2, H, 0.2), "F32"),
        ("bert.embeddings.LayerNorm.weight", vec(H, 0.1, 1.0), "F32"),
        ("bert.embeddings.LayerNorm.bias", vec(H), "F32"),
    ]
    for l, dt in ((0, "F16"), (1, "BF16")):
        p = "bert.encoder.layer.%d." % l
        for name in ("query", "key", "value"):
            t += [(p + "attention.self.%s.weight" % name, mat(H, H), dt), (p + "attention.self.%s.bias" % name, vec(H), dt)]
        t += [
            (p + "attention.output.dense.weight", mat(H, H), dt),
            (p + "attention.output.dense.bias", vec(H), dt),
            (p + "attention.output.LayerNorm.weight", vec(H, 0.1, 1.0), dt),
            (p + "attention.output.LayerNorm.bias", vec(H), dt),
            (p + "intermediate.dense.weight", mat(I, H), dt),
            (p + "intermediate.dense.bias", vec(I), dt),
            (p + "output.dense.weight", mat(H, I), dt),
            (p + "output.dense.bias", vec(H), dt),
            (p + "output.LayerNorm.weight", vec(H, 0.1, 1.0), dt),
            (p + "output.LayerNorm.bias", vec(H), dt),
        ]
    t.append(("bert.pooler.dense.weight", mat(H, H), "F32"))  # present in real checkpoints; ignored
    t.append(("bert.pooler.dense.bias", vec(H), "F32"))
    stored = write_safetensors(os.path.join(outdir, "model.safetensors"), t)
    w = {k[5:]: v for k, v in stored.items()}

    seqs = [
        ([2, 34, 6, 7, 8, 9, 10, 11, 12, 5, 13, 33, 3], [1] * 13),
        ([2, 30, 31, 32, 33, 3, 0, 0, 0, 0], [1] * 6 + [0] * 4),
    ]
    with open(os.path.join(outdir, "reference.txt"), "w") as f:
        f.write("# hidden states of the tiny BERT from tests/encoder_reference.py (numpy, float64)\n")
        f.write("sequences %d layers %d hidden %d\n" % (len(seqs), cfg["num_hidden_layers"] + 1, H))
        for ids, mask in seqs:
            hs = bert(w, cfg, ids, mask)
            f.write("ids %d %s\n" % (len(ids), " ".join(map(str, ids))))
            f.write("mask %s\n" % " ".join(map(str, mask)))
            for l in range(hs.shape[0]):
                for i in range(len(ids)):
                    f.write(" ".join("%.7g" % v for v in hs[l, i]) + "\n")


def tiny_mpnet(outdir):
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(21)
    cfg = {
        "_name_or_path": "casie-tiny-random-mpnet",
        "architectures": ["MPNetForMaskedLM"],
        "model_type": "mpnet",
        "hidden_act": "gelu",
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 40,
        "max_position_embeddings": 18,
        "relative_attention_num_buckets": 32,
        "vocab_size": 48,
        "layer_norm_eps": 1e-05,
        "bos_token_id": 0,
        "pad_token_id": 1,
        "eos_token_id": 2,
    }
    H, I, V, P = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["max_position_embeddings"]
    NB = cfg["relative_attention_num_buckets"]
    words = ["the", "attack", "##er", "##s", "stole", "data", "from", "a", "bank", "patch", "released", "by",
             "microsoft", "ransom", "paid", "phishing", "email", "sent", "to", "users", "vulnerability", "in",
             "windows", "cve", "-", "2017", "0144", ",", ".", "hackers", "breach", "of", "credit", "card", "numbers",
             "exploit", "kit", "server", "malware", "was", "found", "on"]
    vocab = ["<s>", "<pad>", "</s>", "<unk>", "[UNK]"] + words + ["<mask>"]  # <mask> last, as in mpnet-base
    assert len(vocab) == V, len(vocab)
    with open(os.path.join(outdir, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(outdir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(outdir, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "bos_token": "<s>", "eos_token": "</s>", "cls_token": "<s>",
                   "sep_token": "</s>", "pad_token": "<pad>", "unk_token": "[UNK]", "mask_token": "<mask>",
                   "model_max_length": P - 2, "tokenizer_class": "MPNetTokenizer"}, f, indent=2)
        f.write("\n")

    def mat(r, c, s=0.15):
        return rng.normal(0, s, (r, c)).astype(np.float32)

    def vec(n, s=0.1, m=0.0):
        return (m + rng.normal(0, s, n)).astype(np.float32)

    t = [
        ("mpnet.embeddings.word_embeddings.weight", mat(V, H, 0.5), "F32"),
        ("mpnet.embeddings.position_embeddings.weight", mat(P, H, 0.5), "F32"),
        ("mpnet.embeddings.LayerNorm.weight", vec(H, 0.1, 1.0), "F32"),
        ("mpnet.embeddings.LayerNorm.bias", vec(H), "F32"),
    ]
    for l, dt in ((0, "F16"), (1, "BF16")):
        p = "mpnet.encoder.layer.%d." % l
        for name in ("q", "k", "v", "o"):
            t += [(p + "attention.attn.%s.weight" % name, mat(H, H), dt), (p + "attention.attn.%s.bias" % name, vec(H), dt)]
        t += [
            (p + "attention.LayerNorm.weight", vec(H, 0.1, 1.0), dt),
            (p + "attention.LayerNorm.bias", vec(H), dt),
            (p + "intermediate.dense.weight", mat(I, H), dt),
            (p + "intermediate.dense.bias", vec(I), dt),
            (p + "output.dense.weight", mat(H, I), dt),
            (p + "output.dense.bias", vec(H), dt),
            (p + "output.LayerNorm.weight", vec(H, 0.1, 1.0), dt),
            (p + "output.LayerNorm.bias", vec(H), dt),
        ]
    # large enough that the buckets visibly matter (real checkpoints: |bias| up to a few units)
    t.append(("mpnet.encoder.relative_attention_bias.weight", mat(NB, cfg["num_attention_heads"], 1.0), "F16"))
    t.append(("mpnet.pooler.dense.weight", mat(H, H), "F32"))  # present in real checkpoints; ignored
    t.append(("mpnet.pooler.dense.bias", vec(H), "F32"))
    stored = write_safetensors(os.path.join(outdir, "model.safetensors"), t)
    w = {k[6:]: v for k, v in stored.items()}

    # <s> the attack ##er ##s stole data from bank , cve - 2017 - 0144 </s>: 16 pieces, every position row;
    # <s> hackers [UNK] phishing email sent to users windows server . </s> <pad> <pad> <pad>: 15 pieces
    seqs = [
        ([0, 5, 6, 7, 8, 9, 10, 11, 13, 32, 28, 29, 30, 29, 31, 2], [1] * 16),
        ([0, 34, 4, 20, 21, 22, 23, 24, 27, 42, 33, 2, 1, 1, 1], [1] * 12 + [0] * 3),
    ]
    assert all(len(ids) <= P - 2 for ids, _ in seqs)
    with open(os.path.join(outdir, "reference.txt"), "w") as f:
        f.write("# hidden states of the tiny MPNet from tests/encoder_reference.py (numpy, float64)\n")
        f.write("sequences %d layers %d hidden %d\n" % (len(seqs), cfg["num_hidden_layers"] + 1, H))
        for ids, mask in seqs:
            hs = mpnet(w, cfg, ids, mask)
            f.write("ids %d %s\n" % (len(ids), " ".join(map(str, ids))))
            f.write("mask %s\n" % " ".join(map(str, mask)))
            for l in range(hs.shape[0]):
                for i in range(len(ids)):
                    f.write(" ".join("%.7g" % v for v in hs[l, i]) + "\n")


# ---------------------------------------------------------------------------
# the real checkpoint: a small summary
# ---------------------------------------------------------------------------

SENTENCES = [
    "hackers stole the credit card numbers of millions of customers from the retailer .",
    "microsoft released a patch for the vulnerability in windows on tuesday .",
    "the ransomware attack encrypted files at the hospital and demanded a ransom in bitcoin .",
]


def wordpiece(word, index, unk="[UNK]"):
    """Greedy longest-match-first pieces of one lower-case word (the sentences are already split)."""
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start and (word[start:end] if start == 0 else "##" + word[start:end]) not in index:
            end -= 1
        if end == start:
            return [index[unk]]
        pieces.append(index[word[start:end] if start == 0 else "##" + word[start:end]])
        start = end
    return pieces


def real(ckpt, out):
    cfg = json.load(open(os.path.join(ckpt, "config.json")))
    vocab = [l.rstrip("\n") for l in open(os.path.join(ckpt, "vocab.txt"), encoding="utf-8")]
    index = {p: i for i, p in enumerate(vocab)}
    w = read_safetensors(os.path.join(ckpt, "model.safetensors"))
    # the special pieces: tokenizer_config.json's if it names them, else the model type's usual ones
    tok_path = os.path.join(ckpt, "tokenizer_config.json")
    tok = json.load(open(tok_path)) if os.path.exists(tok_path) else {}
    mpnet_kind = cfg.get("model_type", "bert") == "mpnet"

    def special(key, bert_default, mpnet_default):
        v = tok.get(key)
        if isinstance(v, dict):  # {"content": ...} in some tokenizer configs
            v = v.get("content")
        return v or (mpnet_default if mpnet_kind else bert_default)

    cls, sep = special("cls_token", "[CLS]", "<s>"), special("sep_token", "[SEP]", "</s>")
    unk = special("unk_token", "[UNK]", "[UNK]")
    with open(out, "w") as f:
        f.write("# %s: last-layer states from tests/encoder_reference.py (numpy, float64)\n" % cfg.get("_name_or_path", ckpt))
        f.write("sentences %d layers %d hidden %d dims 8\n" % (len(SENTENCES), cfg["num_hidden_layers"], cfg["hidden_size"]))
        for s in SENTENCES:
            ids = [index[cls]] + [p for word in s.split() for p in wordpiece(word, index, unk)] + [index[sep]]
            hs = forward(w, cfg, ids, [1] * len(ids))[-1]
            f.write("ids %d %s\n" % (len(ids), " ".join(map(str, ids))))
            for i in range(len(ids)):
                f.write(" ".join("%.6g" % v for v in hs[i, :8]) + "\n")
            f.write("mean " + " ".join("%.6g" % v for v in hs.mean(0)) + "\n")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "tiny":
        tiny(sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "data", "encoder", "tiny"))
    elif len(sys.argv) >= 2 and sys.argv[1] == "tiny-mpnet":
        tiny_mpnet(sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "data", "encoder", "tiny-mpnet"))
    elif len(sys.argv) == 4 and sys.argv[1] == "real":
        real(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
