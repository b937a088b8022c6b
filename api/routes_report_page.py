"""The reporter's web page (/report): one HTML file and its script, served as they are (no
build step), with tus-js-client from npm (api/report/package.json) for resumable uploads.
Everything on it goes through the public reporting protocol with the reporter's token."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(tags=["report page"], include_in_schema=False)
PAGE = Path(__file__).with_name("report")
TUS_JS = PAGE / "node_modules" / "tus-js-client" / "dist" / "tus.min.js"


@router.get("/report")
def report_page() -> FileResponse:
    return FileResponse(PAGE / "report.html", media_type="text/html; charset=utf-8")


@router.get("/report/report.js")
def report_js() -> FileResponse:
    return FileResponse(PAGE / "report.js", media_type="text/javascript; charset=utf-8")


@router.get("/report/vendor/tus.min.js")
def tus_js() -> FileResponse:
    if not TUS_JS.exists():
        raise HTTPException(404, "not installed (scripts/setup.sh installs it with npm)")
    return FileResponse(TUS_JS, media_type="text/javascript; charset=utf-8")
