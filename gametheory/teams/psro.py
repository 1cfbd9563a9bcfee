"""Team-PSRO and H-PSRO on two-team zero-sum games, with exact meta-games and exact gaps.

Both grow a population of joint team plans (one pure plan per teammate) and a population of
adversary pure plans. Every iteration solves the restricted team-vs-adversary game exactly (LP,
scipy HiGHS): the team's meta-strategy is a distribution over its joint plans (the ex-ante
coordination device of TMECor), the adversary's a mixture of its plans. Then each side adds a
response to the other's meta-strategy:

* adversary: its exact best response (one treeplex sweep);
* ``variant="team"`` (Team-PSRO, McAleer et al., NeurIPS 2023): the team's exact *joint* best
  response (:func:`~gametheory.teams.team_best_response`). ``shared=True`` restricts it to
  joint plans in which the teammates act as one shared policy (equal information state strings
  take equal actions; in a normal-form game every teammate plays the same action), the
  parameter-sharing setting in which Team-PSRO can stall when roles differ;
* ``variant="h-psro"`` (H-PSRO, Liu et al., arXiv 2410.01575): per-teammate plans improved
  *sequentially*: starting from a joint plan of the population, teammates best-respond one
  after another in a random order (drawn each iteration), each to the plans the teammates
  before it have just chosen, until no teammate improves. Each step is an exact single-player
  best response, so the team's utility increases monotonically; no joint enumeration is needed.
  The result is only a local optimum of the team, so the sweep is started from every joint plan
  of the population (``max_starts`` caps this, best plans first) and the best result enters.

Every iteration records the exact value bounds of the meta-profile: ``lower`` = the adversary's
best response to the team's meta-strategy (what it guarantees the team), ``upper`` = the team's
exact joint best response to the adversary's meta-strategy, and the TMECor gap
``upper - lower`` (NashConv of the team-vs-adversary game, not halved). The run stops when the
gap is ``<= tol`` or when neither side's response is new (a stall).
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from ..lp import solve_zero_sum
from .best_response import adversary_best_response, sequential_best_response, team_best_response
from .checkpoint import load_checkpoint, save_checkpoint
from .plans import DEFAULT_MAX_PLANS, best_response_plans
from .sequence_form import TeamGame, TeamMixture

__all__ = ["TeamPSROResult", "team_psro", "VARIANTS"]

VARIANTS = ("team", "h-psro")


class TeamPSROResult(NamedTuple):
    """Per-iteration record of :func:`team_psro` (arrays of length ``iterations`` run).

    ``gap``, ``lower``, ``upper``: exact TMECor gap and value bounds of the meta-profile (NaN
    where ``exact_gap=False``: the joint best response was not computed); ``meta_value``: value
    of the restricted game; ``oracle_value``: value of the team's new joint plan against the
    adversary's meta-strategy; ``seconds``: cumulative wall time of the algorithm itself
    (meta-LPs and oracles); ``eval_seconds``: cumulative time spent only on measuring the gap;
    ``team_size``, ``adversary_size``: population sizes. ``team``: the final team meta-strategy;
    ``adversary``: the final adversary meta-strategy as a realization plan.
    """

    variant: str
    shared: bool
    gap: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    meta_value: np.ndarray
    oracle_value: np.ndarray
    seconds: np.ndarray
    eval_seconds: np.ndarray
    team_size: np.ndarray
    adversary_size: np.ndarray
    converged: bool
    stalled: bool
    team: TeamMixture
    adversary: np.ndarray

    def to_json(self) -> dict:
        """A JSON-ready summary (lists of floats; ``null`` for values not computed)."""

        def floats(a):
            return [None if not np.isfinite(v) else float(v) for v in np.asarray(a)]

        return {
            "variant": self.variant, "shared": self.shared, "exploitability": floats(self.gap),
            "gap": floats(self.gap), "lower": floats(self.lower), "upper": floats(self.upper),
            "meta_value": floats(self.meta_value), "seconds": floats(self.seconds),
            "eval_seconds": floats(self.eval_seconds),
            "team_size": [int(v) for v in self.team_size],
            "adversary_size": [int(v) for v in self.adversary_size],
            "converged": self.converged, "stalled": self.stalled,
        }


_HISTORY = ("gap", "lower", "upper", "meta_value", "oracle_value", "seconds", "eval_seconds",
            "team_size", "adversary_size")


def _check_args(game, variant, iterations, shared, tol):
    if not isinstance(game, TeamGame):
        raise ValueError(f"team_psro needs a TeamGame; got {type(game).__name__}. Build one with "
                         "gametheory.teams.team_game(game, adversary=...).")
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {list(VARIANTS)}.")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be a positive integer; got {iterations!r}.")
    if shared and variant != "team":
        raise ValueError("shared=True applies to variant='team' (Team-PSRO with one shared "
                         "policy); H-PSRO gives every teammate its own policy.")
    if not (isinstance(tol, (int, float)) and tol >= 0 and np.isfinite(tol)):
        raise ValueError(f"tol must be a finite number >= 0; got {tol!r}.")


def _initial_plan(tree) -> np.ndarray:
    """The pure plan that takes the first legal action everywhere (ties go to slot 0)."""
    return best_response_plans(tree, np.zeros(tree.num_sequences))[1]


class _State:
    """Populations, meta-game and history; converted to/from checkpoint arrays."""

    def __init__(self, game: TeamGame, seed: int):
        self.team_plans = [[_initial_plan(game.trees[p])] for p in game.team]
        self.adversary_plans = [_initial_plan(game.adversary_tree)]
        self.team_columns = np.stack([game.adversary_utility(game.pure_mixture(
            [p[0] for p in self.team_plans]))])
        self.meta = self.team_columns @ np.stack(self.adversary_plans).T
        self.history = {k: [] for k in _HISTORY}
        self.rng = np.random.default_rng(seed)
        self.converged = self.stalled = False
        self.meta_row = self.meta_col = np.ones(1)

    def joint(self, k: int) -> tuple:
        return tuple(p[k] for p in self.team_plans)

    def arrays(self) -> dict:
        out = {f"team_{j}": np.stack(p).astype(np.int8) for j, p in enumerate(self.team_plans)}
        out["adversary"] = np.stack(self.adversary_plans).astype(np.int8)
        out["meta_game"] = self.meta
        out["meta_team"] = self.meta_row
        out["meta_adversary"] = self.meta_col
        for k, v in self.history.items():
            out[f"history_{k}"] = np.asarray(v, np.float64)
        return out

    def restore(self, game: TeamGame, arrays: dict, rng_state: dict, flags: dict):
        self.team_plans = [list(arrays[f"team_{j}"].astype(np.float64))
                           for j in range(len(game.team))]
        self.adversary_plans = list(arrays["adversary"].astype(np.float64))
        self.team_columns = np.stack([game.adversary_utility(game.pure_mixture(self.joint(k)))
                                      for k in range(len(self.team_plans[0]))])
        self.meta = arrays["meta_game"]
        self.meta_row, self.meta_col = arrays["meta_team"], arrays["meta_adversary"]
        self.history = {k: list(arrays[f"history_{k}"]) for k in _HISTORY}
        self.rng.bit_generator.state = rng_state
        self.converged, self.stalled = bool(flags["converged"]), bool(flags["stalled"])

    def add_team(self, game: TeamGame, plan: tuple) -> bool:
        for k in range(len(self.team_plans[0])):
            if all(np.array_equal(a, b) for a, b in zip(self.joint(k), plan)):
                return False
        for j, x in enumerate(plan):
            self.team_plans[j].append(x)
        column = game.adversary_utility(game.pure_mixture(plan))
        self.team_columns = np.vstack([self.team_columns, column])
        self.meta = np.vstack([self.meta, column @ np.stack(self.adversary_plans).T])
        return True

    def add_adversary(self, plan: np.ndarray) -> bool:
        if any(np.array_equal(plan, y) for y in self.adversary_plans):
            return False
        self.adversary_plans.append(plan)
        self.meta = np.hstack([self.meta, (self.team_columns @ plan)[:, None]])
        return True

    def mixture(self, game: TeamGame) -> TeamMixture:
        keep = np.flatnonzero(self.meta_row > 0)
        w = self.meta_row[keep]
        return TeamMixture(w / w.sum(), tuple(np.stack([p[k] for k in keep])
                                              for p in self.team_plans))

    def adversary_mixture(self) -> np.ndarray:
        return self.meta_col @ np.stack(self.adversary_plans[: len(self.meta_col)])


def _team_oracle(game, state, variant, shared, y_mix, meta_col, max_starts, max_plans):
    """``(value, joint_plan)``: the team's new joint plan against the adversary's mixture."""
    if variant == "team":
        return team_best_response(game, y_mix, shared=shared, max_plans=max_plans)
    order = state.rng.permutation(len(game.team))
    starts = np.argsort(-(state.meta @ meta_col), kind="stable")[:max_starts]
    best_value, best_plan = -np.inf, None
    for k in starts:
        value, plan, _ = sequential_best_response(game, y_mix, state.joint(int(k)), order=order)
        if value > best_value + 1e-12:
            best_value, best_plan = value, plan
    return best_value, best_plan


def _config(game: TeamGame, variant, shared, seed, tol) -> dict:
    return {"game": game.name, "game_string": game.game_string, "kind": game.kind,
            "team": list(game.team), "adversary": game.adversary,
            "num_sequences": list(game.num_sequences),
            "payoff_checksum": float(np.round(np.abs(game.payoff).sum(), 12)),
            "variant": variant, "shared": bool(shared), "seed": int(seed), "tol": float(tol)}


def team_psro(game: TeamGame, variant: str = "team", iterations: int = 50, shared: bool = False,
              tol: float = 1e-9, seed: int = 0, checkpoint=None, resume: bool = False,
              progress: bool = False, exact_gap: bool = True, max_starts: int | None = None,
              max_plans: int = DEFAULT_MAX_PLANS) -> TeamPSROResult:
    """Run Team-PSRO (``variant="team"``) or H-PSRO (``variant="h-psro"``) on a team game.

    Args:
      game: a :class:`~gametheory.teams.TeamGame`.
      variant: ``"team"`` or ``"h-psro"`` (see the module docstring).
      iterations: the most iterations to record (each: meta-LP, gap, then new responses).
      shared: Team-PSRO with one policy shared by all teammates.
      tol: stop once the exact TMECor gap is ``<= tol``.
      seed: seeds H-PSRO's random teammate order.
      checkpoint: folder for ``state.npz`` + ``state.json`` (no pickle), written every
        iteration. With ``resume=True`` a run continues from it (if present) and ends identical
        to an uninterrupted run; without, an existing checkpoint is overwritten.
      progress: show a tqdm progress bar.
      exact_gap: measure the exact gap with the joint best response (exponential in the
        teammates' plans). ``False`` (H-PSRO only) records just the lower bound and the
        oracle's value, for games too large to enumerate; runs then stop on a stall.
      max_starts: H-PSRO starts its sequential best responses from this many of the
        population's joint plans (best first against the adversary's meta-strategy); ``None``:
        from all of them. Fewer starts make an iteration cheaper and a stall likelier.
      max_plans: enumeration bound of the exact joint best response.

    Returns a :class:`TeamPSROResult`.
    """
    _check_args(game, variant, iterations, shared, tol)
    if max_starts is not None and (isinstance(max_starts, bool) or not isinstance(
            max_starts, int) or max_starts < 1):
        raise ValueError(f"max_starts must be None or a positive integer; got {max_starts!r}.")
    if not exact_gap and variant == "team":
        raise ValueError("exact_gap=False needs variant='h-psro': Team-PSRO's oracle is the "
                         "exact joint best response, which also gives the gap.")
    config = {**_config(game, variant, shared, seed, tol), "max_starts": max_starts}
    state = _State(game, seed)
    if checkpoint is not None and resume:
        saved = load_checkpoint(checkpoint)
        if saved is not None:
            arrays, meta = saved
            if meta["config"] != config:
                diff = sorted(k for k in config if meta["config"].get(k) != config[k])
                raise ValueError(
                    f"checkpoint {checkpoint} belongs to another run (differs in {diff}); "
                    "use another folder or resume=False to start over."
                )
            state.restore(game, arrays, meta["rng_state"], meta)
    start_iter = len(state.history["gap"])
    base_seconds = state.history["seconds"][-1] if start_iter else 0.0
    base_eval = state.history["eval_seconds"][-1] if start_iter else 0.0
    bar = tqdm(total=iterations, initial=min(start_iter, iterations), disable=not progress,
               desc=f"{variant}{' shared' if shared else ''}", leave=False)
    algo, evaluation = base_seconds, base_eval
    for _ in range(start_iter, iterations):
        if state.converged or state.stalled:
            break
        t0 = time.perf_counter()
        sol = solve_zero_sum(state.meta)
        state.meta_row, state.meta_col = sol.row, sol.col
        team_mix, y_mix = state.mixture(game), state.adversary_mixture()
        lower, adv_plan = adversary_best_response(game, team_mix)
        oracle_value, team_plan = _team_oracle(game, state, variant, shared, y_mix, sol.col,
                                               max_starts, max_plans)
        t1 = time.perf_counter()
        if variant == "team" and not shared:
            upper = oracle_value  # the oracle is the exact joint best response
        elif exact_gap:
            upper = team_best_response(game, y_mix, max_plans=max_plans)[0]
        else:
            upper = np.nan
        algo += t1 - t0
        evaluation += time.perf_counter() - t1
        gap = upper - lower
        for key, value in (("gap", gap), ("lower", lower), ("upper", upper),
                           ("meta_value", sol.value), ("oracle_value", oracle_value),
                           ("seconds", algo), ("eval_seconds", evaluation),
                           ("team_size", len(state.team_plans[0])),
                           ("adversary_size", len(state.adversary_plans))):
            state.history[key].append(float(value))
        bar.update(1)
        bar.set_postfix(gap=f"{gap:.2e}" if np.isfinite(gap) else "n/a")
        if np.isfinite(gap) and gap <= tol:
            state.converged = True
        else:
            t4 = time.perf_counter()
            new_team = state.add_team(game, team_plan)
            new_adv = state.add_adversary(adv_plan)
            state.stalled = not (new_team or new_adv)
            algo += time.perf_counter() - t4
            state.history["seconds"][-1] = algo
        if checkpoint is not None:
            save_checkpoint(checkpoint, state.arrays(),
                            {"config": config, "rng_state": state.rng.bit_generator.state,
                             "converged": state.converged, "stalled": state.stalled,
                             "iterations": len(state.history["gap"])})
    bar.close()
    hist = {k: np.asarray(v, np.float64) for k, v in state.history.items()}
    return TeamPSROResult(
        variant=variant, shared=bool(shared), gap=hist["gap"], lower=hist["lower"],
        upper=hist["upper"], meta_value=hist["meta_value"], oracle_value=hist["oracle_value"],
        seconds=hist["seconds"], eval_seconds=hist["eval_seconds"],
        team_size=hist["team_size"].astype(int), adversary_size=hist["adversary_size"].astype(int),
        converged=state.converged, stalled=state.stalled, team=state.mixture(game),
        adversary=state.adversary_mixture(),
    )
