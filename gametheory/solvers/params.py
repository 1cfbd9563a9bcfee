"""Strict checks of solver hyper-parameters, shared by the normal-form and sequence-form solvers.

Every solver factory validates its arguments with these helpers, so the Python API and the
command line (``--set key=value``, parsed by :func:`parse_value`) accept exactly the same values
and every error names the parameter the user wrote:

    >>> check_flag("no", "extragradient")
    False
    >>> check_count(0, "reset_every")
    Traceback (most recent call last):
    ...
    ValueError: reset_every must be a positive integer; got 0.
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable

__all__ = [
    "FLAG_WORDS",
    "as_schedule",
    "check_choice",
    "check_count",
    "check_flag",
    "check_nonnegative",
    "check_real",
    "did_you_mean",
    "effective_parameters",
    "parse_value",
    "solver_parameters",
]

#: The spellings a boolean switch accepts (case-insensitive), as strings or numbers 0/1.
FLAG_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_flag(value, name: str) -> bool:
    """A boolean switch: ``True``/``False``, ``0``/``1`` or one of the strings true/false/yes/no/
    1/0 (any case). Anything else raises ``ValueError`` naming ``name``."""
    if isinstance(value, bool):
        return value
    if _is_number(value) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in FLAG_WORDS:
        return FLAG_WORDS[value.strip().lower()]
    if hasattr(value, "shape") and getattr(value, "shape", None) == () and value in (0, 1):
        return bool(value)  # a NumPy / JAX scalar 0 or 1
    raise ValueError(
        f"{name} is a switch: use true/false, yes/no or 1/0; got {value!r}."
    )


def as_schedule(value, name: str) -> Callable:
    """Turn a finite positive constant, or a callable ``step -> value``, into a callable."""
    if callable(value):
        return value
    if isinstance(value, (bool, str)):  # typed text (the command line): a number is the fix
        raise ValueError(f"{name} must be a number > 0; got {value!r}.")
    if value is None:
        raise ValueError(f"{name} must be a number or a callable of the step; got {value!r}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number or a callable of the step; got {value!r}."
        ) from None
    if not number > 0 or not math.isfinite(number):
        raise ValueError(f"{name} must be a finite positive number; got {value!r}.")
    return lambda step: number


def check_real(value, name: str, minimum: float | None = None) -> float:
    """A finite number (``>= minimum`` when given; not a bool or a string)."""
    bound = "" if minimum is None else f" >= {minimum:g}"
    if isinstance(value, (bool, str)) or value is None:
        raise ValueError(f"{name} must be a finite number{bound}; got {value!r}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number{bound}; got {value!r}.") from None
    if not math.isfinite(number) or (minimum is not None and not number >= minimum):
        raise ValueError(f"{name} must be a finite number{bound}; got {value!r}.")
    return number


def check_nonnegative(value, name: str) -> float:
    """A finite number ``>= 0`` (not a bool or a string)."""
    return check_real(value, name, minimum=0.0)


def check_count(value, name: str, allow_none: bool = False):
    """A positive integer (an integral float such as ``200.0`` is accepted); ``None`` only with
    ``allow_none``."""
    if value is None and allow_none:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        extra = " or none" if allow_none else ""
        raise ValueError(f"{name} must be a positive integer{extra}; got {value!r}.")
    return value


def check_choice(value, name: str, choices) -> str:
    """One of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}; got {value!r}.")
    return value


def parse_value(text: str):
    """Parse a command-line ``--set`` value: an int, a float, a boolean word
    (true/false/yes/no, any case), ``none``, or else the bare string.

    ``"1"``/``"0"`` stay integers; a solver's switch accepts them through :func:`check_flag`.
    """
    lowered = text.strip().lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false", "yes", "no"):
        return FLAG_WORDS[lowered]
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip()


def did_you_mean(name: str, candidates) -> str:
    """`` Did you mean 'x'?`` for the closest candidate (difflib), or an empty string."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if not close:
        # Prefix matches catch abbreviations such as 'leduc' -> 'leduc_poker'.
        close = sorted(c for c in candidates if c.startswith(name))[:1] if name else []
    return f" Did you mean {close[0]!r}?" if close else ""


def solver_parameters(factory) -> dict:
    """``{parameter: default}`` of a solver factory."""
    return {k: p.default for k, p in inspect.signature(factory).parameters.items()}


def effective_parameters(factory, params: dict) -> dict:
    """The factory's defaults updated with ``params``: every value a run actually used.

    Raises ``ValueError`` for a name the factory does not take, listing its real parameters.
    """
    known = solver_parameters(factory)
    unknown = sorted(set(params) - set(known))
    if unknown:
        hint = did_you_mean(unknown[0], known) if len(unknown) == 1 else ""
        raise ValueError(
            f"no parameter {', '.join(unknown)}; its parameters are: "
            f"{', '.join(known) or 'none'}.{hint}"
        )
    return {**known, **params}
