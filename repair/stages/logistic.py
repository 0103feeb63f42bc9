"""A fitted logistic model over named signs: the one shape of every fitted number the stages read.

The weights are fitted offline with scikit-learn (``benchmarks/detector_fit.py``,
``benchmarks/decision_fit.py``) and live in ``repair/data/``; applying them needs no library.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

# log-odds beyond which exp() would overflow: a probability this sure is 0 or 1 to the last digit anyway
MAX_LOG_ODDS = 40.0


@dataclass(frozen=True)
class Logistic:
    """log-odds = ``bias`` + the sum of each sign times its weight (a sign it has no weight for weighs nothing).

    ``min_prior`` is where a detector keeps what it scores (a unit with no sign of damage is not worth
    the model's time); a model that only scores leaves it 0.
    """

    bias: float
    weights: Mapping[str, float]
    min_prior: float = 0.0

    def weigh(self, feats: Mapping[str, float]) -> dict[str, float]:
        """Log-odds contributions of the signs present: the bias, then each feature times its weight.

        >>> Logistic(-1.0, {"a": 0.5, "c": 1.0}, 0.5).weigh({"a": 1.0, "b": 0.0, "c": 2.0})
        {'base': -1.0, 'a': 0.5, 'c': 2.0}
        """
        return {"base": self.bias} | {n: self.weights.get(n, 0.0) * v for n, v in feats.items() if v}

    def probability(self, feats: Mapping[str, float]) -> float:
        """The model's probability for these signs.

        >>> Logistic(0.0, {"a": math.log(3)}).probability({"a": 1.0})
        0.75
        """
        return squash(sum(self.weigh(feats).values()))


def squash(log_odds: float) -> float:
    """The probability of these log-odds.

    >>> squash(0.0)
    0.5
    """
    return 1.0 / (1.0 + math.exp(-max(-MAX_LOG_ODDS, min(MAX_LOG_ODDS, log_odds))))
