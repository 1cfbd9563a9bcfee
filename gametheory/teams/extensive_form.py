"""Extensive-form team games from OpenSpiel: per-player treeplexes and a sparse payoff tensor.

One walk of the game tree records, for every player, each information state (its parent
sequence and legal actions) and, for every terminal history, the tuple of the players'
sequences leading to it with the chance probability and all players' returns. Entries with the
same sequence tuple are summed. The walk is cached per game string in memory, so teaming the
same game against different adversaries walks it once.
"""

from __future__ import annotations

import functools

import numpy as np

from .sequence_form import TeamGame, build_player_tree, check_team

__all__ = ["openspiel_team_game", "DEFAULT_MAX_NODES"]

#: Largest number of histories walked before giving up (3-player Leduc has 1.83 million).
DEFAULT_MAX_NODES = 3_000_000


def _load(game):
    try:
        import pyspiel
    except ImportError as err:  # pragma: no cover - open-spiel is an install extra
        raise ImportError(
            "extensive-form team games need OpenSpiel: pip install 'gametheory[openspiel]'."
        ) from err
    if isinstance(game, str):
        if game.split("(")[0].strip() not in pyspiel.registered_names():
            raise ValueError(
                f"unknown game {game!r}: not a built-in team game (heterogeneous, "
                "matching_bits), an .npz payoff tensor or an OpenSpiel game name."
            )
        try:
            game = pyspiel.load_game(game)
        except pyspiel.SpielError as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else "error"
            raise ValueError(f"OpenSpiel cannot load game {game!r}: {first}") from None
    elif not isinstance(game, pyspiel.Game):
        raise ValueError(
            f"expected an OpenSpiel game string or pyspiel.Game; got {type(game).__name__}."
        )
    gtype = game.get_type()
    if gtype.utility != pyspiel.GameType.Utility.ZERO_SUM:
        raise ValueError(
            f"{game} is not zero-sum (utility {gtype.utility.name}); a two-team zero-sum game "
            "needs the team's total utility to be minus the adversary's. Pick a ZERO_SUM game."
        )
    if gtype.dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS:
        game = pyspiel.convert_to_turn_based(game)
        gtype = game.get_type()
    if gtype.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL:
        raise ValueError(f"{game}: dynamics {gtype.dynamics.name} is not supported.")
    if gtype.chance_mode == pyspiel.GameType.ChanceMode.SAMPLED_STOCHASTIC:
        raise ValueError(
            f"{game} has sampled chance; the exact sequence form needs explicit chance outcomes."
        )
    if not gtype.provides_information_state_string:
        raise ValueError(f"{game} does not provide information state strings.")
    return game


def _walk(game, max_nodes: int) -> dict:
    """Walk the tree; per player infosets (key -> index, encoded parent, legal actions)."""
    n = game.num_players()
    n_act = game.num_distinct_actions()
    infosets = [{} for _ in range(n)]
    parents = [[] for _ in range(n)]
    legal = [[] for _ in range(n)]
    term_seqs, term_prob, term_returns = [], [], []
    stack = [(game.new_initial_state(), 1.0, (-1,) * n)]
    nodes = 0
    while stack:
        state, prob, seqs = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise ValueError(
                f"{game} has more than max_nodes={max_nodes} histories; pass a larger "
                "max_nodes= if you have the memory and time, or use a smaller game."
            )
        if state.is_terminal():
            ret = state.returns()
            if abs(sum(ret)) > 1e-9 * max(1.0, max(abs(r) for r in ret)):
                raise ValueError(f"{game}: terminal returns {ret} do not sum to zero.")
            term_seqs.append(seqs)
            term_prob.append(prob)
            term_returns.append(ret)
            continue
        if state.is_chance_node():
            for a, p in state.chance_outcomes():
                if p > 0:
                    stack.append((state.child(a), prob * p, seqs))
            continue
        player = state.current_player()
        if not 0 <= player < n:
            raise ValueError(f"{game}: unexpected player id {player} (simultaneous node?).")
        key = state.information_state_string(player)
        actions = state.legal_actions()
        parent = seqs[player]
        idx = infosets[player].get(key)
        if idx is None:
            idx = len(parents[player])
            infosets[player][key] = idx
            parents[player].append(parent)
            legal[player].append(actions)
        elif parents[player][idx] != parent or legal[player][idx] != actions:
            raise ValueError(
                f"{game} does not have perfect recall: infoset {key!r} of player {player} is "
                "reached from two different own sequences (or with different legal actions)."
            )
        for a in actions:
            child_seqs = seqs[:player] + (idx * n_act + a,) + seqs[player + 1:]
            stack.append((state.child(a), prob, child_seqs))
    return dict(n=n, n_act=n_act, infosets=infosets, parents=parents, legal=legal,
                seqs=np.asarray(term_seqs, np.int64).reshape(-1, n),
                prob=np.asarray(term_prob, np.float64),
                returns=np.asarray(term_returns, np.float64).reshape(-1, n), nodes=nodes)


def _layout(raw: dict) -> tuple[tuple, np.ndarray]:
    """Sort each player's infosets by level, number sequences as ``build_treeplex`` does, and
    translate the terminals' encoded sequences into sequence ids."""
    n_act = raw["n_act"]
    trees, seqs = [], np.zeros_like(raw["seqs"])
    for p in range(raw["n"]):
        keys = list(raw["infosets"][p])
        parents = raw["parents"][p]
        count = len(keys)
        level = np.zeros(count, np.int64)
        for i in range(count):  # parents are discovered before children
            par = parents[i]
            level[i] = 0 if par < 0 else level[par // n_act] + 1
        order = np.argsort(level, kind="stable")
        width = max((len(a) for a in raw["legal"][p]), default=1)
        actions = np.full((count, width), -1, np.int64)
        for new, old in enumerate(order):
            acts = raw["legal"][p][old]
            actions[new, : len(acts)] = acts
        mask = actions >= 0
        seq_ids = np.full((count, width), -1, np.int64)
        seq_ids[mask] = np.arange(1, int(mask.sum()) + 1)  # build_treeplex's numbering
        code = {-1: 0}
        for new, old in enumerate(order):
            for k in np.flatnonzero(mask[new]):
                code[int(old) * n_act + int(actions[new, k])] = int(seq_ids[new, k])
        parent_seq = np.array([code[parents[old]] for old in order], np.int64)
        trees.append(build_player_tree(parent_seq, level[order], actions,
                                       [keys[o] for o in order]))
        lookup = np.vectorize(code.__getitem__, otypes=[np.int64])
        seqs[:, p] = lookup(raw["seqs"][:, p]) if len(seqs) else seqs[:, p]
    return tuple(trees), seqs


@functools.lru_cache(maxsize=4)
def _walked(game_string: str, max_nodes: int) -> tuple:
    import pyspiel

    raw = _walk(pyspiel.load_game(game_string), max_nodes)
    trees, seqs = _layout(raw)
    return trees, seqs, raw["prob"], raw["returns"]


def openspiel_team_game(game, adversary: int, team=None,
                        max_nodes: int = DEFAULT_MAX_NODES) -> TeamGame:
    """An OpenSpiel zero-sum game with ``team`` (default: everyone else) against ``adversary``.

    E.g. ``openspiel_team_game("kuhn_poker(players=3)", adversary=2)``: players 0 and 1 form
    the team. The team's utility is the sum of its members' returns, i.e. minus the
    adversary's.

    Raises ``ValueError`` for games that are not zero-sum, not perfect-recall, have sampled
    chance or more than ``max_nodes`` histories, and for a team and adversary that do not
    partition the players.
    """
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer; got {max_nodes!r}.")
    os_game = _load(game)
    team, adversary = check_team(os_game.num_players(), adversary, team)
    game_string = str(os_game)
    trees, seqs, prob, returns = _walked(game_string, max_nodes)
    weighted = -prob * returns[:, adversary]
    # Sum the entries that share one sequence tuple; drop exact zeros.
    uniq, inverse = np.unique(seqs, axis=0, return_inverse=True)
    payoff = np.bincount(inverse.reshape(-1), weighted, minlength=len(uniq))
    keep = payoff != 0
    name = game if isinstance(game, str) else os_game.get_type().short_name
    return TeamGame(name=name, kind="extensive_form", trees=trees, seqs=uniq[keep],
                    payoff=payoff[keep], team=team, adversary=adversary, game_string=game_string)
