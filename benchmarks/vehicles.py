"""Vehicle class accuracy on labelled photos: the detector's class alone (the baseline) against
the class checked by the plate (workers/vehicles.py), in the same run on the same images.

    .venv/bin/python -m benchmarks.vehicles [--labels benchmarks/vehicle_classes.csv] [--json OUT]

The CSV has columns ``file,vehicle_class,plate_text`` (files relative to ``--data``); the
vehicle judged is the one whose plate reads ``plate_text`` (or, if it is not read, the largest
box). Prints one row per photo and the accuracy of each method; ``--json`` writes
{"baseline": {...}, "fused": {...}, "rows": [...]} with ``accuracy``, ``n`` and ms per photo.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from models.registry import VEHICLE_DETECTORS, ModelSet
from rules import RuleBook
from workers.jobs import recognise_file

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"


def judge(models: ModelSet, photo: Path, plate: str) -> dict[str, Any]:
    """The detector's and the fused class of the vehicle holding ``plate`` in ``photo``."""
    t0 = time.perf_counter()
    outcome = recognise_file(photo, models, RuleBook(), fps=2.0, max_frames=1)
    ms = 1000 * (time.perf_counter() - t0)
    groups = {g.plate: g for g in outcome.analysis.plate_groups}
    track = next((t for t in outcome.facts.tracks if t.plate == plate), None)
    group = groups.get(plate)
    if group is not None and group.best.vehicle is not None:
        detected = group.best.vehicle.kind
    elif track is not None and track.id >= 0:
        detected = Counter(v.kind for _, v in outcome.analysis.sightings[track.id]).most_common()[
            0
        ][0]
    else:
        boxes = [v for seen in outcome.analysis.sightings.values() for _, v in seen]
        detected = max(boxes, key=lambda v: v.box.width * v.box.height).kind if boxes else "none"
    fused = track.kind if track is not None else detected
    return {
        "read": plate if group else None,
        "detector": detected,
        "fused": fused,
        "confirmed": track.kind_confirmed if track else False,
        "reason": track.kind_reason if track else "",
        "ms": round(ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=HERE / "vehicle_classes.csv")
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--detector", default="yolov8n_onnx", choices=sorted(VEHICLE_DETECTORS))
    args = parser.parse_args()
    with args.labels.open(encoding="utf-8") as fh:
        labelled = list(csv.DictReader(fh))
    models = ModelSet(args.models, detector=args.detector)
    models.warm_up()
    rows = []
    print(f"{'file':22}{'truth':7}{'detector':10}{'fused':8}{'ms':>7}  reason")
    for label in labelled:
        row = {"file": label["file"], "truth": label["vehicle_class"]}
        row |= judge(models, args.data / label["file"], label["plate_text"])
        rows.append(row)
        fused = row["fused"] + ("" if row["confirmed"] else "?")
        print(
            f"{Path(label['file']).name:22}{row['truth']:7}{row['detector']:10}"
            f"{fused:8}{row['ms']:>7.0f}  {row['reason']}"
        )
    result: dict[str, Any] = {"rows": rows}
    for method in ("detector", "fused"):
        right = sum(r[method] == r["truth"] for r in rows)
        name = "baseline" if method == "detector" else "fused"
        result[name] = {"accuracy": round(right / len(rows), 4), "n": len(rows)}
        print(f"{name:9} class accuracy {100 * right / len(rows):5.1f} % ({right}/{len(rows)})")
    result["ms_per_photo"] = round(sum(r["ms"] for r in rows) / len(rows), 1)
    print(f"ms per photo (whole recognition, both methods share it): {result['ms_per_photo']}")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
