"""Teachers: anything that scores (prompt, response) pairs with P(harmful).

`load_teacher(spec)` picks the backend from the spec; every teacher is wrapped in an on-disk
cache keyed by (teacher id, prompt, response), so re-runs never rescore a pair.
"""

from train.teacher.base import CachedTeacher, ScoreCache, Teacher
from train.teacher.factory import load_teacher

__all__ = ["CachedTeacher", "ScoreCache", "Teacher", "load_teacher"]
