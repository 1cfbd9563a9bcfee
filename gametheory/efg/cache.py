"""On-disk cache of sequence-form arrays: one ``.npz`` per game string, no pickle."""

from __future__ import annotations

import hashlib
import os
import pathlib

import numpy as np

__all__ = ["cache_path", "load", "save"]

_VERSION = "3"


def cache_path(cache_dir, game_string: str) -> pathlib.Path:
    digest = hashlib.sha256(f"{_VERSION}|{game_string}".encode()).hexdigest()[:16]
    stem = "".join(c if c.isalnum() else "_" for c in game_string.split("(")[0])[:40]
    return pathlib.Path(cache_dir) / f"{stem}-{digest}.npz"


def load(cache_dir, game_string: str) -> dict | None:
    """The cached arrays of ``game_string``, or ``None`` when absent or for another game."""
    path = cache_path(cache_dir, game_string)
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        if str(data["game_string"]) != game_string or str(data["version"]) != _VERSION:
            return None
        return {k: data[k] for k in data.files if k not in ("game_string", "version")}


def save(cache_dir, game_string: str, arrays: dict) -> pathlib.Path:
    """Write ``arrays`` atomically (temporary file, then rename)."""
    path = cache_path(cache_dir, game_string)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, game_string=np.array(game_string), version=np.array(_VERSION),
                        **arrays)
    os.replace(tmp, path)
    return path
