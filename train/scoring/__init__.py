"""Scorers: anything that scores (prompt, response) pairs with P(harmful).

Teachers and students alike: a Hugging Face classifier folder, a contract artifact through
ONNX Runtime, a Llama-Guard-style causal LM. `load_teacher(spec)` picks the backend from a
teacher spec and `load_scorer(path)` from a model folder; both put it behind an on-disk cache
keyed by (scorer id, prompt, response), so re-runs never rescore a pair.
"""

from train.scoring.cache import CachedScorer, ScoreCache
from train.scoring.factory import load_scorer, load_teacher
from train.scoring.scorer import Scorer

__all__ = ["CachedScorer", "ScoreCache", "Scorer", "load_scorer", "load_teacher"]
