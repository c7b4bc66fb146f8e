"""Stage 3: the teacher scores every instruction alone and every (instruction, response) pair.

Each clean instruction becomes a prompt-only row; each one with a response also becomes a pair
row. `teacher_score` is the teacher's P(harmful) for that row, the only supervision it gets
(KL in distillation); `label` stays None: no human labelled the row, and a thresholded teacher
score as a hard label would turn the teacher's mistakes into cross-entropy targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from train.augment.generate import Instruction
from train.data.records import Record
from train.scoring import Scorer

SOURCE = "harmaug"


def label_instructions(
    teacher: Scorer,
    instructions: Sequence[Instruction],
    responses: Mapping[str, str | None],
    *,
    source: str = SOURCE,
) -> list[Record]:
    prompt_scores = teacher.score([(ins.text, None) for ins in instructions])
    answered = [ins for ins in instructions if responses.get(ins.id)]
    pair_scores = teacher.score([(ins.text, responses[ins.id]) for ins in answered])
    rows = [
        Record(ins.text, None, None, source, teacher_score=s, variant=ins.variant)
        for ins, s in zip(instructions, prompt_scores, strict=True)
    ]
    rows += [
        Record(ins.text, responses[ins.id], None, source, teacher_score=s, variant=ins.variant)
        for ins, s in zip(answered, pair_scores, strict=True)
    ]
    return rows
