"""The peer of `l2 serve` in scripts/bench/serve.sh: what a Python team would write instead, a FastAPI app
under uvicorn scoring with the `l2core` wheel, answering the same `/v1/moderations` shape.
Run: L2_MODEL=model.l2 uvicorn serve_fastapi:app --port 8091 (from scripts/bench)."""

from __future__ import annotations

import os
import time
from typing import List, Union

import l2core
from fastapi import FastAPI
from pydantic import BaseModel

MODEL = l2core.Model.load(os.environ["L2_MODEL"])
THRESHOLD = MODEL.threshold
app = FastAPI()


class ModerationRequest(BaseModel):
    input: Union[str, List[str]]
    model: str | None = None


@app.post("/v1/moderations")
def moderations(req: ModerationRequest):
    texts = [req.input] if isinstance(req.input, str) else req.input
    scores = [float(s) for s in MODEL.score(texts)]
    return {
        "id": f"modr-{time.monotonic_ns():x}",
        "model": "l2",
        "results": [
            {"flagged": s >= THRESHOLD, "categories": {"malicious": s >= THRESHOLD}, "category_scores": {"malicious": s}}
            for s in scores
        ],
    }
