"""``roadwitness process``: the same recognition and evidence stages, on a local file, with
results written to a folder instead of the store and database."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.media import MediaInfo, probe
from ingest.store import sha256_file
from models.registry import ModelSet
from workers.evidence import build
from workers.frames import Frame, iter_frames
from workers.recognise import Analysis, analyse


@dataclass(frozen=True, slots=True)
class ProcessResult:
    info: MediaInfo
    analysis: Analysis
    summary: dict[str, Any]


def expected_frames(info: MediaInfo, fps: float, max_frames: int) -> int:
    return 1 if info.kind == "image" else min(max_frames, max(1, int(info.duration_s * fps) + 1))


def process_file(
    path: Path,
    out: Path,
    models: ModelSet,
    *,
    fps: float = 2.0,
    max_frames: int = 600,
    declared: str | None = None,
    on_start: Callable[[MediaInfo], None] | None = None,
    on_frame: Callable[[Frame], None] | None = None,
) -> ProcessResult:
    info = probe(path)
    if on_start is not None:
        on_start(info)
    frames = iter_frames(path, info, fps, max_frames)
    analysis = analyse(models, frames, declared, on_frame, fps)
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for candidate in analysis.candidates:
        files = build(analysis, candidate, path, info)
        for f in files:
            (out / f.name).write_bytes(f.data)
        cases.append(
            {
                "plate": candidate.plate,
                "plate_confidence": candidate.plate_confidence,
                "plate_colour": candidate.plate_colour,
                "vehicle_class": candidate.vehicle_class,
                "violation": candidate.violation,
                "t_start": candidate.t_start,
                "t_end": candidate.t_end,
                "sightings": candidate.sightings,
                "tracks": list(candidate.track_ids),
                "evidence": {f.role: f.name for f in files},
            }
        )
    summary = {
        "source": str(path),
        "sha256": sha256_file(path),
        "kind": info.kind,
        "width": info.width,
        "height": info.height,
        "duration_s": round(info.duration_s, 3),
        "frames_analysed": analysis.frames,
        "models": {m.name: {"file": m.file, "sha256": m.sha256} for m in models.infos()},
        "cases": cases,
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    return ProcessResult(info, analysis, summary)
