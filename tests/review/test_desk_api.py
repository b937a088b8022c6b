"""The review desk's API on real cases (real photos through the real pipeline): claims and
leases, decisions, confidentiality, duplicates, rewards, accounts and the export."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from cases import lifecycle
from ingest.db import AuditEvent, Case
from ingest.migrate import upgrade
from tests.conftest import DATA_DIR, MODELS_DIR
from workers.jobs import SubmissionProcessor
from workers.runner import run

pytestmark = pytest.mark.integration
PHOTOS = [
    "dev_vehicle_008.jpg",
    "dev_vehicle_009.jpg",
    "dev_vehicle_010.jpg",
    "dev_vehicle_014.jpg",
]
WHEN = "2026-03-02T08:15:00+08:00"


def _headers(client: TestClient, user: str, role: str) -> dict[str, str]:
    services = client.app.state.services  # type: ignore[attr-defined]
    services.staff.add_user(user, role, "long enough pw")
    return {"Authorization": f"Bearer {services.staff.login(user, 'long enough pw')[0]}"}


def _report_response(client: TestClient, token: str, photo: str, **form: str) -> Any:
    with (DATA_DIR / "images" / photo).open("rb") as fh:
        return client.post(
            "/v1/submissions",
            files={"file": (photo, fh)},
            data={
                "violation": "bus_lane",
                "latitude": "22.54",
                "longitude": "114.06",
                "taken_at": WHEN,
                **form,
            },
            headers={"Authorization": f"Bearer {token}"},
        )


def _report(client: TestClient, token: str, photo: str, **form: str) -> str:
    response = _report_response(client, token, photo, **form)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _settings(data_dir: Path) -> Any:
    from settings import load_settings

    return load_settings(None, data_dir=data_dir, models_dir=MODELS_DIR, claim_minutes=10)


@pytest.fixture(scope="module")
def built_desk(models: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The real pipeline's cases, made once per module; each test gets its own copy (``desk``),
    so no test sees what another decided, whatever the order."""
    data_dir = tmp_path_factory.mktemp("desk")
    settings = _settings(data_dir)
    upgrade(settings.database_url)
    app = create_app(settings)
    with TestClient(app) as client:
        named = client.post(
            "/v1/reporters", json={"real_name": "Li Lei", "payment_account": "6222 0000 1111"}
        ).json()
        anonymous = client.post("/v1/reporters", json={}).json()
        reports = [_report(client, named["token"], p) for p in PHOTOS]
        reports.append(_report(client, anonymous["token"], PHOTOS[3]))  # the same incident
        services = app.state.services
        run(services, SubmissionProcessor(services, models), drain=True)
        return {
            "data_dir": data_dir,
            "named": named,
            "anonymous": anonymous,
            "reports": reports,
            "o1": _headers(client, "o1", "officer"),
            "o2": _headers(client, "o2", "officer"),
            "sup": _headers(client, "sup", "supervisor"),
            "admin": _headers(client, "adm", "admin"),
        }


@pytest.fixture
def desk(built_desk: dict[str, Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    data_dir = tmp_path / "var"
    shutil.copytree(built_desk["data_dir"], data_dir)
    app = create_app(_settings(data_dir))
    with TestClient(app) as client:
        services = app.state.services
        yield {**built_desk, "client": client, "services": services}


def test_two_officers_never_get_the_same_case_and_a_lapsed_claim_returns(
    desk: dict[str, Any],
) -> None:
    client, o1, o2 = desk["client"], desk["o1"], desk["o2"]
    first = client.post("/v1/claims/next", headers=o1).json()
    second = client.post("/v1/claims/next", headers=o2).json()
    assert first["id"] != second["id"]
    assert first["claimed_by"] == "o1" and second["claimed_by"] == "o2"
    assert client.post("/v1/claims/next", headers=o1).json()["id"] == first["id"]  # still mine
    taken = client.post(f"/v1/cases/{first['id']}/claim", headers=o2)
    assert taken.status_code == 409 and "under_review by o1" in taken.json()["detail"]
    with desk["services"].sessions.begin() as session:  # ten minutes and a second later
        lifecycle.expire_claims(session, datetime.now(UTC) + timedelta(minutes=10, seconds=1))
    assert client.post(f"/v1/cases/{first['id']}/claim", headers=o2).status_code == 200
    assert client.post(f"/v1/cases/{first['id']}/release", headers=o2).status_code == 200
    lapsed = client.post(f"/v1/cases/{second['id']}/release", headers=o2)  # lapsed with the rest
    assert lapsed.status_code == 409 and "candidate" in lapsed.json()["detail"]
    with desk["services"].sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_id == first["id"])
            .order_by(AuditEvent.id)
        ).all()
    assert actions[-4:] == ["claim", "expire", "claim", "release"]


def test_illegal_transitions_are_refused() -> None:
    assert lifecycle.next_state("candidate", "claim") == "under_review"
    for state, action in [
        ("candidate", "confirm"),
        ("confirmed", "reject"),
        ("rejected", "claim"),
        ("confirmed", "release"),
    ]:
        with pytest.raises(lifecycle.IllegalTransition):
            lifecycle.next_state(state, action)


def test_officers_never_see_who_reported(desk: dict[str, Any]) -> None:
    client, o1 = desk["client"], desk["o1"]
    queue = client.get("/v1/cases", headers=o1).json()
    assert queue["total"] == 5
    named_id = desk["named"]["reporter_id"]
    for item in queue["items"]:
        body = client.get(f"/v1/cases/{item['id']}", headers=o1).text
        for secret in (named_id, desk["anonymous"]["reporter_id"], "Li Lei", "6222"):
            assert secret not in body
        assert client.get(f"/v1/cases/{item['id']}", headers=o1).json()["reporter_refs"]


def test_duplicates_are_one_incident_and_the_first_reporter_is_rewarded(
    desk: dict[str, Any],
) -> None:
    client, o1, sup, admin = desk["client"], desk["o1"], desk["sup"], desk["admin"]
    with desk["services"].sessions() as session:
        cases = list(session.scalars(select(Case).where(Case.plate == "皖A7Z389")))
        reported = {c.id: c.submission.created_at for c in cases}
    assert len(cases) == 2 and cases[0].incident_id == cases[1].incident_id
    one = client.get(f"/v1/cases/{cases[0].id}", headers=o1).json()
    assert one["duplicates"] == [cases[1].id]
    for case in cases:
        done = client.post(
            f"/v1/cases/{case.id}/decision", json={"decision": "confirm"}, headers=o1
        )
        assert done.status_code == 200, done.text
    ledger = {r["case_id"]: r for r in client.get("/v1/rewards", headers=sup).json()}
    first, second = sorted(cases, key=lambda c: reported[c.id])
    assert ledger[first.id]["status"] == "payable" and ledger[first.id]["amount_yuan"] == 20
    assert ledger[first.id]["payee"] is None  # supervisors see no identity
    assert ledger[second.id]["status"] == "withheld" and "duplicate" in ledger[second.id]["reason"]
    # the reporter sees the reward on their report
    mine = client.get(
        f"/v1/reports/{first.submission_id}",
        headers={"Authorization": f"Bearer {desk['named']['token']}"},
    ).json()
    assert mine["state"] == "confirmed" and mine["reward_yuan"] == 20
    assert mine["reward_status"] == "payable"
    # an administrator pays it: the budget and the statistics follow
    admin_view = {r["case_id"]: r for r in client.get("/v1/rewards", headers=admin).json()}
    assert admin_view[first.id]["payee"]["real_name"] == "Li Lei"
    assert (
        client.put("/v1/budget/2026", json={"amount_yuan": 100000}, headers=admin).status_code
        == 200
    )
    assert (
        client.post(f"/v1/rewards/{ledger[first.id]['id']}/paid", headers=admin).status_code == 204
    )
    assert (
        client.post(f"/v1/rewards/{ledger[first.id]['id']}/paid", headers=admin).status_code == 409
    )
    budget = client.get("/v1/budget/2026", headers=sup).json()
    assert budget == {
        "year": 2026,
        "budget": 100000.0,
        "paid": 20.0,
        "payable": 0.0,
        "left": 99980.0,
    }


def test_rejections_statistics_and_export(desk: dict[str, Any]) -> None:
    client, o1, sup = desk["client"], desk["o1"], desk["sup"]
    with desk["services"].sessions() as session:
        plate_cases = list(session.scalars(select(Case.id).where(Case.plate == "皖A7Z389")))
    for case_id in plate_cases:  # confirmed, so the statistics and the export have them
        done = client.post(
            f"/v1/cases/{case_id}/decision", json={"decision": "confirm"}, headers=o1
        )
        assert done.status_code == 200, done.text
    queue = client.get("/v1/cases", headers=o1).json()["items"]
    reject = client.post(
        f"/v1/cases/{queue[0]['id']}/decision",
        json={"decision": "reject", "reason": "no_violation_visible"},
        headers=o1,
    )
    assert reject.status_code == 200 and reject.json()["decision_reason"] == "no_violation_visible"
    other = client.post(
        f"/v1/cases/{queue[1]['id']}/decision",
        json={"decision": "reject", "reason": "other"},
        headers=o1,
    )
    assert other.status_code == 422  # 'other' needs a note
    year = datetime.now(UTC).year
    stats = client.get(f"/v1/stats/annual?year={year}", headers=sup).json()
    assert (
        stats["reports_received"] == 5 and stats["rejected_by_reason"]["no_violation_visible"] == 1
    )
    assert stats["cases_confirmed"] >= 2
    quarter = (datetime.now(UTC).month - 1) // 3 + 1
    csv_text = client.get(
        f"/v1/stats/quarterly?year={year}&quarter={quarter}&format=csv", headers=sup
    ).text
    assert csv_text.startswith("measure,key,value") and "reports_received" in csv_text
    export = client.get(f"/v1/export?since={datetime.now(UTC).date()}", headers=sup).json()
    assert {row["plate"] for row in export} == {"皖A7Z389"}
    assert all(row["manifest_sha256"] and row["original_sha256"] for row in export)


def test_joint_report_splits_the_reward_evenly(desk: dict[str, Any], models: Any) -> None:
    client, o1, sup = desk["client"], desk["o1"], desk["sup"]
    named, partner = (
        desk["named"],
        client.post(
            "/v1/reporters", json={"real_name": "Han Meimei", "payment_account": "6222 0000 2222"}
        ).json(),
    )
    bad = _report_response(client, named["token"], "dev_vehicle_015.jpg", joint_with="nobody")
    assert bad.status_code == 422 and "no such reporter" in bad.json()["detail"]
    _report(
        client, named["token"], "dev_vehicle_015.jpg",
        violation="emergency_lane", joint_with=partner["reporter_id"],
    )  # fmt: skip
    services = desk["services"]
    run(services, SubmissionProcessor(services, models), drain=True)
    with services.sessions() as session:
        case = session.scalar(select(Case).where(Case.violation == "emergency_lane"))
        assert case is not None
        case_id = case.id
    body = client.get(f"/v1/cases/{case_id}", headers=o1).json()
    assert len(body["reporter_refs"]) == 2
    done = client.post(f"/v1/cases/{case_id}/decision", json={"decision": "confirm"}, headers=o1)
    assert done.status_code == 200
    shares = [r for r in client.get("/v1/rewards", headers=sup).json() if r["case_id"] == case_id]
    assert sorted(r["amount_yuan"] for r in shares) == [25.0, 25.0]
    assert {r["status"] for r in shares} == {"payable"}


def test_cases_carry_each_plate_characters_alternatives(desk: dict[str, Any]) -> None:
    client, o1 = desk["client"], desk["o1"]
    for item in client.get("/v1/cases", headers=o1).json()["items"]:
        case = client.get(f"/v1/cases/{item['id']}", headers=o1).json()
        assert case["plate"] and len(case["plate_chars"]) == len(case["plate"])
        assert item["plate_chars"] == case["plate_chars"]
        for read, alternatives in zip(case["plate"], case["plate_chars"], strict=True):
            assert alternatives[0][0] == read and 2 <= len(alternatives) <= 3
            assert sum(p for _, p in alternatives) <= 1.0 + 1e-6
        assert case["vehicle_class"] == "car"  # all four are cars; 008's detector box says bus
