"""The PSRO loop (Lanctot et al. 2017, Alg. 1) over exact meta-games, with checkpoints.

One iteration: every player (one shared population in a symmetric game) gets a new policy from
the oracle against the opponents' meta-mixture, the meta-game grows by the new rows and
columns (exact bilinear payoffs), the meta-solver gives the new meta-strategies and the
meta-mixture's exploitability in the full game is recorded. The run stops after ``iterations``
expansions, when the exploitability reaches ``tol``, or at a fixpoint (an exact oracle's best
responses are all in the population already).

A variant is a choice of parts: ``run_psro(game, n, meta_solver=..., oracle=...,
init=...)``; ``variant="psro-rn"`` switches on the rectified Nash response (Balduzzi et al.
2019, Alg. 4; OpenSpiel ``psro_v2`` ``rectifier="rectified"``): one new policy per member
in the support of the meta-Nash, trained only against the opponents that member beats or
ties, weighted by their meta-Nash probabilities (against the whole meta-mixture when it beats
none). ``variant="fusion"`` is Fusion-PSRO (Lian et al. 2024): the gradient oracle started from
the meta-Nash-weighted average of the top support members' parameters.
"""

from __future__ import annotations

import sys
import time

import jax
import numpy as np

from .checkpoint import checkpoint_exists, load_checkpoint, save_checkpoint
from .games import PSROGame, as_psro_game
from .initializers import InitContext, Initializer, make_initializer
from .meta_solvers import make_meta_solver
from .oracles import Oracle, make_oracle
from .state import PSROResult, PSROState

__all__ = ["run_psro", "VARIANTS", "TWO_PLAYER_VARIANTS", "TEAM_VARIANTS"]

TWO_PLAYER_VARIANTS = ("psro", "psro-rn", "fusion")
TEAM_VARIANTS = ("team", "h-psro")
VARIANTS = TWO_PLAYER_VARIANTS + TEAM_VARIANTS

_SUPPORT = 1e-8  # meta-strategy probability above which a member is "in the support"
_DUPLICATE = 1e-12  # max abs difference under which two strategies are the same


def _parts(variant, meta_solver, oracle, init):
    if variant in TEAM_VARIANTS:
        raise ValueError(
            f"variant {variant!r} is a two-team variant; it runs on team games through "
            "gametheory.teams (command line: gametheory psro GAME --variant "
            f"{variant}), not through the two-player run_psro."
        )
    if variant not in TWO_PLAYER_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}.")
    if variant == "fusion":
        init_name = init.name if isinstance(init, Initializer) else init
        if init_name not in (None, "fusion"):
            raise ValueError(f"variant 'fusion' starts every best response with the fusion "
                             f"initialisation; got init={init_name!r}. Use variant 'psro' "
                             "with that initialisation instead.")
        init = "fusion" if init is None else init
        oracle = "gradient" if oracle is None else oracle
    oracle = make_oracle("exact" if oracle is None else oracle)
    init = make_initializer("scratch" if init is None else init)
    meta = make_meta_solver(meta_solver)
    return variant == "psro-rn", meta, oracle, init


def _check_args(iterations, tol, seed):
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or (
            iterations < 0):
        raise ValueError(f"iterations must be an integer >= 0; got {iterations!r}.")
    tol = float(tol)
    if not tol >= 0 or not np.isfinite(tol):
        raise ValueError(f"tol must be a finite number >= 0; got {tol!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer; got {seed!r}.")
    return int(iterations), tol, int(seed)


def _symmetric(space: PSROGame, symmetric) -> bool:
    if symmetric is None:
        return space.symmetric
    if symmetric and not space.symmetric:
        raise ValueError(
            f"{space.name} is not symmetric (it needs a square payoff matrix with A = -A^T); "
            "pass symmetric=False (or None) to keep one population per player."
        )
    return bool(symmetric)


def _config(space, variant, rectified, meta, oracle, init, symmetric, seed, tol) -> dict:
    return {
        "game": space.spec,
        "kind": space.kind,
        "variant": variant,
        "rectified": rectified,
        "symmetric": symmetric,
        "meta_solver": {"name": meta.name, **meta.config},
        "oracle": {"name": oracle.name, **oracle.config},
        "init": {"name": init.name, **init.config},
        "seed": seed,
        "tol": tol,
    }


def _initial_members(space: PSROGame, oracle: Oracle, initial, symmetric, key):
    """Per population ``(strategy, params)`` of its first member."""
    pops = (0,) if symmetric else (0, 1)
    if initial is None:
        out = []
        for p, k in zip(pops, jax.random.split(key, len(pops))):
            params = oracle.scratch(space, p, k)
            strategy = space.uniform(p) if params is None else oracle.play(space, p, params)
            out.append((strategy, params))
        return out
    if isinstance(initial, (int, np.integer)) and not isinstance(initial, bool):
        return [(space.pure(p, initial), None) for p in pops]
    if len(initial) != 2:
        raise ValueError("initial must be None (uniform / fresh parameters), a pure strategy "
                         "index, or a pair of strategies (one per player).")
    strategies = [space.check_strategy(p, s, "initial strategy") for p, s in enumerate(initial)]
    if symmetric and not np.array_equal(strategies[0], strategies[1]):
        raise ValueError("a symmetric run keeps one population: give the same initial "
                         "strategy to both players, or pass symmetric=False.")
    return [(strategies[p], None) for p in pops]


class _Run:
    """One run's fixed parts; ``state`` is advanced in place."""

    def __init__(self, space, meta, oracle, init, rectified, symmetric):
        self.space, self.meta, self.oracle, self.init = space, meta, oracle, init
        self.rectified, self.symmetric = rectified, symmetric

    def pop(self, player: int) -> int:
        return 0 if self.symmetric else player

    def solve_meta(self, state: PSROState) -> None:
        row, col = self.meta.solve(state.meta_game)
        state.meta_strategies = (row, row) if self.symmetric else (row, col)

    def mixture(self, state: PSROState) -> tuple:
        return tuple(np.asarray(s) @ state.strategies[self.pop(p)]
                     for p, s in enumerate(state.meta_strategies))

    def record(self, state: PSROState, seconds: float, gap: float) -> None:
        state.exploitability.append(self.space.exploitability(*self.mixture(state)))
        state.seconds.append(seconds)
        state.oracle_gap.append(gap)
        state.sizes.append([len(state.strategies[self.pop(p)]) for p in (0, 1)])

    def start(self, initial, seed: int, seconds) -> PSROState:
        key = jax.random.PRNGKey(seed)
        key, first = jax.random.split(key)
        members = _initial_members(self.space, self.oracle, initial, self.symmetric, first)
        strategies = [np.asarray(s, np.float64)[None] for s, _ in members]
        state = PSROState(
            iteration=0,
            strategies=strategies,
            params=[[p] for _, p in members],
            meta_game=self.space.payoff_block(strategies[0], strategies[self.pop(1)]),
            meta_strategies=(np.ones(1), np.ones(1)),
            last=[None] * len(members),
            key=np.asarray(key, np.uint32),
            exploitability=[], seconds=[], oracle_gap=[], sizes=[],
        )
        self.solve_meta(state)
        self.record(state, seconds(), 0.0)
        return state

    def targets(self, state: PSROState) -> list:
        """``(player, anchor member or None, opponent meta-weights)`` of every new policy."""
        m = state.meta_game
        jobs = []
        for p in ((0,) if self.symmetric else (0, 1)):
            sigma_opp = state.meta_strategies[1 - p]
            if not self.rectified:
                jobs.append((p, None, sigma_opp))
                continue
            own_payoff = m if p == 0 else -m.T
            for i in np.flatnonzero(state.meta_strategies[p] > _SUPPORT):
                # Rectified Nash response: only opponents member i beats or ties.
                w = sigma_opp * (own_payoff[i] >= -_DUPLICATE)
                w = sigma_opp if w.sum() <= _DUPLICATE else w / w.sum()
                jobs.append((p, int(i), w))
        return jobs

    def respond(self, state: PSROState, job, key) -> tuple:
        p, anchor, weights = job
        pop, opp = self.pop(p), self.pop(1 - p)
        opponent = np.asarray(weights) @ state.strategies[opp]
        init_key, oracle_key = jax.random.split(key)
        params = None
        if self.oracle.trains:
            ctx = InitContext(
                player=p, params=state.params[pop], meta_strategy=state.meta_strategies[p],
                last=state.last[pop], anchor=anchor,
                fresh=lambda k: self.oracle.scratch(self.space, p, k), key=init_key)
            params = self.init.init(ctx)
        strategy, params = self.oracle.respond(self.space, p, opponent, params, oracle_key)
        gap = 0.0
        if self.oracle.trains:
            q = self.space.utility(p, opponent)
            gap = float(q @ self.space.best_response(p, opponent) - q @ strategy)
        return pop, np.asarray(strategy, np.float64), params, gap

    def expand(self, state: PSROState, seconds) -> None:
        key, sub = jax.random.split(np.asarray(state.key, np.uint32))
        state.key = np.asarray(key, np.uint32)
        new = [self.respond(state, job, jax.random.fold_in(sub, r))
               for r, job in enumerate(self.targets(state))]
        old = [len(s) for s in state.strategies]
        added = 0
        for pop, strategy, params, _ in new:
            if np.any(np.max(np.abs(state.strategies[pop] - strategy), axis=1) <= _DUPLICATE):
                continue
            state.strategies[pop] = np.vstack([state.strategies[pop], strategy])
            state.params[pop].append(params)
            state.last[pop] = len(state.strategies[pop]) - 1
            added += 1
        rows, cols = state.strategies[0], state.strategies[self.pop(1)]
        k0, k1 = old[0], old[self.pop(1)]
        m = np.zeros((len(rows), len(cols)))
        m[:k0, :k1] = state.meta_game
        if len(cols) > k1:
            m[:k0, k1:] = self.space.payoff_block(rows[:k0], cols[k1:])
        if len(rows) > k0:
            m[k0:, :] = self.space.payoff_block(rows[k0:], cols)
        state.meta_game = m
        self.solve_meta(state)
        state.iteration += 1
        self.record(state, seconds(), max((g for *_, g in new), default=0.0))
        if added == 0 and not self.oracle.trains:
            state.stop = "fixpoint"


def run_psro(game, iterations: int, *, variant: str = "psro", meta_solver="nash",
             oracle=None, init=None, symmetric=None, initial=None, tol: float = 1e-10,
             seed: int = 0, checkpoint=None, resume: bool = False,
             progress: bool = False) -> PSROResult:
    """Run PSRO with an exact meta-game on a two-player zero-sum game.

    Args:
      game: anything :func:`gametheory.psro.as_psro_game` accepts (matrix game, sequence-form
        game, payoff matrix, zoo name, file, OpenSpiel game string).
      iterations: the number of population expansions (the traces have ``iterations + 1``
        entries when the run does not stop early; entry 0 is the initial population).
      variant: ``"psro"``, ``"psro-rn"`` (rectified Nash response) or ``"fusion"``
        (Fusion-PSRO: ``init="fusion"``, and the gradient oracle unless ``oracle`` is given).
      meta_solver: a :class:`~gametheory.psro.MetaSolver` or a name for
        :func:`~gametheory.psro.make_meta_solver` (``nash``, ``uniform``, ``prd``, ``rm``,
        ``mpo``, ...).
      oracle: an :class:`~gametheory.psro.Oracle` or ``"exact"`` (default) / ``"gradient"``.
      init: an :class:`~gametheory.psro.Initializer` or ``"scratch"`` (default) /
        ``"inherit"`` / ``"noisy"`` / ``"fusion"``; used by training oracles only.
      symmetric: ``None``: one shared population when the game is symmetric (square and
        ``A = -A^T``), else one per player; ``True`` / ``False`` to force it.
      initial: ``None`` (uniform strategies, or a training oracle's fresh parameters), a pure
        strategy index (normal form), or a pair of strategies / realization plans.
      tol: stop once the meta-mixture's exploitability is ``<= tol``.
      seed: seeds the PRNG key (fresh parameters and noisy copies).
      checkpoint: a directory; the state is saved there after every iteration.
      resume: continue the run saved in ``checkpoint`` (its configuration must match); a
        resumed run ends exactly where an uninterrupted one would.
      progress: show a tqdm progress bar on stderr.

    Returns a :class:`~gametheory.psro.PSROResult`. Exploitability is NashConv / 2 throughout
    (``pyspiel.exploitability``'s convention); in float32 (JAX's default) extensive-form values
    carry ~1e-7 relative error, so enable ``jax_enable_x64`` before building the game for
    tolerances below that.
    """
    iterations, tol, seed = _check_args(iterations, tol, seed)
    space = as_psro_game(game)
    rectified, meta, orc, ini = _parts(variant, meta_solver, oracle, init)
    symmetric = _symmetric(space, symmetric)
    config = _config(space, variant, rectified, meta, orc, ini, symmetric, seed, tol)
    run = _Run(space, meta, orc, ini, rectified, symmetric)

    if resume and checkpoint is None:
        raise ValueError("resume=True needs the checkpoint directory of the run to continue.")
    state = None
    if checkpoint is not None and checkpoint_exists(checkpoint):
        if not resume:
            raise ValueError(
                f"{str(checkpoint)!r} already holds a PSRO run; pass resume=True (--resume) to "
                "continue it, or choose another directory."
            )
        saved, state, _ = load_checkpoint(checkpoint)
        _check_same_config(saved, config)
    start = time.perf_counter()
    offset = state.seconds[-1] if state is not None else 0.0
    paused = [0.0]

    def seconds():
        return offset + time.perf_counter() - start - paused[0]

    def save(state):
        if checkpoint is not None:
            t = time.perf_counter()
            save_checkpoint(checkpoint, space, config, state)
            paused[0] += time.perf_counter() - t

    if state is None:
        state = run.start(initial, seed, seconds)
        if state.exploitability[-1] <= tol:
            state.stop = "tolerance"
        save(state)

    from tqdm.auto import tqdm

    with tqdm(total=iterations, initial=min(state.iteration, iterations), unit="it",
              desc=f"psro {space.name}", disable=not progress, file=sys.stderr) as bar:
        while state.iteration < iterations and state.stop is None:
            run.expand(state, seconds)
            if state.exploitability[-1] <= tol:
                state.stop = "tolerance"
            save(state)
            bar.update(1)
            bar.set_postfix(expl=f"{state.exploitability[-1]:.3e}",
                            pop=state.sizes[-1][0])
    return PSROResult(space, config, state)


def _check_same_config(saved: dict, config: dict) -> None:
    for key in config:
        if saved.get(key) != config[key]:
            raise ValueError(
                f"cannot resume: the checkpoint was run with {key}={saved.get(key)!r}, this "
                f"run asks for {config[key]!r}. Resume with the same settings."
            )
