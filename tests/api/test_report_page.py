"""The reporter page (/report) in a real browser (Playwright driving Debian's Chromium, as a
phone): geolocation emulated, a real dashcam clip picked, the connection cut mid-upload and the
upload resumed by tus-js-client from the server's offset; the report's status shown, the
reporter's token kept on the device. And tus-js-client, unchanged, as a device (one header)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.processes import api_server, run_cli
from ingest.db import Submission, make_engine, make_sessionmaker
from ingest.identity import Identity
from ingest.signing import sign_headers
from tests.browser import ARGS, CHROMIUM, needs_chromium
from tests.conftest import DATA_DIR, MODELS_DIR, REPO

CLIP = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
PHOTO = DATA_DIR / "images" / "dev_vehicle_008.jpg"
TUS_JS = REPO / "api" / "report" / "node_modules" / "tus-js-client" / "dist" / "tus.min.js"
ARTIFACTS = REPO / "test-artifacts"
SHENZHEN = {"latitude": 22.54312, "longitude": 114.05786, "accuracy": 12}

pytestmark = [
    pytest.mark.integration,
    needs_chromium,
    pytest.mark.skipif(not TUS_JS.exists(), reason="needs npm ci in api/report (scripts/setup.sh)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], int]]:
    work = tmp_path_factory.mktemp("report")
    settings: dict[str, Any] = {"data_dir": work / "var", "models_dir": MODELS_DIR}
    run_cli(settings, "db", "upgrade")
    with api_server(settings, work) as api:
        yield settings, api.port  # type: ignore[attr-defined]


def _browser(pw: Any) -> Any:
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)


def test_a_citizen_reports_from_a_phone_through_a_cut_connection(
    server: tuple[dict[str, Any], int],
) -> None:
    from playwright.sync_api import Route, expect, sync_playwright

    settings, port = server
    base = f"http://127.0.0.1:{port}"
    offsets: list[int] = []
    cut: list[int] = []

    def cut_once(route: Route) -> None:
        # The fourth chunk is lost as if the phone went through a tunnel.
        request = route.request
        if request.method == "PATCH":
            offsets.append(int(request.headers["upload-offset"]))
            if len(offsets) == 4:
                cut.append(offsets[-1])
                route.abort("internetdisconnected")
                return
        route.continue_()

    with sync_playwright() as pw:
        browser = _browser(pw)
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            geolocation=SHENZHEN,
            permissions=["geolocation"],
            timezone_id="Asia/Shanghai",
            locale="zh-CN",
        )
        page = context.new_page()
        page.route("**/v1/uploads/**", cut_once)
        page.goto(f"{base}/report")
        page.set_input_files("#file", str(CLIP))
        page.select_option("#violation", "emergency_lane")
        page.click("#locate")
        expect(page.locator("#place")).to_contain_text("22.54312, 114.05786")
        expect(page.locator("#place .source")).to_have_text("browser geolocation")
        expect(page.locator("#time")).to_contain_text("+08:00")
        page.click("#send")
        expect(page.locator("#upload-status")).to_contain_text("Received", timeout=60_000)
        expect(page.locator("#reports li .state")).to_contain_text("Received", timeout=15_000)
        expect(page.locator("#reports li")).to_contain_text("answer by")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-page.png"), full_page=True)

        # The cut chunk was sent again from the server's offset, not from the start.
        assert cut and offsets.count(cut[0]) == 2 and offsets == sorted(offsets)
        token = page.evaluate("JSON.parse(localStorage.getItem('roadwitness.reporter')).token")
        submission_id = page.evaluate(
            "JSON.parse(localStorage.getItem('roadwitness.reports'))[0].id"
        )
        page.reload()  # the reporter's token and reports stay on the device
        first = page.locator(f"#reports li[data-id='{submission_id}']")
        expect(first).to_contain_text("emergency_lane")
        # The sources came back from the server with the facts.
        expect(first.locator(".source")).to_have_text(
            ["time of the position fix", "browser geolocation"]
        )

        # A photo whose place and time the reporter types: both sent as "manual".
        page.set_input_files("#file", str(PHOTO))
        page.click("#manual summary")
        page.fill("#manual-place", "22.53001, 114.06002")
        page.fill("#manual-time", "2026-11-23T08:30:07")
        page.click("#use-manual")
        expect(page.locator("#place .source")).to_have_text("entered by hand")
        expect(page.locator("#time")).to_contain_text("2026-11-23T08:30:07+08:00")
        expect(page.locator("#time .source")).to_have_text("entered by hand")
        page.click("#send")
        expect(page.locator("#upload-status")).to_contain_text("Received", timeout=60_000)
        typed_id = page.evaluate("JSON.parse(localStorage.getItem('roadwitness.reports'))[0].id")
        typed = page.locator(f"#reports li[data-id='{typed_id}']")
        expect(typed.locator(".source")).to_have_text(["entered by hand", "entered by hand"])
        page.screenshot(path=str(ARTIFACTS / "report-page-sources.png"), full_page=True)
        browser.close()

    status = httpx.get(
        f"{base}/v1/reports/{submission_id}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert status["declared_violation"] == "emergency_lane"
    assert (status["taken_at_source"], status["place_source"]) == ("geolocation", "geolocation")
    assert (round(status["latitude"], 5), round(status["longitude"], 5)) == (22.54312, 114.05786)
    typed_status = httpx.get(
        f"{base}/v1/reports/{typed_id}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert (typed_status["taken_at_source"], typed_status["place_source"]) == ("manual", "manual")
    assert typed_status["taken_at"].startswith("2026-11-23T00:30:07")  # 08:30:07 in Shanghai
    engine = make_engine(str(settings_url(settings)))
    with make_sessionmaker(engine)() as session:
        submission = session.get(Submission, submission_id)
        assert submission is not None
        assert submission.media.sha256 == hashlib.sha256(CLIP.read_bytes()).hexdigest()
        assert (round(submission.latitude, 5), round(submission.longitude, 5)) == (
            22.54312,
            114.05786,
        )
        assert submission.taken_at is not None
        assert (submission.declared_time_source, submission.declared_place_source) == (
            "geolocation",
            "geolocation",
        )
        typed_submission = session.get(Submission, typed_id)
        assert typed_submission is not None
        assert (typed_submission.declared_latitude, typed_submission.declared_longitude) == (
            22.53001,
            114.06002,
        )
        assert typed_submission.declared_place_source == "manual"
        assert typed_submission.declared_time_source == "manual"
    engine.dispose()


def settings_url(settings: dict[str, Any]) -> str:
    return f"sqlite:///{settings['data_dir'] / 'roadwitness.db'}"


def test_tus_js_client_as_a_device_with_an_upload_token(
    server: tuple[dict[str, Any], int],
) -> None:
    from playwright.sync_api import sync_playwright

    settings, port = server
    base = f"http://127.0.0.1:{port}"
    identity = Identity(make_sessionmaker(make_engine(settings_url(settings))))
    device = identity.register_device("cam-js-1", owner="Li Lei", model="RW-Cam 2")
    assert device.private_key is not None
    data = PHOTO.read_bytes()
    body = json.dumps(
        {
            "event_id": "js-device-1",
            "trigger": "button",
            "media": {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        }
    ).encode()
    headers = sign_headers(
        device.private_key,
        device.device_id,
        device.key_id,
        "POST",
        "/v1/events",
        hashlib.sha256(body).hexdigest(),
        int(time.time()),
    )
    opened = httpx.post(
        f"{base}/v1/events", content=body, headers={**headers, "Content-Type": "application/json"}
    ).json()

    with sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page()
        page.goto(f"{base}/report")  # any page of ours that loads tus-js-client
        submission_id = page.evaluate(
            """([b64, url, token]) => new Promise((resolve, reject) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const upload = new tus.Upload(new Blob([bytes], {type: "image/jpeg"}), {
                    uploadUrl: url,
                    headers: {Authorization: "Bearer " + token},
                    chunkSize: 64 * 1024,
                    onError: reject,
                    onSuccess: (p) => resolve(p.lastResponse.getHeader("RW-Submission-Id")),
                });
                upload.start();
            })""",
            [base64.b64encode(data).decode(), opened["location"], opened["upload_token"]],
        )
        browser.close()
    assert submission_id
    with make_sessionmaker(make_engine(settings_url(settings)))() as session:
        submission = session.get(Submission, submission_id)
        assert submission is not None and submission.device_id == "cam-js-1"
