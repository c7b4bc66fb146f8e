"""The plain baseline a user would write: FastAPI + a transformers text-classification pipeline.

Same JSON API as the service's `POST /moderate`, the same student (its PyTorch checkpoint), one
request at a time (a lock around the pipeline, as a sync route with one model would need), no
batching, no cache, no ONNX. Run it from an environment with torch and transformers:

    python -m loadtest.baseline_server --model DIR --port 8001
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from contract import HARMFUL_INDEX


class ModerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1)
    response: str | None = None


class ModerateResponse(BaseModel):
    harmful: bool
    score: float
    threshold: float
    model: str


def create_app(model_dir: Path, *, threshold: float = 0.5, max_length: int = 512) -> FastAPI:
    import torch
    from transformers import pipeline

    torch.set_grad_enabled(False)
    classifier: Any = pipeline("text-classification", model=str(model_dir), device="cpu")
    harmful_label = classifier.model.config.id2label[HARMFUL_INDEX]
    lock = threading.Lock()
    app = FastAPI(title="plain transformers baseline")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/moderate")
    def moderate(req: ModerateRequest) -> ModerateResponse:
        text: Any = req.prompt if req.response is None else {"text": req.prompt}
        if req.response is not None:
            text["text_pair"] = req.response
        with lock:
            scores = classifier(text, top_k=None, truncation=True, max_length=max_length)
        score = next(float(s["score"]) for s in scores if s["label"] == harmful_label)
        return ModerateResponse(
            harmful=score >= threshold, score=score, threshold=threshold, model=str(model_dir)
        )

    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="HF sequence-classification dir")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--max-length", type=int, default=512)
    args = parser.parse_args(argv)
    app = create_app(args.model, threshold=args.threshold, max_length=args.max_length)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
