"""OpenSpiel information-state tensors of every infoset, in the treeplex order.

The MLP policies of the gradient oracle read one feature vector per infoset: OpenSpiel's
``information_state_tensor`` (e.g. 11 numbers in Kuhn poker, 30 in Leduc). They are collected
once by walking the game tree.
"""

from __future__ import annotations

import numpy as np

__all__ = ["information_state_features"]


def information_state_features(sequence_form_game) -> tuple[np.ndarray, np.ndarray]:
    """``(F_0 [I_0, d], F_1 [I_1, d])``: row ``i`` of ``F_p`` is the information-state tensor of
    player ``p``'s infoset ``sequence_form_game.info.infosets[p][i]``.

    Raises ``ValueError`` if the game has no information-state tensor.
    """
    import pyspiel

    info = sequence_form_game.info
    if info is None:
        raise ValueError("the sequence-form game carries no OpenSpiel metadata; build it with "
                         "gametheory.efg.sequence_form_game.")
    game = pyspiel.load_game(info.game_string)
    if not game.get_type().provides_information_state_tensor:
        raise ValueError(
            f"{info.game_string} has no information_state_tensor; use the tabular policy "
            "(policy='tabular') of the gradient oracle."
        )
    index = [{key: i for i, key in enumerate(info.infosets[p])} for p in range(2)]
    dim = game.information_state_tensor_size()
    out = [np.full((len(info.infosets[p]), dim), np.nan) for p in range(2)]
    stack = [game.new_initial_state()]
    while stack:
        state = stack.pop()
        if state.is_terminal():
            continue
        if state.is_chance_node():
            stack.extend(state.child(a) for a, p in state.chance_outcomes() if p > 0)
            continue
        player = state.current_player()
        row = index[player].get(state.information_state_string(player))
        if row is not None and np.isnan(out[player][row, 0]):
            out[player][row] = state.information_state_tensor(player)
        stack.extend(state.child(a) for a in state.legal_actions())
    for p in range(2):
        if np.isnan(out[p]).any():
            raise ValueError(f"player {p}: some infosets were not reached while collecting "
                             "information-state tensors.")
    return out[0], out[1]
