"""One clip through the worker end to end is probed once and decoded once: keyframes come from
the sampled frames, the annotation from the judged scene, the clip by stream copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import pytest
from sqlalchemy import select

import workers.evidence
from cases.services import Services
from ingest.db import Case, EvidenceItem
from ingest.db_fraud import MediaFingerprint
from ingest.migrate import upgrade
from ingest.submissions import Declared
from workers.fingerprint import fingerprint
from workers.jobs import SubmissionProcessor
from workers.runner import run
from workers.scan import scan_file

pytestmark = pytest.mark.integration


def test_one_clip_is_probed_once_and_decoded_once(
    models: Any,
    pan_video: tuple[Path, str],
    make_settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clip, plate = pan_video
    settings = make_settings()
    upgrade(settings.database_url)
    services = Services.build(settings)
    try:
        services.intake.accept(clip, "pan.mp4", Declared(violation="other"))
        opened: list[str] = []
        ffmpeg_runs: list[tuple[str, ...]] = []
        real_open, real_ffmpeg = av.open, workers.evidence.run_ffmpeg

        def counting_open(*args: Any, **kwargs: Any) -> Any:
            opened.append(str(args[0]))
            return real_open(*args, **kwargs)

        def counting_ffmpeg(*args: str, check: bool = True) -> Any:
            ffmpeg_runs.append(args)
            return real_ffmpeg(*args, check=check)

        monkeypatch.setattr(av, "open", counting_open)
        monkeypatch.setattr(workers.evidence, "run_ffmpeg", counting_ffmpeg)
        run(services, SubmissionProcessor(services, models), drain=True)
        with services.sessions() as session:
            (case,) = session.scalars(select(Case))
            roles = set(
                session.scalars(select(EvidenceItem.role).where(EvidenceItem.case_id == case.id))
            )
            stored = session.scalars(select(MediaFingerprint)).one()
    finally:
        services.close()
    assert case.plate == plate
    assert {"frame_before", "frame_during", "frame_after", "raw_during", "clip"} <= roles
    assert len(opened) == 2, opened  # the probe, then the one decoding pass
    (cut,) = ffmpeg_runs  # the clip, cut by stream copy: no decoding, no re-encoding
    assert "copy" in cut and "libx264" not in cut, cut
    # the anti-fraud fingerprint came from that same pass, and equals a scan of its own
    assert stored.submission_id == case.submission_id and stored.kind == "video"
    assert stored.hashes == fingerprint(scan_file(clip, "video")).to_bytes()
