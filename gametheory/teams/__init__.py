"""Two-team zero-sum games: a team of players against one adversary.

* games: :func:`team_game` (any spec), :func:`normal_form_team_game` (payoff tensor),
  :func:`openspiel_team_game` (e.g. ``"kuhn_poker(players=3)"``), and the reference games
  :func:`heterogeneous_team_game` (value 0; teammates must act differently) and
  :func:`matching_bits_team_game` (value 0.5);
* exact TMECor: :func:`solve_tmecor` (column generation), :func:`tmecor_gap`, exact best
  responses, and direct LPs for checks (:func:`solve_joint_plan_lp`,
  :func:`solve_semi_randomized_lp`);
* :func:`team_psro`: Team-PSRO (``variant="team"``, optional ``shared=True``) and H-PSRO
  (``variant="h-psro"``) with exact meta-games, exact gaps and checkpoint/resume.

Names are imported on first use, so that ``gametheory.commands.tmecor`` (loaded when the
command-line parser is built) does not load the solvers.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "TeamGame": "sequence_form",
    "TeamMixture": "sequence_form",
    "normal_form_team_game": "normal_form",
    "heterogeneous_team_game": "normal_form",
    "matching_bits_team_game": "normal_form",
    "openspiel_team_game": "extensive_form",
    "team_game": "loading",
    "TEAM_GAMES": "loading",
    "adversary_best_response": "best_response",
    "team_best_response": "best_response",
    "sequential_best_response": "best_response",
    "TMECorSolution": "tmecor",
    "solve_tmecor": "tmecor",
    "tmecor_gap": "tmecor",
    "solve_joint_plan_lp": "direct_lp",
    "solve_semi_randomized_lp": "direct_lp",
    "TeamPSROResult": "psro",
    "team_psro": "psro",
    "VARIANTS": "psro",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'gametheory.teams' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
