"""Property-based tests of the whole API from its OpenAPI document (schemathesis): every
operation, each generated request sent as anonymous, reporter, officer, supervisor and admin,
against the real app on SQLite (and fewer on PostgreSQL). Checked: no 5xx, every body
conforms to its declared schema, every status code is documented. The seed is fixed
(``derandomize``) so a run is repeatable; examples are bounded to keep it to a minute or two.

Requests sent: operations x ``EXAMPLES`` x 5 roles (about 31 x 20 x 5 = 3,100 on SQLite,
31 x 4 x 5 = 620 on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from harness.servers import postgres_database
from ingest.migrate import upgrade
from tests.api.roles import ROLES, role_headers
from tests.conftest import MODELS_DIR

EXAMPLES = 20
PG_EXAMPLES = 4
CREDENTIALS = {"authorization", "cookie", "rw-signature", "rw-device", "rw-key-id"}
STATEFUL = {("POST", "/v1/staff/logout")}
"""Sent as anonymous only: as a role it would end the session the other requests use."""
CHECKS = [schemathesis.checks.not_a_server_error, response_schema_conformance]
CHECKS.append(status_code_conformance)
HYPOTHESIS = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "phases": [Phase.explicit, Phase.generate],
    "suppress_health_check": list(HealthCheck),
}


class Api:
    def __init__(self, app: Any, headers: dict[str, dict[str, str]]) -> None:
        self.app, self.headers = app, headers
        self.schema = schemathesis.openapi.from_dict(app.openapi())

    def check(self, case: Any) -> None:
        """Send ``case`` as every role, with only that role's credentials."""
        for role in ROLES:
            if role != "anonymous" and (case.method.upper(), case.path) in STATEFUL:
                continue
            case.headers = {
                k: v for k, v in (case.headers or {}).items() if k.lower() not in CREDENTIALS
            }
            case.cookies = {}
            response = case.call(app=self.app, headers=self.headers[role])
            assert response.status_code < 500, (role, case.method, case.path, response.text)
            case.validate_response(response, checks=CHECKS)


def _api(database_url: str | None, data_dir: Any) -> Iterator[Api]:
    from settings import load_settings

    overrides = {"database_url": database_url} if database_url else {}
    settings = load_settings(None, data_dir=data_dir, models_dir=MODELS_DIR, **overrides)
    upgrade(settings.database_url)
    app = create_app(settings)
    with TestClient(app) as client:  # runs the lifespan: app.state.services for every call
        yield Api(app, role_headers(client))


@pytest.fixture(scope="module")
def sqlite_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from _api(None, tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="module")
def postgres_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with postgres_database() as url:
        yield from _api(url, tmp_path_factory.mktemp("var"))


def _operations(api: Api) -> list[Any]:
    operations = [result.ok() for result in api.schema.get_all_operations()]
    assert len(operations) >= 30
    return operations


def _run(api: Api, examples: int) -> int:
    """Requests sent; every operation must have been exercised."""
    sent, exercised, operations = 0, set(), _operations(api)
    failures: list[str] = []
    for operation in operations:

        @settings(max_examples=examples, **HYPOTHESIS)
        @given(case=operation.as_strategy())
        def one_operation(case: Any) -> None:
            nonlocal sent
            api.check(case)
            sent += len(ROLES)
            exercised.add(case.operation.label)

        try:
            one_operation()
        except Exception as exc:  # report every operation's failure, not just the first
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert exercised == {operation.label for operation in operations}
    return sent


def test_every_operation_and_role_on_sqlite(sqlite_api: Api) -> None:
    sent = _run(sqlite_api, EXAMPLES)
    print(f"schemathesis on SQLite: {sent} requests")
    assert sent >= 30 * len(ROLES) * 3


@pytest.mark.integration
def test_every_operation_and_role_on_postgres(postgres_api: Api) -> None:
    sent = _run(postgres_api, PG_EXAMPLES)
    print(f"schemathesis on PostgreSQL: {sent} requests")
    assert sent >= 30 * len(ROLES)
