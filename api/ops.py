"""Operations: request metrics, back-pressure on new uploads, ``/metrics`` and ``/readyz``."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from api import health
from api.deps import ServicesDep
from api.limits import declared_length
from ingest.observed import DatabaseCollector, QueueDepth
from telemetry.metrics import exposition, metrics

router = APIRouter(tags=["ops"])

# Requests that start a new upload; chunks of uploads already under way are let through so
# that work the queue will get anyway is not thrown away.
NEW_UPLOADS = {("POST", "/v1/events"), ("POST", "/v1/submissions")}
UPLOAD_CHUNKS = {("PATCH", "/v1/uploads/{upload_id}"): "resumable"}
ONE_REQUEST_UPLOADS = {("POST", "/v1/submissions"): "single"}


@router.get(
    "/readyz",
    responses={
        200: {"description": "database, store and queue answer"},
        503: {"description": "not ready: `missing` names each part that did not answer, and why"},
    },
)
async def readyz(services: ServicesDep) -> JSONResponse:
    """Ready when the database, the object store and the job queue answer; otherwise 503 with
    what is missing (``{"error": "not_ready", "detail": ..., "missing": {part: why}}``)."""
    missing = await run_in_threadpool(health.missing, services)
    if missing:
        detail = f"not reachable: {', '.join(missing)}"
        return JSONResponse(
            {"error": "not_ready", "detail": detail, "missing": missing}, status_code=503
        )
    return JSONResponse({"status": "ready"})


@router.get("/metrics", response_class=Response)
async def prometheus_metrics(services: ServicesDep) -> Response:
    """Prometheus text exposition: this API's processes plus the queue and case gauges."""
    body = await run_in_threadpool(exposition, DatabaseCollector(services.sessions))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _queue_depth(request: Request) -> QueueDepth:
    state = request.app.state
    if getattr(state, "queue_depth", None) is None:
        state.queue_depth = QueueDepth(state.services.sessions)
    depth: QueueDepth = state.queue_depth
    return depth


def _busy(retry_after_s: int, depth: int, limit: int) -> JSONResponse:
    metrics().uploads_refused.labels("queue_full").inc()
    return JSONResponse(
        {
            "error": "busy",
            "detail": f"{depth} jobs are waiting (limit {limit}); keep the media and retry "
            f"after {retry_after_s} s",
        },
        status_code=503,
        headers={"Retry-After": str(retry_after_s), "Tus-Resumable": "1.0.0"},
    )


def install(app: FastAPI, max_queue_depth: int, retry_after_s: int) -> None:
    """Count and time every request; refuse new uploads while the queue is too deep."""

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        method = request.method
        if max_queue_depth > 0 and (method, request.url.path.rstrip("/")) in NEW_UPLOADS:
            depth = await run_in_threadpool(_queue_depth(request))
            if depth >= max_queue_depth:
                response: Response = _busy(retry_after_s, depth, max_queue_depth)
                _count(request, request.url.path.rstrip("/"), response, start)
                return response
        response = await call_next(request)
        route = request.scope.get("route")
        _count(request, getattr(route, "path", "unmatched"), response, start)
        return response


def _count(request: Request, route: str, response: Response, start: float) -> None:
    m, method, status = metrics(), request.method, response.status_code
    m.requests.labels(route, method, str(status)).inc()
    m.request_seconds.labels(route, method).observe(time.perf_counter() - start)
    length = declared_length(request.headers.get("content-length"))
    if length is not None and status < 300:
        protocol = UPLOAD_CHUNKS.get((method, route)) or ONE_REQUEST_UPLOADS.get((method, route))
        if protocol is not None:
            m.upload_bytes.labels(protocol).inc(length)
    if method == "HEAD" and route == "/v1/uploads/{upload_id}" and status == 200:
        m.upload_resumptions.inc()
