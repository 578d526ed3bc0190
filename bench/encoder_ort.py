#!/usr/bin/env python3
"""encoder_ort.py - the same BERT (or MPNet) encoder under ONNX Runtime, one CPU thread,
for bench/encoder.sh (make bench): pieces per second over sequences of 128
and 512 pieces, as bench/encoder.c measures casie's.

  encoder_ort.py CHECKPOINT_DIR [--stack K] [--seconds S] [--int8]

The ONNX graph is built here from the checkpoint's safetensors (the float32
weights as they are; --int8: then quantized dynamically by ONNX Runtime's own
quantize_dynamic, int8 weights per row and uint8 activations, its fastest
CPU path), the standard BertModel computation: embeddings and layer norm,
per layer query/key/value MatMul+Add, scaled dot-product attention with
Softmax, output projection, residual and LayerNormalization, Erf GELU
feed-forward (for MPNet its relative position bias added to the scores and
its positions from the padding id + 1).  --stack K repeats the layers K times (as bench/encoder.c
--stack does for casie). ONNX Runtime's graph optimizations are all on.
Needs numpy, onnx and onnxruntime (pip; bench/encoder.sh makes a venv).
"""
import json
import logging
import os
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from encoder_reference import mpnet_position_bias, read_safetensors  # noqa: E402


def build(ckpt, stack):
    cfg = json.load(open(os.path.join(ckpt, "config.json")))
    w = {k: v.astype(np.float32) for k, v in read_safetensors(os.path.join(ckpt, "model.safetensors")).items()}
    H, nh, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    dh, eps = H // nh, float(cfg.get("layer_norm_eps", 1e-12))
    inits, nodes = [], []

    def init(name, a):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(a), name))
        return name

    def node(op, ins, **kw):
        out = "t%d" % len(nodes)
        nodes.append(helper.make_node(op, ins, [out], **kw))
        return out

    def linear(x, prefix):
        return node("Add", [node("MatMul", [x, init(prefix + ".wT", w[prefix + ".weight"].T)]), init(prefix + ".b", w[prefix + ".bias"])])

    def ln(x, prefix):
        return node("LayerNormalization", [x, init(prefix + ".g", w[prefix + ".weight"]), init(prefix + ".b", w[prefix + ".bias"])], axis=-1, epsilon=eps)

    # ids (1, n) -> embeddings; MPNet: positions from pad_token_id + 1, no
    # token types, and a relative position bias added to every layer's scores
    mpnet = cfg.get("model_type") == "mpnet"
    first = cfg.get("pad_token_id", 1) + 1 if mpnet else 0
    e = node("Gather", [init("word", w["embeddings.word_embeddings.weight"]), "ids"])
    n = node("Shape", ["ids"], start=1, end=2)
    zero, axis0 = init("zero", np.array([0], np.int64)), init("axis0", np.array([0], np.int64))
    pos = node("Slice", [init("pos", w["embeddings.position_embeddings.weight"][first:]), zero, n, axis0])
    e = node("Add", [e, pos])
    if not mpnet:
        e = node("Add", [e, init("type0", w["embeddings.token_type_embeddings.weight"][0])])
    x = ln(e, "embeddings.LayerNorm")
    if mpnet:  # (heads, 512, 512), cut to (heads, n, n) once
        full = init("relbias", mpnet_position_bias(w, cfg, 512).astype(np.float32))
        rel = node("Slice", [full, init("zero2", np.array([0, 0], np.int64)), node("Concat", [n, n], axis=0),
                             init("axes12", np.array([1, 2], np.int64))])
    names = (("attn.q", "attn.k", "attn.v"), "attn.o", "LayerNorm") if mpnet else \
        (("self.query", "self.key", "self.value"), "output.dense", "output.LayerNorm")
    shp = init("heads_shape", np.array([1, -1, nh, dh], np.int64))
    back = init("back_shape", np.array([1, -1, H], np.int64))
    scale = init("scale", np.array(1.0 / np.sqrt(dh), np.float32))
    for rep in range(stack):
        for l in range(L):
            p = "encoder.layer.%d." % l
            heads = []
            for name in names[0]:
                t = node("Reshape", [linear(x, p + "attention." + name), shp])
                heads.append(node("Transpose", [t], perm=[0, 2, 1, 3]))
            q, k, v = heads
            s = node("Mul", [node("MatMul", [q, node("Transpose", [k], perm=[0, 1, 3, 2])]), scale])
            if mpnet:
                s = node("Add", [s, rel])
            c = node("MatMul", [node("Softmax", [s], axis=-1), v])
            c = node("Reshape", [node("Transpose", [c], perm=[0, 2, 1, 3]), back])
            x = ln(node("Add", [x, linear(c, p + "attention." + names[1])]), p + "attention." + names[2])
            f = linear(x, p + "intermediate.dense")
            f = node("Mul", [node("Mul", [f, node("Add", [node("Erf", [node("Mul", [f, init("rsqrt2", np.array(2 ** -0.5, np.float32))])]), init("one", np.array(1.0, np.float32))])]), init("half", np.array(0.5, np.float32))])
            x = ln(node("Add", [x, linear(f, p + "output.dense")]), p + "output.LayerNorm")
    nodes[-1].output[0] = "hidden"
    # initializers are shared by name across repeats: keep the first of each
    seen, uniq = set(), []
    for t in inits:
        if t.name not in seen:
            seen.add(t.name)
            uniq.append(t)
    g = helper.make_graph(nodes, "bert", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, None])],
                          [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [1, None, H])], uniq)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m, cfg, L * stack


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    ckpt, stack, secs, int8 = args[0], 1, 2.0, False
    i = 1
    while i < len(args):
        if args[i] == "--stack":
            stack, i = int(args[i + 1]), i + 2
        elif args[i] == "--seconds":
            secs, i = float(args[i + 1]), i + 2
        elif args[i] == "--int8":
            int8, i = True, i + 1
        else:
            sys.exit("unknown argument " + args[i])
    model, cfg, layers = build(ckpt, stack)
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "bert.onnx")
    onnx.save(model, path)
    if int8:
        logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic advises pre-processing on every run
        from onnxruntime.quantization import QuantType, quantize_dynamic
        q = os.path.join(tmp, "bert-int8.onnx")
        quantize_dynamic(path, q, weight_type=QuantType.QInt8, per_channel=True)
        path = q
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(42)
    rates = []
    for n in (128, 512):
        ids = rng.integers(1000, cfg["vocab_size"], (1, n), dtype=np.int64)
        sess.run(None, {"ids": ids})  # warm up
        pieces, t0 = 0, time.process_time()
        while True:
            sess.run(None, {"ids": ids})
            pieces += n
            if time.process_time() - t0 >= secs:
                break
        rates.append(pieces / (time.process_time() - t0))
    print("| ONNX Runtime %s, %s, 1 thread (%s, %d layers x %d) | %.0f | %.0f |"
          % (ort.__version__, "int8 dynamic" if int8 else "float32", cfg.get("model_type", "bert"), layers,
             cfg["hidden_size"], rates[0], rates[1]))


if __name__ == "__main__":
    main()
