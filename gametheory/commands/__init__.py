"""The subcommands of the ``gametheory`` command line (:mod:`gametheory.cli`).

Each module exposes ``add_parser(subparsers)``, which adds its subcommand and sets
``func(args) -> exit code``; :func:`gametheory.cli.build_parser` registers them one line each.

Ctrl-C: the command runs in a worker thread while the main thread waits. On Ctrl-C the main
thread sets ``args.stop`` (a ``threading.Event``); a command that checks it between units of
work (see :func:`stop_requested`) writes its partial result and raises :class:`Interrupted`.
A command may also set ``args.on_interrupt`` to a function that prints what it has and returns
a one-line summary; it is called when the command does not stop within a grace period.
"""

from __future__ import annotations

__all__ = ["Interrupted", "stop_requested"]


class Interrupted(Exception):
    """Raised by a command that stopped on Ctrl-C; the message is the one line to print."""


def stop_requested(args) -> bool:
    """Whether Ctrl-C was pressed during the command ``args.func``."""
    stop = getattr(args, "stop", None)
    return stop is not None and stop.is_set()
