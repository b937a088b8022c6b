"""Protocol errors as JSON with a machine-readable code: {"error": code, "detail": text}."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ingest.identity import AuthError
from ingest.uploads import UploadError


def install(app: FastAPI) -> None:
    @app.exception_handler(AuthError)
    async def _auth(_request: Request, exc: AuthError) -> JSONResponse:
        headers = {"WWW-Authenticate": "RW1-ED25519, Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": exc.code, "detail": exc.detail}, exc.status, headers)

    @app.exception_handler(UploadError)
    async def _upload(_request: Request, exc: UploadError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.code, "detail": exc.detail}, exc.status, {"Tus-Resumable": "1.0.0"}
        )
