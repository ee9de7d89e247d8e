"""A live Plotly chart for the Monitor tab (its epoch charts and resource chart): a ``gr.HTML``
whose value is a figure's JSON and whose script draws it with the page's Plotly, one chart per
task, only while it is shown.

Why not ``gr.Plot``: on every update a page applies all of a stream's values in one task, and
each ``gr.Plot`` whose value changed redraws its whole figure (``Plotly.react`` and a resize)
inside it, so that task grows with every chart and every point: a page must open the
Monitor tab in under 1 s and no update may block it for more than 100 ms, at 300 epochs
(``tests/browser/test_long_run_charts.py``). Here each chart only keeps its
newest value when an update comes and draws it in a task of its own (``setTimeout``), after
the stream's update is applied; a chart on a hidden tab is not drawn at all until the tab
is shown (a ``ResizeObserver`` notices), and then only its newest value. What one draw costs
is bounded by ``chart_points`` (points and markers per trace) and, for the resource chart,
``charts.MAX_RESOURCE_POINTS``.

Plotly is the one Gradio bundles: its chunk (``PlotlyPlot-<hash>.js``, megabytes of script)
sets ``window.Plotly`` when it is evaluated. Gradio's Plot component imports it only once a plot
is shown, so it would be evaluated at the first opening of the Monitor tab, in one long task of
the page's main thread; the page imports it when idle after loading instead
(``plotly_preloader``, ``plotly_chunk``; ``tests/ui/test_tabs.py`` checks the installed
Gradio has the chunk; without it the charts wait for a ``gr.Plot``, the Models tab's, to load
Plotly). A chart without Plotly yet tries again every 100 ms. The graph div is Plotly's own
(``.js-plotly-plot``, with ``data`` and ``layout``), inside the component's ``elem_id``.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

#: Pixels the chart's box takes before its first draw (the figures' height: ``charts``).
HEIGHT_PX = 340
#: Milliseconds a chart waits after being shown or resized before it draws.
SETTLE_MS = 100

#: The preloader's script: imports Gradio's Plotly chunk (``CHUNK`` is replaced by its name,
#: ``plotly_chunk``) once the page is idle after loading, unless Plotly is there already.
PRELOAD_JS = """
const chunk = 'CHUNK', main = Array.from(document.scripts).find(
  (s) => /\\/assets\\/index-[^/]*\\.js$/.test(s.src));
if (chunk && main && !window.Plotly && !window.studioPlotly) {
  const idle = window.requestIdleCallback || ((go) => setTimeout(go, 1000));
  window.studioPlotly = new Promise((done) => idle(done, {timeout: 1000}))
    .then(() => import(new URL(chunk, main.src).href)).catch(() => null);
}
"""
#: The chart's script (``js_on_load``: ``element``, ``props`` and ``watch`` are Gradio's).
LIVE_CHART_JS = """
const box = element.querySelector('.studio-live-chart');
let pending = props.value || '', drawn = '', width = 0, timer = null;
const later = (ms) => { if (timer === null) timer = setTimeout(draw, ms); };
function draw() {
  timer = null;
  if (!box.getClientRects().length || !box.clientWidth) return;  // hidden: drawn when shown
  if (!window.Plotly) { later(100); return; }  // Gradio's Plot component loads it
  if (pending === drawn) {  // nothing new: follow a width change only
    if (drawn && box.clientWidth !== width) {
      width = box.clientWidth;
      window.Plotly.Plots.resize(box);
    }
    return;
  }
  const fig = JSON.parse(pending);
  drawn = pending;
  width = box.clientWidth;
  fig.layout.autosize = true;
  window.Plotly.react(box, fig.data, fig.layout, {responsive: true, displaylogo: false});
}
watch('value', () => { pending = props.value || ''; later(0); });
// shown, or resized: after the layout settles (a tab's elements and scrollbar come in
// over a few frames; a draw at a passing width would be drawn again)
new ResizeObserver(() => later(SETTLE_MS)).observe(box);
"""


def plotly_chunk(assets: Path | None = None) -> str:
    """The file name of Gradio's Plotly chunk among its frontend ``assets`` (default: the
    installed Gradio's), or "" when there is none (a Gradio built otherwise)."""
    assets = assets or Path(gr.__file__).parent / "templates" / "frontend" / "assets"
    names = sorted(p.name for p in assets.glob("PlotlyPlot-*.js"))
    return names[0] if len(names) == 1 else ""


def live_chart(elem_id: str) -> gr.HTML:
    """A live chart, empty until its first value: a Plotly figure's JSON (``figure_json``),
    sent as given (the stream's event has ``postprocess=False``)."""
    script = LIVE_CHART_JS.replace("SETTLE_MS", str(SETTLE_MS))
    return gr.HTML("", elem_id=elem_id, apply_default_css=False, js_on_load=script,
                   container=True,  # framed as the resource chart's gr.Plot
                   html_template=(f'<div class="studio-live-chart" style="width:100%;'
                                  f'min-height:{HEIGHT_PX}px"></div>'))


def plotly_preloader() -> gr.HTML:
    """An invisible element whose script loads Plotly once the page is idle after loading
    (``PRELOAD_JS``); build it outside the tabs (a hidden tab's elements exist only once it
    is opened)."""
    return gr.HTML("<style>#plotly-preload {display: none}</style>",  # no gap in the page
                   elem_id="plotly-preload", container=False, padding=False,
                   apply_default_css=False,
                   js_on_load=PRELOAD_JS.replace("CHUNK", plotly_chunk()))
