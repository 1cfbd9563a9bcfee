"""Trainer callbacks: hooks named like ``transformers.TrainerCallback``'s.

Subclass :class:`TrainerCallback` and override the hooks you need; every hook gets the trainer
itself (read ``trainer.step_count``, ``trainer.history``, ``trainer.args``, ``trainer.model``...):

* ``on_train_begin(trainer)``: ``train()`` starts (after a resume has been loaded);
* ``on_step_end(trainer, metrics)``: a self-play iteration ended; ``metrics`` is its logged dict;
* ``on_evaluate(trainer, metrics)``: an evaluation ended with ``metrics``;
* ``on_save(trainer, path)``: a checkpoint folder ``path`` was written;
* ``on_train_end(trainer)``: ``train()`` is about to return.

**Stopping early.** A hook may set ``trainer.should_stop = True``; the trainer checks the flag
after each ``on_step_end`` (and ``on_evaluate``) and ends the run as if ``max_steps`` had been
reached (``on_train_end`` still runs). The handler never resets the flag; the trainer clears it
when ``train()`` starts.

Hooks run on every process, in the order the callbacks were given; an exception in a hook
propagates (it is not swallowed). :class:`CallbackHandler` validates the callbacks and
dispatches ``handler.call("on_step_end", trainer, metrics)``.
"""

from __future__ import annotations

__all__ = ["TrainerCallback", "CallbackHandler", "EVENTS"]

#: The hook names :meth:`CallbackHandler.call` dispatches.
EVENTS = ("on_train_begin", "on_step_end", "on_evaluate", "on_save", "on_train_end")


class TrainerCallback:
    """Base class of trainer callbacks; every hook is a no-op. Set ``trainer.should_stop = True``
    in a hook to end training after the current iteration."""

    def on_train_begin(self, trainer) -> None:
        """``train()`` starts."""

    def on_step_end(self, trainer, metrics: dict) -> None:
        """A self-play iteration ended; ``metrics`` is what it logged."""

    def on_evaluate(self, trainer, metrics: dict) -> None:
        """An evaluation ended with ``metrics``."""

    def on_save(self, trainer, path) -> None:
        """A checkpoint was written to ``path``."""

    def on_train_end(self, trainer) -> None:
        """``train()`` is about to return."""


def _as_callback(cb) -> TrainerCallback:
    if isinstance(cb, type):
        if issubclass(cb, TrainerCallback):
            return cb()
        raise ValueError(f"callback {cb.__qualname__} is a class that does not subclass "
                         "llm_adapter.trainer.callbacks.TrainerCallback; subclass it and "
                         "override the hooks you need.")
    if isinstance(cb, TrainerCallback):
        return cb
    raise ValueError(f"callback {cb!r} (a {type(cb).__name__}) is not a TrainerCallback; pass "
                     "instances or subclasses of llm_adapter.trainer.callbacks.TrainerCallback.")


class CallbackHandler:
    """The trainer's list of callbacks. ``callbacks``: ``TrainerCallback`` instances or
    subclasses (instantiated with no arguments), or None. Raises ``ValueError`` naming any other
    object."""

    def __init__(self, callbacks=None):
        if isinstance(callbacks, (TrainerCallback, type)):
            callbacks = [callbacks]
        self.callbacks: list[TrainerCallback] = [_as_callback(cb) for cb in (callbacks or [])]

    def add_callback(self, callback) -> TrainerCallback:
        """Append ``callback`` (an instance or a subclass); returns the instance."""
        cb = _as_callback(callback)
        self.callbacks.append(cb)
        return cb

    def remove_callback(self, callback) -> None:
        """Remove ``callback`` (the instance, or every instance of a class)."""
        if isinstance(callback, type):
            self.callbacks = [c for c in self.callbacks if not isinstance(c, callback)]
        else:
            self.callbacks = [c for c in self.callbacks if c is not callback]

    def call(self, event: str, trainer, *args) -> None:
        """Run hook ``event`` (one of :data:`EVENTS`) of each callback with
        ``(trainer, *args)``, in order."""
        if event not in EVENTS:
            raise ValueError(f"unknown callback event {event!r}; use one of {', '.join(EVENTS)}.")
        for cb in self.callbacks:
            getattr(cb, event)(trainer, *args)

    def __len__(self) -> int:
        return len(self.callbacks)

    def __iter__(self):
        return iter(self.callbacks)
