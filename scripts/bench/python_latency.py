#!/usr/bin/env python3
"""Batch-1 latency of ``Model.score_embeddings`` from Python (p50 / p90 / p99 over many calls).

Usage: .venv/bin/python scripts/bench/python_latency.py [--model MODEL ...] [--calls N] [--onnx FILE]

Without --model it builds the default architecture (512-256-128-64-1, f32, random weights) with
tests/python/modelfile.py and an int8 copy made by ``l2 quantize`` (or, when the installed ``l2`` has
no such command, by modelfile.py's per-row symmetric quantization in the same file format). ``--onnx FILE`` times ONNX Runtime's Python ``session.run`` on that model for comparison; ``--onnx
build`` writes an ONNX graph of the same f32 weights itself (needs the ``onnx`` package).
Each call is timed on its own with ``time.perf_counter_ns`` (its own ~50 ns are included).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

import l2core

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "python"))


def percentiles(fn, calls: int, warmup: int = 2000):
    for _ in range(warmup):
        fn()
    t = np.empty(calls, dtype=np.int64)
    clock = time.perf_counter_ns
    for i in range(calls):
        t0 = clock()
        fn()
        t[i] = clock() - t0
    return np.percentile(t, [50, 90, 99]) / 1000.0


def default_models(tmp: str):
    import modelfile

    path = os.path.join(tmp, "f32.l2")
    with open(path, "wb") as f:
        f.write(modelfile.model_bytes(modelfile.random_layers(512, (256, 128, 64), seed=1)))
    paths = [path]
    l2 = os.path.join(os.path.dirname(sys.executable), "l2")
    int8 = os.path.join(tmp, "int8.l2")
    proc = subprocess.run([l2, "quantize", path, "-o", int8, "--precision", "int8"], capture_output=True, text=True)
    if proc.returncode == 0 and os.path.exists(int8):
        paths.append(int8)
    else:
        # Same format, quantized by tests/python/modelfile.py (symmetric per-row int8).
        print(f"(`l2 quantize` unavailable: {proc.stderr.strip().splitlines()[0][:120] if proc.stderr else ''}; "
              "int8 model written by modelfile.py)")
        int8 = os.path.join(tmp, "int8-modelfile.l2")
        with open(int8, "wb") as f:
            f.write(modelfile.model_bytes(modelfile.random_layers(512, (256, 128, 64), seed=1), precision="int8"))
        paths.append(int8)
    # A network with almost no arithmetic (512-1-1): what is left is the binding's own cost.
    tiny = os.path.join(tmp, "tiny-512-1.l2")
    with open(tiny, "wb") as f:
        f.write(modelfile.model_bytes(modelfile.random_layers(512, (1,), seed=1)))
    paths.append(tiny)
    return paths


def build_onnx(path: str, layers) -> None:
    """An ONNX graph of the same MLP (MatMul + Add, ReLU between, Sigmoid at the end)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, cur = [], [], "x"
    for i, (w, b) in enumerate(layers):
        inits += [numpy_helper.from_array(np.ascontiguousarray(w.T), f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes += [helper.make_node("MatMul", [cur, f"w{i}"], [f"m{i}"]), helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"])]
        last = i + 1 == len(layers)
        nodes.append(helper.make_node("Sigmoid" if last else "Relu", [f"a{i}"], ["score" if last else f"h{i}"]))
        cur = f"h{i}"
    graph = helper.make_graph(
        nodes, "l2_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", layers[0][0].shape[1]])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["n", 1])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", help="model file(s); default: built here")
    ap.add_argument("--calls", type=int, default=50_000)
    ap.add_argument("--onnx", help="an ONNX export of the same MLP, timed with onnxruntime")
    args = ap.parse_args()
    print(f"l2core {l2core.__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        paths = args.model or default_models(tmp)
        for path in paths:
            model = l2core.Model.load(path)
            x = np.random.default_rng(0).standard_normal((1, model.dims)).astype(np.float32)
            out = np.empty(1, dtype=np.float32)
            rows = [
                ("score_embeddings(x)", lambda: model.score_embeddings(x)),
                ("score_embeddings(x, out=out)", lambda: model.score_embeddings(x, out=out)),
            ]
            for name, fn in rows:
                p50, p90, p99 = percentiles(fn, args.calls)
                print(f"{model.precision:>5} {os.path.basename(path):<12} {name:<30} "
                      f"p50 {p50:6.2f} us  p90 {p90:6.2f} us  p99 {p99:6.2f} us")
        if args.onnx == "build":
            import modelfile

            args.onnx = os.path.join(tmp, "mlp.onnx")
            build_onnx(args.onnx, modelfile.random_layers(512, (256, 128, 64), seed=1))
        if args.onnx:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            sess = ort.InferenceSession(args.onnx, opts, providers=["CPUExecutionProvider"])
            inp = sess.get_inputs()[0]
            x = np.random.default_rng(0).standard_normal((1, inp.shape[1])).astype(np.float32)
            p50, p90, p99 = percentiles(lambda: sess.run(None, {inp.name: x}), args.calls)
            print(f" onnx {os.path.basename(args.onnx):<12} {'session.run':<30} "
                  f"p50 {p50:6.2f} us  p90 {p90:6.2f} us  p99 {p99:6.2f} us")


if __name__ == "__main__":
    main()
