"""``roadwitness process``: the same recognition, rules and evidence stages, on a local file,
with results written to a folder instead of the store and database."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.media import MediaInfo
from ingest.store import sha256_file
from ingest.tracks import Point
from models.registry import ModelSet
from models.types import chars_as_lists
from rules import RuleBook
from rules.serial import FORMAT, facts_to_data, finding_to_data
from workers.evidence import Context
from workers.frames import Frame
from workers.pipeline import Outcome, provenance, run
from workers.vehicles import vehicle_rows


def expected_frames(info: MediaInfo, fps: float, max_frames: int) -> int:
    return 1 if info.kind == "image" else min(max_frames, max(1, int(info.duration_s * fps) + 1))


def process_file(
    path: Path,
    out: Path,
    models: ModelSet,
    book: RuleBook,
    *,
    fps: float = 2.0,
    max_frames: int = 600,
    declared: str | None = None,
    positions: tuple[Point, ...] = (),
    start: datetime | None = None,
    on_start: Callable[[MediaInfo], None] | None = None,
    on_frame: Callable[[Frame], None] | None = None,
) -> tuple[Outcome, dict[str, Any]]:
    if start is None and positions:
        start = positions[0].at
    digest = sha256_file(path)
    model_infos = provenance(models)
    context = Context(
        "local",
        digest,
        str(path),
        model_infos,
        book.version,
        time_source="device_track" if positions else None,
        place_source="device_track" if positions else None,
    )
    result = run(
        path,
        models,
        book,
        context,
        fps=fps,
        max_frames=max_frames,
        declared=declared,
        start=start,
        positions=positions,
        on_start=on_start,
        on_frame=on_frame,
    )
    outcome, info = result.outcome, result.outcome.info
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for n, (candidate, files) in enumerate(result.packages, 1):
        folder = out / f"case_{n:02d}"
        folder.mkdir(exist_ok=True)
        for f in files:
            (folder / f.name).write_bytes(f.data)
        f0 = candidate.finding
        cases.append(
            {
                "rule": f0.rule,
                "violation": f0.violation,
                "explanation": f0.explanation,
                "confidence": f0.confidence,
                "plate": candidate.plate,
                "plate_confidence": candidate.plate_confidence,
                "plate_colour": candidate.plate_colour,
                "plate_chars": chars_as_lists(candidate.plates.chars) if candidate.plates else [],
                "vehicle_class": candidate.vehicle_class,
                "t_start": f0.t_start,
                "t_end": f0.t_end,
                "track": candidate.track_id,
                "sightings": candidate.plates.sightings if candidate.plates else 0,
                "evidence": {f.role: f"{folder.name}/{f.name}" for f in files},
            }
        )
    summary = {
        "source": str(path),
        "sha256": digest,
        "kind": info.kind,
        "width": info.width,
        "height": info.height,
        "duration_s": round(info.duration_s, 3),
        "frames_analysed": outcome.analysis.frames,
        "models": model_infos,
        "rules": {"source": book.source, "version": book.version},
        "tracks": len(outcome.facts.tracks),
        "vehicles": vehicle_rows(outcome.facts, outcome.analysis.plate_groups),
        "cases": cases,
        "unidentified": len(outcome.verdict.unidentified),
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    facts = facts_file(outcome, book)
    (out / "facts.json").write_text(json.dumps(facts, ensure_ascii=False, indent=1))
    return outcome, summary


def facts_file(outcome: Outcome, book: RuleBook) -> dict[str, Any]:
    """What ``facts.json`` holds: the clip's facts as the rules saw them (tracks with boxes over
    video time, class and plate votes, the scene of each sampled frame, the track points), the
    media facts, and the findings they gave, so ``roadwitness rules replay`` can judge them
    again without models or media."""
    return {
        "format": FORMAT,
        "media": asdict(outcome.info),
        "rules": {"source": book.source, "version": book.version},
        "clip": facts_to_data(outcome.facts),
        "plate_votes": [
            {
                "plate": g.plate,
                "confidence": g.plate_confidence,
                "colour": g.plate_colour,
                "vehicle_class": g.vehicle_class,
                "sightings": g.sightings,
                "tracks": list(g.track_ids),
                "t_start": g.t_start,
                "t_end": g.t_end,
            }
            for g in outcome.analysis.plate_groups
        ],
        "findings": [finding_to_data(c.finding) for c in outcome.candidates],
        "unidentified": [finding_to_data(f) for f in outcome.verdict.unidentified],
    }
