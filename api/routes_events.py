"""The reporting protocol: open an event's upload, then tus 1.0 core on /v1/uploads/{id}."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import routes_direct, tus
from api.auth import CallerDep
from api.deps import ServicesDep
from api.errors import excerpt
from api.limits import OffLoopJSONRoute
from api.offload import parse_track
from api.schemas import Problem
from api.schemas_protocol import DirectPlanOut, EventIn, UploadOut
from api.tus import TUS
from cases.services import Services
from ingest.abuse import check_rate
from ingest.db import Upload
from ingest.direct_parts import checksum_problem
from ingest.identity import AuthError, Caller
from ingest.upload_tokens import Issued, UploadTokens
from ingest.uploads import UploadError, UploadState

router = APIRouter(tags=["reporting protocol"], route_class=OffLoopJSONRoute)


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The refusals of docs/protocol.md, section 4, that an operation can answer."""
    return {code: {"model": Problem} for code in codes}


def _headers(state: UploadState) -> dict[str, str]:
    headers = {
        "Tus-Resumable": TUS,
        "Upload-Offset": str(state.offset),
        "Upload-Length": str(state.length),
        "Cache-Control": "no-store",
        "Upload-Expires": state.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
    }
    if state.submission_id:
        headers["RW-Submission-Id"] = state.submission_id
    return headers


def _out(state: UploadState) -> UploadOut:
    return UploadOut(
        upload_id=state.id,
        upload_url=f"/v1/uploads/{state.id}",
        offset=state.offset,
        length=state.length,
        state=state.state,
        expires_at=state.expires_at,
        submission_id=state.submission_id,
        status_url=f"/v1/reports/{state.submission_id}" if state.submission_id else None,
    )


async def _event_record(event: EventIn) -> dict[str, Any]:
    """What is kept of the announcement, as plain JSON (the track parsed into points, off the
    event loop: a long track takes seconds)."""
    stored = event.model_dump(mode="json", exclude={"track", "media", "transfer"})
    stored["filename"] = event.media.filename
    if (parts := event.media.parts) is not None:  # part CRC32s for direct uploads (6.3)
        problem = checksum_problem(event.media.size, parts.size, len(parts.crc32))
        if problem is not None:
            raise UploadError(422, "bad_parts", problem)
        stored["parts"] = parts.model_dump(mode="json")
    if event.track is not None:
        points = await parse_track(event.track.data, event.track.format)
        if isinstance(points, str):
            raise UploadError(422, "bad_track", excerpt(points))
        stored["track_points"] = points
    return stored


@router.post(
    "/v1/events",
    response_model=UploadOut,
    status_code=201,
    responses={
        200: {"model": UploadOut, "description": "Sent before: the same upload, or its report"},
        **_errors(400, 401, 403, 409, 410, 413, 422, 429),
    },
)
async def open_event(
    event: EventIn, caller: CallerDep, services: ServicesDep, response: Response, request: Request
) -> UploadOut:
    """Announce an event and its media; get the upload to send the bytes to. Re-sending the
    same ``event_id`` returns the same upload (with the offset reached), or its report. A new
    event past the sender's rate limit is refused with 429 and ``Retry-After``."""
    if event.track is not None:  # a rate check before a track's parse (seconds, for a long one)
        await run_in_threadpool(_check_rate, services, caller.kind, caller.id, event.event_id)
    stored = await _event_record(event)
    if caller.kind == "device":  # the signed request names the media's SHA-256: attested
        stored["attested_key_id"] = request.headers.get("rw-key-id")
    # The rest in one worker thread (each trip to one costs more than a small step there).
    state, out = await run_in_threadpool(
        _open, services, caller, event, stored, event.track is None
    )
    response.status_code = 201 if state.created else 200
    location = str(request.url_for("upload_offset", upload_id=state.id))
    response.headers.update({**_headers(state), "Location": location})
    out.location = location
    return out


def _open(
    services: Services, caller: Caller, event: EventIn, stored: dict[str, Any], rate: bool
) -> tuple[UploadState, UploadOut]:
    """The rate check (``rate``: not done yet), the upload, its token and the direct plan."""
    s, tokens = services.settings, UploadTokens(services.sessions)
    limit = s.rate_limit_device if caller.kind == "device" else s.rate_limit_reporter
    issued: list[Issued] = []

    def admit(session: Session) -> None:  # a new event only: a re-sent one is a retry
        check_rate(session, caller.kind, caller.id, limit, s.rate_limit_window_s)

    # The rate check and the token in the transaction that opens the upload.
    state = services.uploads.open(
        caller,
        event.event_id,
        event.media.size,
        event.media.sha256,
        stored,
        admit if rate else None,
        lambda session, upload_id: issued.append(tokens.issue(upload_id, session)),
    )
    out = _out(state)
    if state.state == "open":
        token = issued[-1] if state.created and issued else tokens.issue(state.id)
        out.upload_token, out.upload_token_expires_at = token.token, token.expires_at
        if event.transfer == "direct":
            opened = (event.media.size, event.media.sha256, stored) if state.created else None
            out.direct = _direct_plan(services, caller, state.id, opened)
    return state, out


def _direct_plan(
    services: Services,
    caller: Caller,
    upload_id: str,
    opened: tuple[int, str, dict[str, Any]] | None,
) -> DirectPlanOut | None:
    """The plan of section 6.3 in the event's answer (one request fewer), unless the store
    is a local folder or the upload already has tus bytes (the client then asks as before).
    ``opened``: the length, SHA-256 and event of an upload just opened (none to read back)."""
    direct = routes_direct.for_services(services)
    if direct is None:
        return None
    try:
        plan = direct.plan(caller, upload_id, keep_alive=False, opened=opened)
    except UploadError:
        return None
    return routes_direct.plan_out(plan)


def _check_rate(services: ServicesDep, kind: str, sender: str, event_id: str) -> None:
    s = services.settings
    limit = s.rate_limit_device if kind == "device" else s.rate_limit_reporter
    with services.sessions() as session:
        known = session.scalar(
            select(Upload.id).where(Upload.owner == f"{kind}:{sender}", Upload.event_id == event_id)
        )
        if known is None:  # re-sending a known event is a retry, never counted
            check_rate(session, kind, sender, limit, s.rate_limit_window_s)


@router.options("/v1/uploads", include_in_schema=False)
def tus_options(services: ServicesDep) -> Response:
    return Response(
        status_code=204,
        headers={
            "Tus-Resumable": TUS,
            "Tus-Version": TUS,
            "Tus-Extension": "expiration,termination,checksum",
            "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUM_ALGORITHMS),
            "Tus-Max-Size": str(services.settings.max_upload_bytes),
        },
    )


@router.head("/v1/uploads/{upload_id}", responses=_errors(401, 403, 404, 410))
async def upload_offset(
    upload_id: str, request: Request, caller: CallerDep, services: ServicesDep
) -> Response:
    """How many bytes the server holds (ask after a cut connection, then resume from there)."""
    if "tus-resumable" in request.headers:  # v1 clients may leave it out of a HEAD
        tus.require_tus(request.headers)
    state = await run_in_threadpool(services.uploads.head, caller, upload_id)
    return Response(status_code=200, headers=_headers(state))


@router.patch(
    "/v1/uploads/{upload_id}",
    status_code=204,
    responses=_errors(400, 401, 403, 404, 409, 410, 412, 413, 415, 422, 423, 460),
)
async def upload_bytes(
    upload_id: str, request: Request, caller: CallerDep, services: ServicesDep
) -> Response:
    """Append bytes at ``Upload-Offset``. The last chunk completes the upload: the SHA-256 is
    checked and the report is accepted (``RW-Submission-Id`` in the answer). Signed chunks
    carry ``RW-Content-SHA256``; any chunk may carry ``Upload-Checksum`` (tus checksum)."""
    tus.require_tus(request.headers)
    offset = tus.chunk_offset(request.headers)
    tus.require_chunk_type(request.headers)
    signed = "rw-signature" in request.headers
    digest = request.headers.get("rw-content-sha256") if signed else None
    if signed and not digest:
        raise AuthError(401, "missing_signature", "RW-Content-SHA256 is required")
    body: AsyncIterator[bytes] = request.stream()
    if checksum := tus.single(request.headers, "upload-checksum"):
        body = tus.checked(body, *tus.parse_checksum(checksum))
    state = await services.uploads.append(caller, upload_id, offset, body, digest)
    return Response(status_code=204, headers=_headers(state))


@router.delete(
    "/v1/uploads/{upload_id}", status_code=204, responses=_errors(401, 403, 404, 409, 410, 423)
)
async def give_up(upload_id: str, caller: CallerDep, services: ServicesDep) -> Response:
    """tus termination: drop an unfinished upload."""
    await run_in_threadpool(services.uploads.delete, caller, upload_id)
    return Response(status_code=204, headers={"Tus-Resumable": TUS})
