"""Command line: ``gametheory games | solvers | solve | persuade | psro | tmecor``.

One style for every subcommand (:mod:`gametheory.commands.options`): ``--help`` shows every
option with its default and choices; errors (bad values, unknown names, unreadable files,
unwritable output paths) print one line to stderr that names the option, the problem and the
fix, and exit 2; a progress bar shows when stderr is a terminal (``--progress`` /
``--no-progress`` force it). Ctrl-C stops any command promptly: one line on stderr saying what
was kept, exit status 130 (``solve`` first prints and writes what it recorded). Subcommands live
in :mod:`gametheory.commands`, one module each with ``add_parser(subparsers)``, registered below
with one line each.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

from . import __version__
from .commands import Interrupted, listing, persuade, psro, solve, tmecor
from .commands.loading import load_game
from .commands.options import HelpFormatter, Parser, UsageError

__all__ = ["main", "load_game", "build_parser"]

#: Seconds a command gets after Ctrl-C to stop at its next check and print its partial result.
INTERRUPT_GRACE = 0.5


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="gametheory", formatter_class=HelpFormatter,
        description="Last-iterate Nash equilibrium solvers for normal- and extensive-form games."
                    "\n`gametheory COMMAND --help` lists a command's options with their defaults.",
    )
    parser.add_argument("--version", action="version", version=f"gametheory {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    listing.add_parser(sub)
    solve.add_parser(sub)
    persuade.add_parser(sub)
    psro.add_parser(sub)
    tmecor.add_parser(sub)
    return parser


def _error(text: str) -> None:
    print(f"gametheory: {text}", file=sys.stderr, flush=True)


def _wait(done: threading.Event, seconds: float) -> bool:
    """Sleep in short steps until ``done`` or ``seconds`` pass (a plain sleep is where Ctrl-C
    is delivered cleanly; an interrupted ``Thread.join`` can leave the thread looking dead)."""
    deadline = time.monotonic() + seconds
    while not done.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    return done.is_set()


def _run(args) -> int:
    """Run ``args.func`` in a worker thread so that Ctrl-C reaches the main thread at once,
    even while the worker waits for a compiled JAX program."""
    args.stop = threading.Event()
    done = threading.Event()
    outcome: dict = {}

    def work():
        try:
            outcome["code"] = args.func(args)
        except BaseException as err:  # re-raised in the main thread
            outcome["error"] = err
        finally:
            done.set()

    threading.Thread(target=work, name="gametheory-command", daemon=True).start()
    try:
        _wait(done, float("inf"))
    except KeyboardInterrupt:
        args.stop.set()
        try:
            finished = _wait(done, INTERRUPT_GRACE)
        except KeyboardInterrupt:  # a second Ctrl-C: leave now
            finished = False
        if not finished:  # busy in a compiled program or a tree walk: report and leave
            hook = getattr(args, "on_interrupt", None)
            line = hook() if hook is not None else "interrupted."
            _error(line)
            sys.stdout.flush()
            os._exit(130)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["code"]


def _interrupted(line: str, as_program: bool) -> int:
    _error(line)
    if as_program:  # skip the interpreter's (and XLA's) teardown: Ctrl-C should be prompt
        sys.stdout.flush()
        os._exit(130)
    return 130


def main(argv=None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    as_program = argv is None
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as err:
        _error(f"error: {err}")
        return 2
    try:
        return _run(args)
    except Interrupted as stop:
        return _interrupted(str(stop), as_program)
    except KeyboardInterrupt:
        return _interrupted("interrupted.", as_program)
    except (ValueError, OSError) as err:
        if isinstance(err, BrokenPipeError):  # e.g. `gametheory solvers | head`
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
        _error(f"error: {err}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
