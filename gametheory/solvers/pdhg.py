"""Restarted Halpern PDHG on the product of two simplices: linear last-iterate convergence.

The two-player zero-sum game ``max_x min_y x^T A y`` over simplices is a bilinear saddle-point
problem, which the primal-dual hybrid gradient method (Chambolle and Pock 2011) solves with one
``A y`` and one ``A^T x`` product per step:

    x+ = proj(x + tau A y),      y+ = proj(y - sigma A^T (2 x+ - x)),      tau sigma ||A||^2 < 1.

Three devices from PDLP / cuPDLPx make it fast:

* **Halpern iteration with reflection** (Lu and Yang 2024, "Restarted Halpern PDHG for linear
  programming"; cuPDLPx, Lu, Peng and Yang 2025, arXiv:2507.14051, Alg. 1):
  ``z_{k+1} = (k+1)/(k+2) ((1+g) T(z_k) - g z_k) + 1/(k+2) z_0`` with ``T`` the PDHG map above,
  reflection ``g`` and anchor ``z_0``.
* **Restarts** on the *exact* NashConv of ``T(z_k)`` (:mod:`.restarts`): the anchor moves to
  ``T(z_k)`` and ``k`` starts again. PDHG on a polytope game converges linearly in the last
  iterate (Wei, Lee, Zhang and Luo 2021, "Linear last-iterate convergence in constrained saddle
  point optimization", ICLR), and restarts make the rate depend on the sharpness of the game
  rather than on the smallest equilibrium probability (Applegate et al. 2023, Math. Prog.).
* **Adaptive primal weight** ``omega`` (``tau = eta / omega``, ``sigma = eta omega``), updated at
  each restart from how far each player moved (PDLP, Applegate et al. 2021, NeurIPS, Sec. 3.3):
  ``omega <- exp(theta log(|dy| / |dx|) + (1 - theta) log omega)``.

Every ``A y`` and ``A^T x`` is computed once: the Halpern combination is affine, so the products
at ``z_{k+1}`` are the same combination of products already known, and the NashConv of
``T(z_k)``, ``max(A y+) - min(A^T x+)``, comes for free. The reported (last) iterate is
``T(z_k)``, a feasible profile. Projections are exact (:mod:`.simplex`: Michelot's method on
CPU, pairwise comparisons on accelerators).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from ..games.normal_form import MatrixGame
from .base import Solver, check_nonnegative, initial_logits
from .polish import maybe_polish
from .restarts import DEFAULT_THRESHOLDS, RestartState, check_thresholds, init_restart, restart_step
from .scale import check_scale, operator_norm
from .simplex import project_simplex

__all__ = ["pdhg", "PDHGState"]


class PDHGState(NamedTuple):
    z: tuple  # (x, y) Halpern iterate (may leave the simplices after reflection)
    products: tuple  # (A y, A^T x) at z
    anchor: tuple  # (x0, y0) Halpern anchor
    anchor_products: tuple  # (A y0, A^T x0)
    last: tuple  # (x+, y+) = T(z_{k-1}): the reported feasible iterate
    eta: jnp.ndarray  # [...] base step lr / ||A||_2
    omega: jnp.ndarray  # [...] primal weight
    restart: RestartState
    step: jnp.ndarray  # [] int32


def _matvecs(a, x, y):
    return jnp.matmul(a, y[..., None])[..., 0], jnp.matmul(x[..., None, :], a)[..., 0, :]


def pdhg(lr=0.9, reflection=1.0, primal_weight=1.0, weight_smoothing=0.5,
         restart_thresholds=DEFAULT_THRESHOLDS, scale="game", polish=True) -> Solver:
    """Restarted Halpern PDHG for two-player zero-sum matrix games (see the module docstring).

    Args:
      lr: step ``eta = lr / ||A||_2`` (``||A||_2`` by power iteration at init, :mod:`.scale`);
        PDHG needs ``tau sigma ||A||^2 = lr^2 < 1``. ``scale`` = a number fixes ``||A||_2``.
      reflection: ``g`` in ``[0, 1]``; 0 is plain Halpern PDHG, 1 the reflected form.
      primal_weight: initial ``omega`` (both strategies live on simplices, so 1 is neutral).
      weight_smoothing: ``theta`` of the primal-weight update (0 keeps ``omega`` fixed).
      restart_thresholds: (sufficient, necessary, artificial) of :mod:`.restarts`, applied to
        the exact NashConv of the iterate.
      polish: certified support polish at checks (:mod:`.polish`); on by default because
        projected iterates identify the supports exactly after finitely many steps.
    """
    lr = check_nonnegative(lr, "lr")
    if not 0 < lr < 1:
        raise ValueError(f"lr must lie in (0, 1) (PDHG needs lr < 1 relative to ||A||_2); "
                         f"got {lr!r}.")
    reflection = check_nonnegative(reflection, "reflection")
    if reflection > 1:
        raise ValueError(f"reflection must lie in [0, 1]; got {reflection!r}.")
    primal_weight = check_nonnegative(primal_weight, "primal_weight")
    if not primal_weight > 0:
        raise ValueError(f"primal_weight must be a finite positive number; got {primal_weight!r}.")
    weight_smoothing = check_nonnegative(weight_smoothing, "weight_smoothing")
    if weight_smoothing > 1:
        raise ValueError(f"weight_smoothing must lie in [0, 1]; got {weight_smoothing!r}.")
    thresholds = check_thresholds(restart_thresholds, "restart_thresholds")
    scale = check_scale(scale)

    def init(game, initial=None):
        if not isinstance(game, MatrixGame):
            raise ValueError(
                "pdhg solves two-player zero-sum matrix games (MatrixGame, PreferenceGame); "
                f"got {type(game).__name__}. Use mpo or comal for n-player games."
            )
        a = game.matrix
        x, y = (jnp.exp(l) for l in initial_logits(game, initial))
        x, y = x.astype(a.dtype), y.astype(a.dtype)
        products = _matvecs(a, x, y)
        norm = operator_norm(a) if scale == "game" else jnp.full(a.shape[:-2], scale, a.dtype)
        gap = jnp.max(products[0], axis=-1) - jnp.min(products[1], axis=-1)
        return PDHGState((x, y), products, (x, y), products, (x, y), lr / norm,
                         jnp.full(gap.shape, primal_weight, a.dtype), init_restart(gap),
                         jnp.zeros((), jnp.int32))

    def update(game, state):
        a = game.matrix
        (x, y), (ay, ax) = state.z, state.products
        eta, omega = state.eta[..., None], state.omega[..., None]
        x_new = project_simplex(x + eta / omega * ay)
        ax_new = jnp.matmul(x_new[..., None, :], a)[..., 0, :]
        y_new = project_simplex(y - eta * omega * (2 * ax_new - ax))
        ay_new = jnp.matmul(a, y_new[..., None])[..., 0]
        gap = jnp.max(ay_new, axis=-1) - jnp.min(ax_new, axis=-1)

        # Halpern step on the reflected operator; products follow by linearity.
        k = state.restart.since.astype(a.dtype)[..., None]
        w = (k + 1) / (k + 2)

        def halpern(new, old, anchor):
            return w * ((1 + reflection) * new - reflection * old) + (1 - w) * anchor

        z = (halpern(x_new, x, state.anchor[0]), halpern(y_new, y, state.anchor[1]))
        products = (halpern(ay_new, ay, state.anchor_products[0]),
                    halpern(ax_new, ax, state.anchor_products[1]))

        step = state.step + 1
        restart, restart_state = restart_step(state.restart, gap, step, thresholds)
        # Primal weight from the anchor displacement (PDLP's smoothed update).
        dx = jnp.linalg.norm(x_new - state.anchor[0], axis=-1)
        dy = jnp.linalg.norm(y_new - state.anchor[1], axis=-1)
        moved = restart & (dx > 1e-10) & (dy > 1e-10)
        ratio = jnp.where(moved, dy / jnp.where(moved, dx, 1.0), 1.0)
        omega_new = jnp.where(
            moved,
            jnp.exp(weight_smoothing * jnp.log(ratio)
                    + (1 - weight_smoothing) * jnp.log(state.omega)),
            state.omega,
        )
        r = restart[..., None]
        pick = lambda new, old: jnp.where(r, new, old)
        fresh = (x_new, y_new)
        fresh_products = (ay_new, ax_new)
        return PDHGState(
            z=tuple(map(pick, fresh, z)),
            products=tuple(map(pick, fresh_products, products)),
            anchor=tuple(map(pick, fresh, state.anchor)),
            anchor_products=tuple(map(pick, fresh_products, state.anchor_products)),
            last=fresh,
            eta=state.eta,
            omega=omega_new,
            restart=restart_state,
            step=step,
        )

    solver = Solver(init, update, lambda game, state: state.last, name="pdhg")
    return maybe_polish(solver, polish)
