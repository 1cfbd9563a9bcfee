"""Load a user's normal-form game from a file: ``.npy``/``.csv`` matrix or ``.npz`` tensor.

Formats (every error message repeats the one that applies):

* ``.csv``: the row player's payoff matrix of a two-player zero-sum game, one row per line,
  comma-separated numbers, no header (``np.savetxt(path, A, delimiter=",")``);
* ``.npy``: the same matrix as a NumPy array (``np.save(path, A)``);
* ``.npz``: an n-player payoff tensor ``[n, A_1, ..., A_n]`` under the key ``payoffs``
  (``np.savez(path, payoffs=T)``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .normal_form import matrix_game, nplayer_game

__all__ = ["load_game_file", "SUFFIXES", "FORMATS"]

SUFFIXES = (".npy", ".csv", ".npz")

#: What each suffix must hold, as the error messages say it.
FORMATS = {
    ".csv": "the row player's payoff matrix as comma-separated numbers, one row per line, no "
            "header (np.savetxt(path, A, delimiter=','))",
    ".npy": "the row player's payoff matrix as a NumPy array (np.save(path, A))",
    ".npz": "an n-player payoff tensor [n, A_1, ..., A_n] under the key 'payoffs' "
            "(np.savez(path, payoffs=T))",
}


def _fail(path: Path, problem: str) -> ValueError:
    return ValueError(f"cannot read game file {str(path)!r}: {problem}; expected "
                      f"{FORMATS[path.suffix]}.")


def _read_csv(path: Path) -> np.ndarray:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise _fail(path, "it is not a text file") from None
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line]
    if not lines:
        raise _fail(path, "the file is empty")
    rows = []
    for n, line in lines:
        if "," not in line and any(sep in line for sep in (";", "\t")):
            sep = "semicolons" if ";" in line else "tabs"
            raise _fail(path, f"line {n} separates values with {sep}, not commas")
        cells = line.split(",")
        if "," not in line and len(line.split()) > 1 and _all_numbers(line.split()):
            raise _fail(path, f"line {n} separates values with spaces, not commas")
        row = []
        for column, cell in enumerate(cells, 1):
            try:
                row.append(float(cell))
            except ValueError:
                raise _fail(path, _cell_problem(n, column, cell, cells,
                                                first=n == lines[0][0])) from None
        if rows and len(row) != len(rows[0]):
            raise _fail(path, f"line {n} has {len(row)} values but line {lines[0][0]} has "
                              f"{len(rows[0])}; every row needs one payoff per column")
        rows.append(row)
    return np.asarray(rows, dtype=np.float64)


def _all_numbers(words) -> bool:
    try:
        [float(w) for w in words]
    except ValueError:
        return False
    return True


def _cell_problem(n: int, column: int, cell: str, cells: list[str], first: bool) -> str:
    """Why a CSV cell is not a number, as precisely as the line shows: a trailing comma, an
    empty value, values separated by spaces, or (first line, words) a header."""
    text = cell.strip()
    if not text:
        if column == len(cells):
            return f"line {n} ends with a comma (a trailing comma?); remove it"
        return f"line {n} has an empty value at column {column} (two commas in a row?)"
    words = text.split()
    if len(words) > 1 and _all_numbers(words):
        return (f"line {n} has {text!r} at column {column}: values separated by spaces, not "
                "commas")
    if first and any(c.isalpha() for c in text):
        return f"line {n} has {text!r}, which is not a number (a header line?); remove it"
    return f"line {n} has {text!r} at column {column}, which is not a number"


def _read_npy(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        magic = f.read(6)
    if zipfile.is_zipfile(path):
        raise _fail(path, "it is an .npz archive; name it .npz")
    if magic != b"\x93NUMPY":
        raise _fail(path, "it is not a NumPy .npy file")
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError as err:
        if "pickle" in str(err):
            raise _fail(path, "it holds Python objects, not numbers") from None
        raise _fail(path, "it is not a NumPy .npy file") from None
    except (OSError, EOFError):
        raise _fail(path, "it is not a NumPy .npy file") from None
    if not np.issubdtype(data.dtype, np.number):
        raise _fail(path, f"it holds {data.dtype} values, not numbers")
    return data


def _read_npz(path: Path) -> np.ndarray:
    if not zipfile.is_zipfile(path):
        raise _fail(path, "it is not an .npz archive")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "payoffs" not in archive:
                found = ", ".join(repr(k) for k in archive.files) or "no arrays"
                raise _fail(path, f"it has no array named 'payoffs' (found {found})")
            data = archive["payoffs"]
    except ValueError as err:
        if "pickle" in str(err):
            raise _fail(path, "'payoffs' holds Python objects, not numbers") from None
        raise
    if not np.issubdtype(data.dtype, np.number):
        raise _fail(path, f"'payoffs' holds {data.dtype} values, not numbers")
    return data


def load_game_file(path):
    """Read a game from ``path`` (see the module docstring for the formats).

    * ``.npy`` or ``.csv``: a 2-player zero-sum matrix, the row player's payoffs ``[m, n]``;
    * ``.npz``: an n-player payoff tensor ``[n, A_1, ..., A_n]`` under the key ``payoffs``.

    Raises ValueError with the reason and the expected format if the file is missing,
    unreadable or holds bad values.
    """
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ValueError(
            f"unsupported game file {str(path)!r}; use .csv or .npy (a zero-sum matrix) or .npz "
            "(a payoff tensor under the key 'payoffs')."
        )
    if not path.is_file():
        raise ValueError(f"game file {str(path)!r} does not exist.")
    reader = {".csv": _read_csv, ".npy": _read_npy, ".npz": _read_npz}[path.suffix]
    data = reader(path)
    build = nplayer_game if path.suffix == ".npz" else matrix_game
    try:
        return build(data, name=path.name)
    except ValueError as err:
        raise ValueError(f"bad game in {str(path)!r}: {err} Expected {FORMATS[path.suffix]}."
                         ) from None
