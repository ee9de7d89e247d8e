"""Pure HTML/table builders for the dataset health check (``HealthReport``) and dataset summary.

No Gradio here: the Train tab puts the strings into ``gr.HTML`` components and the tests call
these directly. Every text that comes from a dataset (file names, messages, class names) is
HTML-escaped.
"""

from __future__ import annotations

import html
from typing import Any

#: Columns of the per-issue table.
HEALTH_COLUMNS = ["level", "code", "message", "count", "example files"]
#: (text colour, background colour) per issue level: blocking in red, warnings in amber.
LEVEL_COLORS = {"blocking": ("#991b1b", "#fee2e2"), "warning": ("#92400e", "#fef3c7")}
VERDICT_OK = "OK, ready to train"
VERDICT_BLOCKED = "BLOCKED: fix the problems below before training"
#: Example files listed in the cell before the rest is folded into a <details>.
INLINE_EXAMPLES = 3

_CELL = "padding:4px 8px;border:1px solid #d4d4d8;vertical-align:top;text-align:left"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def example_lines(issue: Any) -> list[str]:
    """``"file: detail"`` (or just the file) for each example file of a ``HealthIssue``."""
    details = tuple(getattr(issue, "details", ()) or ())
    lines = []
    for i, name in enumerate(issue.files):
        detail = details[i] if i < len(details) else ""
        lines.append(f"{name}: {detail}" if detail else str(name))
    return lines


def _examples_html(issue: Any) -> str:
    lines = [_e(line) for line in example_lines(issue)]
    if not lines:
        return ""
    shown = "<br>".join(f"<code>{line}</code>" for line in lines[:INLINE_EXAMPLES])
    rest = lines[INLINE_EXAMPLES:]
    more = issue.count - len(lines)
    if rest:
        folded = "<br>".join(f"<code>{line}</code>" for line in rest)
        shown += f"<details><summary>{len(rest)} more example(s)</summary>{folded}</details>"
    if more > 0:
        shown += f"<br><i>… and {more} more not listed</i>"
    return shown


def _issue_row(issue: Any) -> str:
    color, background = LEVEL_COLORS.get(issue.level, ("inherit", "transparent"))
    style = f"color:{color};background:{background}"
    cells = [f"<b>{_e(issue.level)}</b>", f"<code>{_e(issue.code)}</code>", _e(issue.message),
             _e(issue.count), _examples_html(issue)]
    tds = "".join(f'<td style="{_CELL}">{cell}</td>' for cell in cells)
    return (f'<tr class="health-issue health-{_e(issue.level)}" data-code="{_e(issue.code)}" '
            f'style="{style}">{tds}</tr>')


def health_table_html(report: Any) -> str:
    """The per-issue table of a ``HealthReport`` (empty string when there is no issue)."""
    if not report.issues:
        return ""
    head = "".join(f'<th style="{_CELL}">{_e(c)}</th>' for c in HEALTH_COLUMNS)
    rows = "".join(_issue_row(issue) for issue in report.issues)
    return (f'<table class="health-table" style="border-collapse:collapse;width:100%">'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")


def verdict(report: Any) -> str:
    """``VERDICT_OK`` (with the number of warnings) or ``VERDICT_BLOCKED``."""
    if report.blocking:
        return VERDICT_BLOCKED
    n = len(report.warnings)
    return VERDICT_OK + (f", with {n} warning(s)" if n else "")


def _verdict_html(report: Any) -> str:
    color = LEVEL_COLORS["blocking"][0] if report.blocking else "#166534"
    first = report.summary().splitlines()[0] if report.summary() else ""
    return (f'<p class="health-verdict" style="color:{color}"><b>Health check: '
            f"{_e(verdict(report))}</b><br>{_e(first)}</p>")


def report_html(report: Any) -> str:
    """Verdict line, counts and the per-issue table of a ``HealthReport``."""
    return f'<div class="health-report">{_verdict_html(report)}{health_table_html(report)}</div>'


def _splits(counts: dict[str, int]) -> str:
    return ", ".join(f"{split} {n}" for split, n in counts.items())


def dataset_html(info: Any, report: Any) -> str:
    """A dataset's summary (``DatasetInfo``: images per split, classes) and its health report."""
    classes = ", ".join(info.class_names)
    return (f'<div class="dataset-summary"><p><b>{_e(info.name)}</b>: {_e(info.snapshot)} '
            f"({_e(_splits(info.image_counts))})<br>Classes: {_e(classes)}</p>"
            f"{report_html(report)}</div>")


def import_ok_html(info: Any) -> str:
    """What an import produced. Its health report (warnings included) is the selected
    dataset's panel, which the import selects: not checked and drawn a second time here."""
    return (f"<p><b>Imported {_e(info.name)}.</b> {_e(info.snapshot)}; its health check is "
            "shown above.</p>")


def import_failed_html(message: str, report: Any = None) -> str:
    """Why an import failed: the message, and the per-issue table when a report came with it."""
    body = report_html(report) if report is not None and report.issues else ""
    color = LEVEL_COLORS["blocking"][0]
    return (f'<div class="import-failed"><p style="color:{color}"><b>Not imported.</b></p>'
            f'<pre style="white-space:pre-wrap">{_e(message)}</pre>{body}</div>')

