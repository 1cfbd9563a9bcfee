"""Magnetic mirror descent with dilated entropy in the sequence form, and its MPO form.

One step (Sokota et al. 2023, App. C.3; OpenSpiel's ``MMDDilatedEnt``) solves, for each player,

    x' = argmax_x  lr <q, x> - lr temp D_rho(x) - B_psi(x; x_t)

over the treeplex, where ``q`` is the payoff gradient (``A y`` or ``-A^T x``), ``psi`` the dilated
entropy and ``D_rho(x) = sum_I x_p(I) KL(b_I || rho_I)`` (``rho = 1``: plain dilated entropy).
The argmax is one bottom-up sweep, on per-sequence log-policies ``[S]``
(:mod:`gametheory.efg.sequence_sweeps`). At infoset ``I`` the local problem is the normal-form
MMD step of :func:`gametheory.rules.mmd` with the payoff ``q(I, a)`` plus the continuation
values of the child infosets, ``V_J = (1 + lr temp) / lr * logsumexp_a(...)``, which are passed
to the parent.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ...solvers.base import Solver, as_schedule, check_count, check_nonnegative
from ...solvers.params import check_flag
from ...solvers.restarts import (
    DEFAULT_THRESHOLDS,
    RestartState,
    check_thresholds,
    init_restart,
    restart_step,
)
from ...solvers.scale import check_scale
from ..sequence_sweeps import (
    bottom_up_seq,
    join_levels,
    level_size,
    per_sequence,
    segment_logsumexp,
    top_down_seq,
)
from ._common import entropy_magnet, initial_logits, plans_of_logits

__all__ = ["EFGMMDState", "dilated_mmd_step", "mmd", "mpo", "mmd_annealed", "optimistic",
           "mirror_prox_step", "alternating_step", "magnetic_step", "check_step_mode",
           "dilated_bregman", "step_ratio", "StepControl", "init_step_control", "control_step"]


class EFGMMDState(NamedTuple):
    logits: tuple  # per player [S] behavioural log-policy per sequence (0 in slot 0)
    magnet_logits: tuple  # per player [S] log-magnet (0 everywhere = dilated entropy)
    plans: tuple  # per player [S] realization plan of ``logits``
    prev_q: tuple  # per player [S] previous payoff gradient (optimistic, alternating steps)
    scale: jnp.ndarray  # [] payoff scale S (SequenceFormGame.payoff_scale)
    restart: RestartState  # adaptive magnet resets (unused otherwise)
    weights: tuple  # per player [I] weights of the dilated regulariser (infoset_weights)
    control: StepControl  # adaptive step size (factor 1 and unused otherwise)
    step: jnp.ndarray  # [] int32


def plan_residual(old_plans, new_plans):
    """``sum_p ||x_p' - x_p||_1`` over both realization plans: the step's fixed-point residual."""
    return sum(jnp.sum(jnp.abs(n - o), axis=-1) for o, n in zip(old_plans, new_plans))


def game_scale(game, scale):
    """``S`` for a validated ``scale``: the game's payoff scale or the given number."""
    if scale == "game":
        return game.payoff_scale()
    return jnp.asarray(scale, game.payoff_values.dtype)


def check_every(value, name):
    """A reset period: a positive integer, ``"adaptive"``, or 0 / ``None`` (never)."""
    if isinstance(value, str) and value.strip().lower() == "adaptive":
        return "adaptive"
    if value is None or (not isinstance(value, bool) and value == 0):
        return None
    return check_count(value, name)


#: Smallest weight of an infoset in the ``"adaptive"`` dilated regulariser, relative to the
#: most likely infoset: an infoset the opponent's current plan (almost) never reaches still gets
#: a step at most 100 times the root's.
WEIGHT_FLOOR = 0.01


#: With a floor at least this large the floored policy is not renormalised (one segment sum per
#: level fewer): the raised entries add at most ``|A_I| e^-40 = |A_I| * 4.2e-18`` to a total of 1,
#: below float64 round-off for up to 26 actions and 4e-15 at a thousand.
NO_RENORMALISE_FLOOR = 40.0


def dilated_mmd_step(tp, logits, q, lr, temp, magnet_logits, weights=None, log_floor=None):
    """The dilated-entropy MMD step of one player; returns the new ``[S]`` log-policy.

    ``logits``: ``[S]`` per-sequence log-policy; ``q``: ``[S]`` payoff gradient (the player
    maximises ``<q, x>``); ``magnet_logits``: ``[S]`` log-magnet (``0`` for dilated entropy);
    ``weights``: optional ``[I]`` positive weights ``w_I`` of the local entropies in the dilated
    regulariser, which make the local step :func:`gametheory.rules.mmd` with step ``lr / w_I``
    and temperature ``temp * w_I`` (``None``: all weights 1, as OpenSpiel).
    """

    def reduce(z, rows, d):
        block, n = tp.level_sequences(d), level_size(tp, d)
        l, m = logits[block], magnet_logits[block]
        w = jnp.ones((n,), z.dtype) if weights is None else weights[tp.level(d)]
        eta = lr / w[rows]  # local step lr / w_I; its product with temp * w_I is lr * temp
        # rules.mmd's unnormalised log-policy, normalised once: its log-partition also gives
        # the infoset's value (1 + lr temp) / eta_I * logsumexp
        y = (l + lr * temp * m + eta * z) / (1 + lr * temp)
        lse, top_s = segment_logsumexp(y, rows, n)
        value = (1 + lr * temp) * w / lr * lse
        if log_floor is not None:  # keep every action within e^-log_floor of the best
            y = jnp.maximum(y, top_s - log_floor)
        new = y - lse[rows]
        if log_floor is not None and log_floor < NO_RENORMALISE_FLOOR:
            new = new - jnp.log(jax.ops.segment_sum(jnp.exp(new), rows, num_segments=n,
                                                    indices_are_sorted=True))[rows]
        return value, new

    _, levels = bottom_up_seq(tp, q, reduce)
    return join_levels(tp, levels, like=logits) if levels else logits


def infoset_weights(game, weighting: str, plans=None):
    """Per-infoset weights ``w_I`` of the dilated regulariser (the step at ``I`` is ``lr / w_I``,
    the temperature ``temp * w_I``).

    * ``"uniform"``: all 1, OpenSpiel's dilated entropy. Deep infosets, whose payoffs carry the
      small probability of reaching them, then move slowly.
    * ``"reach"``: chance x *uniform*-opponent reach, scaled to a maximum of 1, so that every
      infoset sees its payoffs in comparable units -- as long as the opponent plays roughly
      uniformly. Where it concentrates its play (liar's dice bids, goofspiel bids) the actual
      payoffs at deep infosets are many times larger than the weight assumes, and the steps
      there become unstable.
    * ``"adaptive"``: chance x the reach of the opponent's realization plan ``plans[1 - p]``,
      scaled to a maximum of 1 and floored at :data:`WEIGHT_FLOOR`; the solvers recompute it at
      every magnet reset (it is fixed in between, so each regularised game has one regulariser).
      On Leduc poker, liar's dice (1, 4) and goofspiel (5 cards) it is the only one of the three
      that converges at one step size (``benchmarks/efg_speed.py``)."""
    if weighting == "uniform":
        return tuple(jnp.ones(tp.num_infosets, game.payoff_values.dtype)
                     for tp in game.treeplexes)
    if weighting == "adaptive":
        reach = tuple(game.infoset_reach_of(p, plans[1 - p]) for p in range(2))
        return tuple(jnp.maximum(r / jnp.maximum(jnp.max(r), 1e-300), WEIGHT_FLOOR)
                     for r in reach)
    return tuple(r / jnp.max(r) for r in game.infoset_reach)


def _check_weighting(weighting):
    if weighting not in ("uniform", "reach", "adaptive"):
        raise ValueError(
            f"weighting must be 'uniform', 'reach' or 'adaptive'; got {weighting!r}.")
    return weighting


def dilated_bregman(tp, weights, plan_u, logits_u, logits_v):
    """``D(u, v) = sum_I w_I u[parent(I)] KL(b_u(I) || b_v(I))``: the Bregman divergence of the
    ``w``-weighted dilated entropy between the realization plans ``u`` and ``v`` given by their
    behavioural log-policies (the dilated entropy's divergence is the reach-weighted sum of the
    local KLs; Hoda, Gilpin, Pena and Sandholm 2010, "Smoothing techniques for computing Nash
    equilibria of sequential games", Math. Oper. Res.). Since ``u[parent(I)] b_u(a | I)`` is
    ``u[seq(I, a)]``, it is one sum over the sequences: ``sum_s w_I(s) u[s] (log b_u(s) -
    log b_v(s))`` (slot 0, the empty sequence, left out)."""
    terms = jnp.where(plan_u > 0, plan_u * (logits_u - logits_v), 0.0)
    return jnp.sum((per_sequence(tp, weights) * terms)[1:])


def mirror_prox_step(game, logits, plans, lr, temp, magnet_logits, weights, qs=None,
                     extragradient=False, log_floor=None) -> tuple:
    """One dilated MMD step for both players; returns ``(logits, plans, qs, ratio)``, ``ratio``
    the step's :func:`step condition <step_ratio>` (``None`` without ``extragradient``).

    ``qs``: the payoff gradients to step on (default: at ``plans``). With ``extragradient`` the
    step is taken in mirror-prox form (Nemirovski 2004, eq. (3.1), applied to the game
    regularised by ``temp * D_magnet``): the look-ahead ``half = MMD(pi, q(pi))``, then
    ``pi' = MMD(pi, q(half))`` with the same magnet and temperature. The fixed point is the same
    regularised equilibrium, but the step may be of order ``1 / L`` rather than ``temp / L^2``.
    """
    if qs is None:
        qs = game.gradients(plans)

    def step(grads):
        new = tuple(dilated_mmd_step(tp, l, q, lr, temp, m, w, log_floor) for tp, l, q, m, w in
                    zip(game.treeplexes, logits, grads, magnet_logits, weights))
        return new, plans_of_logits(game, new)

    half, half_plans = step(qs)
    if not extragradient:
        return half, half_plans, qs, None
    half_qs = game.gradients(half_plans)
    new, new_plans = step(half_qs)
    ratio = step_ratio(game, weights, lr, logits, qs, half, half_plans, half_qs, new, new_plans)
    return new, new_plans, qs, ratio


def alternating_step(game, logits, plans, lr, temp, magnet_logits, weights, prev_q1,
                     log_floor=None) -> tuple:
    """One alternating dilated MMD step; returns ``(logits, plans, (q0, q1), ratio)``.

    Player 0 steps on ``q0(y)``, then player 1 on ``q1(x')``, the gradient at player 0's *new*
    plan, as CFR+ alternates (Tammelin 2014): one payoff gradient per player and step, half of
    mirror prox's two. Why it can take the same long steps: on the regularised bilinear game
    ``x^T A y - tau/2 |x|^2 + tau/2 |y|^2`` the simultaneous step is stable only for
    ``lr <~ 2 tau / sigma^2`` (``sigma`` the largest singular value of ``A``), while the
    alternating step's iteration matrix has determinant ``(1 - lr tau)^2`` and complex
    eigenvalues for ``lr sigma < 2 sqrt(1 - lr tau)``: it contracts by ``1 - lr tau`` per step at
    ``lr`` of order ``1 / sigma``, the rate mirror prox reaches with two gradients. (Mirror prox
    also damps the bilinear rotation, so it is faster on some regularised games: at equal
    iterations the MPO last iterates of the two are within a small factor on Leduc and liar's
    dice 1x6, while mirror prox gets further on goofspiel; ``benchmarks/efg_frontier.py``,
    ``docs/efg.md``.)

    ``prev_q1``: player 1's gradient at the old ``x`` (the previous step's ``q1``). The step
    condition is

        rho = lr |<q1(x') - q1(x), y' - y>| / (D(x', x) + D(y', y)),

    the coupling the alternation adds against the step's dilated Bregman length (``D`` as in
    :func:`dilated_bregman`); in Euclidean terms ``rho <= lr sigma``, so ``rho <= 1`` keeps the
    step inside the stable range above, with no extra product."""
    tp0, tp1 = game.treeplexes
    q0 = game.payoff_gradient(0, plans[1])
    l0 = dilated_mmd_step(tp0, logits[0], q0, lr, temp, magnet_logits[0], weights[0], log_floor)
    x0 = top_down_seq(tp0, jnp.exp(l0))
    q1 = game.payoff_gradient(1, x0)
    l1 = dilated_mmd_step(tp1, logits[1], q1, lr, temp, magnet_logits[1], weights[1], log_floor)
    x1 = top_down_seq(tp1, jnp.exp(l1))
    lhs = lr * jnp.abs(jnp.dot(q1 - prev_q1, x1 - plans[1]))
    rhs = (dilated_bregman(tp0, weights[0], x0, l0, logits[0])
           + dilated_bregman(tp1, weights[1], x1, l1, logits[1]))
    ratio = jnp.where(rhs > 0, lhs / jnp.where(rhs > 0, rhs, 1.0), 0.0)
    return (l0, l1), (x0, x1), (q0, q1), ratio


def magnetic_step(game, logits, plans, lr, temp, magnet_logits, weights, prev_qs, mode,
                  log_floor=None) -> tuple:
    """One dilated MMD step of both players in the given ``mode`` (:func:`check_step_mode`);
    returns ``(logits, plans, qs, ratio)``: ``qs`` the gradients to keep as ``prev_qs`` for the
    next step, ``ratio`` the step condition (``None`` for the plain step)."""
    if mode == "alternating":
        return alternating_step(game, logits, plans, lr, temp, magnet_logits, weights,
                                prev_qs[1], log_floor)
    return mirror_prox_step(game, logits, plans, lr, temp, magnet_logits, weights,
                            extragradient=mode == "mirror_prox", log_floor=log_floor)


def check_step_mode(alternating, extragradient) -> str:
    """``"alternating"``, ``"mirror_prox"`` or ``"plain"`` (simultaneous) from the two flags;
    ``extragradient`` may be ``"auto"``: mirror prox unless alternating."""
    alternating = check_flag(alternating, "alternating")
    if _is_auto(extragradient):
        extragradient = not alternating
    extragradient = check_flag(extragradient, "extragradient")
    if alternating and extragradient:
        raise ValueError("alternating=True and extragradient=True are two different steps; "
                         "pass alternating=False to take mirror-prox steps.")
    return "alternating" if alternating else "mirror_prox" if extragradient else "plain"


def step_ratio(game, weights, lr, logits, qs, half, half_plans, half_qs, new, new_plans):
    """The mirror-prox step condition as a ratio (Nemirovski 2004, Sec. 3: what the analysis asks
    of each step):

        rho = lr <q(half) - q(pi), pi' - half> / (D(pi', half) + D(half, pi)),

    summed over both players (each maximises ``<q, x>``), ``D`` the weighted dilated divergence
    (:func:`dilated_bregman`). ``rho <= 1`` is what the method's convergence proof asks of each
    step, and what a step ``lr <= 1 / L`` guarantees; ``rho > 1`` means the step is too long for
    the game's local Lipschitz constant ``L``. A step that does not move has ratio 0."""
    lhs = lr * sum(jnp.dot(qh - q, n - h)
                   for q, qh, h, n in zip(qs, half_qs, half_plans, new_plans))
    rhs = sum(dilated_bregman(tp, w, n, nl, hl) + dilated_bregman(tp, w, h, hl, l)
              for tp, w, n, nl, h, hl, l in zip(game.treeplexes, weights, new_plans, new,
                                                half_plans, half, logits))
    return jnp.where(rhs > 0, lhs / jnp.where(rhs > 0, rhs, 1.0), 0.0)


class StepControl(NamedTuple):
    factor: jnp.ndarray  # [] current step / lr, in (0, 1]
    rejected: jnp.ndarray  # [] int32 steps rejected so far


#: Adaptive step: a step whose ratio (:func:`step_ratio`) exceeds 1 is rejected and the step
#: multiplied by ``SHRINK``; each accepted step lets it grow back by ``GROW`` up to ``lr``.
SHRINK, GROW = 0.8, 1.001


def init_step_control(dtype) -> StepControl:
    return StepControl(jnp.ones((), dtype), jnp.zeros((), jnp.int32))


def control_step(control: StepControl, ratio):
    """``(accept, new_control)`` for a step with the given ratio (see :data:`SHRINK`)."""
    accept = ratio <= 1.0
    factor = jnp.where(accept, jnp.minimum(control.factor * GROW, 1.0), control.factor * SHRINK)
    return accept, StepControl(factor, control.rejected + (~accept).astype(jnp.int32))


def select(accept, new, old):
    """``new`` where the step is accepted, ``old`` elsewhere (leaf by leaf)."""
    return jax.tree_util.tree_map(lambda n, o: jnp.where(accept, n, o), new, old)


def check_log_floor(value):
    """``log_floor``: a finite number > 0, or 0 / ``None`` (off)."""
    if value is None:
        return None
    value = check_nonnegative(value, "log_floor")
    return value or None


def _mmd(name, lr, temp, magnet, magnet_every, anneal, optimistic_steps,
         weighting="uniform", mode="plain", scale="game",
         reset_thresholds=DEFAULT_THRESHOLDS, reset_periods=3.0, log_floor=None,
         adaptive_lr=False) -> Solver:
    lr = as_schedule(lr, "lr")
    adaptive_lr = check_flag(adaptive_lr, "adaptive_lr")
    log_floor = check_log_floor(log_floor)
    reset_periods = check_nonnegative(reset_periods, "reset_periods")
    scale = check_scale(scale)
    thresholds = check_thresholds(reset_thresholds, "reset_thresholds")
    if isinstance(temp, (int, float)) and temp == 0:
        temp0 = lambda step: 0.0
    else:
        temp0 = as_schedule(temp, "temp")
    anneal = check_nonnegative(anneal, "anneal")
    _check_weighting(weighting)
    adaptive_lr = adaptive_lr and mode != "plain"  # the plain step has no step condition
    if magnet not in ("entropy", "uniform", "initial"):
        raise ValueError(f"magnet must be 'entropy', 'uniform' or 'initial'; got {magnet!r}.")

    def temperature(step):
        return temp0(step) / (1.0 + step) ** anneal if anneal else temp0(step)

    def init(game, initial=None):
        logits = initial_logits(game, initial)
        if magnet == "initial":
            magnets = logits
        elif magnet == "uniform":
            magnets = initial_logits(game, None)
        else:
            magnets = entropy_magnet(game)
        plans = plans_of_logits(game, logits)
        prev_q = game.gradients(plans)
        s = game_scale(game, scale)
        return EFGMMDState(logits, magnets, plans, prev_q, s, init_restart(s),
                           infoset_weights(game, weighting, plans),
                           init_step_control(s.dtype), jnp.zeros((), jnp.int32))

    def update(game, state):
        eta = lr(state.step) * state.control.factor / state.scale
        alpha = temperature(state.step) * state.scale
        if optimistic_steps:  # the plain step on the predicted gradient 2 q_t - q_{t-1}
            qs = game.gradients(state.plans)
            steps = tuple(2 * q - p for q, p in zip(qs, state.prev_q))
            logits, plans, _, ratio = mirror_prox_step(
                game, state.logits, state.plans, eta, alpha, state.magnet_logits,
                state.weights, steps, log_floor=log_floor)
        else:
            logits, plans, qs, ratio = magnetic_step(
                game, state.logits, state.plans, eta, alpha, state.magnet_logits,
                state.weights, state.prev_q, mode, log_floor)
        step = state.step + 1
        control = state.control
        if adaptive_lr:
            accept, control = control_step(control, ratio)
        magnets, restart = state.magnet_logits, state.restart
        if magnet_every == "adaptive":
            # the regularised game contracts by about the *accepted* step times temp per step
            hold = reset_periods / (lr(state.step) * state.control.factor
                                    * temperature(state.step))
            reset, restart = restart_step(restart, plan_residual(state.plans, plans), step,
                                          thresholds, hold)
        elif magnet_every is not None:
            reset = step % magnet_every == 0
        weights = state.weights
        if magnet_every is not None:
            magnets = tuple(jnp.where(reset, l, m) for l, m in zip(logits, magnets))
            if weighting == "adaptive":  # (a sparse product per player: only at a reset)
                weights = jax.lax.cond(reset, lambda: infoset_weights(game, weighting, plans),
                                       lambda: weights)
        new = EFGMMDState(logits, magnets, plans, qs, state.scale, restart, weights, control,
                          step)
        if adaptive_lr:  # a rejected step leaves all but the step size as is
            new = select(accept, new, state._replace(control=control, step=step))
        return new

    return Solver(init, update, lambda game, state: state.plans, name=name)


_UNITS = """
    ``lr`` and ``temp`` are relative to the game's payoff scale ``S``
    (:meth:`~gametheory.efg.SequenceFormGame.payoff_scale`: half the payoff range times the
    largest infoset reach) measured at init: each step uses ``lr / S`` and ``temp * S``.
    ``scale=1.0`` reads them in absolute units (OpenSpiel's and the papers' settings)."""


def mmd(lr=3.0, temp=0.001, magnet="entropy", magnet_every=0, anneal=0.0,
        weighting="auto", extragradient="auto", scale="game",
        reset_thresholds=DEFAULT_THRESHOLDS, reset_periods=3.0, log_floor=40.0,
        adaptive_lr=True, alternating="auto") -> Solver:
    """Dilated MMD with a fixed magnet: converges to the regularised equilibrium at ``temp``.

    Magnetic mirror descent with dilated entropy (Sokota et al. 2023, App. C.3); with
    ``scale=1.0`` the same step as OpenSpiel's ``MMDDilatedEnt(game, alpha=temp, stepsize=lr)``.
    With a fixed magnet the last iterate converges linearly to the equilibrium of the game
    regularised by ``temp * D_magnet`` (with ``magnet="entropy"`` and uniform weights the
    reduced-normal-form QRE at temperature ``temp``), not to a Nash equilibrium: its
    exploitability is of the order of ``temp * S``.

    Defaults (``scale="game"``): ``weighting="auto"`` and ``alternating="auto"`` resolve to the
    ``"adaptive"`` infoset weights, fixed at those of the initial profile (so the regularised
    game does not change), and the alternating step with the adaptive step size of
    :func:`mpo`. OpenSpiel's form -- uniform weights, plain step -- moves at a step of about
    ``lr`` times the reach of a deep infoset, and its temperature, large against the small
    reach-weighted payoffs there, makes the regularised equilibrium nearly uniform at deep
    infosets: at ``lr=0.1, temp=0.05`` it stops at exploitability 2.09 on Leduc poker and 0.377
    on liar's dice (1, 4) (regularised gap below 1e-12: solved, but the wrong game), and a
    smaller temperature or a larger step does not rescue it. With the reach weights each
    infoset's temperature is in the units of its own payoffs, and the alternating step (like
    mirror prox, ``alternating=False, extragradient=True``) allows a step of about ``1 / L``
    instead of ``temp / L^2``, so ``temp=0.001`` is reached in a few thousand steps
    (exploitability 3e-4 on Kuhn, 6.8e-3 on Leduc, 1.2e-3 on liar's dice (1, 4) at 10000
    iterations, either step). ``"auto"`` with a numeric ``scale`` (absolute units) gives
    OpenSpiel's ``"uniform"`` weights and the plain simultaneous step.

    ``magnet``: ``"entropy"`` (``rho = 1``, as OpenSpiel), ``"uniform"`` (KL to the uniform
    policy) or ``"initial"``; ``magnet_every=K > 0`` resets the magnet to the current iterate
    every ``K`` steps, ``"adaptive"`` on measured progress (MPO, :func:`mpo`);
    ``anneal=p`` uses temperature ``temp / (1 + t)^p``; ``weighting``: see
    :func:`infoset_weights`; ``log_floor`` and ``adaptive_lr``: as in :func:`mpo`.
    """
    numeric = check_scale(scale) != "game"
    if _is_auto(weighting):
        weighting = "uniform" if numeric else "adaptive"
    if _is_auto(alternating):
        alternating = not numeric
    if _is_auto(extragradient) and numeric:
        extragradient = False
    return _mmd("mmd", lr, temp, magnet, check_every(magnet_every, "magnet_every"), anneal,
                False, weighting, check_step_mode(alternating, extragradient), scale,
                reset_thresholds, reset_periods, log_floor, adaptive_lr)


def _is_auto(value):
    return isinstance(value, str) and value.strip().lower() == "auto"


def mpo(lr=3.0, temp=0.003, reset_every="adaptive", weighting="adaptive", alternating=True,
        extragradient="auto", scale="game", reset_thresholds=DEFAULT_THRESHOLDS,
        reset_periods=3.0, log_floor=40.0, adaptive_lr=True) -> Solver:
    """Magnetic Preference Optimization (Wang et al. 2024) in the sequence form: dilated MMD whose
    magnet starts at the initial policy and is reset to the current iterate, every
    ``reset_every`` steps or (``"adaptive"``, the default) on measured progress.

    Adaptive resets happen when the step residual ``||x' - x||_1`` has fallen by the
    ``reset_thresholds`` (sufficient, necessary-and-stalled, artificial;
    :mod:`gametheory.solvers.restarts`), holding each magnet for at least
    ``reset_periods / (lr * f * temp)`` steps, ``f`` the current factor of the adaptive step
    (the regularised game contracts by about ``lr * f * temp`` per step; resetting much sooner
    lets the iterate run to near-pure policies that entropic steps leave only slowly; with the
    step shrunk, as on goofspiel, a hold in nominal steps came too early: goofspiel 4 with random
    points ended at 2.4e-7 instead of 2.6e-9 at 10000 iterations). The magnets form a
    proximal-point sequence, so the *last* iterate converges to a Nash equilibrium of the game.
    COMAL (:func:`.comal.comal`) takes the same step but moves its reference only when the
    regularised game's gap is below a tolerance; MPO resets on the step residual, which needs no
    best responses.

    ``alternating=True`` (default) steps player 0, then player 1 against player 0's new plan, as
    CFR+ does (:func:`alternating_step`): one payoff gradient per player and step. Like the
    mirror-prox step (``alternating=False``, ``extragradient`` then ``"auto"`` = ``True``,
    :func:`mirror_prox_step`, two gradients) it is stable for a step about ten times larger than
    the plain simultaneous step at the same temperature, so the temperature can be small. At
    equal iterations the two mostly reach the same exploitability within a small factor
    (liar's dice 1x6 at 10000: 1.5e-4 alternating, 1.9e-4 mirror prox; Leduc 5.5e-5 and
    5.4e-5), at 0.6 of the cost per step; on goofspiel 4 with ascending points mirror prox is
    ahead all along (4.0e-11 against 1.6e-8 at 10000). ``weighting="adaptive"`` (default) sizes
    each infoset's step by how often the opponent's current plan reaches it
    (:func:`infoset_weights`). ``log_floor=40`` keeps every legal action's probability within
    ``e^-40`` of its infoset's most likely action: at rarely reached infosets the regularised
    equilibrium is almost pure, and an action whose probability underflows to 0 could never come
    back when it becomes the best one (oshi_zumo stalled at 1.3e-3 without it); ``0`` is off.

    ``adaptive_lr=True`` (default; not for the plain step) treats ``lr`` as the largest step: a
    step that fails its step condition (:func:`alternating_step`, :func:`step_ratio`: above 1,
    too long for the game's local Lipschitz constant) is rejected and the step shrunk by
    :data:`SHRINK`; accepted steps let it grow back by :data:`GROW` up to ``lr``. The payoff
    scale ``S`` is a bound, not the Lipschitz constant, so one fixed ``lr`` is too long for some
    games (goofspiel with 5 cards diverged at ``lr=1.5`` without it) and needlessly short for
    others (Leduc).

    Defaults chosen on Kuhn, Leduc, liar's dice (1, 3) and (1, 4) and goofspiel (5 cards); checked
    on games not used for the choice in ``tests/efg/test_efg_defaults.py``."""
    if reset_every is None or reset_every == 0:
        raise ValueError("reset_every must be a positive integer or 'adaptive'.")
    return _mmd("mpo", lr, temp, "initial", check_every(reset_every, "reset_every"), 0.0,
                False, weighting, check_step_mode(alternating, extragradient), scale,
                reset_thresholds, reset_periods, log_floor, adaptive_lr)


def mmd_annealed(lr=0.3, temp=0.75, anneal=0.5, magnet="entropy", weighting="reach",
                 extragradient=False, scale="game") -> Solver:
    """Dilated MMD with the annealed temperature ``temp / (1 + t)^anneal`` at every infoset: the
    regularised equilibrium it tracks moves towards a Nash equilibrium as ``t`` grows."""
    return _mmd("mmd_annealed", lr, temp, magnet, None, anneal, False, weighting,
                check_step_mode(False, extragradient), scale)


def optimistic(lr=1.0, temp=0.0, magnet="entropy", weighting="reach", scale="game") -> Solver:
    """Optimistic dilated mirror descent (the OMWU of the treeplex): each step uses the predicted
    gradient ``2 q_t - q_{t-1}``; ``temp > 0`` adds the MMD magnet term."""
    return _mmd("optimistic", lr, temp, magnet, None, 0.0, True, weighting, scale=scale)


for _factory in (mmd, mpo, mmd_annealed, optimistic):
    _factory.__doc__ += _UNITS
