"""Abuse through the API, on real photos and the real pipeline: rate limits per reporter and
per dashcam (429 with Retry-After, nothing written), the supervisors' list of reporters with
mostly rejected reports and their history, an audited reward suspension applied to the ledger,
and device-attested against reporter-supplied capture on the case view."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from ingest.db import AuditEvent, Submission
from ingest.migrate import upgrade
from roadwitness.dashcam import DeviceCredential
from tests.api.test_protocol import event_body, open_event, upload_all
from tests.conftest import DATA_DIR
from workers.jobs import SubmissionProcessor
from workers.runner import run

pytestmark = pytest.mark.integration
PHOTOS = ["dev_vehicle_008.jpg", "dev_vehicle_009.jpg", "dev_vehicle_010.jpg"]
FORM = {"violation": "bus_lane", "latitude": "22.54", "longitude": "114.06"}


@pytest.fixture
def client(make_settings: Callable[..., Any]) -> Iterator[TestClient]:
    settings = make_settings(
        rate_limit_reporter=3, rate_limit_device=1, abuse_min_decided=2, abuse_rejected_rate=0.5
    )
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _send(client: TestClient, token: str, photo: str) -> Any:
    with (DATA_DIR / "images" / photo).open("rb") as fh:
        return client.post(
            "/v1/submissions",
            files={"file": (photo, fh)},
            data=FORM,
            headers={"Authorization": f"Bearer {token}"},
        )


def _staff(client: TestClient, user: str, role: str) -> dict[str, str]:
    services = client.app.state.services  # type: ignore[attr-defined]
    services.staff.add_user(user, role, "long enough pw")
    return {"Authorization": f"Bearer {services.staff.login(user, 'long enough pw')[0]}"}


def _submissions(client: TestClient) -> int:
    with client.app.state.services.sessions() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(Submission)) or 0)


def test_reporter_rate_limit_is_429_with_retry_after_and_writes_nothing(
    client: TestClient,
) -> None:
    token = client.post("/v1/reporters", json={}).json()["token"]
    other = client.post("/v1/reporters", json={}).json()["token"]
    for photo in PHOTOS:
        assert _send(client, token, photo).status_code == 201
    refused = _send(client, token, "dev_vehicle_014.jpg")
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "rate_limited" and "limit 3" in refused.json()["detail"]
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3600
    assert _submissions(client) == 3
    assert _send(client, other, "dev_vehicle_014.jpg").status_code == 201  # per reporter


def test_device_rate_limit_counts_new_events_not_retries(client: TestClient) -> None:
    identity = client.app.state.services.identity  # type: ignore[attr-defined]
    made = identity.register_device("cam-0001", owner="Li Lei", model="RW-Cam 2")
    cred = DeviceCredential(made.device_id, made.key_id, made.private_key)
    photo = DATA_DIR / "images" / "dev_vehicle_014.jpg"
    assert open_event(client, cred, event_body(photo, "evt-1")).status_code == 201
    assert open_event(client, cred, event_body(photo, "evt-1")).status_code == 200  # a retry
    refused = open_event(client, cred, event_body(photo, "evt-2"))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json()["error"] == "rate_limited"


def test_rejected_reporters_listed_suspension_audited_and_capture_shown(
    client: TestClient, models: Any
) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    named = {"real_name": "Wang Fang", "payment_account": "6222 0000 2222"}
    bad = client.post("/v1/reporters", json=named).json()
    good = client.post("/v1/reporters", json={**named, "real_name": "Li Lei"}).json()
    bad_subs = [_send(client, bad["token"], p).json()["id"] for p in PHOTOS[:2]]
    good_sub = _send(client, good["token"], PHOTOS[2]).json()["id"]
    identity = services.identity
    made = identity.register_device("cam-0002", owner="Zhao", model="RW-Cam 2")
    cred = DeviceCredential(made.device_id, made.key_id, made.private_key)
    photo = DATA_DIR / "images" / "dev_vehicle_014.jpg"
    opened = open_event(client, cred, event_body(photo, "evt-9", declared_violation="bus_lane"))
    assert opened.status_code == 201, opened.text
    upload_all(client, cred, opened.json()["upload_url"], photo.read_bytes())
    run(services, SubmissionProcessor(services, models), drain=True)
    officer, sup = _staff(client, "o1", "officer"), _staff(client, "sup", "supervisor")

    def case_of(sub: str) -> str:
        return str(client.get(f"/v1/submissions/{sub}", headers=officer).json()["cases"][0])

    for sub in bad_subs:
        rejected = client.post(
            f"/v1/cases/{case_of(sub)}/decision",
            json={"decision": "reject", "reason": "no_violation_visible"},
            headers=officer,
        )
        assert rejected.status_code == 200, rejected.text
    good_case = case_of(good_sub)
    view = client.get(f"/v1/cases/{good_case}", headers=officer).json()
    assert view["capture"]["kind"] == "reporter_supplied"
    with services.sessions() as session:
        device_sub = session.scalar(select(Submission.id).where(Submission.device_id == "cam-0002"))
    device_view = client.get(f"/v1/cases/{case_of(str(device_sub))}", headers=officer).json()
    assert device_view["capture"] == {
        "kind": "device_attested",
        "device_id": "cam-0002",
        "key_id": cred.key_id,
    }
    confirm = {"decision": "confirm"}
    assert client.post(f"/v1/cases/{good_case}/decision", json=confirm, headers=officer).is_success

    assert client.get("/v1/reporters/rejected", headers=officer).status_code == 403
    listed = client.get("/v1/reporters/rejected", headers=sup).json()
    assert [r["reporter_id"] for r in listed] == [bad["reporter_id"]]  # not the good reporter
    assert listed[0]["decided"] == 2 and listed[0]["rejected_rate"] == 1.0
    assert {h["submission_id"] for h in listed[0]["history"]} == set(bad_subs)
    assert all(h["cases"][0]["reason"] == "no_violation_visible" for h in listed[0]["history"])

    def reward() -> dict[str, Any]:
        ledger = {r["case_id"]: r for r in client.get("/v1/rewards", headers=sup).json()}
        return dict(ledger[good_case])

    assert reward()["status"] == "payable"
    url = f"/v1/reporters/{good['reporter_id']}/reward-suspension"
    assert client.put(url, json={"reason": "x"}, headers=sup).status_code == 422  # too short
    assert client.put(url, json={"reason": "forged plates"}, headers=officer).status_code == 403
    done = client.put(url, json={"reason": "trade in licence points"}, headers=sup)
    assert (
        done.status_code == 200 and done.json()["rewards_suspended"] and done.json()["by"] == "sup"
    )
    assert reward()["status"] == "withheld" and "trade in licence points" in reward()["reason"]
    assert client.delete(url, headers=sup).json()["rewards_suspended"] is False
    assert reward()["status"] == "payable"
    missing = client.put(
        "/v1/reporters/nobody/reward-suspension", json={"reason": "abc"}, headers=sup
    )
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    with services.sessions() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity_id == good["reporter_id"])
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["rewards_suspended", "rewards_restored"]
