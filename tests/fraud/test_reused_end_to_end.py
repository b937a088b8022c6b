"""End to end through the API and a real worker: reporter A sends a clip; reporter B sends it
again re-encoded and cropped, as a new report a day later. B's case carries reused_media@1
linking A's case, the desk's case view shows it, and the reward goes to A."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ingest.migrate import upgrade
from tests.conftest import MODELS_DIR
from workers.frames import run_ffmpeg
from workers.jobs import SubmissionProcessor
from workers.runner import run

pytestmark = pytest.mark.integration
PLACE = {"latitude": "22.54", "longitude": "114.06"}


def _reporter(client: TestClient, name: str) -> dict[str, Any]:
    body = {"real_name": name, "payment_account": f"6222 {name}"}
    reporter: dict[str, Any] = client.post("/v1/reporters", json=body).json()
    return reporter


def _send(client: TestClient, token: str, clip: Path, taken_at: str) -> str:
    with clip.open("rb") as fh:
        response = client.post(
            "/v1/submissions",
            files={"file": (clip.name, fh, "video/mp4")},
            data={"violation": "emergency_lane", "taken_at": taken_at, **PLACE},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _staff(client: TestClient, user: str, role: str) -> dict[str, str]:
    services = client.app.state.services  # type: ignore[attr-defined]
    services.staff.add_user(user, role, "long enough pw")
    return {"Authorization": f"Bearer {services.staff.login(user, 'long enough pw')[0]}"}


def test_reencoded_cropped_copy_is_flagged_and_the_first_reporter_rewarded(
    models: Any, pan_video: tuple[Path, str], tmp_path: Path
) -> None:
    from settings import load_settings

    clip, plate = pan_video
    copy = tmp_path / "my_clip.mp4"  # B's version: cropped 5 %, re-encoded at a low bitrate
    run_ffmpeg(
        "-i", str(clip), "-vf", "crop=iw*0.95:ih*0.95:iw*0.05:0,scale=1280:-2",
        "-c:v", "libx264", "-b:v", "600k", "-pix_fmt", "yuv420p", str(copy),
    )  # fmt: skip
    settings = load_settings(None, data_dir=tmp_path / "var", models_dir=MODELS_DIR)
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        a, b = _reporter(client, "A"), _reporter(client, "B")
        sub_a = _send(client, a["token"], clip, "2026-03-02T08:15:00+08:00")
        services = client.app.state.services  # type: ignore[attr-defined]
        run(services, SubmissionProcessor(services, models), drain=True)
        sub_b = _send(client, b["token"], copy, "2026-03-03T09:40:00+08:00")
        run(services, SubmissionProcessor(services, models), drain=True)
        officer, sup = _staff(client, "o1", "officer"), _staff(client, "sup", "supervisor")

        case_a = client.get(f"/v1/submissions/{sub_a}", headers=officer).json()["cases"]
        case_b = client.get(f"/v1/submissions/{sub_b}", headers=officer).json()["cases"]
        assert len(case_a) == 1 and len(case_b) == 1
        view_a = client.get(f"/v1/cases/{case_a[0]}", headers=officer).json()
        view_b = client.get(f"/v1/cases/{case_b[0]}", headers=officer).json()
        assert view_a["plate"] == view_b["plate"] == plate
        assert not [f for f in view_a["flags"] if f["kind"].startswith("reused_media")]
        (reused,) = [f for f in view_b["flags"] if f["kind"] == "reused_media@1"]
        assert reused["other_case"] == case_a[0] and reused["other_submission"] == sub_a
        assert "another sender" in reused["reason"] and reused["share"] >= 0.9
        assert view_b["incident_id"] == view_a["incident_id"]
        assert view_b["capture"] == {"kind": "reporter_supplied", "device_id": None, "key_id": None}
        desk_js = client.get("/desk/desk.js").text
        assert "f.kind" in desk_js and "other case" in desk_js  # the desk lists every flag

        for case in (case_b[0], case_a[0]):  # B's is decided first: the reward still goes to A
            done = client.post(
                f"/v1/cases/{case}/decision", json={"decision": "confirm"}, headers=officer
            )
            assert done.status_code == 200, done.text
        ledger = {r["case_id"]: r for r in client.get("/v1/rewards", headers=sup).json()}
        assert ledger[case_a[0]]["status"] == "payable" and ledger[case_a[0]]["amount_yuan"] > 0
        assert ledger[case_b[0]]["status"] == "withheld"
        assert "duplicate" in ledger[case_b[0]]["reason"]
