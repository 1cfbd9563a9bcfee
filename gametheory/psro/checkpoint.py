"""Checkpoints of a PSRO run: ``psro.npz`` (arrays) and ``psro.json`` (configuration, traces,
PRNG key); no pickle anywhere.

The run writes both after every iteration (each through a temporary file and an atomic
rename, arrays first). Both record the iteration, so a checkpoint torn between the two writes
is detected on loading instead of resuming from mixed iterations.

``psro.npz`` holds ``meta_game``, ``sigma_0``, ``sigma_1``, ``strategies_<pop>`` and
``params_<pop>_<member>_<leaf>`` for members with parameters (plus ``game_matrix`` when the
game cannot be rebuilt from text). ``psro.json`` holds the configuration, the traces, the number
of parameter leaves of every member (``-1``: none) and the key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .games import NORMAL_FORM, PSROGame, as_psro_game
from .state import PSROResult, PSROState

__all__ = ["save_checkpoint", "load_checkpoint", "load_run", "checkpoint_exists",
           "FORMAT_VERSION"]

FORMAT_VERSION = 1
_ARRAYS = "psro.npz"
_META = "psro.json"


def checkpoint_exists(directory) -> bool:
    """Whether ``directory`` holds a PSRO checkpoint."""
    return (Path(directory) / _META).is_file()


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        write(handle)
    os.replace(tmp, path)


def save_checkpoint(directory, game: PSROGame, config: dict, state: PSROState) -> None:
    """Write ``state`` (and ``config``) into ``directory`` (created if missing)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "iteration": np.asarray(state.iteration),
        "meta_game": np.asarray(state.meta_game, np.float64),
        "sigma_0": np.asarray(state.meta_strategies[0], np.float64),
        "sigma_1": np.asarray(state.meta_strategies[1], np.float64),
    }
    leaves = []
    for pop, (strategies, params) in enumerate(zip(state.strategies, state.params)):
        arrays[f"strategies_{pop}"] = np.asarray(strategies, np.float64)
        counts = []
        for member, member_params in enumerate(params):
            if member_params is None:
                counts.append(-1)
                continue
            counts.append(len(member_params))
            for leaf, value in enumerate(member_params):
                arrays[f"params_{pop}_{member}_{leaf}"] = np.asarray(value)
        leaves.append(counts)
    if game.spec is None:
        if game.kind != NORMAL_FORM:
            raise ValueError("this extensive-form game has no OpenSpiel game string to save; "
                             "build it with gametheory.efg.sequence_form_game.")
        arrays["game_matrix"] = game.payoff.toarray()
    meta = {
        "format": FORMAT_VERSION,
        "config": config,
        "iteration": state.iteration,
        "last": state.last,
        "key": [int(k) for k in np.asarray(state.key).ravel()],
        "exploitability": [float(v) for v in state.exploitability],
        "seconds": [float(v) for v in state.seconds],
        "oracle_gap": [float(v) for v in state.oracle_gap],
        "sizes": state.sizes,
        "stop": state.stop,
        "param_leaves": leaves,
    }
    _atomic_write(directory / _ARRAYS, lambda h: np.savez(h, **arrays))
    _atomic_write(directory / _META, lambda h: h.write(json.dumps(meta, indent=1).encode()))


def load_checkpoint(directory) -> tuple[dict, PSROState, np.ndarray | None]:
    """``(config, state, game_matrix_or_None)`` from ``directory``; ``ValueError`` if it holds
    no checkpoint or a damaged one."""
    directory = Path(directory)
    if not checkpoint_exists(directory):
        raise ValueError(f"{str(directory)!r} holds no PSRO checkpoint ({_META} is missing).")
    try:
        meta = json.loads((directory / _META).read_text())
        with np.load(directory / _ARRAYS, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (OSError, ValueError, KeyError) as err:
        raise ValueError(f"cannot read the PSRO checkpoint in {str(directory)!r}: {err}") from err
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"checkpoint format {meta.get('format')!r} is not supported (expected "
                         f"{FORMAT_VERSION}).")
    if int(arrays["iteration"]) != meta["iteration"]:
        raise ValueError(
            f"the checkpoint in {str(directory)!r} is torn (arrays at iteration "
            f"{int(arrays['iteration'])}, metadata at {meta['iteration']}); the run was "
            "interrupted while saving. Start a new run."
        )
    strategies, params = [], []
    for pop, counts in enumerate(meta["param_leaves"]):
        strategies.append(arrays[f"strategies_{pop}"])
        params.append([
            None if n < 0 else tuple(arrays[f"params_{pop}_{m}_{leaf}"] for leaf in range(n))
            for m, n in enumerate(counts)
        ])
    state = PSROState(
        iteration=meta["iteration"],
        strategies=strategies,
        params=params,
        meta_game=arrays["meta_game"],
        meta_strategies=(arrays["sigma_0"], arrays["sigma_1"]),
        last=meta["last"],
        key=np.asarray(meta["key"], np.uint32),
        exploitability=meta["exploitability"],
        seconds=meta["seconds"],
        oracle_gap=meta["oracle_gap"],
        sizes=meta["sizes"],
        stop=meta["stop"],
    )
    return meta["config"], state, arrays.get("game_matrix")


def load_run(directory, game=None) -> PSROResult:
    """Load a (finished or interrupted) run from its checkpoint directory.

    ``game``: the game, if it cannot be rebuilt from the text saved in the checkpoint (zoo name,
    file or OpenSpiel string); a normal-form game given as a matrix is saved with the run.
    """
    config, state, matrix = load_checkpoint(directory)
    if game is None:
        game = matrix if config["game"] is None else config["game"]
    return PSROResult(as_psro_game(game), config, state)
