"""Characters no request may carry where they would reach the database or a file name.

PostgreSQL refuses a NUL in any text value (psycopg raises before the query is sent), and a
lone surrogate (``"\\ud800"`` in JSON) cannot be encoded as UTF-8 for either database: left to
reach a query, either is a 500. They are refused at the door instead, with a 400 or 422 in the
API's error body: a NUL in the path, the query string or a header (a pure ASGI middleware,
before any route runs), and a NUL or lone surrogate in any JSON string or key
(:func:`check_strings`, called by the strict JSON parser) or form field
(:func:`clean_text`)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import send_problem

_BAD = re.compile("[\x00\ud800-\udfff]")
BAD_TEXT = "a NUL character or a lone UTF-16 surrogate"


def bad_text(text: str) -> bool:
    """Whether ``text`` holds a character no stored text may hold."""
    return _BAD.search(text) is not None


def clean_text(text: str | None, name: str) -> str | None:
    """``text`` unchanged, or ValueError naming the field."""
    if text is not None and bad_text(text):
        raise ValueError(f"{name} holds {BAD_TEXT}")
    return text


def check_strings(value: Any) -> None:
    """ValueError if any string or key of a parsed JSON document holds a NUL or a lone
    surrogate (iterative: the parser has already bounded depth and size)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if bad_text(item):
                raise ValueError(f"a string holds {BAD_TEXT}")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _nul_in(scope: Scope) -> str | None:
    if "\x00" in scope.get("path", ""):
        return "path"
    if b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
        return "query string"
    if any(b"\x00" in value for _, value in scope.get("headers", ())):
        return "headers"
    return None


class RefuseNul:
    """400 for a request whose path, query string or headers hold a NUL byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        where = _nul_in(scope) if scope["type"] == "http" else None
        if where is None:
            await self.app(scope, receive, send)
            return
        await send_problem(send, 400, "bad_request", f"the request's {where} holds a NUL byte")
