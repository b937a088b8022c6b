"""The review desk's page: one HTML file and its script, served as they are (no build step);
everything on it comes from the JSON API with the signed-in officer's cookie."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

router = APIRouter(tags=["desk"], include_in_schema=False)
DESK = Path(__file__).with_name("desk")
LEAFLET = DESK / "node_modules" / "leaflet" / "dist"
VENDOR = {"leaflet.js": "text/javascript", "leaflet.css": "text/css"}


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/desk")


@router.get("/desk")
def desk() -> FileResponse:
    return FileResponse(DESK / "desk.html", media_type="text/html; charset=utf-8")


@router.get("/desk/desk.js")
def desk_js() -> FileResponse:
    return FileResponse(DESK / "desk.js", media_type="text/javascript; charset=utf-8")


@router.get("/desk/config.json")
def desk_config(request: Request) -> JSONResponse:
    """What the page needs from the settings: the map tile server, if there is one."""
    tiles = request.app.state.services.settings.map_tiles_url
    return JSONResponse({"tiles": tiles, "leaflet": (LEAFLET / "leaflet.js").exists()})


@router.get("/desk/vendor/{name}")
def vendor(name: str) -> FileResponse:
    if name not in VENDOR or not (LEAFLET / name).exists():
        raise HTTPException(404, "not installed (scripts/setup.sh installs it with npm)")
    return FileResponse(LEAFLET / name, media_type=f"{VENDOR[name]}; charset=utf-8")
