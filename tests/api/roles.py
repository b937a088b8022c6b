"""An app and a bearer token for every role, for tests that call the API as each of them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

ROLES = ("anonymous", "reporter", "officer", "supervisor", "admin")
PASSWORD = "long enough pw"


def role_headers(client: TestClient, suffix: str = "1") -> dict[str, dict[str, str]]:
    """``Authorization`` headers of a new reporter and of one staff user per role."""
    services: Any = client.app.state.services  # type: ignore[attr-defined]
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    token = client.post("/v1/reporters", json={}).json()["token"]
    headers["reporter"] = {"Authorization": f"Bearer {token}"}
    for role in ("officer", "supervisor", "admin"):
        services.staff.add_user(f"{role}{suffix}", role, PASSWORD)
        session = services.staff.login(f"{role}{suffix}", PASSWORD)[0]
        headers[role] = {"Authorization": f"Bearer {session}"}
    return headers
