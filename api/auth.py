"""Who is calling: a device (signed request) or an app reporter (bearer token)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import ServicesDep
from ingest.identity import AuthError, Caller
from ingest.signing import HEADERS
from ingest.upload_tokens import UploadTokens, is_upload_token


def request_path(request: Request) -> str:
    """The path as signed: path and query string exactly as sent (still percent-encoded)."""
    raw = request.scope.get("raw_path")  # the ASGI server's bytes as received, before decoding
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return path + (f"?{query}" if query else "")


CREDENTIAL_HEADERS = ("authorization", *(h.lower() for h in HEADERS))
"""Sent twice, a credential header is ambiguous (which nonce, which timestamp was signed?)."""


async def caller(request: Request, services: ServicesDep) -> Caller:
    # Each check reads the database (and a device's writes its nonce): in a worker thread,
    # never on the event loop, which serves every other request meanwhile.
    identity = services.identity
    if twice := [h for h in CREDENTIAL_HEADERS if len(request.headers.getlist(h)) > 1]:
        raise AuthError(400, "duplicate_header", f"{', '.join(twice)}: each is sent once")
    if "rw-signature" in request.headers:
        device = await run_in_threadpool(
            identity.verify_device, request.headers, request.method, request_path(request)
        )
        if request.method in ("POST", "PUT"):
            # Small JSON bodies are checked here; PATCH bodies as they stream in.
            body = await request.body()
            if hashlib.sha256(body).hexdigest() != request.headers["rw-content-sha256"].lower():
                raise AuthError(400, "digest_mismatch", "the body does not match RW-Content-SHA256")
        return device
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and is_upload_token(token):
            tokens = UploadTokens(services.sessions)
            return await run_in_threadpool(upload_token_caller, request, tokens, token)
        return await run_in_threadpool(identity.verify_reporter, authorization)
    raise AuthError(
        401,
        "missing_credentials",
        "sign the request as a device (RW-* headers) or send a reporter's bearer token",
    )


def upload_token_caller(request: Request, tokens: UploadTokens, token: str) -> Caller:
    """An upload token speaks for its upload's sender, on that upload's own URLs only."""
    bound = tokens.verify(token)
    if request.path_params.get("upload_id") != bound.upload_id:
        raise AuthError(403, "token_scope", "an upload token opens only its own upload")
    return bound.caller


async def reporter(caller: Annotated[Caller, Depends(caller)]) -> Caller:
    if caller.kind != "reporter":
        raise AuthError(403, "reporters_only", "this endpoint is for app reporters")
    return caller


CallerDep = Annotated[Caller, Depends(caller)]
ReporterDep = Annotated[Caller, Depends(reporter)]
