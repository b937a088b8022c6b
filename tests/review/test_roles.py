"""Who may call what: every route of the API against every role, from the route table (a new
route without a row here fails), and officers never see who reported."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ingest.migrate import upgrade

ROLES = ("anonymous", "reporter", "officer", "supervisor", "admin")
PUBLIC = set(ROLES)
REPORTER = {"reporter"}
REVIEWER = {"officer", "supervisor"}
OFFICER = {"officer"}
STAFF = {"officer", "supervisor", "admin"}
OVERSIGHT = {"supervisor", "admin"}
ADMIN = {"admin"}

MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("POST", "/v1/reporters"): PUBLIC,
    ("POST", "/v1/staff/login"): PUBLIC,
    ("POST", "/v1/staff/logout"): PUBLIC,
    ("POST", "/v1/events"): REPORTER,
    ("HEAD", "/v1/uploads/{upload_id}"): REPORTER,
    ("PATCH", "/v1/uploads/{upload_id}"): REPORTER,
    ("DELETE", "/v1/uploads/{upload_id}"): REPORTER,
    ("POST", "/v1/uploads/{upload_id}/direct"): REPORTER,
    ("POST", "/v1/uploads/{upload_id}/direct/complete"): REPORTER,
    ("GET", "/v1/reports"): REPORTER,
    ("GET", "/v1/reports/{submission_id}"): REPORTER,
    ("POST", "/v1/submissions"): REPORTER,
    ("GET", "/v1/submissions/{submission_id}"): STAFF,
    ("GET", "/v1/staff/me"): STAFF,
    ("POST", "/v1/cases/{case_id}/verify"): STAFF,
    ("GET", "/v1/cases"): REVIEWER,
    ("GET", "/v1/cases/{case_id}"): REVIEWER,
    ("GET", "/v1/evidence/{item_id}"): REVIEWER,
    ("POST", "/v1/claims/next"): OFFICER,
    ("POST", "/v1/cases/{case_id}/claim"): OFFICER,
    ("POST", "/v1/cases/{case_id}/release"): OFFICER,
    ("POST", "/v1/cases/{case_id}/decision"): OFFICER,
    ("GET", "/v1/rewards"): OVERSIGHT,
    ("GET", "/v1/budget/{year}"): OVERSIGHT,
    ("GET", "/v1/stats/quarterly"): OVERSIGHT,
    ("GET", "/v1/stats/annual"): OVERSIGHT,
    ("GET", "/v1/export"): OVERSIGHT,
    ("POST", "/v1/staff/users"): ADMIN,
    ("POST", "/v1/devices"): ADMIN,
    ("POST", "/v1/devices/{device_id}/revoke"): ADMIN,
    ("POST", "/v1/rewards/{reward_id}/paid"): ADMIN,
    ("PUT", "/v1/budget/{year}"): ADMIN,
    ("GET", "/v1/reporters/rejected"): OVERSIGHT,
    ("PUT", "/v1/reporters/{reporter_id}/reward-suspension"): OVERSIGHT,
    ("DELETE", "/v1/reporters/{reporter_id}/reward-suspension"): OVERSIGHT,
}
"""Devices sign their requests; the protocol tests cover them on the reporter endpoints."""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    from settings import load_settings
    from tests.conftest import MODELS_DIR

    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("var"), models_dir=MODELS_DIR)
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        headers: dict[str, Any] = {"anonymous": {}}
        token = client.post("/v1/reporters", json={}).json()["token"]
        headers["reporter"] = {"Authorization": f"Bearer {token}"}
        for role in ("officer", "supervisor", "admin"):
            services.staff.add_user(f"{role}1", role, "long enough pw")
            headers[role] = {
                "Authorization": f"Bearer {services.staff.login(f'{role}1', 'long enough pw')[0]}"
            }
        yield client, headers


def _routes(client: TestClient) -> list[tuple[str, str]]:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [(m.upper(), p) for p, methods in paths.items() for m in methods]


def test_every_route_has_a_row_in_the_matrix(setup: tuple[TestClient, Any]) -> None:
    client, _ = setup
    assert set(_routes(client)) == set(MATRIX)


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_role_matrix(method: str, path: str, setup: tuple[TestClient, Any]) -> None:
    client, headers = setup
    url = re.sub(r"\{year\}", "2026", re.sub(r"\{(\w+)\}", "no-such-id", path))
    for role in ROLES:
        if path == "/v1/staff/logout" and role != "anonymous":
            continue  # would end the session the other rows use
        response = client.request(method, url, headers={**headers[role], "Tus-Resumable": "1.0.0"})
        # A 500 is neither allowed nor refused: it fails the row whoever the caller is.
        assert response.status_code < 500, (role, method, path, response.text[:500])
        refused = response.status_code in (401, 403)
        allowed = role in MATRIX[(method, path)]
        assert refused != allowed, (role, method, path, response.status_code, response.text)


def test_reporter_tokens_are_refused_on_staff_routes_and_staff_tokens_on_reporter_routes(
    setup: tuple[TestClient, Any],
) -> None:
    client, headers = setup
    assert client.get("/v1/cases", headers=headers["reporter"]).status_code == 401
    assert client.get("/v1/reports", headers=headers["officer"]).status_code == 401


def test_bad_sign_ins_and_accounts_are_refused_with_a_reason(
    setup: tuple[TestClient, Any],
) -> None:
    client, headers = setup
    wrong = client.post("/v1/staff/login", json={"username": "officer1", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "bad_login"
    nobody = client.post("/v1/staff/login", json={"username": "ghost", "password": "x"})
    assert nobody.status_code == 401 and nobody.json()["error"] == "bad_login"
    forged = client.get("/v1/cases", headers={"Authorization": "Bearer rws_forged"})
    assert forged.status_code == 401 and forged.json()["error"] == "bad_session"
    short = client.post(
        "/v1/staff/users",
        json={"username": "x1", "role": "officer", "password": "short"},
        headers=headers["admin"],
    )
    assert short.status_code == 422
    again = client.post(
        "/v1/staff/users",
        json={"username": "officer1", "role": "officer", "password": "long enough pw"},
        headers=headers["admin"],
    )
    assert again.status_code == 409 and "exists" in again.json()["detail"]
