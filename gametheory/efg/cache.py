"""On-disk cache of sequence-form arrays: one ``.npz`` per game string, no pickle.

:func:`gametheory.efg.sequence_form_game` uses it in two ways:

* ``cache_dir=<folder>``: every game built is stored there and loaded from there afterwards;
* ``cache_dir="auto"`` (the default): large games only (at least :data:`AUTO_MIN_PAYOFFS`
  terminal payoff entries: liar's dice 1x6 and larger, not Kuhn or Leduc) are stored in
  :func:`default_dir` -- ``$GAMETHEORY_CACHE`` if set (``off`` turns the cache off), else
  ``$XDG_CACHE_HOME/gametheory/sequence_form`` or ``~/.cache/gametheory/sequence_form``.

A file is found by a digest of the game string, the installed OpenSpiel version (the rules come
from it) and the source of the modules that build the arrays (a change to the build makes new
files, never stale ones). An unreadable file is reported with a warning and the game rebuilt;
a folder that cannot be written loses the cache, not the game.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pathlib
import warnings
import zipfile

import numpy as np

__all__ = ["cache_path", "load", "save", "default_dir", "resolve", "AUTO_MIN_PAYOFFS",
           "CACHE_ENV"]

_VERSION = "4"

#: Environment variable naming the automatic cache's folder; ``off`` (or ``0``, ``false``,
#: ``none``, empty) turns the automatic cache off.
CACHE_ENV = "GAMETHEORY_CACHE"

#: With ``cache_dir="auto"`` only games with at least this many terminal payoff entries are
#: written: liar's dice 1x6 has 147,420 (its tree walk takes about 0.6 s on one core, loading
#: the file 0.03 s), Leduc 4,920 and liar's dice 1x5 25,575 (built in a fraction of that).
AUTO_MIN_PAYOFFS = 50_000

_OFF = ("", "0", "off", "false", "none", "no")
#: The modules whose source decides the cached arrays (see the module docstring).
_BUILD_MODULES = ("fast_walk.py", "fast_layout.py", "build.py", "sequence_form.py", "cache.py")


def default_dir() -> pathlib.Path | None:
    """The automatic cache's folder (``None`` when ``$GAMETHEORY_CACHE`` turns it off)."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        if value.strip().lower() in _OFF:
            return None
        return pathlib.Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "gametheory" / "sequence_form"


def resolve(cache_dir) -> tuple[pathlib.Path | None, bool]:
    """``(folder or None, automatic)`` for a ``cache_dir`` argument: ``"auto"``, ``None`` /
    ``False`` (off) or a folder."""
    if isinstance(cache_dir, str) and cache_dir.strip().lower() == "auto":
        return default_dir(), True
    if cache_dir is None or cache_dir is False:
        return None, False
    if not isinstance(cache_dir, (str, os.PathLike)):
        raise ValueError(f"cache_dir must be a folder, 'auto' or None; got {cache_dir!r}.")
    return pathlib.Path(cache_dir), False


@functools.cache
def _build_digest() -> str:
    """OpenSpiel's version and the source of the build modules, hashed."""
    from importlib import metadata

    try:
        openspiel = metadata.version("open_spiel")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source build of OpenSpiel
        import pyspiel

        openspiel = getattr(pyspiel, "__file__", "unknown")
    h = hashlib.sha256(f"{_VERSION}|{openspiel}".encode())
    here = pathlib.Path(__file__).parent
    for name in _BUILD_MODULES:
        h.update((here / name).read_bytes())
    return h.hexdigest()


def cache_path(cache_dir, game_string: str) -> pathlib.Path:
    digest = hashlib.sha256(f"{_build_digest()}|{game_string}".encode()).hexdigest()[:16]
    stem = "".join(c if c.isalnum() else "_" for c in game_string.split("(")[0])[:40]
    return pathlib.Path(cache_dir) / f"{stem}-{digest}.npz"


def load(cache_dir, game_string: str) -> dict | None:
    """The cached arrays of ``game_string``, or ``None`` when absent, for another game or
    unreadable (a warning then says which file)."""
    path = cache_path(cache_dir, game_string)
    try:
        if not path.is_file():
            return None
    except OSError:  # e.g. a component of the folder is a file
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if (str(data["game_string"]) != game_string
                    or str(data["build"]) != _build_digest()):
                return None
            return {k: data[k] for k in data.files if k not in ("game_string", "build")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        warnings.warn(f"sequence-form cache file {path} is unreadable ({exc}); rebuilding "
                      f"{game_string} and writing it again.", RuntimeWarning, stacklevel=3)
        return None


def save(cache_dir, game_string: str, arrays: dict) -> pathlib.Path | None:
    """Write ``arrays`` atomically (temporary file, then rename); ``None`` with a warning when
    the folder cannot be written."""
    path = cache_path(cache_dir, game_string)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(tmp, game_string=np.array(game_string),
                            build=np.array(_build_digest()), **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        warnings.warn(f"could not write the sequence-form cache file {path} ({exc}); the game "
                      f"is built but not cached (cache_dir=None or {CACHE_ENV}=off skips the "
                      "cache).", RuntimeWarning, stacklevel=3)
        return None
    finally:  # a write that failed or was interrupted (Ctrl-C) leaves no partial file
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    return path
