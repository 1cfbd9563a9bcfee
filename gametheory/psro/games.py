"""The full game as PSRO sees it: a bilinear zero-sum game ``x^T A y`` over two strategy sets.

Both kinds of two-player zero-sum game the project knows fit one view:

* **normal form** (:class:`~gametheory.games.MatrixGame`): ``x``, ``y`` are mixed strategies,
  ``A`` the payoff matrix (``P - 1/2`` for a preference game);
* **extensive form** (:class:`~gametheory.efg.SequenceFormGame`): ``x``, ``y`` are realization
  plans and ``A`` the sparse sequence-form payoff (Koller, Megiddo & von Stengel 1996).

In both, the payoff of a pair of *mixtures* of population members is bilinear: a meta-strategy
``sigma`` over members ``X [k, n]`` plays the strategy ``sigma @ X`` (realization plans mix
linearly, so this holds in the sequence form too). Hence every meta-game entry and the
exploitability of every meta-mixture are exact, with no sampling.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp

from ..efg.metrics import best_responses as _best_responses
from ..efg.metrics import nash_conv as _nash_conv
from ..efg.policies import uniform_plans as _uniform_plans
from ..games import files as game_files
from ..games import zoo
from ..games.normal_form import MatrixGame, NPlayerGame, matrix_game

__all__ = ["PSROGame", "as_psro_game", "NORMAL_FORM", "EXTENSIVE_FORM"]

NORMAL_FORM = "normal_form"
EXTENSIVE_FORM = "extensive_form"


@dataclasses.dataclass(frozen=True, eq=False)
class PSROGame:
    """A two-player zero-sum game in bilinear form (build it with :func:`as_psro_game`).

    Attributes:
      game: the underlying :class:`~gametheory.games.MatrixGame` or
        :class:`~gametheory.efg.SequenceFormGame`.
      kind: ``"normal_form"`` or ``"extensive_form"``.
      payoff: ``A`` as a float64 ``scipy.sparse`` CSR matrix (row player's payoff).
      symmetric: whether both players share one strategy set and ``A = -A^T`` (then PSRO may
        keep a single population; see :func:`gametheory.psro.run_psro`).
      spec: the text the game was built from, when it was built from text (used to rebuild it
        when a checkpoint is loaded), else ``None``.
    """

    game: Any
    kind: str
    payoff: sp.csr_matrix
    symmetric: bool
    spec: str | None = None
    _uniform: dict = dataclasses.field(default_factory=dict, repr=False)

    @property
    def sizes(self) -> tuple[int, int]:
        """Length of each player's strategy vector (actions, or sequences)."""
        return tuple(int(s) for s in self.payoff.shape)

    @property
    def name(self) -> str:
        return self.spec or getattr(self.game, "name", self.kind)

    # --- payoffs -------------------------------------------------------------------------
    def payoff_block(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``rows @ A @ cols^T``: the meta-game block between stacked strategies ``[k, n]``."""
        rows = np.atleast_2d(np.asarray(rows, np.float64))
        cols = np.atleast_2d(np.asarray(cols, np.float64))
        return np.asarray(self.payoff.T @ rows.T).T @ cols.T

    def utility(self, player: int, opponent: np.ndarray) -> np.ndarray:
        """Player ``player``'s payoff per own action/sequence against the opponent's strategy:
        ``A y`` for player 0 and ``-A^T x`` for player 1 (a linear objective)."""
        opponent = np.asarray(opponent, np.float64)
        if player == 0:
            return np.asarray(self.payoff @ opponent)
        return -np.asarray(self.payoff.T @ opponent)

    # --- strategies ----------------------------------------------------------------------
    def uniform(self, player: int) -> np.ndarray:
        """The uniform strategy (uniform behavioural policy's realization plan in the EFG)."""
        if player not in self._uniform:
            if self.kind == NORMAL_FORM:
                n = self.sizes[player]
                self._uniform[player] = np.full(n, 1.0 / n)
            else:
                plans = _efg_uniform_plans(self.game)
                self._uniform.update({p: np.asarray(plans[p], np.float64) for p in (0, 1)})
        return self._uniform[player].copy()

    def pure(self, player: int, index: int) -> np.ndarray:
        """Pure strategy ``index`` of a normal-form game (one-hot vector)."""
        if self.kind != NORMAL_FORM:
            raise ValueError(
                "a pure strategy index selects an action of a normal-form game; for an "
                "extensive-form game pass realization plans as initial strategies."
            )
        n = self.sizes[player]
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not (
                0 <= index < n):
            raise ValueError(f"initial strategy index must be an integer in [0, {n}); got "
                             f"{index!r}.")
        out = np.zeros(n)
        out[int(index)] = 1.0
        return out

    def check_strategy(self, player: int, strategy, what: str = "strategy") -> np.ndarray:
        """Validate a mixed strategy / realization plan of ``player`` (ValueError otherwise)."""
        x = np.asarray(strategy, np.float64)
        n = self.sizes[player]
        if x.shape != (n,):
            raise ValueError(f"{what} of player {player} has shape {x.shape}; expected ({n},).")
        if not np.all(np.isfinite(x)) or np.any(x < -1e-9):
            raise ValueError(f"{what} of player {player} has negative or non-finite entries.")
        if self.kind == NORMAL_FORM:
            if abs(x.sum() - 1.0) > 1e-6:
                raise ValueError(
                    f"{what} of player {player} sums to {x.sum():.6g}, not 1; normalise it.")
        else:
            from ..efg.policies import check_plans

            plans = [self.uniform(0), self.uniform(1)]
            plans[player] = x
            try:
                check_plans(self.game, plans)
            except ValueError as err:
                raise ValueError(f"{what}: {err}") from None
        return np.clip(x, 0.0, None)

    # --- best responses and exploitability -----------------------------------------------
    def best_response(self, player: int, opponent: np.ndarray) -> np.ndarray:
        """A pure best response of ``player`` to the opponent's strategy (ties: lowest index /
        lowest action slot), as a one-hot vector or a pure realization plan."""
        if self.kind == NORMAL_FORM:
            q = self.utility(player, opponent)
            out = np.zeros_like(q)
            out[int(np.argmax(q))] = 1.0
            return out
        plans = [self.uniform(0), self.uniform(1)]
        plans[1 - player] = np.asarray(opponent, np.float64)
        return np.asarray(_efg_best_responses(self.game, tuple(plans))[player], np.float64)

    def nash_conv(self, x: np.ndarray, y: np.ndarray) -> float:
        """``max_x' x'^T A y - min_y' x^T A y'`` (the sum of both best-response gains)."""
        if self.kind == NORMAL_FORM:
            return float(np.max(self.utility(0, y)) + np.max(self.utility(1, x)))
        plans = (jnp.asarray(x), jnp.asarray(y))
        return float(_efg_nash_conv(self.game, plans))

    def exploitability(self, x: np.ndarray, y: np.ndarray) -> float:
        """NashConv / 2, the number ``pyspiel.exploitability`` returns."""
        return 0.5 * self.nash_conv(x, y)


_efg_best_responses = jax.jit(_best_responses)
_efg_uniform_plans = jax.jit(_uniform_plans)
_efg_nash_conv = jax.jit(_nash_conv)


def _sparse(matrix) -> sp.csr_matrix:
    return sp.csr_matrix(np.asarray(matrix, np.float64))


def _from_matrix_game(game: MatrixGame, spec) -> PSROGame:
    a = np.asarray(game.matrix, np.float64)
    if a.ndim != 2:
        raise ValueError(f"PSRO needs one payoff matrix; got payoffs of shape {a.shape} "
                         "(a batch of games?). Run PSRO on one game at a time.")
    symmetric = a.shape[0] == a.shape[1] and np.allclose(a, -a.T, rtol=0.0, atol=1e-12)
    return PSROGame(game, NORMAL_FORM, _sparse(a), bool(symmetric), spec)


def _from_sequence_form(game, spec) -> PSROGame:
    s0, s1 = game.num_sequences
    a = sp.csr_matrix(
        (np.asarray(game.payoff_values, np.float64),
         (np.asarray(game.payoff_rows), np.asarray(game.payoff_cols))), shape=(s0, s1))
    return PSROGame(game, EXTENSIVE_FORM, a, False, spec)


def _from_nplayer(game: NPlayerGame, spec) -> PSROGame:
    payoffs = np.asarray(game.payoffs, np.float64)
    if game.num_players != 2:
        raise ValueError(
            f"two-player PSRO needs a two-player zero-sum game; {game.name!r} has "
            f"{game.num_players} players. For two teams use --variant team or h-psro."
        )
    if not np.allclose(payoffs[0] + payoffs[1], 0.0, atol=1e-9):
        raise ValueError(
            f"two-player PSRO needs a zero-sum game; {game.name!r} is general-sum "
            "(payoffs[0] + payoffs[1] != 0). Its meta-Nash and exploitability are only defined "
            "here for zero-sum games."
        )
    return _from_matrix_game(matrix_game(payoffs[0], name=game.name), spec)


def _from_text(spec: str) -> PSROGame:
    if Path(spec).suffix in game_files.SUFFIXES:
        return as_psro_game(game_files.load_game_file(spec), _spec=spec)
    head = spec.split(":")[0]
    if any(head == name.split(":")[0] for name, _ in zoo.describe()):
        return as_psro_game(zoo.make(spec), _spec=spec)
    from ..efg import sequence_form_game

    try:
        import pyspiel
    except ImportError as err:  # pragma: no cover - open-spiel is an install extra
        raise ValueError(f"unknown game {spec!r}: not in the zoo, and OpenSpiel games need "
                         "the 'openspiel' extra.") from err
    if spec.split("(")[0].strip() not in pyspiel.registered_names():
        raise ValueError(
            f"unknown game {spec!r}: neither a zoo game (`gametheory games`), a .npy/.csv/.npz "
            "file, nor an OpenSpiel game name."
        )
    try:
        game = pyspiel.load_game(spec)
    except pyspiel.SpielError as err:
        raise ValueError(f"OpenSpiel cannot load game {spec!r}: {err}") from None
    if game.num_players() != 2:
        raise ValueError(
            f"two-player PSRO needs a two-player zero-sum game; {spec!r} has "
            f"{game.num_players()} players. For two teams use --variant team or h-psro."
        )
    return _from_sequence_form(sequence_form_game(spec), spec)


def as_psro_game(game, _spec: str | None = None) -> PSROGame:
    """Wrap a two-player zero-sum game for PSRO.

    Accepts a :class:`~gametheory.games.MatrixGame` / ``PreferenceGame``, a two-player
    zero-sum :class:`~gametheory.games.NPlayerGame`, a :class:`~gametheory.efg.SequenceFormGame`,
    a raw ``[m, n]`` payoff matrix, a :class:`PSROGame`, or text: a zoo name (``rps``,
    ``spinning_top:10_3_blotto``), a ``.npy``/``.csv``/``.npz`` file or an OpenSpiel game string
    (``kuhn_poker``).

    Raises ``ValueError`` for general-sum games, games with more than two players and
    anything else it cannot read.
    """
    if isinstance(game, PSROGame):
        return game
    if isinstance(game, str):
        return _from_text(game)
    if isinstance(game, MatrixGame):
        return _from_matrix_game(game, _spec)
    if isinstance(game, NPlayerGame):
        return _from_nplayer(game, _spec)
    from ..efg.sequence_form import SequenceFormGame

    if isinstance(game, SequenceFormGame):
        return _from_sequence_form(game, _spec or (game.info.game_string if game.info else None))
    if isinstance(game, (np.ndarray, list, tuple)):
        return _from_matrix_game(matrix_game(game), _spec)
    raise ValueError(
        f"PSRO cannot use a {type(game).__name__}; pass a MatrixGame, a two-player zero-sum "
        "NPlayerGame, a SequenceFormGame, a payoff matrix or a game name."
    )
