"""What `train/` writes and `service/` reads: the artifact layout, the pair format, the labels.

Both sides import from here so the model is never fed text in a format it was not trained on.
`contract.categories` names the hazards and their OpenAI mapping; `contract.thresholds` says
which decision threshold judges an input (a prompt alone or a pair with a response);
`contract.llamaguard` is the Llama Guard 3 prompt, shared by the teacher and the load test.
This package needs only the standard library, numpy, pydantic and `tokenizers`.
"""

from contract.artifact import (
    ARTIFACT_SCHEMA_VERSION,
    MANIFEST_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    Artifact,
    ArtifactError,
    Manifest,
    load_artifact,
    sha256_file,
    write_manifest,
)
from contract.categories import (
    CATEGORY_CODES,
    CATEGORY_OUTPUT,
    LLAMA_GUARD_CATEGORIES,
    OPENAI_CATEGORIES,
    OPENAI_CATEGORY_MAP,
    category_probabilities,
    openai_flags,
    openai_scores,
)
from contract.labels import HARMFUL_INDEX, LABELS, harmful_probability
from contract.pairs import (
    DEFAULT_PAIR_LAYOUT,
    EncodedPair,
    Pair,
    PairLayout,
    encode_pair,
    encode_pairs,
    has_response,
    prepare_tokenizer,
)
from contract.thresholds import Thresholds

__all__ = [
    "ARTIFACT_SCHEMA_VERSION",
    "CATEGORY_CODES",
    "CATEGORY_OUTPUT",
    "DEFAULT_PAIR_LAYOUT",
    "HARMFUL_INDEX",
    "LABELS",
    "LLAMA_GUARD_CATEGORIES",
    "MANIFEST_FILE",
    "MODEL_FILE",
    "OPENAI_CATEGORIES",
    "OPENAI_CATEGORY_MAP",
    "TOKENIZER_FILE",
    "Artifact",
    "ArtifactError",
    "EncodedPair",
    "Manifest",
    "Pair",
    "PairLayout",
    "Thresholds",
    "category_probabilities",
    "encode_pair",
    "encode_pairs",
    "harmful_probability",
    "has_response",
    "load_artifact",
    "openai_flags",
    "openai_scores",
    "prepare_tokenizer",
    "sha256_file",
    "write_manifest",
]
