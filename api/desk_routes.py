"""The review desk's page: one HTML file and its script, served as they are (no build step);
everything on it comes from the JSON API with the signed-in officer's cookie."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

router = APIRouter(tags=["desk"], include_in_schema=False)
DESK = Path(__file__).with_name("desk")


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/desk")


@router.get("/desk")
def desk() -> FileResponse:
    return FileResponse(DESK / "desk.html", media_type="text/html; charset=utf-8")


@router.get("/desk/desk.js")
def desk_js() -> FileResponse:
    return FileResponse(DESK / "desk.js", media_type="text/javascript; charset=utf-8")
