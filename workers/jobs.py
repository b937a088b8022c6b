"""The job functions: turn one submission into candidate cases, each with its evidence package
stored and a custody record of who made each file."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from cases.creation import CaseRules, NewCase, NewEvidence, record_cases
from cases.services import Services
from ingest.db import Job, Submission
from ingest.queue import Claim
from ingest.store import ObjectExists, ObjectStore, StoredObject, download_checked
from ingest.tracks import Point
from models.registry import ModelSet
from models.types import chars_as_lists
from rules import ClipFacts, RuleBook
from rules.facts import View
from telemetry.metrics import metrics, timed_stage
from workers.evidence import Context, EvidenceFile
from workers.fraud import Examined, FraudChecks, FraudConfig, examine
from workers.pipeline import Outcome as Outcome
from workers.pipeline import provenance, run
from workers.pipeline import recognise_file as recognise_file
from workers.recognise import Candidate
from workers.rule_files import load_rules
from workers.scan import VideoScanner

log = logging.getLogger(__name__)

EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "video/mp4": ".mp4",
    "application/json": ".json",
}


def models_for(services: Services) -> ModelSet:
    s = services.settings
    return ModelSet(
        s.models_dir, s.detector, s.plate_detector_size, s.plate_reader, s.plate_province_prior
    )


def store_evidence(store: ObjectStore, file: EvidenceFile) -> StoredObject:
    """Evidence is content-addressed, so a redone job finds its files already stored."""
    digest = file.sha256
    key = f"evidence/{digest[:2]}/{digest}{EXTENSIONS.get(file.content_type, '')}"
    try:
        return store.put_bytes(key, file.data, file.content_type)
    except ObjectExists:
        return store.stat(key)


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
        s = services.settings
        self.fraud = FraudChecks(
            FraudConfig(s.fraud_exif_gps_tolerance_s, s.fraud_place_max_km, s.device_encoders)
        )
        s = services.settings
        self.fraud = FraudChecks(
            FraudConfig(s.fraud_exif_gps_tolerance_s, s.fraud_place_max_km, s.device_encoders)
        )

    def __call__(self, claim: Claim) -> None:
        services, s = self.services, self.services.settings
        with services.sessions() as session:
            job = session.get(Job, claim.job_id)
            assert job is not None
            sub = job.submission
            context = Context(
                sub.id,
                sub.media.sha256,
                sub.media.key,
                provenance(self.models),
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
            # Hashed on the way down: the first full read confirms a direct upload's original
            # (checked part by part at completion; docs/protocol.md 6.3) before any case.
            download_checked(services.store, media_key, original, context.original_sha256)
            scanner = VideoScanner()  # the anti-fraud scan rides on the one decoding pass
            result = run(
                original,
                self.models,
                self.book,
                context,
                fps=s.sample_fps,
                max_frames=s.max_frames,
                max_seconds=s.max_video_seconds,
                declared=declared,
                start=start,
                positions=positions,
                watcher=scanner,
                view=view,
            )
            kind = result.outcome.info.kind
            examined = examine(original, kind, scanner.scan() if kind == "video" else None)
        with timed_stage("evidence"):
            packages = [
                (c, [(f, store_evidence(services.store, f)) for f in files])
                for c, files in result.packages
            ]
        self._record(claim, result.outcome.facts, packages, examined)
        log.info(
            "submission %s: %d frame(s), %d case(s)",
            context.submission_id,
            result.outcome.analysis.frames,
            len(packages),
        )

    def _record(
        self,
        claim: Claim,
        facts: ClipFacts,
        packages: list[tuple[Candidate, list[tuple[EvidenceFile, StoredObject]]]],
        examined: Examined | None = None,
    ) -> None:
        services = self.services
        models = provenance(self.models)
        rules = CaseRules(
            self.book.version, self.book.rules.duplicates, self.book.rules.cloned_plate
        )
        found = [new_case(candidate, facts, files) for candidate, files in packages]
        with services.sessions.begin() as session:
            services.ledger.complete(session, claim)
            submission = session.get(Job, claim.job_id).submission  # type: ignore[union-attr]
            actor = f"worker:{claim.worker}"
            new = record_cases(session, submission, found, rules, models, actor, claim.attempt)
            if examined is not None:
                session.flush()
                self.fraud.record(session, submission, examined, actor)
        for case in new:
            log.info("case %s: %s", case.id, case.rule, extra={"case_id": case.id})
            metrics().cases_created.labels(case.rule).inc()


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
        plate_chars=chars_as_lists(candidate.plates.chars) if candidate.plates else [],
        vehicle_class=candidate.vehicle_class,
        t_start=f.t_start,
        t_end=f.t_end,
        evidence=tuple(
            NewEvidence(file.role, file.name, file.content_type, stored) for file, stored in files
        ),
    )
