"""HarmAug: synthetic harmful instructions from a jailbreak-prompted LLM, answered and labelled.

Stages (each resumable, each writing under one work dir): `generate` (instructions through the
chat template + affirmative prefix), `respond` (a second model call answers a share of them),
`label` (the teacher scores every pair and every instruction alone), `export` (compressed
JSONL + DATASHEET.md). `python -m train augment` runs them; see `train.stages.augment`.
"""
