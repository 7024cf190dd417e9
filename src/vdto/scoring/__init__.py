"""Violence scoring: the published rubric, attribution uncertainty, ranking and the target rule.

Examples
--------
>>> from vdto.scoring import Rubric
>>> Rubric.default().name
'default-v1'
"""

from vdto.scoring.rubric import Rubric, load_rubric, rubric_diff

__all__ = ["Rubric", "load_rubric", "rubric_diff"]

from vdto.scoring.decision import TargetDecision, decide, margins, robustness, what_if
from vdto.scoring.engine import ScoreResult, score, score_frames

__all__ += [
    "ScoreResult",
    "TargetDecision",
    "decide",
    "margins",
    "robustness",
    "score",
    "score_frames",
    "what_if",
]
