"""Learning-rate schedules by name, built with ``transformers.get_scheduler``.

:func:`make_scheduler` returns a ``torch.optim.lr_scheduler.LambdaLR`` whose multiplier at
optimiser step ``s`` (the number of ``scheduler.step()`` calls so far) is transformers' formula
for ``name``, e.g. ``get_linear_schedule_with_warmup``::

    s < W:  s / max(1, W)
    s >= W: max(0, (N - s) / max(1, N - W))

with ``W`` warmup steps and ``N = num_training_steps``. Call ``scheduler.step()`` once after each
*optimiser* step (not each micro-batch), so ``N`` counts optimiser steps: for the self-play
trainer that is ``max_steps * num_iterations``.

Note on ``accelerate``: ``accelerator.prepare(scheduler)`` returns an ``AcceleratedScheduler``
that, unless ``split_batches=True``, advances the schedule ``num_processes`` times per call
(accelerate assumes the dataloader length was divided by the number of processes); then build the
schedule with ``num_training_steps * num_processes`` and ``warmup_steps * num_processes``, or do not
``prepare`` it and step it yourself once per optimiser step.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["SCHEDULER_TYPES", "make_scheduler", "resolve_warmup_steps"]

#: The names :func:`make_scheduler` accepts: the ``transformers.SchedulerType`` values that need
#: nothing beyond ``num_warmup_steps`` / ``num_training_steps`` (``reduce_lr_on_plateau`` and
#: ``greedy`` step on a metric, ``cosine_with_min_lr``, ``cosine_warmup_with_min_lr`` and
#: ``warmup_stable_decay`` need extra arguments).
SCHEDULER_TYPES = ("constant", "constant_with_warmup", "linear", "cosine",
                   "cosine_with_restarts", "polynomial", "inverse_sqrt")

_NO_WARMUP = ("constant",)


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def resolve_warmup_steps(num_training_steps: int, warmup_steps: int = 0,
                         warmup_ratio: float = 0.0) -> int:
    """The number of warmup steps: ``warmup_steps`` if it is > 0, else
    ``ceil(warmup_ratio * num_training_steps)`` (the ``TrainingArguments.get_warmup_steps``
    convention of transformers 4.x and TRL)."""
    if not _is_int(num_training_steps) or num_training_steps < 1:
        raise ValueError(f"num_training_steps must be a positive integer (optimiser steps); got "
                         f"{num_training_steps!r}.")
    if not _is_int(warmup_steps):
        raise ValueError(f"warmup_steps must be a whole number of optimiser steps; got "
                         f"{warmup_steps!r} (for a fraction of the run use warmup_ratio).")
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0; got {warmup_steps}.")
    if (not isinstance(warmup_ratio, numbers.Real) or isinstance(warmup_ratio, bool)
            or not 0.0 <= warmup_ratio <= 1.0):
        raise ValueError(f"warmup_ratio must be a number in [0, 1] (a fraction of "
                         f"num_training_steps); got {warmup_ratio!r}.")
    steps = warmup_steps if warmup_steps > 0 else math.ceil(num_training_steps * warmup_ratio)
    if steps > num_training_steps:
        raise ValueError(f"warmup_steps={steps} exceeds num_training_steps={num_training_steps}: "
                         "the warmup would never finish; lower warmup_steps.")
    return steps


def make_scheduler(optimizer, name: str, num_training_steps: int, warmup_steps: int = 0,
                   warmup_ratio: float = 0.0):
    """A learning-rate schedule ``name`` (one of :data:`SCHEDULER_TYPES`) for ``optimizer``.

    ``num_training_steps``: optimiser steps in the whole run. Warmup: ``warmup_steps`` if > 0,
    else ``ceil(warmup_ratio * num_training_steps)`` (:func:`resolve_warmup_steps`). ``"constant"``
    has no warmup: asking for one raises (use ``"constant_with_warmup"``). Raises ``ValueError``
    for an unknown name, a negative ``warmup_steps``, a ratio outside ``[0, 1]`` or a warmup
    longer than the run.
    """
    from transformers import get_scheduler

    if name not in SCHEDULER_TYPES:
        raise ValueError(f"unknown lr_scheduler_type {name!r}; use one of "
                         f"{', '.join(SCHEDULER_TYPES)}.")
    warmup = resolve_warmup_steps(num_training_steps, warmup_steps, warmup_ratio)
    if name in _NO_WARMUP and warmup:
        raise ValueError(f"lr_scheduler_type={name!r} has no warmup but {warmup} warmup steps "
                         "were asked for; use 'constant_with_warmup', or set warmup_steps=0 and "
                         "warmup_ratio=0.")
    return get_scheduler(name, optimizer, num_warmup_steps=warmup,
                         num_training_steps=num_training_steps)
