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


def model_bytes(layers: List[Tuple[np.ndarray, np.ndarray]], threshold: float = 0.5) -> bytes:
    """The bytes of an f32 l2core model file with the hashing embedder at the input width."""
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
        "precision": "f32",
        "threshold": threshold,
        "tags": {"made_by": "tests/python/modelfile.py"},
    }
    header: dict = {}
    chunks: List[bytes] = []
    offset = 0
    sha = hashlib.sha256()
    for i, (w, b) in enumerate(layers):
        for name, arr in ((f"layers.{i}.weight", w), (f"layers.{i}.bias", b)):
            data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
            header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
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
