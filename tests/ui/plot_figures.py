"""Turn what the chart builders return, or what a ``gr.Plot`` output carries, into a
``go.Figure``: Plotly validates every key on the way, so a misspelt property fails the test."""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
from gradio.components.plot import PlotData


def figure(value: Any) -> go.Figure:
    """A validated Figure from a figure dict or its JSON (a live chart's value), or a
    serialised ``PlotData`` (type "plotly"), or its dump (what an event with
    ``postprocess=False`` sends)."""
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, dict) and set(value) == {"type", "plot"}:
        value = PlotData(**value)
    if isinstance(value, PlotData):
        assert value.type == "plotly"
        value = json.loads(value.plot)
    assert isinstance(value, dict), f"expected a figure dict, got {type(value).__name__}"
    return go.Figure(value)
