"""One command-line style for every subcommand: help, value checks, errors and progress bars.

* **Help.** :class:`HelpFormatter` shows every option with its default (``[default: 1000]``;
  switches ``off``; ``required`` for required options) and the choices of a fixed set; a
  description keeps its line breaks (file formats, examples).
* **Errors.** :class:`Parser` turns every command-line mistake (a bad value, an unknown option,
  a missing argument) into one :class:`UsageError` line that names the option, says what is
  wrong and how to fix it; :func:`gametheory.cli.main` prints it and exits with status 2, like
  the ``ValueError`` s the commands raise. Value checks that argparse runs while parsing
  (:func:`integer`, :func:`number`, :func:`choice`) name the option the same way.
* **Progress.** :func:`add_progress_option` adds ``--progress / --no-progress`` and
  :func:`progress_enabled` applies the one rule: a bar when stderr is a terminal, none when it
  is redirected to a file or a pipe, unless forced either way.
"""

from __future__ import annotations

import argparse
import math
import re
import sys

from ..solvers.params import did_you_mean

__all__ = [
    "UsageError",
    "Parser",
    "HelpFormatter",
    "add_subcommand",
    "add_progress_option",
    "progress_enabled",
    "integer",
    "number",
    "choice",
    "option_error",
]

PROGRESS_HELP = ("progress bar on stderr; --no-progress hides it, --progress forces it "
                 "[default: shown when stderr is a terminal, hidden when it is redirected]")


class UsageError(ValueError):
    """A bad command line: the message is one line naming the option and the fix."""


def option_error(option: str, problem: str, fix: str) -> UsageError:
    """``"OPTION: problem; fix."`` as a :class:`UsageError` (one line, exit status 2)."""
    end = "" if fix.endswith(("?", "!")) else "."
    return UsageError(f"{option}: {problem.rstrip('.')}; {fix.rstrip('.')}{end}")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default (and a fixed set's choices, when the
    invocation does not already show them); descriptions keep their line breaks."""

    def __init__(self, prog, indent_increment=2, max_help_position=30, width=None):
        super().__init__(prog, indent_increment, max_help_position, width)

    def _get_help_string(self, action) -> str:
        text = action.help or ""
        if not action.option_strings or action.default is argparse.SUPPRESS:
            return text
        if "default" in text.lower() or "required" in text.lower():
            return text
        if action.required:
            return f"{text} [required]".strip()
        return f"{text} [default: {_default_text(action)}]".strip()


def _default_text(action) -> str:
    from .output import format_value

    default = action.default
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        return "on" if default else "off"
    if isinstance(default, bool):
        return "on" if default else "off"
    if default is None:
        return "none"
    return format_value(default).replace("%", "%%")


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are one :class:`UsageError` line (see the module
    docstring); subcommand parsers created from it are of the same class."""

    def error(self, message: str):
        raise UsageError(self._one_line(message))

    def _one_line(self, message: str) -> str:
        see = f"see `{self.prog} --help`"
        required = re.fullmatch(r"the following arguments are required: (.+)", message)
        if required:
            names = required.group(1)
            if names == "command":
                return ("a subcommand is missing: give one of "
                        f"{', '.join(self._commands())} ({see}).")
            if names == "--solver":
                return "--solver: missing; add --solver NAME (`gametheory solvers` lists them)."
            if not names.startswith("-"):
                return f"{names.upper()}: missing; give it before the options ({see})."
            return f"{names}: missing; add {names} ({see})."
        match = re.fullmatch(r"argument (\S+?)(?:/\S+)?: (.*)", message, flags=re.S)
        if not match:
            return f"{message} ({see})."
        option, problem = match.groups()
        if option == "command":
            bad = re.search(r"invalid choice: '([^']*)'", problem)
            name = bad.group(1) if bad else ""
            commands = self._commands()
            return (f"unknown command {name!r}; choose one of {', '.join(commands)}."
                    + did_you_mean(name, commands) + f" ({see})")
        invalid = re.fullmatch(r"invalid choice: '([^']*)' \(choose from (.*)\)", problem)
        if invalid:
            value, options = invalid.groups()
            choices = [c.strip(" '") for c in options.split(",")]
            return (f"{option}: {value!r} is not one of {', '.join(choices)}; choose one of "
                    "them." + did_you_mean(value, choices))
        if problem.startswith("expected one argument"):
            return f"{option}: a value is missing; write {option} VALUE ({see})."
        return f"{option}: {problem}" + ("" if problem.endswith((".", "?")) else ".")

    def _commands(self) -> list[str]:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return list(action.choices)
        return []

    def parse_args(self, args=None, namespace=None):
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = self._subcommand_parser(parsed) or self
            options = [s for a in parser._actions for s in a.option_strings]
            word = extras[0]
            if word.startswith("-"):
                raise UsageError(f"{word}: unknown option of `{parser.prog}`."
                                 + did_you_mean(word.split("=")[0], options)
                                 + f" (see `{parser.prog} --help`)")
            raise UsageError(f"{word!r}: unexpected argument of `{parser.prog}`; one game (or "
                             f"file) per run, options start with -- (see `{parser.prog} "
                             "--help`).")
        return parsed

    def _subcommand_parser(self, parsed):
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices.get(getattr(parsed, action.dest, None))
        return None


def add_subcommand(subparsers, name: str, help: str, description: str) -> Parser:
    """A subcommand parser in the shared style (:class:`Parser`, :class:`HelpFormatter`)."""
    return subparsers.add_parser(name, help=help, description=description,
                                 formatter_class=HelpFormatter)


def add_progress_option(parser) -> None:
    """``--progress / --no-progress`` (default: a bar only when stderr is a terminal)."""
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help=PROGRESS_HELP)


def progress_enabled(args) -> bool:
    """The progress rule: ``--progress`` / ``--no-progress`` when given, else whether stderr
    is a terminal (a bar's frames never land in a redirected file)."""
    forced = getattr(args, "progress", None)
    if forced is not None:
        return bool(forced)
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # closed or replaced stderr
        return False


def integer(minimum: int | None = None, example: int | None = None):
    """An argparse ``type``: an integer ``>= minimum``, with a message that gives an example."""

    def convert(text: str) -> int:
        eg = f", e.g. {example}" if example is not None else ""
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number; give an integer"
                + (f" >= {minimum}" if minimum is not None else "") + eg) from None
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}; got {value}{eg}")
        return value

    convert.__name__ = "integer"
    return convert


def number(minimum: float | None = None, strict: bool = False, maximum: float | None = None,
           example: float | None = None):
    """An argparse ``type``: a finite float ``>= minimum`` (``> minimum`` with ``strict``) and
    ``< maximum``."""

    def convert(text: str) -> float:
        eg = f", e.g. {example:g}" if example is not None else ""
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number; give a number{eg}"
                                             ) from None
        low_ok = minimum is None or (value > minimum if strict else value >= minimum)
        high_ok = maximum is None or value < maximum
        if not math.isfinite(value) or not low_ok or not high_ok:
            parts = []
            if minimum is not None:
                parts.append(f"{'>' if strict else '>='} {minimum:g}")
            if maximum is not None:
                parts.append(f"< {maximum:g}")
            bound = " and ".join(parts)
            raise argparse.ArgumentTypeError(
                f"must be a finite number{' ' + bound if bound else ''}; got {text}{eg}")
        return value

    convert.__name__ = "number"
    return convert


def choice(noun: str, choices):
    """An argparse ``type`` for one of ``choices``, whose error says ``unknown NOUN 'x'`` with
    the choices and the closest one. Pass the same ``choices=`` to ``add_argument`` so that the
    help shows them."""
    choices = tuple(choices)

    def convert(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(
                f"unknown {noun} {text!r}; choose one of {', '.join(choices)}."
                + did_you_mean(text, choices))
        return text

    convert.__name__ = noun
    return convert
