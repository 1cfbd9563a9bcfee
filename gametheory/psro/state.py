"""The state of a PSRO run (everything a resumed run needs) and the result read-outs."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .games import EXTENSIVE_FORM, PSROGame

__all__ = ["PSROState", "PSROResult"]


@dataclasses.dataclass
class PSROState:
    """Populations, meta-game, meta-strategies, traces and the PRNG key after ``iteration``
    expansions. A symmetric run keeps one population shared by both players.

    Attributes:
      iteration: number of population expansions done (0: only the initial population).
      strategies: per population ``[k, n]`` stacked strategies (mixed strategies or
        realization plans) of its members.
      params: per population, per member, the member's parameters (tuple of arrays) or ``None``.
      meta_game: ``[k0, k1]`` exact payoffs of the row population against the column one.
      meta_strategies: ``(sigma_row, sigma_col)``, the meta-solver's output on ``meta_game``.
      last: per population, the index of the last best response added (``None`` before any).
      key: the PRNG key (``uint32 [2]``) to use for the next expansion.
      exploitability: per iteration ``0..iteration``, NashConv / 2 of the meta-mixture in the
        full game.
      seconds: per iteration, wall time since the start of the run (checkpoint writing
        excluded; a resumed run continues the clock).
      oracle_gap: per iteration, the largest shortfall of a new member's payoff from the exact
        best-response payoff against its target (0 for the exact oracle; 0 at iteration 0).
      sizes: per iteration, the population sizes ``[k0, k1]``.
      stop: ``"tolerance"`` (exploitability <= tol) or ``"fixpoint"`` (an exact oracle's new
        best responses were all in the population already) once the run has ended for good;
        ``None`` otherwise (also when it only ran out of iterations, so that a resumed run
        with more iterations continues).
    """

    iteration: int
    strategies: list
    params: list
    meta_game: np.ndarray
    meta_strategies: tuple
    last: list
    key: np.ndarray
    exploitability: list
    seconds: list
    oracle_gap: list
    sizes: list
    stop: str | None = None


@dataclasses.dataclass
class PSROResult:
    """A finished (or loaded) run: the game, its configuration and final state."""

    game: PSROGame
    config: dict
    state: PSROState

    @property
    def symmetric(self) -> bool:
        return bool(self.config["symmetric"])

    @property
    def exploitability(self) -> np.ndarray:
        """``[T + 1]`` NashConv / 2 of the meta-mixture after each of ``T`` expansions."""
        return np.asarray(self.state.exploitability)

    @property
    def nash_conv(self) -> np.ndarray:
        """``[T + 1]`` NashConv (= 2 x exploitability)."""
        return 2.0 * self.exploitability

    @property
    def seconds(self) -> np.ndarray:
        return np.asarray(self.state.seconds)

    @property
    def iterations(self) -> int:
        return self.state.iteration

    @property
    def meta_game(self) -> np.ndarray:
        return self.state.meta_game

    @property
    def meta_strategies(self) -> tuple:
        return self.state.meta_strategies

    def population(self, player: int) -> np.ndarray:
        """``[k, n]`` strategies of ``player``'s population (shared in a symmetric run)."""
        return self.state.strategies[0 if self.symmetric else player]

    def mixture(self) -> tuple[np.ndarray, np.ndarray]:
        """The meta-mixture as one strategy per player: ``sigma_p @ X_p`` (mixed strategies,
        or realization plans, which mix linearly)."""
        return tuple(np.asarray(s) @ self.population(p)
                     for p, s in enumerate(self.state.meta_strategies))

    def policy_dict(self) -> list:
        """Extensive form: ``[{info state: {action: probability}}]`` of the meta-mixture's
        behavioural policy, per player (JSON-ready)."""
        from ..efg.policies import plans_to_policy_dict

        self._require_efg()
        return plans_to_policy_dict(self.game.game, self.mixture())

    def tabular_policy(self, openspiel_game: Any = None):
        """Extensive form: the meta-mixture as an OpenSpiel ``TabularPolicy`` (both players);
        at every infoset it plays the mixture's behavioural policy, so OpenSpiel's
        ``exploitability`` of it equals ``self.exploitability[-1]``."""
        from ..efg.policies import plans_to_tabular_policy

        self._require_efg()
        return plans_to_tabular_policy(self.game.game, self.mixture(), openspiel_game)

    def _require_efg(self):
        if self.game.kind != EXTENSIVE_FORM:
            raise ValueError("OpenSpiel policies exist for extensive-form (OpenSpiel) games; "
                             "for a normal-form game use mixture().")
