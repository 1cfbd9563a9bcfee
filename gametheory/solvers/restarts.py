"""Restarts triggered by measured progress, shared by PDHG and MPO.

A restarted method keeps an *anchor* (PDHG's Halpern anchor, MPO's magnet) and measures a
residual every step. It restarts (moves the anchor to the current iterate) when the residual,
relative to the largest residual ``r_0`` seen since the last restart,

* has fallen by the **sufficient** factor (``r <= 0.2 r_0``), or
* has fallen by the **necessary** factor and stopped falling (``r <= 0.5 r_0`` and
  ``r > r_prev``), or
* **artificially**, when the steps since the last restart reach a fraction of all steps so far
  (``k >= 0.36 t``), which bounds the number of restarts by ``O(log t)``.

These are the criteria of restarted Halpern PDHG as used by cuPDLPx (Lu, Peng and Yang 2025,
"cuPDLPx: a further enhanced GPU-based first-order solver for linear programming",
arXiv:2507.14051, Sec. 3; thresholds 0.2 / 0.5 / 0.36 as starting values), after PDLP's
adaptive restarts (Applegate et al. 2023, "Faster first-order primal-dual methods for linear
programming using restarts and sharpness", Math. Prog.). The residual is the solver's choice:
PDHG uses the exact NashConv of its iterate; MPO the l1 length of its last step, the
fixed-point residual of the regularised game it is solving. (COMAL does not use these rules: it
moves its reference when the regularised game's gap is below a tolerance.)
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

__all__ = ["RestartState", "check_thresholds", "init_restart", "restart_step",
           "DEFAULT_THRESHOLDS"]

#: (sufficient, necessary, artificial) thresholds.
DEFAULT_THRESHOLDS = (0.2, 0.5, 0.36)


class RestartState(NamedTuple):
    anchor: jnp.ndarray  # [...] largest residual since the last restart
    previous: jnp.ndarray  # [...] residual of the previous step
    since: jnp.ndarray  # [...] int32 steps since the last restart


def check_thresholds(thresholds, name: str = "restart") -> tuple[float, float, float]:
    """Validate ``(sufficient, necessary, artificial)``: each in (0, 1), sufficient <= necessary.

    A string ``"0.2,0.5,0.36"`` (the command line's ``--set``) is accepted too."""
    if isinstance(thresholds, str):
        thresholds = thresholds.split(",")
    try:
        values = tuple(float(v) for v in thresholds)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be three numbers (sufficient, necessary, artificial); "
            f"got {thresholds!r}."
        ) from None
    if len(values) != 3 or not all(0 < v < 1 for v in values) or values[0] > values[1]:
        raise ValueError(
            f"{name} must be (sufficient, necessary, artificial) with each in (0, 1) and "
            f"sufficient <= necessary, e.g. {DEFAULT_THRESHOLDS}; got {thresholds!r}."
        )
    return values


def init_restart(like) -> RestartState:
    """A fresh restart state shaped like the scalar-per-game array ``like``."""
    like = jnp.asarray(like)
    inf = jnp.full(like.shape, jnp.inf, like.dtype)
    return RestartState(inf, inf, jnp.zeros(like.shape, jnp.int32))


def restart_step(state: RestartState, residual, step, thresholds=DEFAULT_THRESHOLDS,
                 min_steps=1):
    """Feed this step's ``residual``; returns ``(restart, new_state)``.

    ``step`` is the number of steps taken so far, this one included. The reference ``r_0`` is
    the largest residual seen since the last restart (the residual can jump right after the
    anchor moves, so the first one is not a fair reference), and no restart happens before
    ``min_steps`` steps since the last one.
    """
    sufficient, necessary, artificial = thresholds
    since = state.since + 1
    anchor = jnp.where(state.since == 0, residual, jnp.maximum(state.anchor, residual))
    restart = (since >= jnp.maximum(min_steps, 2)) & (
        (residual <= sufficient * anchor)
        | ((residual <= necessary * anchor) & (residual > state.previous))
        | (since >= artificial * step)
    )
    return restart, RestartState(anchor, residual, jnp.where(restart, 0, since))
