"""Behavioural policies, realization plans and OpenSpiel policies, converted every way.

* behavioural policy of a player: ``[I, A]`` probabilities (0 on padded slots), infosets in
  the treeplex order (``game.info.infosets[p]``), slot ``k`` = action
  ``game.info.actions[p][:, k]``;
* realization plan: ``[S]`` with ``x[0] = 1`` (empty sequence),
  ``x[seq(I, a)] = x[parent(I)] b(a | I)``;
* OpenSpiel: ``{information state string: {action id: probability}}`` dicts (JSON-ready) and
  ``open_spiel.python.policy.TabularPolicy``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .treeplex import to_padded, top_down

__all__ = [
    "uniform_behavioural",
    "uniform_plans",
    "random_behavioural",
    "behavioural_to_plans",
    "plans_to_behavioural",
    "plans_to_policy_dict",
    "policy_dict_to_plans",
    "to_pyspiel_policy",
    "plans_to_tabular_policy",
    "tabular_policy_to_plans",
    "check_plans",
]


def uniform_behavioural(game) -> tuple:
    return tuple(tp.mask / jnp.sum(tp.mask, axis=-1, keepdims=True) for tp in game.treeplexes)


def uniform_plans(game) -> tuple:
    return behavioural_to_plans(game, uniform_behavioural(game))


def random_behavioural(key, game, concentration: float = 1.0) -> tuple:
    """Dirichlet(``concentration``) behavioural policies over each infoset's legal actions."""
    out = []
    for k, tp in zip(jax.random.split(key, 2), game.treeplexes):
        g = jax.random.gamma(k, concentration, tp.mask.shape)
        g = jnp.where(tp.mask, g + 1e-30, 0.0)
        out.append(g / jnp.sum(g, axis=-1, keepdims=True))
    return tuple(out)


def behavioural_to_plans(game, behavioural) -> tuple:
    """Realization plans of behavioural policies ``([I_0, A_0], [I_1, A_1])``."""
    return tuple(top_down(tp, b) for tp, b in zip(game.treeplexes, behavioural))


def plans_to_behavioural(game, plans) -> tuple:
    """Behavioural policies of realization plans; uniform at infosets the plan never reaches."""
    out = []
    for tp, x in zip(game.treeplexes, plans):
        xp = to_padded(tp, x)
        total = jnp.sum(xp, axis=-1, keepdims=True)
        uniform = tp.mask / jnp.sum(tp.mask, axis=-1, keepdims=True)
        b = jnp.where(total > 0, xp / jnp.where(total > 0, total, 1.0), uniform)
        out.append(jnp.where(tp.mask, jnp.clip(b, 0.0, None), 0.0))
    return tuple(out)


def check_plans(game, plans, atol: float = 1e-6) -> None:
    """Raise ``ValueError`` unless ``plans`` are valid realization plans of ``game``."""
    if len(plans) != 2:
        raise ValueError(f"expected 2 realization plans (one per player); got {len(plans)}.")
    for p, (tp, x) in enumerate(zip(game.treeplexes, plans)):
        x = np.asarray(x, np.float64)
        if x.shape != (tp.num_sequences,):
            raise ValueError(
                f"plan of player {p} has shape {x.shape}; expected ({tp.num_sequences},)."
            )
        if not np.all(np.isfinite(x)) or np.any(x < -atol):
            raise ValueError(f"plan of player {p} has negative or non-finite entries.")
        if abs(x[0] - 1) > atol:
            raise ValueError(f"plan of player {p}: empty-sequence entry is {x[0]}, not 1.")
        seq = np.asarray(tp.seq_index)
        mask = np.asarray(tp.mask)
        sums = np.where(mask, x[seq], 0.0).sum(-1)
        bad = np.abs(sums - x[np.asarray(tp.parent)]) > atol
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"plan of player {p} violates the sequence-form constraint at infoset "
                f"{game.info.infosets[p][i]!r}: children sum to {sums[i]}, parent has "
                f"{x[np.asarray(tp.parent)][i]}."
            )


def plans_to_policy_dict(game, plans) -> list:
    """``[{info state string: {action id: probability}}]`` of both players (JSON-ready)."""
    out = []
    for p, b in enumerate(plans_to_behavioural(game, plans)):
        b = np.asarray(b, np.float64)
        acts = game.info.actions[p]
        out.append({
            key: {int(a): float(pr) for a, pr in zip(acts[i], b[i]) if a >= 0}
            for i, key in enumerate(game.info.infosets[p])
        })
    return out


def policy_dict_to_plans(game, policy_dicts, dtype=None) -> tuple:
    """Plans from ``{info state string: {action id: probability}}`` (one merged dict or a pair).

    Missing infosets are uniform; probabilities are renormalised over the legal actions.
    """
    if isinstance(policy_dicts, dict):
        policy_dicts = (policy_dicts, policy_dicts)
    behavioural = []
    for p in range(2):
        acts = game.info.actions[p]
        mask = acts >= 0
        b = mask / mask.sum(-1, keepdims=True)
        table = policy_dicts[p]
        for i, key in enumerate(game.info.infosets[p]):
            row = table.get(key)
            if row is None:
                continue
            lookup = {int(k): float(v) for k, v in dict(row).items()}
            probs = np.array([lookup.get(int(a), 0.0) if a >= 0 else 0.0 for a in acts[i]])
            if np.any(probs < 0) or not np.all(np.isfinite(probs)) or probs.sum() <= 0:
                raise ValueError(f"policy at infoset {key!r} is not a probability vector.")
            b[i] = probs / probs.sum()
        behavioural.append(jnp.asarray(b, dtype or jnp.asarray(0.0).dtype))
    return behavioural_to_plans(game, behavioural)


def to_pyspiel_policy(game, plans) -> dict:
    """``{info state string: [(action, probability)]}`` of both players, the mapping
    ``pyspiel.exploitability(game, policy)`` and ``pyspiel.TabularPolicy`` accept."""
    merged = {}
    for table in plans_to_policy_dict(game, plans):
        merged.update({k: list(v.items()) for k, v in table.items()})
    return merged


def _openspiel_game(game):
    import pyspiel

    return pyspiel.load_game(game.info.game_string)


def plans_to_tabular_policy(game, plans, openspiel_game=None):
    """An ``open_spiel.python.policy.TabularPolicy`` holding both players' behavioural policies."""
    from open_spiel.python import policy as os_policy

    tab = os_policy.TabularPolicy(openspiel_game or _openspiel_game(game))
    for table in plans_to_policy_dict(game, plans):
        for key, row in table.items():
            idx = tab.state_lookup.get(key)
            if idx is None:
                continue
            probs = tab.action_probability_array[idx]
            probs[:] = 0.0
            for a, pr in row.items():
                probs[a] = pr
    return tab


def tabular_policy_to_plans(game, tabular_policy, dtype=None) -> tuple:
    """Plans from an OpenSpiel ``TabularPolicy`` (or any ``policy_for_key``-style object)."""
    tab = tabular_policy
    tables = []
    for p in range(2):
        table = {}
        for key in game.info.infosets[p]:
            idx = tab.state_lookup.get(key)
            if idx is not None:
                table[key] = dict(enumerate(np.asarray(tab.action_probability_array[idx])))
        tables.append(table)
    return policy_dict_to_plans(game, tables, dtype)
