"""The edge-line finder on real frames labelled by eye (tests/data/scene_labels.json).

    PYTHONPATH=$PWD .venv/bin/python -m benchmarks.scene [--json OUT] [--verbose]

For each labelled edge line, the finder's edge line with the same shoulder side is compared
with it at the label's two endpoint rows; the error is the mean horizontal distance there, in
pixels of the frame scaled to 1280 px width. A line counts as found when that error is at most
``FOUND_WITHIN_PX``. Frames labelled with no edge line count the edge lines found in them as
false. The baseline (the finder before issue 13: one right edge line, Hough on a brightness
mask below 55 % of the height) is measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.scene_labels import LabelledFrame, labelled_frames
from models.types import Image
from rules.facts import Edge
from workers.scene import detect_lanes

FOUND_WITHIN_PX = 40.0
WIDTH = 1280


@dataclass
class Result:
    found: int = 0
    labelled: int = 0
    errors: list[float] = field(default_factory=list)
    false_edges: int = 0
    seconds: float = 0.0

    def row(self) -> dict[str, float]:
        return {
            "detection_rate": round(self.found / self.labelled, 3) if self.labelled else 0.0,
            "median_error_px": round(statistics.median(self.errors), 1) if self.errors else -1,
            "false_edges": self.false_edges,
            "ms_per_frame": round(1000 * self.seconds, 1),
        }


def new_finder(image: Image) -> tuple[Edge, ...]:
    return detect_lanes(image).shoulders


def baseline_finder(image: Image) -> tuple[Edge, ...]:
    from benchmarks.scene_baseline import detect_lanes as old_detect

    line = old_detect(image).edge_line
    return (Edge(line, "right"),) if line is not None else ()


def measure(
    frames: list[LabelledFrame], finder: Callable[[Image], tuple[Edge, ...]], verbose: bool
) -> Result:
    result = Result()
    started = time.perf_counter()
    for frame in frames:
        image = frame.image()
        scale = WIDTH / image.shape[1]
        edges = finder(image)
        if not frame.edges:
            result.false_edges += len(edges)
        for label in frame.edges:
            result.labelled += 1
            errors = [
                scale
                * sum(abs(e.line.x_at(y) - label.x_at(y)) for y in (label.top[1], label.bottom[1]))
                / 2
                for e in edges
                if e.shoulder == label.shoulder
            ]
            error = min(errors) if errors else None
            if error is not None and error <= FOUND_WITHIN_PX:
                result.found += 1
                result.errors.append(error)
            if verbose:
                shown = "none" if error is None else f"{error:.1f} px"
                print(f"  {frame.name:42} {label.shoulder:5} {shown}")
    result.seconds = (time.perf_counter() - started) / max(1, len(frames))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--verbose", action="store_true", help="print each labelled line")
    args = parser.parse_args()
    frames = labelled_frames()
    results = {
        "baseline": measure(frames, baseline_finder, False),
        "scene": measure(frames, new_finder, args.verbose),
    }
    edges = sum(len(f.edges) for f in frames)
    print(f"{len(frames)} labelled real frames, {edges} edge lines, errors at {WIDTH} px width")
    print(f"{'finder':10} {'found':>7} {'median px':>10} {'false':>6} {'ms/frame':>9}")
    for name, result in results.items():
        row = result.row()
        print(
            f"{name:10} {row['detection_rate']:>7.0%} {row['median_error_px']:>10} "
            f"{row['false_edges']:>6} {row['ms_per_frame']:>9}"
        )
    if args.json:
        data = {name: result.row() for name, result in results.items()}
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
