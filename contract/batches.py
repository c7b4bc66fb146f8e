"""A batch of encoded pairs as model input: which id pads, and padding to the longest member.

Serving (`service.engine`), the artifact scorer of the evaluation and the training model all
pad the same way, so a model sees the same input for the same pair in each of them. The pad id
matters beyond the attention mask: RoBERTa/MPNet-style models derive position ids from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from contract.pairs import EncodedPair


def pad_id_of(tokenizer: Tokenizer) -> int:
    """The tokenizer's own padding id if it sets one, else its [PAD] or <pad> token, else 0."""
    padding = tokenizer.padding
    if padding:
        return int(padding["pad_id"])
    for token in ("[PAD]", "<pad>"):
        found = tokenizer.token_to_id(token)
        if found is not None:
            return int(found)
    return 0


def pad_batch(
    batch: Sequence[EncodedPair], input_names: Sequence[str], pad_id: int
) -> dict[str, npt.NDArray[np.int64]]:
    """The model's inputs named in `input_names`, each padded to the batch's longest member."""
    width = max(len(seq) for seq in batch)
    ids = np.full((len(batch), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    types = np.zeros((len(batch), width), dtype=np.int64)
    for row, seq in enumerate(batch):
        n = len(seq)
        ids[row, :n] = seq.input_ids
        mask[row, :n] = seq.attention_mask
        types[row, :n] = seq.token_type_ids
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    return {name: feed[name] for name in input_names}
