"""Operations: request metrics, back-pressure on new uploads, ``/metrics`` and ``/readyz``."""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    app.add_middleware(Observe, max_queue_depth=max_queue_depth, retry_after_s=retry_after_s)


class Observe:
    """The counting and the back-pressure as a pure ASGI middleware: ``@app.middleware``
    runs each request in a task of its own with streams between them, a cost every request
    paid (more than the back-pressure check itself)."""

    def __init__(self, app: ASGIApp, max_queue_depth: int, retry_after_s: int) -> None:
        self.app, self.max_queue_depth, self.retry_after_s = app, max_queue_depth, retry_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        method, path = scope["method"], scope["path"].rstrip("/")
        length = declared_length(dict(scope["headers"]).get(b"content-length"))
        if self.max_queue_depth > 0 and (method, path) in NEW_UPLOADS:
            depth = await run_in_threadpool(_queue_depth(Request(scope)))
            if depth >= self.max_queue_depth:
                busy = _busy(self.retry_after_s, depth, self.max_queue_depth)
                _count(method, path, busy.status_code, length, start)
                await busy(scope, receive, send)
                return

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = getattr(scope.get("route"), "path", "unmatched")
                _count(method, route, message["status"], length, start)
            await send(message)

        await self.app(scope, receive, counted)


def _count(method: str, route: str, status: int, length: int | None, start: float) -> None:
    m = metrics()
    m.requests.labels(route, method, str(status)).inc()
    m.request_seconds.labels(route, method).observe(time.perf_counter() - start)
    if length is not None and status < 300:
        protocol = UPLOAD_CHUNKS.get((method, route)) or ONE_REQUEST_UPLOADS.get((method, route))
        if protocol is not None:
            m.upload_bytes.labels(protocol).inc(length)
    if method == "HEAD" and route == "/v1/uploads/{upload_id}" and status == 200:
        m.upload_resumptions.inc()
