"""Resource alerts during a job: ``ResourceAlertsMixin`` of ``TrainingManager``.

The ResourceMonitor calls ``_on_resource_status`` with each reading; an alert is logged into the
running job's log once per job and per transition, and, when the job's
``stop_on_resource_alert`` is set, stops it gracefully (validated and registered).
"""

from __future__ import annotations

from typing import Any

from .registration import StopRequest


class ResourceAlertsMixin:
    """Uses ``TrainingManager``'s ``_lock``, ``_runs`` and ``executor``, and keeps
    ``_alerting`` (the last reading was constrained) and ``_alert_job`` (the job whose log has
    the current alert). The readings are this machine's: they concern the job that trains
    here (none when jobs train on a cluster's nodes)."""

    _lock: Any
    _runs: Any
    executor: Any
    _alerting: bool = False
    _alert_job: str | None = None

    def _on_resource_status(self, status: Any) -> None:
        """ResourceMonitor callback: log alerts into the running job's log (once per job and
        per transition); while constrained, stop the job gracefully when it asks for that."""
        constrained = bool(getattr(status, "constrained", False))
        with self._lock:
            changed, self._alerting = constrained != self._alerting, constrained
            run = self._runs.newest()
            if run is None or getattr(self.executor, "concurrent", False):
                return
            if not constrained:
                if changed:
                    run.board.append_log("Resource alert cleared.")
                return
            alerts = "; ".join(getattr(status, "alerts", ()) or ()) or "resource threshold exceeded"
            if changed or self._alert_job != run.job.job_id:
                self._alert_job = run.job.job_id
                run.board.append_log(f"Resource alert: {alerts}")
            if run.job.config.get("stop_on_resource_alert") and run.stop is None:
                run.stop = StopRequest("resource", f"stopped on resource alert: {alerts}")
                run.board.append_log("Stopping gracefully after the current batch "
                                     "(stop_on_resource_alert is on).")
