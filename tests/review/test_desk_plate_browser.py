"""The plate editor in a real browser (Playwright driving Debian's Chromium): a real photo,
motion-blurred as in benchmarks/plates.py, whose province the reader takes for 皖; the desk
marks the unsure characters and offers their alternatives, the officer takes the right
province with one key and confirms; the audit event holds the old and the new plate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from benchmarks.plates import motion_blur
from cases.services import Services
from harness.processes import api_server, run_cli
from ingest.db import AuditEvent, Case
from settings import load_settings
from tests.browser import ARGS, CHROMIUM, desk_login, needs_chromium, report_photos
from tests.conftest import DATA_DIR, MODELS_DIR

PHOTO = DATA_DIR / "images" / "dev_vehicle_013.jpg"
TRUTH, MISREAD = "苏AD39970", "皖AD39970"
SEED = 59  # a blur the reader misreads as 皖 with 苏 the runner-up (under the benchmark's
# seed, 69, the grey-first reader now reads this photo right)

pytestmark = [
    pytest.mark.integration,
    needs_chromium,
]


def _blurred_photo(models: Any, out: Path) -> Path:
    image = cv2.imread(str(PHOTO))
    width = models.plates.detect(image)[0].box.width
    blurred = motion_blur(image, width, np.random.default_rng(SEED))
    cv2.imwrite(str(out), blurred)
    return out


def test_officer_fixes_a_misread_province_with_one_key(models: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings: dict[str, Any] = {"data_dir": tmp_path / "var", "models_dir": MODELS_DIR}
    run_cli(settings, "db", "upgrade")
    run_cli(settings, "staff", "add", "wang", "--role", "officer", "--password", "desk-pass-1")
    photo = _blurred_photo(models, tmp_path / "dev_vehicle_013_blur.png")
    report_photos(settings, models, [photo])
    services = Services.build(load_settings(None, **settings))
    try:
        with services.sessions() as session:
            [case] = session.scalars(select(Case)).all()
            assert case.plate == MISREAD  # the reader's 皖 pull: what the officer must fix
            assert TRUTH[0] in [c for c, _ in case.plate_chars[0]]
            case_id = case.id
    finally:
        services.close()

    with api_server(settings, tmp_path) as api, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        desk_login(page, api.port, "wang", "desk-pass-1")  # type: ignore[attr-defined]
        expect(page.locator("#case-body")).to_be_visible(timeout=15_000)
        expect(page.locator("#plate")).to_have_value(MISREAD)
        expect(page.locator("#plate-chars .char").first).to_have_class("char unsure")
        offered = page.locator("#alternatives li")
        chars = offered.evaluate_all("(lis) => lis.map((li) => li.dataset.char)")
        positions = offered.evaluate_all("(lis) => lis.map((li) => li.dataset.position)")
        key = next(
            n + 1
            for n, (ch, at) in enumerate(zip(chars, positions, strict=True))
            if ch == TRUTH[0] and at == "0"
        )
        page.keyboard.press(str(key))  # one key takes the province
        expect(page.locator("#plate")).to_have_value(TRUTH)
        page.keyboard.press("c")
        expect(page.locator("#empty")).to_be_visible(timeout=15_000)  # the queue is done
        browser.close()

    services = Services.build(load_settings(None, **settings))
    try:
        with services.sessions() as session:
            case = session.get(Case, case_id)
            assert case is not None and case.plate == TRUTH and case.status == "confirmed"
            event = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity_id == case_id, AuditEvent.action == "confirmed")
                .order_by(AuditEvent.id)
            ).one()
            assert event.actor == "officer:wang"
            assert event.data["before"]["plate"] == MISREAD
            assert event.data["after"]["plate"] == TRUTH
    finally:
        services.close()
