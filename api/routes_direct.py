"""Protocol v2, S3 mode: the bytes go straight to the store by presigned multipart part URLs;
the API only plans the parts and checks the assembled object (docs/protocol.md, 6.3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.auth import CallerDep
from api.deps import ServicesDep
from api.limits import OffLoopJSONRoute
from api.schemas import Problem
from api.schemas_protocol import DirectPlanOut, PartOut
from cases.services import Services
from ingest.direct_upload import DirectPlan, DirectUploads
from ingest.store import S3Store
from ingest.upload_tokens import UploadTokens
from ingest.uploads import UploadError

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 401, 403, 404, 409, 410, 413, 422)
}
router = APIRouter(tags=["reporting protocol"], route_class=OffLoopJSONRoute)


class PartDigestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: int = Field(ge=1, le=10_000)
    md5: str = Field(pattern=r"^[0-9a-f]{32}$", description="Lower-case hex MD5 of the part.")


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parts: list[PartDigestIn] = Field(
        default_factory=list,
        max_length=10_000,
        description="Optional: each part's MD5 as the sender computed it. When they match the "
        "store's part ETags, a video is checked in place instead of read back (section 6.3).",
    )


class CompletedOut(BaseModel):
    upload_id: str
    state: str
    submission_id: str | None
    status_url: str | None


def for_services(services: Services) -> DirectUploads | None:
    """Direct uploads for this process's store; None when the store is a local folder."""
    if not isinstance(services.store, S3Store):
        return None
    return DirectUploads(
        services.sessions,
        services.store,
        services.intake,
        services.settings.data_dir / "tmp",
        ttl=services.uploads.ttl,
    )


def plan_out(plan: DirectPlan) -> DirectPlanOut:
    return DirectPlanOut(
        upload_id=plan.upload_id,
        part_size=plan.part_size,
        parts=[
            PartOut(
                number=p.number,
                offset=p.offset,
                size=p.size,
                url=p.url,
                done=p.done,
                headers=p.headers,
            )
            for p in plan.parts
        ],
        urls_expire_at=plan.urls_expire_at,
        complete_url=f"/v1/uploads/{plan.upload_id}/direct/complete",
        submission_id=plan.submission_id,
    )


def housekeep(services: Services) -> None:
    """Forget expired upload tokens; abort the multipart uploads of dead uploads."""
    UploadTokens(services.sessions).prune()
    direct = for_services(services)
    if direct is not None:
        direct.sweep()


def direct_uploads(services: Services) -> DirectUploads:
    direct = for_services(services)
    if direct is None:
        raise UploadError(
            409,
            "direct_unavailable",
            "this server keeps uploads on tus (embedded mode): PATCH the upload_url",
        )
    return direct


@router.post(
    "/v1/uploads/{upload_id}/direct",
    response_model=DirectPlanOut,
    responses=ERRORS,
)
async def direct_plan(upload_id: str, caller: CallerDep, services: ServicesDep) -> DirectPlanOut:
    """S3 mode: where to send each part of the file (presigned ``PUT`` URLs, valid one hour).
    Ask again after a cut connection: parts the store already holds are marked ``done``."""
    return plan_out(await run_in_threadpool(direct_uploads(services).plan, caller, upload_id))


@router.post(
    "/v1/uploads/{upload_id}/direct/complete",
    response_model=CompletedOut,
    responses=ERRORS,
)
async def direct_complete(
    upload_id: str,
    caller: CallerDep,
    services: ServicesDep,
    response: Response,
    body: CompleteIn | None = None,
) -> CompletedOut:
    """All parts sent: the store assembles them, the API checks the file (each part's MD5 and
    the media, or the whole file's SHA-256 read back) and what it is, and accepts the report
    (``RW-Submission-Id``). Calling it again is harmless."""
    digests = {p.number: p.md5 for p in body.parts} if body else None
    state = await run_in_threadpool(direct_uploads(services).complete, caller, upload_id, digests)
    if state.submission_id:
        response.headers["RW-Submission-Id"] = state.submission_id
    return CompletedOut(
        upload_id=state.id,
        state=state.state,
        submission_id=state.submission_id,
        status_url=f"/v1/reports/{state.submission_id}" if state.submission_id else None,
    )
