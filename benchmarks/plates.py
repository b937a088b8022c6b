"""Plate reading accuracy per PlateReader backend, side by side, on a labelled CSV.

    .venv/bin/python -m benchmarks.plates --labels CSV [--degrade] [--json OUT]

The CSV has columns ``file,plate_text`` (optional ``plate_colour``, ``kind``: plate_crop or
vehicle_image), files relative to the CSV's folder. Plate crops go to the reader directly;
vehicle photos go through the plate detector and the perspective warp first: a photo with one
row is judged on its most confident plate; a photo listed on several rows (several plates)
counts a row as read when any plate read in the photo matches it. ``--degrade``
adds seeded variants of each image made the way real evidence is made harder (a distant car
with the plate at most 60 px wide, motion blur, heavy JPEG compression, dusk with sensor
noise) and reports them apart. Prints exact-plate match, character accuracy, colour accuracy
and ms per image; ``--json`` writes {backend: {exact_match, char_accuracy, ms_per_image, n,
sets, rows, calibration}}: ``rows`` holds one row per image and plate (``file``, ``set``,
``truth``, ``read``, ``confidence``, ``chars`` (per position the top three ``[char, p]``),
``colour``, ``right``). ``--head ONNX`` adds the backend ``plate_head``: the reader over a
recogniser whose last layer was retrained for plates (benchmarks/train_plate_head.py).

Calibration: the labelled files are split in two by a hash of their name. ``--fit`` fits the
Platt calibrator (models/calibration.py) on the reads of the first half (clean and degraded)
and prints the coefficients to put in ``PLATT``; every run reports, on the other half, the
expected calibration error, how often reads at confidence >= 0.95 are wrong, and (with
``--reliability PNG``) a reliability diagram.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmarks.calibration_report import in_fit_half, report_calibration
from models.plate_reader import OnnxPlateReader, rectify
from models.plate_reader_paddle import PaddleUnavailable
from models.registry import PLATE_READERS, ModelSet, parse_province_prior
from models.types import Image, ModelInfo, PlateText, chars_as_lists

SHARED = Path(__file__).resolve().parents[2] / "shared"


def distant(image: Image, plate_width: float, rng: np.random.Generator) -> Image:
    """As if the car were far away: the plate shrinks to 40-60 px wide, detail is lost."""
    target = rng.uniform(40, 60)
    if plate_width <= target:
        return image
    scale = target / plate_width
    h, w = image.shape[:2]
    small = cv2.resize(
        image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA
    )
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), np.uint8)


def motion_blur(image: Image, plate_width: float, rng: np.random.Generator) -> Image:
    """A moving car or a shaking camera: a streak of 3-6 % of the plate's width."""
    length = max(3, int(plate_width * rng.uniform(0.03, 0.06)))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    angle = float(rng.uniform(-15, 15))
    rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    return np.asarray(cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6)), np.uint8)


def jpeg(image: Image, rng: np.random.Generator) -> Image:
    """Heavy compression, as messaging apps and cheap dashcams apply it."""
    quality = int(rng.integers(15, 30))
    _ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), np.uint8)


def dusk(image: Image, rng: np.random.Generator) -> Image:
    dark = (image.astype(np.float32) / 255.0) ** 1.6 * 0.45 * 255.0
    noisy = dark + rng.normal(0, 9, image.shape)
    return np.asarray(np.clip(noisy, 0, 255), np.uint8)


def char_accuracy(read: str, truth: str) -> float:
    """1 - Levenshtein distance / label length (never below 0)."""
    previous = list(range(len(read) + 1))
    for i, t in enumerate(truth, 1):
        current = [i]
        for j, r in enumerate(read, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != t)))
        previous = current
    return max(0.0, 1.0 - previous[-1] / max(len(truth), 1))


NOTHING = PlateText("", 0.0, False)


def read_image(
    models: ModelSet, reader: Any, image: Image, kind: str
) -> list[tuple[PlateText, str | None]]:
    """(read, colour) of every plate in the image, most confident detection first; a read
    that breaks the plate grammar counts as no read."""
    if kind == "plate_crop":
        text = reader.read(image)
        return [(text if text.valid else NOTHING, models.colour.classify(image)[0])]
    reads: list[tuple[PlateText, str | None]] = []
    for plate in models.plates.detect(image):
        crop = rectify(image, plate)
        text = reader.read(crop, plate.double_layer)
        reads.append((text if text.valid else NOTHING, models.colour.classify(crop)[0]))
    return reads or [(NOTHING, None)]


def judged(
    reads: list[tuple[PlateText, str | None]], truth: str, rows: int
) -> tuple[PlateText, str | None]:
    """The read a row is judged on: the first plate, or with several labelled plates in one
    photo, the read closest to this row's label."""
    if rows == 1:
        return reads[0]
    return max(reads, key=lambda read: char_accuracy(read[0].text, truth))


def variants(image: Image, kind: str, plate_width: float, seed: int) -> dict[str, Image]:
    rng = np.random.default_rng(seed)
    made: dict[str, Callable[[], Image]] = {
        "blur": lambda: motion_blur(image, plate_width, rng),
        "jpeg": lambda: jpeg(image, rng),
        "dusk": lambda: dusk(image, rng),
    }
    if kind == "vehicle_image":
        made["distant"] = lambda: distant(image, plate_width, rng)
    return {name: make() for name, make in made.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=SHARED / "data" / "labels.csv")
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument("--backends", default=",".join(PLATE_READERS))
    parser.add_argument("--degrade", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--fit", action="store_true", help="fit the calibrator on half the data")
    parser.add_argument("--reliability", type=Path, help="reliability diagram (PNG)")
    parser.add_argument("--province-prior", help="e.g. 粤:2 (the deployment's own province)")
    parser.add_argument(
        "--head", type=Path, help="a retrained recogniser (benchmarks/train_plate_head.py)"
    )
    args = parser.parse_args()
    with args.labels.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    models = ModelSet(args.models)
    models.warm_up()
    by_file: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_file.setdefault(row["file"], []).append(row)
    sets: dict[str, list[tuple[Image, list[dict[str, str]]]]] = {"clean": []}
    prior = parse_province_prior(args.province_prior)
    for i, (file, labelled) in enumerate(by_file.items()):
        image = cv2.imread(str(args.labels.parent / file))
        if image is None:
            raise SystemExit(f"{args.labels}: cannot read image {file}")
        kind = labelled[0].get("kind") or "vehicle_image"
        sets["clean"].append((image, labelled))
        if args.degrade:
            found = models.plates.detect(image) if kind == "vehicle_image" else []
            width = found[0].box.width if found else image.shape[1]
            for name, variant in variants(image, kind, width, args.seed + i).items():
                sets.setdefault(f"degraded:{name}", []).append((variant, labelled))
    if args.degrade:
        sets["degraded"] = [
            item for k, v in sets.items() if k.startswith("degraded:") for item in v
        ]

    results: dict[str, Any] = {}
    print(
        f"{'backend':16}{'set':18}{'n':>5}{'exact %':>9}{'char %':>8}{'colour %':>10}{'ms/img':>8}"
    )
    readers = dict(PLATE_READERS)
    if args.head is not None:
        readers["plate_head"] = lambda _: OnnxPlateReader(
            args.head, ModelInfo("plate_head", "", "")
        )
    for backend in args.backends.split(","):
        try:
            reader = readers[backend](args.models)
        except PaddleUnavailable as exc:
            print(f"{backend:16}skipped: {exc}")
            continue
        if prior is not None and hasattr(reader, "province_prior"):
            reader.province_prior = prior
        results[backend] = {}
        rows_out: list[dict[str, Any]] = []
        for name, items in sets.items():
            exact = chars = colour_ok = colour_n = 0.0
            n = 0
            t0 = time.perf_counter()
            for image, labelled in items:
                reads = read_image(models, reader, image, labelled[0].get("kind") or "")
                for row in labelled:
                    n += 1
                    read, colour = judged(reads, row["plate_text"], len(labelled))
                    text = read.text
                    exact += text == row["plate_text"]
                    chars += char_accuracy(text, row["plate_text"])
                    rows_out.append(
                        {
                            "file": row["file"],
                            "set": name,
                            "truth": row["plate_text"],
                            "read": text,
                            "confidence": read.confidence,
                            "chars": chars_as_lists(read.chars),
                            "colour": colour,
                            "right": text == row["plate_text"],
                            "features": list(read.features),
                            "fit_half": in_fit_half(row["file"]),
                        }
                    )
                    truth = (row.get("plate_colour") or "").split(" ")[0]
                    if truth in ("blue", "green", "yellow") and "double" not in row["plate_colour"]:
                        colour_n += 1
                        colour_ok += colour == truth
            ms = 1000 * (time.perf_counter() - t0) / len(items)
            entry = {
                "exact_match": round(exact / n, 4),
                "char_accuracy": round(chars / n, 4),
                "colour_accuracy": round(colour_ok / colour_n, 4) if colour_n else None,
                "ms_per_image": round(ms, 1),
                "n": n,
            }
            results[backend][name] = entry
            colour_pct = f"{100 * entry['colour_accuracy']:.1f}" if colour_n else "-"
            print(
                f"{backend:16}{name:18}{n:>5}{100 * entry['exact_match']:>9.1f}"
                f"{100 * entry['char_accuracy']:>8.1f}{colour_pct:>10}{ms:>8.1f}"
            )
        results[backend]["rows"] = [r for r in rows_out if r["set"] != "degraded"]
        results[backend]["calibration"] = report_calibration(
            backend, results[backend]["rows"], args.fit, args.reliability
        )
    if args.json:
        flat = {
            b: {
                **r["clean"],
                "sets": {k: v for k, v in r.items() if k not in ("rows", "calibration")},
                "calibration": r["calibration"],
                "rows": r["rows"],
            }
            for b, r in results.items()
        }
        args.json.write_text(json.dumps(flat, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
