"""What one request may cost: a body-size limit for JSON routes (413), and JSON bodies parsed
off the event loop (a small one in place, a larger one in a thread, a large one in another
process), strictly: no NaN,
Infinity or 1e999, nesting and huge integers refused with a 422, never a 500."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import send_problem
from api.offload import IN_PROCESS_BYTES, parse_json, run_in_process

UPLOAD_PATHS = ("/v1/uploads", "/v1/submissions")
"""Media bytes: limited by ``max_upload_bytes`` where they are stored, not here."""
DIRECT_COMPLETE = "/direct/complete"
"""JSON under the upload paths: up to 10,000 part digests (bounded like an event)."""
EVENT_PATH = "/v1/events"
"""The one JSON body that may carry a whole GPS track."""
ON_LOOP_BYTES = 16 * 1024
"""A JSON body this small is parsed where it is (tens of microseconds): sending it to a
thread costs more than the parse (every event and completion has one)."""
DRAIN_BYTES = 32 * 1024 * 1024
"""An oversized body up to this size is read and dropped before the 413, so the client sees
the answer instead of a reset connection; a larger one is answered at once."""


LENGTH = re.compile(rb"[0-9]+")
MAX_DIGITS = 19
"""Past this many digits a length is over every limit (and ``int`` refuses 4,300)."""


def declared_length(value: bytes | str | None) -> int | None:
    """``Content-Length`` as a number: None when absent or not ASCII digits (``str.isdigit``
    takes '²'); one of over 19 digits counts as 10**19, over every limit."""
    raw = value.encode("latin-1") if isinstance(value, str) else value
    if not raw or not LENGTH.fullmatch(raw):
        return None
    return int(raw) if len(raw) <= MAX_DIGITS else 10**MAX_DIGITS


class OffLoopJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            if len(body) <= ON_LOOP_BYTES:
                self._json = parse_json(body)
            elif len(body) > IN_PROCESS_BYTES:
                self._json = await run_in_process(parse_json, body)
            else:
                self._json = await run_in_threadpool(parse_json, body)
        return self._json


class OffLoopJSONRoute(APIRoute):
    """A route whose JSON body is parsed in a worker thread (and strictly)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def parse_off_loop(request: Request) -> Response:
            return await handler(OffLoopJSONRequest(request.scope, request.receive))

        return parse_off_loop


class UploadLimit:
    """413 for a ``POST`` whose ``Content-Length`` is over ``limit`` (plus ``overhead``: a
    multipart body's framing), before any of it is read (a pure ASGI middleware: no task or
    stream per request, as ``@app.middleware`` costs)."""

    def __init__(self, app: ASGIApp, limit: int, overhead: int = 0) -> None:
        self.app, self.limit, self.overhead = app, limit, overhead

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            length = declared_length(dict(scope["headers"]).get(b"content-length"))
            if length is not None and length > self.limit + self.overhead:
                detail = f"the upload is over the {self.limit} byte limit"
                await send_problem(send, 413, "too_large", detail)
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """413 for a JSON body over its limit: at once when ``Content-Length`` says so, else as
    soon as the streamed bytes pass it (nothing is parsed or stored before)."""

    def __init__(self, app: ASGIApp, json_limit: int, event_limit: int) -> None:
        self.app, self.json_limit, self.event_limit = app, json_limit, event_limit

    def limit_for(self, path: str) -> int | None:
        if path.startswith(UPLOAD_PATHS) and not path.endswith(DIRECT_COMPLETE):
            return None
        large = path == EVENT_PATH or path.endswith(DIRECT_COMPLETE)
        return self.event_limit if large else self.json_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        length = declared_length(dict(scope["headers"]).get(b"content-length"))
        if length is not None and length > limit:
            if length <= DRAIN_BYTES:
                await _drain(receive)
            await _too_large(limit, send)
            return
        seen, over, answered = 0, False, False

        async def counted() -> Message:
            # Past the limit the app is told the client left (a raise here would reach it
            # wrapped by other middleware); its own answer is then replaced by the 413.
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                over = True
                return {"type": "http.disconnect"}
            return message

        async def answer(message: Message) -> None:
            nonlocal answered
            if not over:
                await send(message)
            elif message["type"] == "http.response.start" and not answered:
                answered = True
                await _too_large(limit, send)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not over:
                raise
        if over and not answered:
            await _too_large(limit, send)


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _too_large(limit: int, send: Send) -> None:
    await send_problem(send, 413, "too_large", f"the body is over the {limit} byte limit", True)
