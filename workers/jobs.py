"""The job functions: turn one submission into candidate cases, each with its evidence package
stored and a custody record of who made each file."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cases.creation import CaseRules, NewCase, NewEvidence, record_cases
from cases.services import Services
from ingest.db import Job, Submission
from ingest.media import MediaInfo, probe
from ingest.queue import Claim
from ingest.store import ObjectExists, ObjectStore, StoredObject
from ingest.tracks import Point
from models.registry import ModelSet
from rules import ClipFacts, RuleBook
from rules.facts import View
from workers.evidence import Context, EvidenceFile, build, keyframes
from workers.frames import Frame, iter_frames
from workers.recognise import Analysis, Candidate, analyse, candidates, clip_facts
from workers.rule_files import load_rules

log = logging.getLogger(__name__)

EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "video/mp4": ".mp4",
    "application/json": ".json",
}


def models_for(services: Services) -> ModelSet:
    s = services.settings
    return ModelSet(s.models_dir, s.detector, s.plate_detector_size, s.plate_reader)


def store_evidence(store: ObjectStore, file: EvidenceFile) -> StoredObject:
    """Evidence is content-addressed, so a redone job finds its files already stored."""
    digest = file.sha256
    key = f"evidence/{digest[:2]}/{digest}{EXTENSIONS.get(file.content_type, '')}"
    try:
        return store.put_bytes(key, file.data, file.content_type)
    except ObjectExists:
        return store.stat(key)


@dataclass(frozen=True)
class Outcome:
    info: MediaInfo
    analysis: Analysis
    facts: ClipFacts
    candidates: list[Candidate]


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
    view: View | None = None,
) -> Outcome:
    """Decode, recognise and judge one file: the stages a job and ``roadwitness process`` share."""
    info = probe(path, max_seconds) if max_seconds else probe(path)
    if on_start is not None:
        on_start(info)
    analysis = analyse(models, iter_frames(path, info, fps, max_frames), on_frame, fps, view)
    facts, by_track = clip_facts(analysis, info.kind, declared, start, positions)
    return Outcome(info, analysis, facts, candidates(analysis, facts, by_track, book))


def _positions(submission: Submission) -> tuple[Point, ...]:
    points = tuple(Point(p.at, p.latitude, p.longitude, p.speed_mps) for p in submission.track)
    if points or submission.latitude is None or submission.longitude is None:
        return points
    at = submission.clip_start or submission.taken_at or submission.created_at
    return (Point(at, submission.latitude, submission.longitude),)


class SubmissionProcessor:
    """The handler the queue runs for each claimed ``process_submission`` job."""

    def __init__(self, services: Services, models: ModelSet, book: RuleBook | None = None) -> None:
        self.services = services
        self.models = models
        self.book = book if book is not None else load_rules(services.settings.rules_file)

    def __call__(self, claim: Claim) -> None:
        services, s = self.services, self.services.settings
        models = {m.name: {"file": m.file, "sha256": m.sha256} for m in self.models.infos()}
        with services.sessions() as session:
            job = session.get(Job, claim.job_id)
            assert job is not None
            sub = job.submission
            context = Context(
                sub.id,
                sub.media.sha256,
                sub.media.key,
                models,
                self.book.version,
                sub.device_id,
                sub.time_source,
                sub.place_source,
            )
            media_key, declared = sub.media.key, sub.declared_violation
            # a registered dashcam device drives in a lane; an app upload may be anything
            view: View | None = "dashcam" if sub.device_id else None
            start = sub.clip_start or sub.taken_at
            positions = _positions(sub)
        with tempfile.TemporaryDirectory(prefix="roadwitness-job-") as tmp:
            original = Path(tmp) / "original"
            services.store.download(media_key, original)
            outcome = recognise_file(
                original,
                self.models,
                self.book,
                fps=s.sample_fps,
                max_frames=s.max_frames,
                max_seconds=s.max_video_seconds,
                declared=declared,
                start=start,
                positions=positions,
                view=view,
            )
            frames = keyframes(outcome.candidates, original, outcome.info)
            packages = [
                (c, [(f, store_evidence(services.store, f)) for f in files])
                for c in outcome.candidates
                for files in [
                    build(
                        outcome.analysis, c, original, outcome.info, outcome.facts, context, frames
                    )
                ]
            ]
        self._record(claim, outcome.facts, packages)
        log.info(
            "submission %s: %d frame(s), %d case(s)",
            context.submission_id,
            outcome.analysis.frames,
            len(packages),
        )

    def _record(
        self,
        claim: Claim,
        facts: ClipFacts,
        packages: list[tuple[Candidate, list[tuple[EvidenceFile, StoredObject]]]],
    ) -> None:
        services = self.services
        models = {m.name: {"file": m.file, "sha256": m.sha256} for m in self.models.infos()}
        rules = CaseRules(
            self.book.version, self.book.rules.duplicates, self.book.rules.cloned_plate
        )
        found = [new_case(candidate, facts, files) for candidate, files in packages]
        with services.sessions.begin() as session:
            services.ledger.complete(session, claim)
            submission = session.get(Job, claim.job_id).submission  # type: ignore[union-attr]
            record_cases(
                session, submission, found, rules, models, f"worker:{claim.worker}", claim.attempt
            )


def new_case(
    candidate: Candidate, facts: ClipFacts, files: list[tuple[EvidenceFile, StoredObject]]
) -> NewCase:
    """What ``cases/`` records of one candidate: the finding, its vehicle, time and place."""
    f = candidate.finding
    place = facts.place_at(f.t_key)
    return NewCase(
        key=candidate.key,
        violation=f.violation,
        rule=f.rule,
        explanation=f.explanation,
        confidence=f.confidence,
        track_id=candidate.track_id,
        observed_at=facts.time_at(f.t_key),
        latitude=place.latitude if place else None,
        longitude=place.longitude if place else None,
        plate=candidate.plate,
        plate_confidence=candidate.plate_confidence,
        plate_colour=candidate.plate_colour,
        vehicle_class=candidate.vehicle_class,
        t_start=f.t_start,
        t_end=f.t_end,
        evidence=tuple(
            NewEvidence(file.role, file.name, file.content_type, stored) for file, stored in files
        ),
    )
