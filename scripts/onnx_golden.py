#!/usr/bin/env python3
"""Reference sentence embeddings with Python onnxruntime + tokenizers, for the Rust ONNX embedder's
golden test (tests/onnx_embedder.rs).

Each text is tokenized alone (special tokens added, truncated to --max-length, no padding), run through
the ONNX graph on one thread, mean-pooled over the attention mask and L2-normalized: the
sentence-transformers recipe, written independently of the Rust code.

Usage: onnx_golden.py --model model.onnx --tokenizer tokenizer.json [--max-length 256] texts.json
Prints a JSON list of vectors.
"""
import argparse
import json

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("texts")
    a = ap.parse_args()
    with open(a.texts, encoding="utf-8") as f:
        texts = json.load(f)
    tok = Tokenizer.from_file(a.tokenizer)
    tok.no_padding()
    tok.enable_truncation(max_length=a.max_length)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(a.model, opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    out = []
    for t in texts:
        enc = tok.encode(t)
        ids = np.array([enc.ids], dtype=np.int64)
        mask = np.array([enc.attention_mask], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        h = sess.run(None, {n: feeds[n] for n in names})[0]  # [1, seq, dims]
        m = mask[..., None].astype(np.float32)
        v = (h * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        out.append(v[0].astype(float).tolist())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
