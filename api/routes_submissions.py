"""Uploads from reporters, and each submission's status."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from api.auth import ReporterDep
from api.deps import ServicesDep, SessionDep
from api.refuse import clean_text
from api.schemas import JobOut, Problem, SubmissionCreated, SubmissionOut
from api.staff_auth import AnyStaff
from ingest.abuse import check_rate
from ingest.db import Reporter, Submission
from ingest.media import MediaError
from ingest.submissions import VIOLATIONS, Declared
from ingest.timebounds import SPAN, plausible

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])

CHUNK = 1 << 20
MAX_CO_REPORTERS = 20
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem} for code in (400, 401, 413, 415, 422, 429)
}


@router.post("", status_code=201, response_model=SubmissionCreated, responses=ERRORS)
async def create_submission(
    services: ServicesDep,
    caller: ReporterDep,
    file: Annotated[
        UploadFile, File(description="A video (MP4/MOV/MKV/AVI/TS) or photo (JPEG/PNG)")
    ],
    violation: Annotated[str | None, Form(description=f"One of {', '.join(VIOLATIONS)}")] = None,
    latitude: Annotated[float | None, Form(ge=-90, le=90, allow_inf_nan=False)] = None,
    longitude: Annotated[float | None, Form(ge=-180, le=180, allow_inf_nan=False)] = None,
    taken_at: Annotated[datetime | None, Form(description="ISO 8601 with a time zone")] = None,
    joint_with: Annotated[
        str | None,
        Form(description="A joint report: the co-reporters' reporter ids, comma-separated"),
    ] = None,
) -> SubmissionCreated:
    """Upload one video or photo as evidence in one request (an app reporter's bearer token;
    for large files or flaky links use the resumable ``/v1/events`` protocol). It is stored
    unaltered with its SHA-256 and queued for analysis; ``status_url`` follows it."""
    if violation is not None and violation not in VIOLATIONS:
        raise HTTPException(422, f"violation must be one of {', '.join(VIOLATIONS)}")
    if (latitude is None) != (longitude is None):
        raise HTTPException(422, "give both latitude and longitude, or neither")
    if taken_at is not None and taken_at.tzinfo is None:
        raise HTTPException(422, "taken_at needs a time zone (e.g. 2026-11-23T08:15:00+08:00)")
    if taken_at is not None and not plausible(taken_at):
        raise HTTPException(422, f"taken_at must lie from {SPAN}")
    try:
        clean_text(file.filename, "the file name")
        clean_text(joint_with, "joint_with")
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    s = services.settings
    with services.sessions() as session:  # 429 with Retry-After past the reporter's limit
        check_rate(session, "reporter", caller.id, s.rate_limit_reporter, s.rate_limit_window_s)
    joint = tuple(dict.fromkeys(r.strip() for r in (joint_with or "").split(",") if r.strip()))
    if len(joint) > MAX_CO_REPORTERS:
        raise HTTPException(422, f"a joint report names at most {MAX_CO_REPORTERS} co-reporters")
    if caller.id in joint:
        raise HTTPException(422, "joint_with lists the other reporters, not yourself")
    if joint:
        with services.sessions() as session:
            known = set(session.scalars(select(Reporter.id).where(Reporter.id.in_(joint))))
        if unknown := [r for r in joint if r not in known]:
            raise HTTPException(422, f"no such reporter: {', '.join(unknown)}")
    limit = services.settings.max_upload_bytes
    tmp_dir = services.settings.data_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_dir) as tmp:
        path = Path(tmp) / "upload"
        size, digest = 0, hashlib.sha256()
        with path.open("wb") as out:
            while block := await file.read(CHUNK):
                size += len(block)
                if size > limit:
                    raise HTTPException(413, f"the file is over the {limit} byte limit")
                digest.update(block)
                out.write(block)
        declared = Declared(
            violation, latitude, longitude, taken_at, reporter=caller.id, joint_reporters=joint
        )
        try:
            submission = await run_in_threadpool(
                services.intake.accept,
                path,
                file.filename,
                declared,
                caller.owner,
                digest.hexdigest(),
            )
        except MediaError as exc:
            raise HTTPException(exc.status, exc.reason) from exc
        finally:
            await file.close()
            shutil.rmtree(tmp, ignore_errors=True)
    return SubmissionCreated(
        id=submission.id,
        status=submission.status,
        sha256=submission.sha256,
        kind=submission.kind,
        status_url=f"/v1/reports/{submission.id}",
    )


@router.get("/{submission_id}", response_model=SubmissionOut, responses={404: {"model": Problem}})
def get_submission(submission_id: str, session: SessionDep, _: AnyStaff) -> SubmissionOut:
    """A submission's state: received, processing, candidate (cases await review), no_case or
    failed (with the reason), its job's attempts, and the cases it produced."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise HTTPException(404, "no such submission")
    job = submission.jobs[-1] if submission.jobs else None
    return SubmissionOut(
        id=submission.id,
        status=submission.status,
        created_at=submission.created_at,
        kind=submission.media.kind,
        sha256=submission.media.sha256,
        declared_violation=submission.declared_violation,
        error=submission.error,
        job=JobOut(
            state=job.state,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            last_error=job.last_error,
        )
        if job
        else None,
        cases=[c.id for c in submission.cases],
    )
