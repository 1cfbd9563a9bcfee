"""Plot helpers of the teaching notebooks: trajectories on the probability simplex.

A point ``p = (p_0, p_1, p_2)`` of the 2-simplex is drawn at ``p_1 * (1, 0) + p_2 * (1/2, √3/2)``
(barycentric coordinates of an equilateral triangle whose corners are the pure actions).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["to_plane", "simplex_axes", "plot_path"]

_CORNERS = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])


def to_plane(points) -> np.ndarray:
    """``[..., 3]`` probability vectors -> ``[..., 2]`` points in the triangle."""
    return np.asarray(points, dtype=float) @ _CORNERS


def simplex_axes(ax=None, labels=("a", "b", "c"), title=None):
    """A triangle with the pure actions at its corners; returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.9))
    ax.plot(*np.vstack([_CORNERS, _CORNERS[:1]]).T, color="0.3", lw=1)
    offsets = [(-0.04, -0.05), (0.04, -0.05), (0.0, 0.035)]
    for corner, label, (dx, dy) in zip(_CORNERS, labels, offsets):
        ax.text(corner[0] + dx, corner[1] + dy, label, ha="center", va="center")
    ax.set_aspect("equal")
    ax.set_xlim(-0.1, 1.1)
    ax.set_ylim(-0.1, 0.95)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_path(ax, points, label=None, color=None, lw=1.0, start=True, **kwargs):
    """Draw a trajectory ``[T, 3]`` on simplex axes, with its start (circle) and end (dot)."""
    xy = to_plane(points)
    (line,) = ax.plot(xy[:, 0], xy[:, 1], lw=lw, color=color, label=label, **kwargs)
    if start:
        ax.plot(*xy[0], "o", mfc="none", color=line.get_color(), ms=6)
    ax.plot(*xy[-1], ".", color=line.get_color(), ms=9)
    return line
