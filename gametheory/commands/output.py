"""Files a run writes and how values print: output paths checked before any work (every
problem names the option and the fix), the curve as CSV, the plot, and one formatter for numbers
and parameter values (never ``-0.0``; switches as ``true``/``false``)."""

from __future__ import annotations

import contextlib
import csv
import json
import os
from pathlib import Path

from .options import option_error

__all__ = ["check_output_path", "check_output_folder", "writing", "HistoryWriter",
           "plot_history", "FLOOR", "PLOT_SUFFIXES", "fmt", "format_value", "clean_json",
           "dumps"]

#: Exploitabilities below this are float64 round-off for payoffs of order 1; plots and tables
#: show them at this floor ("< 1e-15").
FLOOR = 1e-15

PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")

_WRITABLE = "choose a file in a folder you can write to"


def check_output_path(value: str | None, option: str, suffixes=None) -> Path | None:
    """Check that ``value`` can be written before any work: its folder exists, it is not a
    folder, its suffix is one of ``suffixes``, and the file can really be opened for writing
    (a file that did not exist is removed again). Every problem, any ``OSError`` included, is
    one ``ValueError`` line naming ``option`` and the fix."""
    if value is None:
        return None
    path = Path(value)
    where = f"{option} {value!r}"
    if path.is_dir():
        raise option_error(where, "is a folder", "give a file name in it")
    if suffixes and path.suffix.lower() not in suffixes:
        raise option_error(where, "unsupported file type",
                           f"use a file name ending in {', '.join(suffixes)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise option_error(where, f"folder {str(folder)!r} does not exist",
                           f"create it first (mkdir -p {folder}) or {_WRITABLE}")
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as err:
        raise option_error(where, f"cannot write there ({_reason(err)})", _WRITABLE) from None
    if not existed:
        with contextlib.suppress(OSError):
            path.unlink()
    return path


def check_output_folder(value: str | None, option: str, must_exist: bool = False
                        ) -> Path | None:
    """Check that folder ``value`` is writable, or (unless ``must_exist``) can be created: its
    nearest existing ancestor is a writable folder. Nothing is created. One ``ValueError`` line
    naming ``option`` otherwise."""
    if value is None:
        return None
    path = Path(value)
    where = f"{option} {value!r}"
    if path.exists() and not path.is_dir():
        raise option_error(where, "is a file, not a folder", "give a folder name")
    if must_exist and not path.is_dir():
        raise option_error(where, "folder does not exist", "give the folder of a saved run")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise option_error(where, f"{str(existing)!r} is a file, not a folder",
                           "choose a folder you can write to")
    probe = existing / f".gametheory-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise option_error(where, f"cannot write there ({_reason(err)})",
                           "choose a folder you can write to") from None
    return path


def _reason(err: OSError) -> str:
    """``No such file or directory`` (not ``[Errno 2] ...: '/proc/x.png'``)."""
    return err.strerror or type(err).__name__


@contextlib.contextmanager
def writing(option: str, path):
    """Turn an ``OSError`` while writing ``path`` (disk full, removed folder) into one
    ``ValueError`` line naming ``option``."""
    try:
        yield
    except OSError as err:
        raise option_error(f"{option} {str(path)!r}", f"writing failed ({_reason(err)})",
                           _WRITABLE) from None


def fmt(value, spec: str = "") -> str:
    """``format(value, spec)``, except that a value that prints as zero never shows a minus
    sign (``-0.0``, ``-0.0000`` from ``-1e-17``, ``-0.000e+00``); a width is kept."""
    text = format(value, spec)
    core = text.strip()
    if not core.startswith("-"):
        return text
    try:
        zero = float(core.rstrip("%")) == 0.0
    except ValueError:
        return text
    if not zero:
        return text
    unsigned = text.replace("-", "", 1)
    if len(text) > len(core):  # padded to a width: keep it
        unsigned = (unsigned.rjust(len(text)) if text.startswith(" ")
                    else unsigned.ljust(len(text)))
    return unsigned


def format_value(value) -> str:
    """A parameter or option value as a user types it on the command line: switches
    ``true``/``false``, ``none``, bare strings, numbers without ``-0.0``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, float):
        return "0.0" if value == 0 else repr(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    if callable(value):
        return getattr(value, "__name__", "callable")
    return str(value)


def clean_json(obj):
    """``obj`` ready for ``json.dumps``: ``-0.0`` becomes ``0.0``, NumPy scalars and arrays
    become Python numbers and lists, tuples become lists."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, dict):
        return {k: clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return 0.0 if obj == 0 else obj
    if hasattr(obj, "tolist"):  # NumPy / JAX arrays and scalars
        return clean_json(obj.tolist())
    return obj


def dumps(obj, indent=None) -> str:
    """``json.dumps`` of :func:`clean_json` (never ``-0.0``)."""
    return json.dumps(clean_json(obj), indent=indent)


class HistoryWriter:
    """The recorded curve as CSV, ``step,exploitability_last,exploitability_avg`` (with that
    header line), one row written and flushed per record."""

    COLUMNS = ("step", "exploitability_last", "exploitability_avg")

    def __init__(self, path: Path):
        self._file = open(path, "w", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(self.COLUMNS)

    def write(self, row) -> None:
        self._writer.writerow([row[0], format_value(float(row[1])),
                               format_value(float(row[2]))])
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def plot_history(path: Path, history: dict, title: str, ylabel: str) -> None:
    """Last- and average-iterate exploitability against iterations, log scale, floored at
    :data:`FLOOR`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    steps = np.asarray(history["step"])
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    lowest = np.inf
    for key, label, style in (("exploitability_last", "last iterate", "-"),
                              ("exploitability_avg", "average iterate", "--")):
        values = np.maximum(np.asarray(history[key], float), FLOOR)
        lowest = min(lowest, values.min())
        ax.plot(steps, values, style, label=label)
    ax.set_yscale("log")
    if lowest <= FLOOR:
        ax.axhline(FLOOR, color="0.6", lw=0.8, ls=":", label=f"values < {FLOOR:.0e}")
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
