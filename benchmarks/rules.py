"""Precision and recall of each violation rule, on the rendered suite and on labelled clips.

    .venv/bin/python -m benchmarks.rules [--suite rendered|real] [--labels CSV] [--json OUT]
        [--fps 5]

The rendered suite (harness/scenes.py) is dashcam-like clips with known truth: real vehicle
photos on a drawn road, with the rule data and GPS track each scenario is judged against.
A labelled CSV has columns ``file,rule,t_start,t_end`` and optional ``track`` (a GPS file:
NMEA, GPX or JSON) and ``config`` (rules YAML), paths relative to the CSV; a clip without a
violation has an empty ``rule``; a clip may have several rows. A finding counts as true when
the clip has a row for its rule whose interval overlaps the finding's. Prints a table per rule;
``--json`` writes {rule_id: {"precision": p, "recall": r, "n": clips}}.

``--suite real`` runs, apart from the rendered suite, the real negatives (every clip and still in
../shared/data/roads and videos, harness/real_roads.py) and the composited positives and
negatives on real roads (benchmarks/composite.py: emergency-lane clips judged with expressway
and bus-lane rule data, bus-lane clips on real frames with a painted bus lane judged with
bus-lane rule data), each with a track on the segment. A lane finding counts whether it became
a case or was left ``unidentified`` (no plate read): the rule found it either way.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.tracks import parse
from models.registry import VEHICLE_DETECTORS, ModelSet
from rules import RULE_IDS, Finding, RuleBook
from workers.jobs import recognise_file
from workers.rule_files import load_rules

SHARED = Path(__file__).resolve().parents[2] / "shared"
JUDGED = [r for r in RULE_IDS if not r.startswith("declared")]
TRACK_FORMATS = {".nmea": "nmea", ".txt": "nmea", ".log": "nmea", ".gpx": "gpx", ".json": "json"}


@dataclass
class Clip:
    path: Path
    truth: list[tuple[str, float, float]] = field(default_factory=list)
    track: Path | None = None
    config: Path | None = None
    start: Any = None


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    clips: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def rendered(folder: Path, data_dir: Path) -> tuple[list[Clip], Path]:
    from harness.scenes import render, rules_config, suite

    config = rules_config(folder)
    clips = []
    for scenario in suite():
        path = render(scenario, folder / f"{scenario.name}.mp4", data_dir)
        truth = [(f"{r}@1", 0.0, scenario.seconds) for r in scenario.expect]
        clips.append(Clip(path, truth, path.with_suffix(".json"), config, scenario.start))
    return clips, config


def labelled(csv_path: Path) -> list[Clip]:
    clips: dict[str, Clip] = {}
    with csv_path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            base = csv_path.parent
            clip = clips.setdefault(row["file"], Clip(base / row["file"]))
            if row.get("track"):
                clip.track = base / row["track"]
            if row.get("config"):
                clip.config = base / row["config"]
            if row.get("rule"):
                rule = row["rule"] if "@" in row["rule"] else f"{row['rule']}@1"
                clip.truth.append((rule, float(row["t_start"]), float(row["t_end"])))
    return list(clips.values())


def real_negatives(folder: Path, data_dir: Path) -> list[Clip]:
    from harness.real_roads import WEDNESDAY_0830_CST, negatives, track_on_segment
    from harness.scenes import rules_config
    from ingest.media import probe

    folder.mkdir(parents=True, exist_ok=True)
    config = rules_config(folder)
    clips = []
    for negative in negatives(data_dir, folder):
        track = folder / f"{negative.name}.track.json"
        points = track_on_segment(probe(negative.path).duration_s)
        track.write_text(
            json.dumps([{"time": p.at.isoformat(), "lat": p.latitude, "lon": p.longitude}
                        for p in points])
        )  # fmt: skip
        clips.append(Clip(negative.path, [], track, config, WEDNESDAY_0830_CST))
    return clips


def judge(clip: Clip, findings: list[Finding], tallies: dict[str, Tally]) -> None:
    for rule in JUDGED:
        tally = tallies[rule]
        tally.clips += 1
        truth = [(a, b) for r, a, b in clip.truth if r == rule]
        found = [f for f in findings if f.rule == rule]
        matched = set()
        for f in found:
            hit = next(
                (i for i, (a, b) in enumerate(truth) if f.t_start <= b and f.t_end >= a), None
            )
            if hit is None:
                tally.fp += 1
            else:
                matched.add(hit)
        tally.tp += len(matched)
        tally.fn += len(truth) - len(matched)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=Path, help="labelled clips (CSV)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--fps", type=float, default=5.0, help="frames sampled per second")
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--skip-rendered", action="store_true")
    parser.add_argument("--suite", choices=["rendered", "real"], default="rendered")
    parser.add_argument("--detector", default="yolov8n_onnx", choices=sorted(VEHICLE_DETECTORS))
    args = parser.parse_args()

    models = ModelSet(args.models, detector=args.detector)
    models.warm_up()
    results: dict[str, dict[str, Tally]] = {}
    with tempfile.TemporaryDirectory(prefix="roadwitness-rules-") as tmp:
        sets: dict[str, list[Clip]] = {}
        if not args.skip_rendered:
            sets["rendered"], _ = rendered(Path(tmp), args.data)
        if args.labels:
            sets["labelled"] = labelled(args.labels)
        if args.suite == "real":
            from benchmarks.composite import generate

            sets["real-neg"] = real_negatives(Path(tmp) / "negatives", args.data)
            sets["composited"] = labelled(generate(Path(tmp) / "composited", args.data))
        for name, clips in sets.items():
            tallies: dict[str, Tally] = defaultdict(Tally)
            started = time.perf_counter()
            books: dict[Path | None, RuleBook] = {}
            for clip in clips:
                book = books.setdefault(clip.config, load_rules(clip.config))
                positions: tuple[Any, ...] = ()
                if clip.track is not None:
                    fmt = TRACK_FORMATS[clip.track.suffix.lower()]
                    positions = tuple(parse(clip.track.read_text(), fmt))  # type: ignore[arg-type]
                start = clip.start or (positions[0].at if positions else None)
                outcome = recognise_file(
                    clip.path,
                    models,
                    book,
                    fps=args.fps,
                    max_frames=10_000,
                    start=start,
                    positions=positions,
                )
                found = outcome.verdict.cases + outcome.verdict.unidentified
                judge(clip, found, tallies)
                got = sorted({f.rule for f in found})
                want = sorted({r for r, _, _ in clip.truth})
                mark = "ok " if got == want else "MISS"
                cases = sorted(f"{f.rule} {f.plate}" for f in outcome.verdict.cases)
                print(f"  {mark} {clip.path.name:40s} want {want} got {got} cases {cases}",
                      flush=True)  # fmt: skip
            results[name] = dict(tallies)
            print(f"{name}: {len(clips)} clips in {time.perf_counter() - started:.0f} s\n")
    print(
        f"{'set':10s} {'rule':20s} {'precision':>9s} {'recall':>7s} {'tp':>4s} {'fp':>4s} "
        f"{'fn':>4s} {'clips':>6s}"
    )
    for name, tallies in results.items():
        for rule, t in tallies.items():
            print(
                f"{name:10s} {rule:20s} {t.precision:9.1%} {t.recall:7.1%} {t.tp:4d} "
                f"{t.fp:4d} {t.fn:4d} {t.clips:6d}"
            )
    if args.json:
        out: dict[str, Any] = {}
        for name, tallies in results.items():
            figures = {
                rule: {"precision": t.precision, "recall": t.recall, "n": t.clips}
                for rule, t in tallies.items()
            }
            out.update(figures if name == "rendered" and len(results) == 1 else {name: figures})
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
