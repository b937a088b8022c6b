"""Refusals as JSON with a machine-readable code: {"error": code, "detail": text}.

One shape for every error answer: the protocol's refusals, FastAPI's ``HTTPException`` and
request validation (which adds ``errors``, one entry per field, never the input itself: a
20 MB body must not come back as a 20 MB error, and a non-finite number could not be written
as JSON at all).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from fastapi import FastAPI, Request, routing
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import Send

from ingest.errors import Refused
from ingest.uploads import UploadError

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}
RETRY_BUSY_S = 2
"""``Retry-After`` when every database connection was busy for the pool's whole wait."""
RETRY_DOWN_S = 10
"""``Retry-After`` when the database could not be reached or refused the work."""
EXCERPT = 200
"""The most characters of any text taken from the request that an error answer repeats."""
MAX_FIELD_ERRORS = 20


def excerpt(text: str, limit: int = EXCERPT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def problem(code: str, detail: str, **more: Any) -> dict[str, Any]:
    return {"error": code, "detail": excerpt(detail, 1000), **more}


async def send_problem(
    send: Send, status: int, code: str, detail: str, close: bool = False
) -> None:
    """The error body sent straight from ASGI middleware, before any route (or FastAPI's
    handlers) runs."""
    body = json.dumps(problem(code, detail)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _message(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", ""))
    if err.get("type") == "json_invalid" and isinstance(err.get("ctx"), dict):
        msg += f" ({err['ctx'].get('error', '')})"
    return excerpt(msg)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [p if isinstance(p, int) else excerpt(str(p), 64) for p in err.get("loc", ())],
            "msg": _message(err),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()[:MAX_FIELD_ERRORS]
    ]


def validation_detail(fields: list[dict[str, Any]]) -> str:
    parts = [".".join(str(p) for p in f["loc"]) + ": " + f["msg"] for f in fields[:3]]
    return "; ".join(parts) or "the request is not valid"


def allowed(request: Request) -> str:
    """Every method the request's path takes: Starlette's 405 names only those of the first
    route whose path matched (``Allow: HEAD`` on an upload that also takes PATCH, DELETE)."""
    methods: set[str] = set()
    for route in routing.iter_route_contexts(request.app.routes):
        if route.path and route.methods and _pattern(route.path).fullmatch(request.url.path):
            methods |= route.methods
    return ", ".join(sorted(methods))


@cache
def _pattern(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def install(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> JSONResponse:
        headers = {}
        if exc.status == 401:
            headers["WWW-Authenticate"] = "RW1-ED25519, Bearer"
        if isinstance(exc, UploadError):
            headers["Tus-Resumable"] = "1.0.0"
            if exc.status == 412:  # tus: a version refusal names the versions we speak
                headers["Tus-Version"] = "1.0.0"
        headers.update(getattr(exc, "headers", {}))  # e.g. Retry-After of a rate limit
        return JSONResponse(problem(exc.code, exc.detail), exc.status, headers)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = CODES.get(exc.status_code, f"http_{exc.status_code}")
        body = problem(code, str(exc.detail))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed(request)
        return JSONResponse(body, exc.status_code, headers)

    @app.exception_handler(PoolTimeout)
    async def _busy(_request: Request, _exc: PoolTimeout) -> JSONResponse:
        detail = "every database connection stayed busy; send the request again"
        headers = {"Retry-After": str(RETRY_BUSY_S)}
        return JSONResponse(problem("unavailable", detail), 503, headers)

    @app.exception_handler(OperationalError)
    async def _down(_request: Request, _exc: OperationalError) -> JSONResponse:
        # the database unreachable, restarting or out of connections: the request's
        # transaction did not commit, so it is safe to send again (the protocol is idempotent)
        detail = "the database is unavailable; send the request again"
        headers = {"Retry-After": str(RETRY_DOWN_S)}
        return JSONResponse(problem("unavailable", detail), 503, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _field_errors(exc)
        body = problem("invalid_request", validation_detail(fields), errors=fields)
        return JSONResponse(body, 422)
