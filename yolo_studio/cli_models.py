"""The ``models`` subcommands that run a model: ``predict``, ``formats``, ``export`` and
``download`` (their parsers and the two that print more than a table); ``cli`` runs them."""

from __future__ import annotations

import argparse
from typing import Any

from .errors import ValidationError


def models_try_parsers(add: Any) -> None:
    """``models predict`` / ``export`` / ``download``; ``add(name, help)`` makes a subparser."""
    predict = add("predict", "run a model on one image")
    predict.add_argument("items", nargs="+", metavar="NAME IMAGE | IMAGE (with --active)")
    predict.add_argument("--active", action="store_true", help="use the active model")
    predict.add_argument("--conf", type=float, default=0.25, help="min confidence 0-1")
    predict.add_argument("--iou", type=float, default=0.7, help="NMS IoU threshold 0-1")
    predict.add_argument("--imgsz", type=int, default=None, help="pixels (default: trained)")
    predict.add_argument("--save", default=None, help="write the drawn image here")
    add("formats", "the export formats of Ultralytics: offered here, options, packages")
    export_parser(add("export", "export (kept beside best.pt) and validate against best.pt"))
    download = add("download", "print the path of a model's weights or export")
    download.add_argument("name")
    download.add_argument("--format", default="pt", help="pt, or an exported format")


def export_parser(export: argparse.ArgumentParser) -> None:
    """``models export NAME --format F`` and its options (only those the format takes)."""
    export.add_argument("name")
    export.add_argument("--format", required=True, help="onnx, torchscript, openvino, ncnn, "
                        "... (models formats lists them)")
    export.add_argument("--imgsz", type=int, default=None, help="pixels (default: trained)")
    export.add_argument("--batch", type=int, default=1, help="batch the export takes")
    precision = export.add_mutually_exclusive_group()
    precision.add_argument("--half", dest="precision", action="store_const", const="fp16",
                           default="fp32", help="FP16")
    precision.add_argument("--int8", dest="precision", action="store_const", const="int8",
                           help="INT8, calibrated on the val split")
    export.add_argument("--dynamic", action="store_true", help="dynamic input shapes")
    export.add_argument("--no-simplify", dest="simplify", action="store_false",
                        help="keep the ONNX graph as traced")
    export.add_argument("--max-drop", type=float, default=None, help="INT8: largest mAP50-95 "
                        "drop accepted against best.pt, fraction 0-1 (default 0.02)")


def export_command(service: Any, args: argparse.Namespace) -> int:
    """``models export``: prints the export and its validation; 1 when an INT8 export's
    mAP50-95 drop exceeds its maximum (the export is kept), else 0."""
    from .training.export_formats import ExportOptions
    from .training.model_report import export_text

    options = ExportOptions(imgsz=args.imgsz, batch=args.batch, precision=args.precision,
                            dynamic=args.dynamic, simplify=args.simplify,
                            max_drop=args.max_drop)
    report = service.export_model(args.dataset, args.name, args.format, options)
    print(export_text(report, service.weights_path(args.dataset, args.name, report.format)))
    return 1 if report.drop_exceeded else 0


def predict_text(service: Any, args: argparse.Namespace) -> str:
    """``models predict``: the detections table; saves the drawn image with ``--save``."""
    from .training.model_report import prediction_text

    if len(args.items) != (1 if args.active else 2):
        raise ValidationError("models predict needs NAME IMAGE, or --active IMAGE.")
    name, image = (None, args.items[0]) if args.active else args.items
    result = service.predict(args.dataset, name, image, conf=args.conf, iou=args.iou,
                             imgsz=args.imgsz)
    text = prediction_text(result)
    if args.save:
        from PIL import Image

        try:
            Image.fromarray(result.image).save(args.save)
        except (OSError, ValueError) as err:
            raise ValidationError(f"Cannot save the image to {args.save}: {err}") from err
        text += f"\nSaved {args.save}"
    return text
