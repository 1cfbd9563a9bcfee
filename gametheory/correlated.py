"""Correlated (CE) and coarse-correlated (CCE) equilibria of normal-form games.

A *correlated* profile is a distribution ``mu`` over joint actions ``[A_1, ..., A_n]``; product
profiles (independent policies) are the special case :func:`joint_distribution`. Two gaps measure
how far ``mu`` is from equilibrium; both are sums over players, like NashConv, and are 0 exactly
at an equilibrium:

* CCE gap (Hannan 1957; Moulin & Vial 1978): ``sum_i max(0, max_a' E_mu[u_i(a', a_-i) - u_i(a)])``,
  the gain of committing to one action before the recommendation. For a product profile it equals
  NashConv. The empirical distribution of play of no-regret learners (MWU, RM+) has as CCE gap
  the sum of the positive parts of their average external regrets, so it goes to 0.
* CE gap (Aumann 1974):
  ``sum_i sum_a max_a' sum_{a_-i} mu(a, a_-i) (u_i(a', a_-i) - u_i(a, a_-i))``, the gain of the
  best deviation map ``a -> a'`` (swap regret). CE gap >= CCE gap.

:func:`correlated_equilibrium` finds an exact CE or CCE by linear programming (scipy HiGHS),
maximising welfare by default; :func:`empirical_play` records the gaps of a solver's empirical
distribution of play. Every game is read as a payoff tensor ``[n, A_1, ..., A_n]``
(:func:`payoff_tensor`), so zero-sum matrix and preference games work too.
"""

from __future__ import annotations

import functools
import string
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

__all__ = [
    "CorrelatedSolution",
    "EmpiricalPlay",
    "payoff_tensor",
    "joint_distribution",
    "cce_gap",
    "ce_gap",
    "correlated_equilibrium",
    "empirical_play",
]


class CorrelatedSolution(NamedTuple):
    joint: np.ndarray  # [A_1, ..., A_n] distribution over joint actions
    payoffs: np.ndarray  # [n] expected payoff of each player under ``joint``
    welfare: float  # sum of ``payoffs``
    ce_gap: float  # CE gap of ``joint`` (round-off for a CE)
    cce_gap: float  # CCE gap of ``joint``


class EmpiricalPlay(NamedTuple):
    steps: Any  # [R] iteration count at each record
    cce_gap: Any  # [R] CCE gap of the empirical distribution of play so far
    ce_gap: Any  # [R] CE gap of the same distribution
    joint: Any  # [A_1, ..., A_n] empirical distribution of play after the last step


def payoff_tensor(game):
    """``[n, A_1, ..., A_n]`` payoffs of a normal-form game: a general-sum
    :class:`~gametheory.games.NPlayerGame` as is, a zero-sum matrix (or preference) game as
    ``[A, -A]``. Raises ``ValueError`` for anything else."""
    if hasattr(game, "treeplexes"):
        raise ValueError(
            "correlated equilibria here are for normal-form games; for an extensive-form game "
            "use gametheory.efg (Nash equilibria by solve_lp or a solver)."
        )
    matrix = getattr(game, "matrix", None)
    if matrix is not None:
        return jnp.stack([matrix, -matrix])
    payoffs = getattr(game, "payoffs", None)
    if payoffs is None or getattr(game, "num_players", None) is None:
        raise ValueError(
            f"expected a normal-form game (gametheory.games: matrix_game, nplayer_game, "
            f"preference_game); got {type(game).__name__}."
        )
    return payoffs


def joint_distribution(policies):
    """The product distribution ``[A_1, ..., A_n]`` of independent policies."""
    letters = string.ascii_lowercase[: len(policies)]
    return jnp.einsum(",".join(letters) + "->" + letters, *policies)


def _check_joint(tensor, joint):
    if joint.shape != tensor.shape[1:]:
        raise ValueError(
            f"joint distribution has shape {tuple(joint.shape)}; the game needs "
            f"{tuple(tensor.shape[1:])} (one axis per player)."
        )


def _deviation_gains(tensor, joint, player):
    """``G[a, a'] = sum_{a_-i} mu(a, a_-i) (u_i(a', a_-i) - u_i(a, a_-i))`` for one player."""
    u = jnp.moveaxis(tensor[player], player, 0)  # [A_i, rest...]
    mu = jnp.moveaxis(joint, player, 0)
    n = u.shape[0]
    u, mu = u.reshape(n, -1), mu.reshape(n, -1)
    # sum_r mu[a, r] u[a', r] - sum_r mu[a, r] u[a, r]
    return mu @ u.T - jnp.sum(mu * u, axis=1, keepdims=True)


def cce_gap(game, joint):
    """CCE gap of the joint distribution ``joint`` (see the module docstring); >= 0."""
    tensor = payoff_tensor(game)
    joint = jnp.asarray(joint, tensor.dtype)
    _check_joint(tensor, joint)
    return _gap(tensor, joint, "cce")


def ce_gap(game, joint):
    """CE gap of the joint distribution ``joint`` (see the module docstring); >= CCE gap."""
    tensor = payoff_tensor(game)
    joint = jnp.asarray(joint, tensor.dtype)
    _check_joint(tensor, joint)
    return _gap(tensor, joint, "ce")


def _incentive_rows(tensor: np.ndarray, kind: str):
    """Sparse rows ``G`` with ``G @ mu <= 0`` the (coarse) correlated incentive constraints."""
    shape = tensor.shape[1:]
    size = int(np.prod(shape))
    index = np.arange(size).reshape(shape)
    blocks = []
    for i, n in enumerate(shape):
        u = np.moveaxis(tensor[i], i, 0).reshape(n, -1)  # [A_i, rest]
        idx = np.moveaxis(index, i, 0).reshape(n, -1)
        if kind == "ce":  # one row per (a, a'), a' != a: variables mu(a, .)
            for a in range(n):
                for dev in range(n):
                    if dev != a:
                        blocks.append((idx[a], u[dev] - u[a]))
        else:  # one row per a': every variable mu(a, r) with gain u(a', r) - u(a, r)
            for dev in range(n):
                blocks.append((idx.ravel(), (u[dev][None, :] - u).ravel()))
    rows = np.concatenate([np.full(len(c), r) for r, (c, _) in enumerate(blocks)])
    cols = np.concatenate([c for c, _ in blocks])
    vals = np.concatenate([v for _, v in blocks])
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(blocks), size))


def correlated_equilibrium(game, kind: str = "ce", objective="welfare") -> CorrelatedSolution:
    """An exact correlated (``kind="ce"``) or coarse-correlated (``"cce"``) equilibrium by one
    linear program over the joint distribution (scipy ``linprog(method="highs")``).

    ``objective``: ``"welfare"`` (maximise the sum of payoffs, e.g. chicken's 10.5 of
    Papadimitriou & Roughgarden 2008, Sec. 1), ``"feasible"`` (any equilibrium), or a sequence
    of ``n`` player weights (maximise the weighted sum of payoffs).
    The LP has ``prod(A_i)`` variables, so it suits small games.
    """
    if kind not in ("ce", "cce"):
        raise ValueError(f"kind must be 'ce' or 'cce'; got {kind!r}.")
    tensor = np.asarray(payoff_tensor(game), np.float64)
    n = tensor.shape[0]
    if isinstance(objective, str):
        if objective not in ("welfare", "feasible"):
            raise ValueError(
                f"objective must be 'welfare', 'feasible' or {n} player weights; got "
                f"{objective!r}."
            )
        weights = np.ones(n) if objective == "welfare" else np.zeros(n)
    else:
        weights = np.asarray(objective, np.float64)
        if weights.shape != (n,) or not np.all(np.isfinite(weights)):
            raise ValueError(f"objective weights must be {n} finite numbers; got {objective!r}.")
    size = int(np.prod(tensor.shape[1:]))
    c = -np.tensordot(weights, tensor, axes=1).ravel()
    g = _incentive_rows(tensor, kind)
    res = linprog(c, A_ub=g, b_ub=np.zeros(g.shape[0]), A_eq=np.ones((1, size)), b_eq=[1.0],
                  bounds=(0.0, None), method="highs")
    if res.status != 0:  # a CE always exists (Hart & Schmeidler 1989)
        raise RuntimeError(f"HiGHS failed on the {kind.upper()} LP: {res.message}")
    joint = np.clip(res.x, 0.0, None)
    joint = (joint / joint.sum()).reshape(tensor.shape[1:])
    payoffs = np.tensordot(tensor, joint, axes=joint.ndim)
    return CorrelatedSolution(joint, payoffs, float(payoffs.sum()),
                              float(ce_gap(game, joint)), float(cce_gap(game, joint)))


def _gap(tensor, mu, kind):
    gains = [_deviation_gains(tensor, mu, i) for i in range(tensor.shape[0])]
    if kind == "cce":  # committing to a' may be worse than following mu: clip at 0
        return sum(jnp.maximum(jnp.max(jnp.sum(g, axis=0)), 0.0) for g in gains)
    return sum(jnp.sum(jnp.max(g, axis=1)) for g in gains)


@functools.partial(jax.jit, static_argnames=("solver", "every", "full", "rest"))
def _play(game, tensor, solver, every, full, rest, initial):
    def advance(carry, length):
        def one(carry, _):
            state, total, count = carry
            state = solver.update(game, state)
            total = total + joint_distribution(solver.policy(game, state))
            return (state, total, count + 1), None

        return jax.lax.scan(one, carry, None, length=length)[0]

    def record(carry):
        _, total, count = carry
        mu = total / count
        return count, _gap(tensor, mu, "cce"), _gap(tensor, mu, "ce")

    def chunk(carry, _):
        carry = advance(carry, every)
        return carry, record(carry)

    carry = (solver.init(game, initial), jnp.zeros(tensor.shape[1:], tensor.dtype),
             jnp.zeros((), jnp.int32))
    carry, records = jax.lax.scan(chunk, carry, None, length=full)
    if rest:
        carry = advance(carry, rest)
        records = jax.tree.map(lambda r, e: jnp.concatenate([r, e[None]]), records,
                               record(carry))
    return records, carry[1] / carry[2]


def empirical_play(game, solver, steps: int, record_every: int | None = None,
                   initial=None) -> EmpiricalPlay:
    """Run ``solver`` for ``steps`` updates and record the CCE and CE gaps of its empirical
    distribution of play ``mu_T = (1/T) sum_t pi_1^t x ... x pi_n^t`` (the iterates after each
    update, as the driver's average) every ``record_every`` steps (default ``steps // 20``).

    For a no-regret learner the CCE gap is the sum of the players' average external regrets, so
    it tends to 0 even where no iterate approaches a Nash equilibrium (e.g. MWU on Shapley's
    game). ``initial``: initial policies (validated), default uniform.
    """
    from .solvers.base import check_initial

    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}.")
    record_every = max(int(steps) // 20, 1) if record_every is None else record_every
    if not isinstance(record_every, (int, np.integer)) or record_every < 1:
        raise ValueError(f"record_every must be a positive integer; got {record_every!r}.")
    tensor = payoff_tensor(game)
    initial = check_initial(game, initial)
    every = min(int(record_every), int(steps))
    full, rest = divmod(int(steps), every)
    records, joint = _play(game, tensor, solver, every, full, rest, initial)
    return EmpiricalPlay(records[0], records[1], records[2], joint)
