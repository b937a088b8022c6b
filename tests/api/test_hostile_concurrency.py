"""The same request sent many times at once (a double-clicking admin, a retrying script): one
wins, the others get the answer a later duplicate gets (409, or the same 200 for a PUT), never
a 500. Each check-then-insert below once let a twin's insert fail its unique key (a 500 on
PostgreSQL, where the requests truly run side by side)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from harness.servers import postgres_database
from ingest.migrate import upgrade
from tests.api.roles import role_headers
from tests.conftest import MODELS_DIR

TWINS = 8
ROUNDS = 3
PASSWORD = "long enough pw"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)]
)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    from settings import load_settings

    def run(url: str | None) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
        more = {"database_url": url} if url else {}
        tmp = tmp_path_factory.mktemp("var")
        settings = load_settings(None, data_dir=tmp, models_dir=MODELS_DIR, **more)
        upgrade(settings.database_url)
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            yield client, role_headers(client)

    if request.param == "sqlite":
        yield from run(None)
    else:
        with postgres_database() as url:
            yield from run(url)


def at_once(send: Callable[..., Any], *args: Any, **kwargs: Any) -> Counter[int]:
    """``send(*args, **kwargs)`` from TWINS threads released together; the statuses they got."""
    codes: Counter[int] = Counter()
    start = threading.Barrier(TWINS)

    def one() -> None:
        start.wait()
        codes[send(*args, **kwargs).status_code] += 1

    threads = [threading.Thread(target=one) for _ in range(TWINS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return codes


def test_twin_staff_accounts(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, headers = api
    for n in range(ROUNDS):
        body = {"username": f"twin{n}", "role": "officer", "password": PASSWORD}
        codes = at_once(client.post, "/v1/staff/users", json=body, headers=headers["admin"])
        assert codes == {201: 1, 409: TWINS - 1}, codes


def test_twin_devices(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, headers = api
    for n in range(ROUNDS):
        body = {"device_id": f"cam-twin{n}", "owner": "o", "model": "m"}
        codes = at_once(client.post, "/v1/devices", json=body, headers=headers["admin"])
        assert codes == {201: 1, 409: TWINS - 1}, codes


def test_twin_first_budgets_of_a_year(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, headers = api
    for n in range(ROUNDS):
        url, body = f"/v1/budget/{2040 + n}", {"amount_yuan": 1000.0, "note": "twin"}
        codes = at_once(client.put, url, json=body, headers=headers["admin"])
        assert codes == {200: TWINS}, codes
        assert client.get(url, headers=headers["admin"]).json()["budget"] == 1000.0
