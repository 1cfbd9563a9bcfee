"""Judges: preferences ``P(a > b | prompt)`` and win rates from them.

* :mod:`~llm_adapter.judges.oracles`: the oracle protocol, pointwise scorers (a response scored
  once, ``K`` rows per prompt), ``K x K`` matrices and win-rate estimates;
* :mod:`~llm_adapter.judges.adapters`: what ``judge=`` accepts (an oracle, a pairwise judge, a
  TRL-style judge, a reward model read through its own tokenizer and template).
"""

from . import adapters, oracles
from .adapters import PairwiseJudge, RewardModelOracle, as_oracle
from .oracles import (
    BradleyTerryOracle,
    LLMJudge,
    MatrixOracle,
    estimate_win_rates,
    is_pointwise,
    preference_matrix,
    score_groups,
    win_rates_from_scores,
)

__all__ = ["adapters", "oracles", "PairwiseJudge", "RewardModelOracle", "as_oracle",
           "BradleyTerryOracle", "LLMJudge", "MatrixOracle", "estimate_win_rates",
           "is_pointwise", "preference_matrix", "score_groups", "win_rates_from_scores"]
