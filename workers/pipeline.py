"""One pass over one file, the same for a queued job and ``roadwitness process``: probe once,
decode once (recognition keeps each sampled frame and notes the stream's key frames as it
goes), judge, then build every case's evidence from what the pass kept: keyframes are sampled
frames, the annotation draws the lines of the scene the rule judged, and the clip is cut at
key frames by stream copy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ingest.media import MediaInfo, probe
from ingest.tracks import Point
from models.registry import ModelSet
from rules import ClipFacts, RuleBook, Verdict
from rules.facts import View
from telemetry.metrics import timed_iter, timed_stage
from workers.evidence import Context, EvidenceFile, build, moments
from workers.frames import DecodeWatcher, Frame, KeptFrames, iter_frames, prefetched
from workers.recognise import Analysis, Candidate, analyse, candidates, clip_facts


@dataclass(frozen=True)
class Outcome:
    info: MediaInfo
    analysis: Analysis
    facts: ClipFacts
    verdict: Verdict
    """The rules' findings: cases, and lane findings with no plate read (``unidentified``)."""
    candidates: list[Candidate]


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    packages: list[tuple[Candidate, list[EvidenceFile]]]
    """Each candidate with its evidence package, in the order of the findings."""


def provenance(models: ModelSet) -> dict[str, dict[str, str]]:
    """Which weights made the result, as cases, packages and summaries record it."""
    return {m.name: {"file": m.file, "sha256": m.sha256} for m in models.infos()}


def recognise_file(
    path: Path,
    models: ModelSet,
    book: RuleBook,
    *,
    fps: float,
    max_frames: int,
    max_seconds: float | None = None,
    declared: str | None = None,
    start: datetime | None = None,
    positions: tuple[Point, ...] = (),
    on_start: Callable[[MediaInfo], None] | None = None,
    on_frame: Callable[[Frame], None] | None = None,
    kept: KeptFrames | None = None,
    watcher: DecodeWatcher | None = None,
    view: View | None = None,
) -> Outcome:
    """Probe, decode, recognise and judge one file (``kept`` keeps the sampled frames)."""
    info = probe(path, max_seconds) if max_seconds else probe(path)
    if on_start is not None:
        on_start(info)
    key_times = kept.key_times if kept is not None else None
    frames = timed_iter("decode", iter_frames(path, info, fps, max_frames, key_times, watcher))
    # decoding (and keeping the frames for evidence) runs ahead on a thread of its own
    ahead = prefetched(kept.keep(frames) if kept else frames)
    analysis = analyse(models, ahead, on_frame, fps, view)
    with timed_stage("rules"):
        facts, by_track = clip_facts(analysis, info.kind, declared, start, positions)
        verdict, found = candidates(facts, by_track, book)
    return Outcome(info, analysis, facts, verdict, found)


def run(
    path: Path,
    models: ModelSet,
    book: RuleBook,
    context: Context,
    *,
    fps: float,
    max_frames: int,
    max_seconds: float | None = None,
    declared: str | None = None,
    start: datetime | None = None,
    positions: tuple[Point, ...] = (),
    on_start: Callable[[MediaInfo], None] | None = None,
    on_frame: Callable[[Frame], None] | None = None,
    watcher: DecodeWatcher | None = None,
    view: View | None = None,
) -> Result:
    """The whole pipeline on one local file; ``context`` says where the media came from."""
    kept = KeptFrames()
    outcome = recognise_file(
        path,
        models,
        book,
        fps=fps,
        max_frames=max_frames,
        max_seconds=max_seconds,
        declared=declared,
        start=start,
        positions=positions,
        on_start=on_start,
        on_frame=on_frame,
        kept=kept,
        watcher=watcher,
        view=view,
    )
    info = outcome.info
    with timed_stage("evidence"):
        wanted = sorted({t for c in outcome.candidates for t in moments(c, info).values()})
        frames = kept.nearest(wanted)
        packages = [
            (
                c,
                build(
                    outcome.analysis,
                    c,
                    path,
                    info,
                    outcome.facts,
                    context,
                    frames,
                    kept.key_times,
                ),
            )
            for c in outcome.candidates
        ]
    return Result(outcome, packages)
