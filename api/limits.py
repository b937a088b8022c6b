"""What one request may cost: a body-size limit for JSON routes (413), and JSON bodies parsed
off the event loop, strictly (no NaN, Infinity or 1e999; nesting and huge integers refused
with a 422, never a 500), so one large body never stalls the other requests."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem

UPLOAD_PATHS = ("/v1/uploads", "/v1/submissions")
"""Media bytes: limited by ``max_upload_bytes`` where they are stored, not here."""
EVENT_PATH = "/v1/events"
"""The one JSON body that may carry a whole GPS track."""
DRAIN_BYTES = 32 * 1024 * 1024
"""An oversized body up to this size is read and dropped before the 413, so the client sees
the answer instead of a reset connection; a larger one is answered at once."""


MAX_VALUES = 100_000
"""The most values (counted by their separating commas) one JSON body may hold: json.loads is
one C call that holds the GIL, ~0.1 s per million values, so it is bounded before it starts."""
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def _too_many_values(body: bytes) -> bool:
    # Commas inside strings (an NMEA track has a dozen a line) do not count: strip the strings
    # (a few ms per MB) only when the raw count is already over the limit.
    return body.count(b",") > MAX_VALUES and _STRINGS.sub(b'""', body).count(b",") > MAX_VALUES


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number (only finite numbers are accepted)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:24]} is out of range (only finite numbers are accepted)")
    return value


def parse_json(body: bytes) -> Any:
    """``json.loads``, refusing what cannot round-trip as JSON or would exhaust the parser."""
    if _too_many_values(body):
        raise json.JSONDecodeError(f"the JSON holds over {MAX_VALUES} values", "", 0)
    try:
        return json.loads(body, parse_constant=_reject_constant, parse_float=_finite)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("the JSON is nested too deeply", "", 0) from None
    except (ValueError, UnicodeDecodeError) as exc:  # huge integers, bad UTF-8, NaN
        raise json.JSONDecodeError(str(exc)[:200], "", 0) from None


class OffLoopJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json = await run_in_threadpool(parse_json, body)
        return self._json


class OffLoopJSONRoute(APIRoute):
    """A route whose JSON body is parsed in a worker thread (and strictly)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def parse_off_loop(request: Request) -> Response:
            return await handler(OffLoopJSONRequest(request.scope, request.receive))

        return parse_off_loop


class BodyLimit:
    """413 for a JSON body over its limit: at once when ``Content-Length`` says so, else as
    soon as the streamed bytes pass it (nothing is parsed or stored before)."""

    def __init__(self, app: ASGIApp, json_limit: int, event_limit: int) -> None:
        self.app, self.json_limit, self.event_limit = app, json_limit, event_limit

    def limit_for(self, path: str) -> int | None:
        if path.startswith(UPLOAD_PATHS):
            return None
        return self.event_limit if path == EVENT_PATH else self.json_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            if int(length) <= DRAIN_BYTES:
                await _drain(receive)
            await _too_large(limit, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, f"the body is over the {limit} byte limit")
            return message

        await self.app(scope, counted, send)


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _too_large(limit: int, send: Send) -> None:
    body = json.dumps(problem("too_large", f"the body is over the {limit} byte limit")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
