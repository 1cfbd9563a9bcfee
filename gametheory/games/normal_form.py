"""Normal-form games as JAX pytrees.

Three types share one small protocol used by every normal-form solver and metric:

* ``num_players`` and ``num_actions`` (static Python ints, from the array shapes);
* ``gradients(policies)`` -> one payoff-gradient vector per player, ``q_i[a]`` = expected payoff
  of player ``i`` playing ``a`` against the others' mixed strategies;
* ``values(policies)`` -> expected payoff of each player;
* ``nash_conv(policies)`` and ``exploitability(policies)``.

Policies are tuples of probability vectors (batch axes first are fine: every method broadcasts).

Build games with the validating constructors :func:`matrix_game`, :func:`nplayer_game` and
:func:`preference_game`; the dataclasses themselves do no checks so that JAX can rebuild them
from traced leaves under ``jit`` and ``vmap``.
"""

from __future__ import annotations

import dataclasses
import string
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = Any

__all__ = [
    "MatrixGame",
    "NPlayerGame",
    "PreferenceGame",
    "matrix_game",
    "nplayer_game",
    "preference_game",
    "stack_games",
]


def _nash_conv(gradients, policies) -> Array:
    """NashConv = sum_i [max_a q_i(a) - <pi_i, q_i>] (Lanctot et al. 2017, Sec. 3)."""
    return sum(
        jnp.max(q, axis=-1) - jnp.sum(p * q, axis=-1) for q, p in zip(gradients, policies)
    )


def half_range(payoffs, axes: int | None = None) -> Array:
    """Half the range of ``payoffs`` over the last ``axes`` axes (all if ``None``); 1 where the
    payoffs are constant (every profile is then an equilibrium and any step size is safe)."""
    payoffs = jnp.asarray(payoffs)
    axis = None if axes is None else tuple(range(payoffs.ndim - axes, payoffs.ndim))
    half = (jnp.max(payoffs, axis=axis) - jnp.min(payoffs, axis=axis)) / 2
    return jnp.where(half > 0, half, jnp.ones_like(half))


class _NormalFormGame:
    """Methods shared by the normal-form game dataclasses."""

    def values(self, policies) -> tuple:
        return tuple(jnp.sum(p * q, axis=-1) for p, q in zip(policies, self.gradients(policies)))

    def nash_conv(self, policies) -> Array:
        """Sum over players of the gain from a unilateral best response (>= 0, 0 at a Nash)."""
        return _nash_conv(self.gradients(policies), policies)

    def exploitability(self, policies) -> Array:
        """NashConv / num_players: for two-player zero-sum games this is OpenSpiel's
        ``exploitability`` (NashConv / 2), the average best-response gain; for general-sum games
        it is the same average, which is 0 exactly at a Nash equilibrium."""
        return self.nash_conv(policies) / self.num_players

    def uniform_policies(self) -> tuple:
        return tuple(jnp.full((n,), 1.0 / n) for n in self.num_actions)

    def payoff_scale(self) -> Array:
        """Half the payoff range, ``(max u - min u) / 2`` (largest over players): the unit in
        which solvers read their step sizes and temperatures
        (:mod:`gametheory.solvers.scale`)."""
        return self._payoff_scale()


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MatrixGame(_NormalFormGame):
    """Two-player zero-sum game: the row player maximises ``x^T A y``, the column player minimises.

    ``payoffs``: ``[m, n]`` row player's payoff matrix ``A``.
    """

    payoffs: Array
    name: str = dataclasses.field(default="matrix", metadata=dict(static=True))

    num_players = 2

    @property
    def num_actions(self) -> tuple[int, int]:
        return tuple(self.payoffs.shape[-2:])

    @property
    def matrix(self) -> Array:
        """The row player's payoff matrix ``A``."""
        return self.payoffs

    def gradients(self, policies) -> tuple:
        x, y = policies
        a = self.matrix
        # q_row = A y and q_col = -A^T x, written as (batched) matrix products rather than
        # einsum: XLA:CPU lowers these to faster dot kernels, notably under vmap (1024 stacked
        # 50x50 games: ~25% less time per step than the einsum form).
        q_row = jnp.matmul(a, y[..., None])[..., 0]
        q_col = -jnp.matmul(x[..., None, :], a)[..., 0, :]
        return q_row, q_col

    def _payoff_scale(self):
        return half_range(self.matrix, axes=2)

    def duality_gap(self, policies) -> Array:
        """``max_x' x'^T A y - min_y' x^T A y'``; equals NashConv for a zero-sum game."""
        return self.nash_conv(policies)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class PreferenceGame(MatrixGame):
    """Symmetric two-player zero-sum game of alignment with a general preference.

    ``payoffs`` holds ``P[a, b] = P(a > b)`` with ``P + P^T = 1``; player 1's payoff is
    ``pi1^T P pi2 - 1/2`` (Munos et al. 2024, eq. (1)), so the game is the matrix game
    ``A = P - 1/2``. A symmetric Nash ``pi*`` satisfies ``P(y > pi*) <= 1/2`` for every ``y``.
    """

    name: str = dataclasses.field(default="preference", metadata=dict(static=True))

    @property
    def matrix(self) -> Array:
        return self.payoffs - 0.5


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class NPlayerGame(_NormalFormGame):
    """General-sum n-player game given by a payoff tensor ``[n, A_1, ..., A_n]``.

    ``payoffs[i, a_1, ..., a_n]`` is player ``i``'s payoff for the joint action.
    """

    payoffs: Array
    name: str = dataclasses.field(default="nplayer", metadata=dict(static=True))

    @property
    def num_players(self) -> int:
        return self.payoffs.shape[0] if self.payoffs.ndim else 0

    @property
    def num_actions(self) -> tuple[int, ...]:
        return tuple(self.payoffs.shape[-self.num_players :])

    def _payoff_scale(self):
        n = self.num_players
        return jnp.max(jnp.stack([half_range(self.payoffs[i], axes=n) for i in range(n)]))

    def gradients(self, policies) -> tuple:
        n = self.num_players
        # Batch-free einsum per player: contract every opponent axis with its policy.
        letters = string.ascii_lowercase[:n]
        out = []
        for i in range(n):
            operands = [self.payoffs[i]]
            specs = ["..." + letters]
            for j in range(n):
                if j != i:
                    operands.append(policies[j])
                    specs.append("..." + letters[j])
            out.append(jnp.einsum(",".join(specs) + "->..." + letters[i], *operands))
        return tuple(out)


def _ragged_rows(value, path=()):
    """The first nested list whose items have different lengths: (index path, lengths)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        return None
    lengths = [len(v) if hasattr(v, "__len__") and not isinstance(v, (str, bytes)) else None
               for v in value]
    if len(set(lengths)) > 1:
        return path, lengths
    for i, v in enumerate(value):
        found = _ragged_rows(v, path + (i,))
        if found:
            return found
    return None


def _finite_array(value, what: str, ndim: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        ragged = _ragged_rows(value)
        if ragged is not None:
            where, lengths = ragged
            inside = f" inside index {list(where)}" if where else ""
            sizes = ", ".join(f"row {i}: {'a number' if n is None else n}"
                              for i, n in enumerate(lengths))
            raise ValueError(
                f"{what} has rows of different lengths{inside} ({sizes}); every row needs one "
                "payoff per column."
            ) from None
        raise ValueError(
            f"{what} must be an array of numbers; got {type(value).__name__} ({err})."
        ) from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{what} must be {ndim}-dimensional; got shape {arr.shape}.")
    if arr.size == 0 or 0 in arr.shape:
        raise ValueError(f"{what} is empty (shape {arr.shape}); every player needs >= 1 action.")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise ValueError(
            f"{what} has a non-finite entry at index {bad}; replace NaN/inf with finite payoffs."
        )
    return arr


def _to_jax(arr: np.ndarray, dtype):
    return jnp.asarray(arr, dtype=dtype or jnp.asarray(0.0).dtype)


def matrix_game(payoffs, name: str = "matrix", dtype=None) -> MatrixGame:
    """Validated two-player zero-sum game from the row player's ``[m, n]`` payoff matrix.

    A ``[2, m, n]`` tensor is accepted too if it is zero-sum (``payoffs[0] + payoffs[1] == 0``).
    """
    arr = _finite_array(payoffs, "payoff matrix")
    if arr.ndim == 3:
        arr = _finite_array(arr, "payoff tensor")
        if arr.shape[0] != 2:
            raise ValueError(
                f"a zero-sum matrix game has 2 players; got a tensor with {arr.shape[0]} "
                "payoff tables. Use nplayer_game for n-player games."
            )
        if not np.allclose(arr[0] + arr[1], 0.0, atol=1e-9):
            raise ValueError(
                "payoffs are not zero-sum (payoffs[0] + payoffs[1] != 0); use nplayer_game for "
                "general-sum games, or pass the row player's matrix alone."
            )
        arr = arr[0]
    arr = _finite_array(arr, "payoff matrix", ndim=2)
    return MatrixGame(_to_jax(arr, dtype), name=name)


def preference_game(preferences, name: str = "preference", dtype=None) -> PreferenceGame:
    """Validated preference game from ``P[a, b] = P(a > b)``.

    Needs ``P + P^T = 1`` and ``0 <= P <= 1``.
    """
    arr = _finite_array(preferences, "preference matrix", ndim=2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"preference matrix must be square; got shape {arr.shape}.")
    if np.any(arr < 0) or np.any(arr > 1):
        raise ValueError("preference probabilities must lie in [0, 1].")
    if not np.allclose(arr + arr.T, 1.0, atol=1e-9):
        i, j = np.argwhere(~np.isclose(arr + arr.T, 1.0, atol=1e-9))[0]
        raise ValueError(
            f"preference matrix must satisfy P + P^T = 1; P[{i},{j}] + P[{j},{i}] = "
            f"{arr[i, j] + arr[j, i]:.6g}. Set P[j, i] = 1 - P[i, j] (and 0.5 on the diagonal)."
        )
    return PreferenceGame(_to_jax(arr, dtype), name=name)


def nplayer_game(payoffs, name: str = "nplayer", dtype=None) -> NPlayerGame:
    """Validated general-sum game from a payoff tensor ``[n, A_1, ..., A_n]``."""
    arr = _finite_array(payoffs, "payoff tensor")
    if arr.ndim < 2 or arr.shape[0] != arr.ndim - 1:
        raise ValueError(
            "payoff tensor must have shape [n_players, A_1, ..., A_n] (one table per player); "
            f"got shape {arr.shape}."
        )
    return NPlayerGame(_to_jax(arr, dtype), name=name)


def stack_games(games):
    """Stack games of one type and shape into a batched game for ``jax.vmap`` (batch axis 0)."""
    games = list(games)
    if not games:
        raise ValueError("stack_games needs at least one game.")
    kinds = {(type(g).__name__, g.payoffs.shape) for g in games}
    if len(kinds) != 1:
        raise ValueError(f"all games must share type and shape to be batched; got {kinds}.")
    name = f"batch of {len(games)} x {games[0].name}"
    payoffs = jnp.stack([g.payoffs for g in games])
    return dataclasses.replace(games[0], payoffs=payoffs, name=name)
