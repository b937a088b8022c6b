"""Refusals as JSON with a machine-readable code: {"error": code, "detail": text}."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ingest.errors import Refused
from ingest.uploads import UploadError


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
        return JSONResponse({"error": exc.code, "detail": exc.detail}, exc.status, headers)
