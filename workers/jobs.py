"""The job functions: turn one submission into candidate cases with stored evidence."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ingest.db import AuditEvent, Case, EvidenceItem, Job
from ingest.media import probe
from ingest.queue import Claim
from ingest.services import Services
from ingest.store import ObjectExists, ObjectStore, StoredObject
from models.registry import ModelSet
from workers.evidence import EvidenceFile, build
from workers.frames import iter_frames
from workers.recognise import Analysis, analyse

log = logging.getLogger(__name__)

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "video/mp4": ".mp4"}


def models_for(services: Services) -> ModelSet:
    s = services.settings
    return ModelSet(s.models_dir, s.detector, s.plate_detector_size)


def store_evidence(store: ObjectStore, file: EvidenceFile) -> StoredObject:
    """Evidence is content-addressed, so a redone job finds its files already stored."""
    digest = hashlib.sha256(file.data).hexdigest()
    key = f"evidence/{digest[:2]}/{digest}{EXTENSIONS.get(file.content_type, '')}"
    try:
        return store.put_bytes(key, file.data, file.content_type)
    except ObjectExists:
        return store.stat(key)


def analyse_file(
    services: Services,
    models: ModelSet,
    path: Path,
    declared: str | None,
    on_frame: Callable[[Any], None] | None = None,
) -> tuple[Analysis, Any]:
    s = services.settings
    info = probe(path, s.max_video_seconds)
    frames = iter_frames(path, info, s.sample_fps, s.max_frames)
    return analyse(models, frames, declared, on_frame, s.sample_fps), info


class SubmissionProcessor:
    """The handler the queue runs for each claimed ``process_submission`` job."""

    def __init__(self, services: Services, models: ModelSet) -> None:
        self.services = services
        self.models = models

    def __call__(self, claim: Claim) -> None:
        services = self.services
        with services.sessions() as session:
            job = session.get(Job, claim.job_id)
            assert job is not None
            submission = job.submission
            media_key, declared = submission.media.key, submission.declared_violation
        with tempfile.TemporaryDirectory(prefix="roadwitness-job-") as tmp:
            original = Path(tmp) / "original"
            services.store.download(media_key, original)
            analysis, info = analyse_file(services, self.models, original, declared)
            packages = [
                (
                    c,
                    [
                        (f, store_evidence(services.store, f))
                        for f in build(analysis, c, original, info)
                    ],
                )
                for c in analysis.candidates
            ]
        models = {m.name: {"file": m.file, "sha256": m.sha256} for m in self.models.infos()}
        actor = f"worker:{claim.worker}"
        with services.sessions.begin() as session:
            services.ledger.complete(session, claim)
            submission = session.get(Job, claim.job_id).submission  # type: ignore[union-attr]
            existing = set(
                session.scalars(select(Case.plate).where(Case.submission_id == submission.id))
            )
            for candidate, files in packages:
                if candidate.plate in existing:
                    continue
                case = Case(
                    submission_id=submission.id,
                    violation=candidate.violation,
                    plate=candidate.plate,
                    plate_confidence=candidate.plate_confidence,
                    plate_colour=candidate.plate_colour,
                    vehicle_class=candidate.vehicle_class,
                    t_start=candidate.t_start,
                    t_end=candidate.t_end,
                    models=models,
                )
                session.add(case)
                session.flush()
                for file, stored in files:
                    session.add(
                        EvidenceItem(
                            case_id=case.id,
                            role=file.role,
                            name=file.name,
                            key=stored.key,
                            sha256=stored.sha256,
                            size=stored.size,
                            content_type=file.content_type,
                        )
                    )
                session.add(
                    AuditEvent(
                        actor=actor,
                        action="case_created",
                        entity="case",
                        entity_id=case.id,
                        data={
                            "plate": case.plate,
                            "submission": submission.id,
                            "attempt": claim.attempt,
                        },
                    )
                )
            submission.status = "candidate" if packages or existing else "no_case"
            submission.error = None
            log.info(
                "submission %s: %d frame(s), %d case(s)",
                submission.id,
                analysis.frames,
                len(packages),
            )
