"""Sequence form of a two-player zero-sum OpenSpiel game, built once in NumPy, used as a pytree.

:func:`sequence_form_game` walks the OpenSpiel game tree once (:mod:`gametheory.efg.build`;
the original walk below stays as ``method="walk"``, the reference of the tests) and records,
per player, every information state (its parent sequence and legal actions), and for every
terminal history the pair of sequences leading to it with its chance-weighted payoff. Payoffs
are kept **sparse**: a list of ``(row, col, value)`` triplets of player 0's payoff matrix over
sequence pairs; the dense ``[S_0, S_1]`` matrix is never built.

Conventions: player 0 maximises ``x^T A y`` and player 1 minimises it, where ``x``, ``y`` are
realization plans (``x[0] = y[0] = 1`` on the empty sequence). Exploitability is NashConv / 2, the
quantity ``pyspiel.exploitability`` returns.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .treeplex import Treeplex, build_treeplex, device_array

Array = Any

__all__ = ["SequenceFormGame", "SequenceFormInfo", "sequence_form_game", "load_openspiel_game",
           "DEFAULT_MAX_NODES"]

#: Largest number of histories :func:`sequence_form_game` walks before giving up: about 200 bytes
#: and 1-2 microseconds each, so the default allows about 4 GB and a minute or two.
DEFAULT_MAX_NODES = 20_000_000


@dataclasses.dataclass(frozen=True, eq=False)
class SequenceFormInfo:
    """NumPy-side metadata (not traced): information state strings and action ids.

    ``infosets[p][i]`` is the information state string of player ``p``'s infoset ``i`` and
    ``actions[p][i, k]`` the OpenSpiel action id in slot ``k`` (``-1`` on padded slots).
    ``seq_index[p]`` is the ``[I, A]`` sequence id of each slot (``-1`` on padded slots).
    Equality and hashing use ``key`` (the OpenSpiel game string and the sizes), so two builds of
    one game share jit caches.
    """

    key: str
    game_string: str
    infosets: tuple
    actions: tuple
    seq_index: tuple

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, SequenceFormInfo) and other.key == self.key


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SequenceFormGame:
    """Two-player zero-sum extensive-form game in sequence form (a JAX pytree).

    Leaves: ``treeplexes`` (one :class:`~gametheory.efg.treeplex.Treeplex` per player) and the
    sparse payoff ``payoff_rows``, ``payoff_cols``, ``payoff_values`` (``[nnz]`` each): player 0's
    chance-weighted payoff ``A[row, col]`` summed over the terminal histories reached by that
    pair of sequences. ``infoset_reach``: per player ``[I]`` probability of reaching each infoset
    when chance plays as given, the opponent uniformly and the player towards it (used as
    per-infoset weights of the dilated regulariser). ``utility_range``: ``[2]`` smallest and
    largest terminal payoff of player 0. ``reach_terms``: per player a sparse ``[I, S_opp]``
    matrix (rows, columns, chance weights) whose product with the opponent's realization plan is
    the probability of reaching each infoset (:meth:`infoset_reach_of`).
    Static: ``name`` and ``info`` (:class:`SequenceFormInfo`).
    """

    treeplexes: tuple
    payoff_rows: Array
    payoff_cols: Array
    payoff_values: Array
    infoset_reach: tuple
    utility_range: Array  # [2] smallest and largest terminal payoff of player 0
    reach_terms: tuple  # per player (rows [K], opponent sequences [K], chance weights [K])
    name: str = dataclasses.field(default="efg", metadata=dict(static=True))
    info: SequenceFormInfo | None = dataclasses.field(default=None, metadata=dict(static=True))

    num_players = 2

    @property
    def num_sequences(self) -> tuple[int, int]:
        return tuple(t.num_sequences for t in self.treeplexes)

    @property
    def num_infosets(self) -> tuple[int, int]:
        return tuple(t.num_infosets for t in self.treeplexes)

    @property
    def num_actions(self) -> tuple[int, int]:
        """Sequence counts: the length of each player's realization plan."""
        return self.num_sequences

    @property
    def nnz(self) -> int:
        return int(self.payoff_values.shape[0])

    # --- payoffs -------------------------------------------------------------------------
    def gradients(self, plans) -> tuple:
        """``(A y, -A^T x)``: each player's payoff per own sequence against the other's plan."""
        x, y = plans
        return self.payoff_gradient(0, y), self.payoff_gradient(1, x)

    def payoff_gradient(self, player: int, opponent_plan) -> Array:
        """One player's gradient against the other's plan: ``A y`` for player 0, ``-A^T x`` for
        player 1 (one sparse product; alternating solvers need one player's at a time)."""
        v = self.payoff_values
        if player == 0:
            return jax.ops.segment_sum(v * opponent_plan[self.payoff_cols], self.payoff_rows,
                                       num_segments=self.num_sequences[0],
                                       indices_are_sorted=True)
        return -jax.ops.segment_sum(v * opponent_plan[self.payoff_rows], self.payoff_cols,
                                    num_segments=self.num_sequences[1])

    def value(self, plans) -> Array:
        """Player 0's expected payoff ``x^T A y``."""
        x, y = plans
        return jnp.sum(self.payoff_values * x[self.payoff_rows] * y[self.payoff_cols])

    def dense_payoff(self) -> np.ndarray:
        """Dense ``[S_0, S_1]`` matrix ``A`` (small games and tests only)."""
        a = np.zeros(self.num_sequences)
        np.add.at(a, (np.asarray(self.payoff_rows), np.asarray(self.payoff_cols)),
                  np.asarray(self.payoff_values))
        return a

    # --- metrics (see gametheory.efg.metrics) ---------------------------------------------
    def nash_conv(self, plans) -> Array:
        """Sum over both players of the gain of a best response (OpenSpiel's NashConv)."""
        from .metrics import nash_conv

        return nash_conv(self, plans)

    def exploitability(self, plans) -> Array:
        """NashConv / 2 (``pyspiel.exploitability``'s convention); jit- and vmap-able."""
        return self.nash_conv(plans) / 2

    def infoset_reach_of(self, player: int, opponent_plan) -> Array:
        """``[I]`` probability that chance and the opponent's plan reach each infoset of
        ``player`` (the player itself playing towards it)."""
        rows, cols, vals = self.reach_terms[player]
        return jax.ops.segment_sum(vals * opponent_plan[cols], rows,
                                   num_segments=self.num_infosets[player])

    def payoff_scale(self) -> Array:
        """The unit of the sequence-form solvers' step sizes (:mod:`gametheory.solvers.scale`):
        half the range of the terminal payoffs times the largest infoset reach probability (chance
        x uniform opponent). With reach-weighted dilated entropy, the step at infoset ``I`` is
        ``lr / w_I`` for ``w_I = reach(I) / max reach``, and the payoffs it sees are about
        ``reach(I)`` times the conditional payoffs; their product is ``lr`` times the
        conditional payoff times the largest reach, whatever the chance weighting and depth of
        ``I``. Merging chance outcomes (e.g. Leduc with suit isomorphism) raises the largest
        reach and so the scale."""
        low, high = self.utility_range[..., 0], self.utility_range[..., 1]
        half = (high - low) / 2
        reach = jnp.maximum(*(jnp.max(r, axis=-1) for r in self.infoset_reach))
        s = half * reach
        return jnp.where(s > 0, s, jnp.ones_like(s))

    def check_policies(self, plans) -> None:
        """Raise ``ValueError`` unless ``plans`` are realization plans of this game (an initial
        profile given to a solver; batched plans are checked inside the solver)."""
        from .policies import check_plans

        if all(np.ndim(x) == 1 for x in plans):
            check_plans(self, plans)

    def uniform_policies(self) -> tuple:
        """Realization plans of the uniform behavioural policies."""
        from .policies import uniform_plans

        return uniform_plans(self)


# --------------------------------------------------------------------------------------------
# Building from OpenSpiel
# --------------------------------------------------------------------------------------------


def load_openspiel_game(game):
    """A pyspiel game from a game string or object, converted to turn-based if simultaneous,
    after checking it is a two-player zero-sum game with explicit chance."""
    try:
        import pyspiel
    except ImportError as err:  # pragma: no cover - open-spiel is an install extra
        raise ImportError(
            "extensive-form games need OpenSpiel: pip install 'gametheory[openspiel]'."
        ) from err
    if isinstance(game, str):
        try:
            game = pyspiel.load_game(game)
        except pyspiel.SpielError as err:
            raise ValueError(f"OpenSpiel cannot load game {game!r}: {err}") from None
    elif not isinstance(game, pyspiel.Game):
        raise ValueError(
            f"expected an OpenSpiel game string or pyspiel.Game; got {type(game).__name__}."
        )
    gtype = game.get_type()
    if game.num_players() != 2:
        raise ValueError(
            f"{game} has {game.num_players()} players; the sequence form here supports exactly "
            "2 players (two-player zero-sum games). Pick a 2-player variant, e.g. players=2."
        )
    if gtype.utility != pyspiel.GameType.Utility.ZERO_SUM:
        raise ValueError(
            f"{game} is not zero-sum (utility {gtype.utility.name}); the sequence-form solvers "
            "and exploitability need a two-player ZERO_SUM game."
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


def _walk(game, max_nodes: int, bar=None) -> dict:
    """Walk the tree once; return the raw (unsorted) description of both treeplexes.

    ``bar``: an optional tqdm counter of the histories walked."""
    n_act = game.num_distinct_actions()
    infosets = [{}, {}]  # key -> index
    parents = [[], []]  # encoded parent sequence: -1 empty, else index * n_act + action
    legal = [[], []]
    reach = [[], []]  # chance x uniform-opponent reach of each infoset
    reach_terms = [{}, {}]  # (infoset, opponent's encoded sequence) -> chance probability
    rows, cols, vals = [], [], []
    low, high = np.inf, -np.inf
    stack = [(game.new_initial_state(), 1.0, -1, -1, 1.0, 1.0)]
    nodes = 0
    while stack:
        state, prob, s0, s1, u0, u1 = stack.pop()
        nodes += 1
        if bar is not None and nodes % 4096 == 0:
            bar.update(4096)
        if nodes > max_nodes:
            raise ValueError(
                f"{game} has more than max_nodes={max_nodes} histories; the sequence form is "
                "built by walking the whole tree. Pass a larger max_nodes= if you have the "
                "memory and time, or use a smaller variant of the game."
            )
        if state.is_terminal():
            ret = state.returns()
            if abs(ret[0] + ret[1]) > 1e-9 * max(1.0, abs(ret[0])):
                raise ValueError(f"{game}: terminal returns {ret} do not sum to zero.")
            rows.append(s0)
            cols.append(s1)
            vals.append(prob * ret[0])
            low, high = min(low, ret[0]), max(high, ret[0])
            continue
        if state.is_chance_node():
            for a, p in state.chance_outcomes():
                if p > 0:
                    stack.append((state.child(a), prob * p, s0, s1, u0, u1))
            continue
        player = state.current_player()
        if player not in (0, 1):
            raise ValueError(f"{game}: unexpected player id {player} (simultaneous node?).")
        key = state.information_state_string(player)
        actions = state.legal_actions()
        parent = s0 if player == 0 else s1
        idx = infosets[player].get(key)
        if idx is None:
            idx = len(parents[player])
            infosets[player][key] = idx
            parents[player].append(parent)
            legal[player].append(actions)
            reach[player].append(0.0)
        elif parents[player][idx] != parent or legal[player][idx] != actions:
            raise ValueError(
                f"{game} does not have perfect recall: infoset {key!r} of player {player} is "
                "reached from two different own sequences (or with different legal actions)."
            )
        reach[player][idx] += prob * (u1 if player == 0 else u0)
        key2 = (idx, s1 if player == 0 else s0)
        reach_terms[player][key2] = reach_terms[player].get(key2, 0.0) + prob
        share = 1.0 / len(actions)
        for a in actions:
            seq = idx * n_act + a
            child = state.child(a)
            stack.append((child, prob, seq, s1, u0 * share, u1) if player == 0
                         else (child, prob, s0, seq, u0, u1 * share))
    return dict(n_act=n_act, infosets=infosets, parents=parents, legal=legal, reach=reach,
                reach_terms=reach_terms,
                rows=np.asarray(rows, np.int64), cols=np.asarray(cols, np.int64),
                vals=np.asarray(vals, np.float64), nodes=nodes,
                utility_range=np.array([low, high], np.float64))


def _layout(raw: dict) -> dict:
    """Sort infosets by level and number sequences; return plain arrays (the cacheable form)."""
    n_act = raw["n_act"]
    out = {}
    encoded_to_seq = []
    _order = []
    for p in range(2):
        keys = list(raw["infosets"][p])
        parents = raw["parents"][p]
        n = len(keys)
        level = np.zeros(n, np.int64)
        for i in range(n):  # parents are discovered before children, so one pass suffices
            par = parents[i]
            level[i] = 0 if par < 0 else level[par // n_act] + 1
        order = np.argsort(level, kind="stable")
        _order.append(order)
        width = max((len(a) for a in raw["legal"][p]), default=1)
        actions = np.full((n, width), -1, np.int64)
        for new, old in enumerate(order):
            acts = raw["legal"][p][old]
            actions[new, : len(acts)] = acts
        mask = actions >= 0
        seq_index = np.full((n, width), -1, np.int64)
        seq_index[mask] = np.arange(1, int(mask.sum()) + 1)
        # encoded (old infoset, action) -> sequence id
        code = {-1: 0}
        for new, old in enumerate(order):
            for k, a in enumerate(actions[new][mask[new]]):
                code[int(old) * n_act + int(a)] = int(seq_index[new, k])
        parent_seq = np.array([code[parents[old]] for old in order], np.int64)
        out[f"p{p}_infosets"] = np.array([keys[o] for o in order], dtype=str)
        out[f"p{p}_actions"] = actions
        out[f"p{p}_parent"] = parent_seq
        out[f"p{p}_level"] = level[order]
        out[f"p{p}_reach"] = np.asarray(raw["reach"][p], np.float64)[order]
        encoded_to_seq.append(code)
    for p in range(2):  # chance-weighted reach of each infoset per opponent sequence
        terms = raw["reach_terms"][p]
        position = {int(old): new for new, old in enumerate(_order[p])}
        out[f"p{p}_reach_rows"] = np.array([position[i] for i, _ in terms], np.int64)
        out[f"p{p}_reach_cols"] = np.array([encoded_to_seq[1 - p][int(c)] for _, c in terms],
                                           np.int64)
        out[f"p{p}_reach_vals"] = np.array(list(terms.values()), np.float64)
    rows = np.array([encoded_to_seq[0][int(r)] for r in raw["rows"]], np.int64)
    cols = np.array([encoded_to_seq[1][int(c)] for c in raw["cols"]], np.int64)
    # Sum duplicate pairs, sort by row (then column), drop exact zeros.
    pairs = rows * (max(cols.max(initial=0), 0) + 1) + cols
    uniq, inv = np.unique(pairs, return_inverse=True)
    vals = np.zeros(len(uniq))
    np.add.at(vals, inv, raw["vals"])
    width = max(cols.max(initial=0), 0) + 1
    keep = vals != 0
    out["payoff_rows"] = (uniq // width)[keep]
    out["payoff_cols"] = (uniq % width)[keep]
    out["payoff_values"] = vals[keep]
    out["utility_range"] = raw["utility_range"]
    return out


def _from_arrays(arrays: dict, game_string: str, name: str, dtype=None) -> SequenceFormGame:
    dtype = dtype or jnp.asarray(0.0).dtype
    treeplexes, infosets, actions, seq_indices = [], [], [], []
    for p in range(2):
        acts = np.asarray(arrays[f"p{p}_actions"])
        tp, seq_index = build_treeplex(arrays[f"p{p}_parent"], arrays[f"p{p}_level"], acts >= 0)
        treeplexes.append(tp)
        infosets.append(tuple(str(s) for s in arrays[f"p{p}_infosets"]))
        actions.append(acts)
        seq_indices.append(seq_index)
    sizes = tuple(t.num_sequences for t in treeplexes)
    info = SequenceFormInfo(
        key=f"{game_string}|{sizes}|{len(arrays['payoff_values'])}",
        game_string=game_string,
        infosets=tuple(infosets),
        actions=tuple(actions),
        seq_index=tuple(seq_indices),
    )
    return SequenceFormGame(
        treeplexes=tuple(treeplexes),
        payoff_rows=device_array(arrays["payoff_rows"], jnp.int32),
        payoff_cols=device_array(arrays["payoff_cols"], jnp.int32),
        payoff_values=device_array(arrays["payoff_values"], dtype),
        infoset_reach=tuple(device_array(arrays[f"p{p}_reach"], dtype) for p in range(2)),
        utility_range=device_array(arrays["utility_range"], dtype),
        reach_terms=tuple(
            (device_array(arrays[f"p{p}_reach_rows"], jnp.int32),
             device_array(arrays[f"p{p}_reach_cols"], jnp.int32),
             device_array(arrays[f"p{p}_reach_vals"], dtype)) for p in range(2)),
        name=name,
        info=info,
    )


def sequence_form_game(game, cache_dir="auto", max_nodes: int = DEFAULT_MAX_NODES,
                       dtype=None, progress: bool = False, workers: int | None = None,
                       method: str = "fast") -> SequenceFormGame:
    """Sequence form of a two-player zero-sum OpenSpiel game.

    Args:
      game: an OpenSpiel game string (``"kuhn_poker"``,
        ``"liars_dice(numdice=1,dice_sides=4)"``) or a ``pyspiel.Game``. Simultaneous-move games
        are converted with ``pyspiel.convert_to_turn_based``.
      cache_dir: where built games are kept (``.npz``, plain arrays, no pickle;
        :mod:`gametheory.efg.cache`), so that the tree is walked once. ``"auto"`` (default):
        large games only (liar's dice 1x6 and up: about 0.6 s to build, 0.03 s to load) in
        ``~/.cache/gametheory/sequence_form`` or ``$GAMETHEORY_CACHE`` (``off`` turns it
        off); a folder: every game, there; ``None``: no cache. A cached game loads even when
        it has more than ``max_nodes`` histories.
      max_nodes: the largest number of histories walked before a ``ValueError``.
      dtype: float dtype of the payoffs (default: JAX's default float).
      progress: show a tqdm counter of the histories walked (large games take a while:
        tic_tac_toe has 549946 histories).
      workers: processes walking the subtrees below the root chance outcomes of large games
        (``None``: the idle cores, at most 8, see :func:`gametheory.efg.build.default_workers`;
        ``1``: no worker processes). The result does not depend on it.
      method: ``"fast"`` (:mod:`gametheory.efg.build`) or ``"walk"`` (the original per-node
        Python walk, kept as the reference; same arrays, about 2x slower on one core; it
        skips the automatic cache).

    Raises ``ValueError`` for games that are not two-player zero-sum, not perfect-recall, have
    sampled chance or more than ``max_nodes`` histories.
    """
    from . import cache

    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer; got {max_nodes!r}.")
    if method not in ("fast", "walk"):
        raise ValueError(f"method must be 'fast' or 'walk'; got {method!r}.")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(f"workers must be a positive integer or None; got {workers!r}.")
    os_game = load_openspiel_game(game)
    game_string = str(os_game)
    name = game if isinstance(game, str) else os_game.get_type().short_name
    folder, automatic = cache.resolve(cache_dir)
    if automatic and method == "walk":  # the reference walk is there to be timed and compared
        folder = None
    arrays = cache.load(folder, game_string) if folder is not None else None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc=f"{game_string}: walking the tree", unit=" histories",
                   mininterval=0.5, leave=False)
    try:
        built = arrays is None
        if arrays is None and method == "walk":
            raw = _walk(os_game, max_nodes, bar)
            if bar is not None:
                bar.set_description_str(f"{game_string}: numbering sequences")
            arrays = _layout(raw)
        elif arrays is None:
            from .build import build_arrays

            arrays = build_arrays(os_game, max_nodes, workers, bar)
        if folder is not None and built and (
                not automatic or arrays["payoff_values"].size >= cache.AUTO_MIN_PAYOFFS):
            cache.save(folder, game_string, arrays)
        if bar is not None:
            bar.set_description_str(f"{game_string}: building treeplexes")
        return _from_arrays(arrays, game_string, name, dtype)
    finally:
        if bar is not None:
            bar.close()


def treeplex_of(game: SequenceFormGame, player: int) -> Treeplex:
    return game.treeplexes[player]
