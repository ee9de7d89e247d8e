"""How many points an epoch chart draws (pure; no Gradio, no Plotly).

A page redraws a whole Plotly chart for every update of it, so its cost follows the points and
markers drawn: both are bounded here, however long the run. Up to ``MAX_EPOCH_POINTS`` epochs
each epoch is one point; a longer history is thinned (``thin_history``), its newest
``EXACT_TAIL`` epochs always drawn one by one. Up to ``MARKERS_UP_TO`` points a trace marks each
point (an SVG node each); beyond, it is a line only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

#: Most epochs one trace draws; a longer history is thinned (``thin_history``).
MAX_EPOCH_POINTS = 300
#: The newest epochs a thinned history keeps every one of.
EXACT_TAIL = 50
#: Most points a trace draws with a marker each; a longer trace is drawn as a line only.
MARKERS_UP_TO = 60

T = TypeVar("T")


def thin_history(history: Sequence[T], max_points: int = MAX_EPOCH_POINTS,
                 tail: int = EXACT_TAIL) -> list[T]:
    """At most ``max_points`` of ``history``, in order: all of it when it is no longer; else
    its newest ``tail`` items and every k-th older one from the first (k as small as fits), so
    the older points drawn stay the same from one epoch to the next until k grows.

    Args:
        history: One item per epoch, in order (``EpochMetrics``).
        max_points: Most items returned (> ``tail``).
        tail: Newest items always kept.
    """
    if len(history) <= max_points:
        return list(history)
    older = history[:len(history) - tail]
    step = -(-len(older) // (max_points - tail))  # ceil
    return [*older[::step], *history[len(history) - tail:]]


def trace_mode(points: int) -> str:
    """Plotly's scatter mode for a trace of ``points`` points: markers on short traces only."""
    return "lines+markers" if points <= MARKERS_UP_TO else "lines"
