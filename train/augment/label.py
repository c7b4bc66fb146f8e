"""Stage 3: the teacher scores every instruction alone and every (instruction, response) pair.

Each clean instruction becomes a prompt-only row; each one with a response also becomes a pair
row. `teacher_score` is the teacher's P(harmful) for that row, the only supervision it gets
(KL in distillation); `label` stays None: no human labelled the row, and a thresholded teacher
score as a hard label would turn the teacher's mistakes into cross-entropy targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from train.augment.generate import Instruction
from train.data.records import Record
from train.teacher import Teacher

SOURCE = "harmaug"


def default_teacher_spec(pipeline_config: Path | None, work_dir: Path | None = None) -> str:
    """The pipeline run's teacher (its int8 ONNX export if that run scores with it)."""
    from train.config import load_config
    from train.stages.paths import WorkPaths
    from train.stages.teacher import teacher_spec

    cfg = load_config(pipeline_config)
    return teacher_spec(cfg, WorkPaths(Path(work_dir or cfg.work_dir)), None)


def label_instructions(
    teacher: Teacher,
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
