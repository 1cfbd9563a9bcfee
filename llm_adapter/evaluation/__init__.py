"""Evaluation of a run as the games are evaluated: checkpoints as a population meta-game.

A run's checkpoints (or several runs') play each other on held-out prompts; the matrix of win
rates ``P[i, j] = P(pi_i > pi_j)`` is a symmetric zero-sum meta-game (payoff ``P - 1/2``) that the
core solves exactly (:func:`gametheory.lp.solve_zero_sum`). Each checkpoint's *exploitability
within the population*, ``max_j P[j, i] - 1/2`` (NashConv / 2), then tells a run whose last
iterate converges (it falls towards 0) from one that cycles (an earlier checkpoint keeps beating
the current one), as last- and average-iterate exploitability do on games.

* :mod:`~llm_adapter.evaluation.policies`: members' responses (seeded samples of a model or a
  checkpoint folder; the toy LM's exact distribution);
* :mod:`~llm_adapter.evaluation.population`: :class:`Population`, the judged win-rate matrix
  with per-prompt standard errors, cached on disk (adding a checkpoint judges one new row);
* :mod:`~llm_adapter.evaluation.metagame`: the Nash, exploitabilities, last vs uniform
  average, the duality gap, bootstrap intervals over prompts;
* :mod:`~llm_adapter.evaluation.report`: ``population.json``, ``report.md`` and the figures;
* :mod:`~llm_adapter.evaluation.callback`: :class:`PopulationCallback`, the same during
  training (logged every ``eval_steps``);
* :mod:`~llm_adapter.evaluation.command`: ``python -m llm_adapter population CKPT ...``.

Importing this package imports neither JAX nor matplotlib (the LP and the plots load when used).
"""

from . import callback, command, metagame, policies, population, report
from .callback import PopulationCallback
from .metagame import (
    Estimate,
    PopulationReport,
    RunSummary,
    analyse,
    exploitability_within,
    population_nash,
)
from .policies import load_checkpoint, sample_responses, toy_responses, toy_samples
from .population import Member, Population, WinRates
from .report import plot_exploitability, plot_last_vs_average, plot_win_rates, write_report

__all__ = ["callback", "command", "metagame", "policies", "population", "report",
           "PopulationCallback", "Estimate", "PopulationReport", "RunSummary", "analyse",
           "exploitability_within", "population_nash", "load_checkpoint", "sample_responses",
           "toy_responses", "toy_samples", "Member", "Population", "WinRates",
           "plot_exploitability", "plot_last_vs_average", "plot_win_rates", "write_report"]
