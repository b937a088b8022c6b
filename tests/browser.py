"""Debian's Chromium for the browser tests (Playwright cannot download a browser here)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/test.sh)"
)


def report_photos(settings: dict[str, Any], models: Any, photos: list[Path]) -> None:
    """Each photo reported as a bus-lane violation in Shenzhen, then the queue drained: the
    cases an officer's browser session works through."""
    from cases.services import Services
    from ingest.submissions import Declared
    from settings import load_settings
    from workers.jobs import SubmissionProcessor
    from workers.runner import run

    declared = Declared(
        violation="bus_lane",
        latitude=22.54,
        longitude=114.06,
        taken_at=datetime(2026, 11, 23, 0, 15, tzinfo=UTC),
        reporter=None,
    )
    services = Services.build(load_settings(None, **settings))
    try:
        for photo in photos:
            services.intake.accept(photo, photo.name, declared, actor="reporter:test")
        run(services, SubmissionProcessor(services, models), drain=True)
    finally:
        services.close()


def desk_login(page: Any, port: int, username: str, password: str) -> None:
    """Open the review desk in ``page`` and sign in as a staff member."""
    page.goto(f"http://127.0.0.1:{port}/desk")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login button")
