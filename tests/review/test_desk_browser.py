"""The review desk in a real browser (Playwright driving Debian's Chromium): an officer signs
in and clears five real cases with the keyboard; the database shows what was decided."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cases.services import Services
from harness.processes import api_server, run_cli
from ingest.db import AuditEvent, Case
from settings import load_settings
from tests.browser import ARGS, CHROMIUM, desk_login, needs_chromium, report_photos
from tests.conftest import DATA_DIR, MODELS_DIR, REPO

PHOTOS = ["008", "009", "010", "012", "015"]
ARTIFACTS = REPO / "test-artifacts"
LEAFLET = REPO / "api" / "desk" / "node_modules" / "leaflet" / "dist" / "leaflet.js"

pytestmark = [
    pytest.mark.integration,
    needs_chromium,
]


def test_officer_clears_five_real_cases_with_the_keyboard(models: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings: dict[str, Any] = {"data_dir": tmp_path / "var", "models_dir": MODELS_DIR}
    run_cli(settings, "db", "upgrade")
    run_cli(settings, "staff", "add", "wang", "--role", "officer", "--password", "desk-pass-1")
    run_cli(settings, "staff", "add", "li", "--role", "supervisor", "--password", "desk-pass-2")
    report_photos(settings, models, [DATA_DIR / "images" / f"dev_vehicle_{n}.jpg" for n in PHOTOS])
    ARTIFACTS.mkdir(exist_ok=True)
    decided: list[tuple[str, str]] = []
    with api_server(settings, tmp_path) as api, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        desk_login(page, api.port, "wang", "desk-pass-1")  # type: ignore[attr-defined]
        expect(page.locator("#case-body")).to_be_visible(timeout=15_000)

        def shown() -> str:
            return page.locator("#facts dd").first.inner_text()

        def wait_next(before: str) -> None:
            page.wait_for_function(
                "(b) => { const d = document.querySelector('#facts dd');"
                " return (d && d.textContent !== b) || !document.querySelector('#empty.hidden'); }",
                arg=before,
                timeout=15_000,
            )

        steps = ["confirm", "reject", "edit", "confirm", "reject_other"]
        for n, step in enumerate(steps):
            case_id = shown()
            expect(page.locator("#frame_during")).to_have_js_property("complete", True)
            if n == 0:
                if LEAFLET.exists():  # the place on a Leaflet map (no tile server: no tiles)
                    expect(page.locator("#leaflet .leaflet-interactive")).to_have_count(2)
                else:
                    expect(page.locator("#map")).to_be_visible()
                page.screenshot(path=str(ARTIFACTS / "desk-case.png"), full_page=True)
            if step == "confirm":
                page.keyboard.press("c")
            elif step == "reject":
                page.keyboard.press("r")
                page.keyboard.press("2")  # no violation visible
            elif step == "edit":
                page.keyboard.press("e")
                page.keyboard.type("粤B6R678")
                page.keyboard.press("Enter")
            else:
                page.keyboard.press("r")
                page.keyboard.press("6")
                page.keyboard.type("vehicle hidden by a bus")
                page.keyboard.press("Enter")
            wait_next(case_id)
            decided.append((case_id, step))
        expect(page.locator("#empty")).to_be_visible()

        supervisor = browser.new_context().new_page()  # accounts on the supervisor's page
        desk_login(supervisor, api.port, "li", "desk-pass-2")  # type: ignore[attr-defined]
        expect(supervisor.locator("#budget")).to_contain_text("Budget 0 yuan")
        expect(supervisor.locator("#stats")).to_contain_text("cases confirmed")
        expect(supervisor.locator("#stats")).to_contain_text("rejected: no_violation_visible")
        supervisor.screenshot(path=str(ARTIFACTS / "desk-supervisor.png"), full_page=True)
        browser.close()

    services = Services.build(load_settings(None, **settings))
    try:
        with services.sessions() as session:
            for case_id, step in decided:
                case = session.get(Case, case_id)
                assert case is not None
                if step in ("confirm", "edit"):
                    assert case.status == "confirmed" and case.decided_by == "wang"
                else:
                    assert case.status == "rejected"
                if step == "edit":
                    assert case.plate == "粤B6R678"
                if step == "reject":
                    assert case.decision_reason == "no_violation_visible"
                if step == "reject_other":
                    assert case.decision_reason == "other: vehicle hidden by a bus"
                actions = session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.entity_id == case_id)
                    .order_by(AuditEvent.id)
                ).all()
                assert [a.action for a in actions][-2:] == [
                    "claim",
                    "confirmed" if step in ("confirm", "edit") else "rejected",
                ]
                assert actions[-1].actor == "officer:wang"
    finally:
        services.close()
    assert (ARTIFACTS / "desk-case.png").stat().st_size > 10_000
    shutil.copy(ARTIFACTS / "desk-case.png", tmp_path / "desk-case.png")
