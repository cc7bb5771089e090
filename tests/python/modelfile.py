"""Write l2core model files from Python alone (safetensors + the documented metadata), so that the
bindings can be tested on models whose weights the test knows, independently of the trainer."""

from __future__ import annotations

import hashlib
import json
import struct
from typing import List, Sequence, Tuple

import numpy as np


def random_layers(dims: int, hidden: Sequence[int], seed: int) -> List[Tuple[np.ndarray, np.ndarray]]:
    """He-initialised (W, b) pairs for dims -> hidden... -> 1, with non-zero biases."""
    rng = np.random.default_rng(seed)
    widths = [dims, *hidden, 1]
    layers = []
    for i, o in zip(widths, widths[1:]):
        w = (rng.standard_normal((o, i)) * np.sqrt(2.0 / i)).astype(np.float32)
        b = (rng.standard_normal(o) * 0.1).astype(np.float32)
        layers.append((w, b))
    return layers


def reference_scores(layers: List[Tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """The network's sigmoid output computed by numpy in float64 (an independent reference)."""
    h = x.astype(np.float64)
    for k, (w, b) in enumerate(layers):
        h = h @ w.astype(np.float64).T + b
        if k + 1 < len(layers):
            h = np.maximum(h, 0.0)
    return 1.0 / (1.0 + np.exp(-h[:, 0]))


def model_bytes(layers: List[Tuple[np.ndarray, np.ndarray]], threshold: float = 0.5, precision: str = "f32") -> bytes:
    """The bytes of an l2core model file with the hashing embedder at the input width. ``precision``
    "int8" stores symmetric per-output-row int8 weights (``w = q * scale[row]``), as the format says."""
    dims = layers[0][0].shape[1]
    meta = {
        "format_version": 1,
        "l2core_version": "test",
        "created": "2026-12-01T00:00:00Z",
        "embedder": {
            "kind": "hash", "version": 1, "dims": dims, "char_ngrams": [3, 5], "word_ngrams": [1, 2],
            "char_weight": 1.0, "word_weight": 2.0, "lowercase": True,
        },
        "architecture": {
            "input_dims": dims, "hidden": [int(w.shape[0]) for w, _ in layers[:-1]],
            "activation": "relu", "output": "sigmoid",
        },
        "precision": precision,
        "threshold": threshold,
        "tags": {"made_by": "tests/python/modelfile.py"},
    }
    header: dict = {}
    chunks: List[bytes] = []
    offset = 0
    sha = hashlib.sha256()
    for i, (w, b) in enumerate(layers):
        tensors = [(f"layers.{i}.weight", "F32", w), (f"layers.{i}.bias", "F32", b)]
        if precision == "int8":
            scale = (np.abs(w).max(axis=1) / 127.0).astype(np.float32)
            q = np.clip(np.rint(w / np.where(scale > 0, scale, 1.0)[:, None]), -127, 127).astype(np.int8)
            tensors = [(f"layers.{i}.weight", "I8", q), (f"layers.{i}.scale", "F32", scale), tensors[1]]
        elif precision != "f32":
            raise ValueError(f"precision {precision!r}: only f32 and int8 are written here")
        for name, dtype, arr in tensors:
            data = np.ascontiguousarray(arr, dtype="<f4" if dtype == "F32" else "i1").tobytes()
            header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
            offset += len(data)
            chunks.append(data)
            sha.update(data)
    header["__metadata__"] = {
        "format": "l2core-model",
        "l2core_meta": json.dumps(meta),
        "weights_sha256": sha.hexdigest(),
    }
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    return struct.pack("<Q", len(head)) + head + b"".join(chunks)
