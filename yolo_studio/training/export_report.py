"""What an export produced and how its model validated against best.pt (pure records).

An ``ExportReport`` is kept with the model (``weights/exports.json``, see
``persistence.model_artifacts``), shown in the Models tab, printed by the CLI and returned by
the Gradio API. Both validations run the same way (Ultralytics' ``val`` on the dataset's val
split, same imgsz, batch and device, ``rect=False`` as an exported model's validation uses), so
their difference is the export's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from ..persistence.model_artifacts import export_paths, export_reports
from .evaluation import ValidationResult

#: Table columns: label, ``ValidationResult`` attribute (``inference_ms``: its
#: ``speed_ms["inference"]``), decimals; mAP, precision and recall are fractions 0-1.
COLUMNS = (("mAP50-95", "map50_95", 3), ("mAP50", "map50", 3), ("precision", "precision", 3),
           ("recall", "recall", 3), ("latency ms", "inference_ms", 1))


def value(result: ValidationResult, attribute: str) -> float:
    """A ``COLUMNS`` figure of ``result``: latency is milliseconds of the forward pass per image
    (Ultralytics' ``speed["inference"]``), the rest its attributes."""
    if attribute == "inference_ms":
        return float(result.speed_ms.get("inference") or 0.0)
    return float(getattr(result, attribute))


def result_from_dict(data: Mapping[str, Any]) -> ValidationResult:
    """The ``ValidationResult`` of its ``dataclasses.asdict`` form (unknown keys ignored)."""
    values = {k: v for k, v in data.items() if k in ValidationResult.__dataclass_fields__}
    values["per_class"] = tuple(values.get("per_class") or ())
    return ValidationResult(**values)


@dataclass(frozen=True)
class ExportReport:
    """One export of a model and its validation.

    Attributes:
        format: The format key ("openvino"). name: Its display name ("OpenVINO").
        file: The export's path relative to the model folder ("weights/best_openvino_model").
        options: ``ExportOptions.to_dict()`` as used (imgsz filled in).
        created: ISO-8601 UTC time of the export. export_s: Seconds the export took.
        device: Where it was exported and validated ("cpu", "0").
        exported, baseline: The export's and best.pt's validation on the val split
            (``ultralytics_val.validate``); None when not validated.
        images: Images in the val split then.
        not_validated: Why the export was not validated here ("" when it was).
    """

    format: str
    name: str
    file: str
    options: dict[str, Any]
    created: str
    export_s: float
    device: str = "cpu"
    exported: ValidationResult | None = None
    baseline: ValidationResult | None = None
    not_validated: str = ""
    images: int = 0

    @property
    def map_drop(self) -> float | None:
        """best.pt's mAP50-95 minus the export's (positive = the export is worse), or None."""
        if self.exported is None or self.baseline is None:
            return None
        return self.baseline.map50_95 - self.exported.map50_95

    @property
    def max_drop(self) -> float | None:
        """The largest drop accepted (INT8 exports), fraction 0-1, else None."""
        return self.options.get("max_drop")

    @property
    def drop_exceeded(self) -> bool:
        """True when an INT8 export's mAP50-95 fell by more than ``max_drop``."""
        drop, limit = self.map_drop, self.max_drop
        return drop is not None and limit is not None and drop > limit + 1e-9

    def rows(self) -> list[list[Any]]:
        """The comparison table: rows best.pt, the export, difference (export minus best.pt);
        columns ``["model", *COLUMNS labels]``. [] when not validated."""
        if self.exported is None or self.baseline is None:
            return []
        table = []
        for label, result in (("best.pt", self.baseline), (self.name, self.exported)):
            table.append([label, *[round(value(result, a), d) for _, a, d in COLUMNS]])
        table.append(["difference", *[round(value(self.exported, a) - value(self.baseline, a), d)
                                      for _, a, d in COLUMNS]])
        return table

    def summary(self) -> str:
        """One line: precision, mAP50-95 and latency against best.pt, and the INT8 verdict."""
        precision = self.options.get("precision", "fp32")
        head = f"{self.name} ({precision}, imgsz {self.options.get('imgsz')})"
        if self.exported is None or self.baseline is None:
            return f"{head}: not validated ({self.not_validated or 'no result'})"
        e, b = self.exported, self.baseline
        line = (f"{head}: mAP50-95 {e.map50_95:.3f} vs best.pt {b.map50_95:.3f} "
                f"({e.map50_95 - b.map50_95:+.3f}); latency {value(e, 'inference_ms'):.1f} ms "
                f"vs {value(b, 'inference_ms'):.1f} ms per image on {self.images} val images")
        if self.max_drop is not None:
            verdict = "EXCEEDED" if self.drop_exceeded else "within"
            line += (f"; mAP50-95 drop {self.map_drop:.3f} {verdict} the maximum "
                     f"{self.max_drop:.3f}")
        return line

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON (``from_dict`` reads them back)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportReport:
        """From ``to_dict`` output; validation dicts become ``ValidationResult``s."""
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("exported", "baseline"):
            if isinstance(values.get(key), Mapping):
                values[key] = result_from_dict(values[key])
        return cls(**values)


def kept_reports(record: Any) -> dict[str, ExportReport]:
    """The reports of a ``ModelRecord``'s exports that exist, by format (a report that cannot
    be read is left out; its export stays listed)."""
    kept, reports = export_paths(record), {}
    for fmt, data in export_reports(record.folder).items():
        if fmt in kept:
            try:
                reports[fmt] = ExportReport.from_dict(data)
            except (TypeError, ValueError):
                continue
    return reports
