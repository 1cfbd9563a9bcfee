"""Two-team zero-sum games: a team of players against one adversary.

* games: :func:`team_game` (any spec), :func:`normal_form_team_game` (payoff tensor),
  :func:`openspiel_team_game` (e.g. ``"kuhn_poker(players=3)"``), and the reference games
  :func:`heterogeneous_team_game` (value 0; teammates must act differently) and
  :func:`matching_bits_team_game` (value 0.5);
* exact TMECor: :func:`solve_tmecor` (column generation), :func:`tmecor_gap`, exact best
  responses, and direct LPs for checks (:mod:`gametheory.teams.direct_lp`);
* :func:`team_psro`: Team-PSRO (``variant="team"``, optional ``shared=True``) and H-PSRO
  (``variant="h-psro"``) with exact meta-games, exact gaps and checkpoint/resume.
"""

from .best_response import (
    adversary_best_response,
    sequential_best_response,
    team_best_response,
)
from .direct_lp import solve_joint_plan_lp, solve_semi_randomized_lp
from .extensive_form import openspiel_team_game
from .loading import TEAM_GAMES, team_game
from .normal_form import heterogeneous_team_game, matching_bits_team_game, normal_form_team_game
from .team_game import TeamGame, TeamMixture
from .team_psro import VARIANTS, TeamPSROResult, team_psro
from .tmecor import TMECorSolution, solve_tmecor, tmecor_gap

__all__ = [
    "TEAM_GAMES",
    "VARIANTS",
    "TeamGame",
    "TeamMixture",
    "TeamPSROResult",
    "TMECorSolution",
    "adversary_best_response",
    "heterogeneous_team_game",
    "matching_bits_team_game",
    "normal_form_team_game",
    "openspiel_team_game",
    "sequential_best_response",
    "solve_joint_plan_lp",
    "solve_semi_randomized_lp",
    "solve_tmecor",
    "team_best_response",
    "team_game",
    "team_psro",
    "tmecor_gap",
]
