"""Hardening on a real case (a real photo through the real pipeline): plate edits with
non-ASCII digits are refused and nothing is stored or exported; a co-reporter reads the joint
report; officers see keyed reporter references."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.refs import reporter_ref, reporter_ref_key
from ingest.migrate import upgrade
from tests.api.roles import role_headers
from tests.conftest import DATA_DIR, MODELS_DIR
from workers.jobs import SubmissionProcessor
from workers.runner import run

pytestmark = pytest.mark.integration
PHOTO = "dev_vehicle_014.jpg"


@pytest.fixture(scope="module")
def joint_case(models: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from settings import load_settings

    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("var"), models_dir=MODELS_DIR)
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        headers = role_headers(client)
        first, partner, stranger = (client.post("/v1/reporters", json={}).json() for _ in "abc")
        with (DATA_DIR / "images" / PHOTO).open("rb") as fh:
            created = client.post(
                "/v1/submissions",
                files={"file": (PHOTO, fh)},
                data={
                    "violation": "bus_lane",
                    "latitude": "22.54",
                    "longitude": "114.06",
                    "taken_at": "2026-03-02T08:15:00+08:00",
                    "joint_with": partner["reporter_id"],
                },
                headers={"Authorization": f"Bearer {first['token']}"},
            )
        assert created.status_code == 201, created.text
        services = client.app.state.services  # type: ignore[attr-defined]
        run(services, SubmissionProcessor(services, models), drain=True)
        cases = client.get("/v1/cases", headers=headers["officer"]).json()["items"]
        assert len(cases) == 1, cases
        yield {
            "client": client,
            "headers": headers,
            "settings": settings,
            "reporters": (first, partner, stranger),
            "report": created.json()["id"],
            "case": cases[0]["id"],
        }


def test_a_co_reporter_reads_the_joint_report(joint_case: dict[str, Any]) -> None:
    client = joint_case["client"]
    first, partner, stranger = joint_case["reporters"]
    url = f"/v1/reports/{joint_case['report']}"
    for reporter, status in ((first, 200), (partner, 200), (stranger, 404)):
        answer = client.get(url, headers={"Authorization": f"Bearer {reporter['token']}"})
        assert answer.status_code == status, (reporter["reporter_id"], answer.text)
    mine = client.get(url, headers={"Authorization": f"Bearer {partner['token']}"}).json()
    for reporter, listed in ((first, True), (partner, True), (stranger, False)):
        reports = client.get(
            "/v1/reports", headers={"Authorization": f"Bearer {reporter['token']}"}
        ).json()
        assert (joint_case["report"] in [r["id"] for r in reports]) == listed
    assert mine["id"] == joint_case["report"] and mine["state"] in ("under_review", "confirmed")


def test_officers_see_keyed_reporter_refs(joint_case: dict[str, Any]) -> None:
    client, headers = joint_case["client"], joint_case["headers"]
    key = reporter_ref_key(joint_case["settings"])
    first, partner, _ = joint_case["reporters"]
    case = client.get(f"/v1/cases/{joint_case['case']}", headers=headers["officer"]).json()
    expected = [reporter_ref(key, r["reporter_id"]) for r in (first, partner)]
    assert case["reporter_refs"] == expected
    assert all(r["reporter_id"] not in str(case) for r in (first, partner))


@pytest.mark.parametrize("plate", ["粤BD1２３４５", "粤BD١٢٣٤٥", "粤BD१२३४५"])
def test_plate_edits_with_non_ascii_digits_are_refused(
    joint_case: dict[str, Any], plate: str
) -> None:
    client, officer = joint_case["client"], joint_case["headers"]["officer"]
    url = f"/v1/cases/{joint_case['case']}"
    before = client.get(url, headers=officer).json()
    answer = client.post(
        f"{url}/decision", json={"decision": "confirm", "plate": plate}, headers=officer
    )
    assert answer.status_code == 422 and answer.json()["error"] == "bad_plate", answer.text
    after = client.get(url, headers=officer).json()
    assert (after["status"], after["plate"]) == (before["status"], before["plate"])


def test_an_ascii_plate_edit_is_stored_and_exported(joint_case: dict[str, Any]) -> None:
    client, headers = joint_case["client"], joint_case["headers"]
    url = f"/v1/cases/{joint_case['case']}"
    answer = client.post(
        f"{url}/decision",
        json={"decision": "confirm", "plate": "粤BD12345"},
        headers=headers["officer"],
    )
    assert answer.status_code == 200 and answer.json()["plate"] == "粤BD12345", answer.text
    today = datetime.now(UTC).date()
    export = client.get(f"/v1/export?since={today}", headers=headers["supervisor"]).json()
    assert [row["plate"] for row in export] == ["粤BD12345"]
