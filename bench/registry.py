"""Time ModelStore.list / save / set_active on a registry of 1,000 models (target: list < 50 ms).

Builds the registry in a temporary folder (tiny dummy weights: the store copies bytes, it never
loads them), then times each operation several times and prints the medians in milliseconds.
Last line: ``list_ms=<x> save_ms=<y> set_active_ms=<z>``.

Usage: ``python bench/registry.py [--models 1000] [--repeats 15]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import common  # noqa: F401 (puts the repository on sys.path)
from yolo_studio.persistence.model_record import empty_registry, make_entry
from yolo_studio.persistence.model_store import ModelStore

INFO = {"base_model": "yolo11n.yaml", "epochs_completed": 25, "best_map50": 0.55,
        "dataset_snapshot": "364 images, 3 classes", "dataset_hash": "0" * 64}


def build(store: ModelStore, weights: Path, count: int) -> None:
    """Create ``count`` model folders and one registry listing them (one write, not 1,000)."""
    registry = store._registry("bench")  # the store's own locked, atomic registry file
    data = empty_registry()
    for i in range(count):
        folder = store.models_dir / "bench" / "models" / f"m{i:04d}"
        (folder / "weights").mkdir(parents=True)
        (folder / "weights" / "best.pt").write_bytes(weights.read_bytes())
        (folder / "config.yaml").write_text("epochs: 25\n")
        (folder / "metrics.json").write_text("{}")
        data["models"][f"m{i:04d}"] = make_entry(INFO)
    with registry.locked():
        registry.write(data)


def timed_ms(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "best.pt"
        weights.write_bytes(b"\0" * 4096)
        store = ModelStore(Path(tmp) / "models")
        build(store, weights, args.models)
        assert len(store.list("bench")) == args.models
        list_ms = timed_ms(lambda: store.list("bench"), args.repeats)
        counter = iter(range(10**6))
        save_ms = timed_ms(lambda: store.save("bench", f"new{next(counter)}", weights, {"a": 1},
                                              {"final": {}}, INFO), args.repeats)
        names = iter(f"m{i:04d}" for i in range(10**6))
        set_active_ms = timed_ms(lambda: store.set_active("bench", next(names)), args.repeats)
        total = len(store.list("bench"))
    print(f"registry of {total} models (median of {args.repeats} runs each)")
    print(f"list:       {list_ms:8.2f} ms")
    print(f"save:       {save_ms:8.2f} ms (copy 4 KiB weights + config + metrics + registry)")
    print(f"set_active: {set_active_ms:8.2f} ms")
    print(f"list_ms={list_ms:.2f} save_ms={save_ms:.2f} set_active_ms={set_active_ms:.2f}")


if __name__ == "__main__":
    main()
