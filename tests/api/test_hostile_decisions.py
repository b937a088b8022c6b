"""Twin review moves on one real case (a real photo through the real pipeline), sent at once
by the officer who holds it: one wins, the others get a 409, and the case and its audit log
say the one decision. On SQLite (embedded mode) FOR UPDATE is ignored, so every twin once
read ``under_review`` and wrote: a case confirmed with the reject's reason, three decisions
in the audit log, or a release that put a confirmed case back in the queue."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from ingest.db import AuditEvent
from ingest.migrate import upgrade
from tests.api.roles import role_headers
from tests.conftest import DATA_DIR, MODELS_DIR
from workers.jobs import SubmissionProcessor
from workers.runner import run

TWINS = 12
PHOTOS = tuple(f"dev_vehicle_{n:03d}.jpg" for n in (8, 9, 10, 14))
MOVES = ("confirmed", "rejected", "release")
REJECT = {"decision": "reject", "reason": "other", "note": "twin"}


@pytest.fixture(scope="module")
def desk(models: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from settings import load_settings

    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("var"), models_dir=MODELS_DIR)
    upgrade(settings.database_url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        headers = role_headers(client)
        payee = {"real_name": "Li Lei", "payment_account": "6222 0000 1111"}
        token = client.post("/v1/reporters", json=payee).json()["token"]
        for photo in PHOTOS:
            created = client.post(
                "/v1/submissions",
                files={"file": (photo, (DATA_DIR / "images" / photo).read_bytes())},
                data={"violation": "bus_lane", "latitude": "22.54", "longitude": "114.06"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert created.status_code == 201, created.text
        services = client.app.state.services  # type: ignore[attr-defined]
        run(services, SubmissionProcessor(services, models), drain=True)
        cases = client.get("/v1/cases", headers=headers["officer"]).json()["items"]
        assert len(cases) >= 3, cases
        yield {"client": client, "cases": cases, **headers}


def at_once(desk: dict[str, Any], sends: list[tuple[str, str, Any]]) -> Counter[int]:
    """Every request of ``sends`` from its own thread, released together; their statuses."""
    codes: Counter[int] = Counter()
    start = threading.Barrier(len(sends))

    def one(method: str, url: str, body: Any) -> None:
        start.wait()
        who = desk["admin"] if url.endswith("/paid") else desk["officer"]
        answer = desk["client"].request(method, url, json=body, headers=who)
        codes[answer.status_code] += 1

    threads = [threading.Thread(target=one, args=send) for send in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return codes


def _audited(client: TestClient, entity_id: str, actions: tuple[str, ...]) -> list[str]:
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        rows = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_id == entity_id, AuditEvent.action.in_(actions))
            .order_by(AuditEvent.id)
        )
        return list(rows)


def test_twin_decisions_make_one(desk: dict[str, Any]) -> None:
    client = desk["client"]
    for case in desk["cases"][:-2]:  # a few rounds: the race once lost about one in two
        case_id = case["id"]
        claimed = client.post(f"/v1/cases/{case_id}/claim", headers=desk["officer"])
        assert claimed.status_code == 200, claimed.text
        url = f"/v1/cases/{case_id}/decision"
        sends = [("POST", url, {"decision": "confirm"} if i % 2 else REJECT) for i in range(TWINS)]
        codes = at_once(desk, sends)
        assert codes == {200: 1, 409: TWINS - 1}, codes
        decided = _audited(client, case_id, MOVES)
        assert len(decided) == 1, decided
        now = client.get(f"/v1/cases/{case_id}", headers=desk["officer"]).json()
        assert now["status"] == decided[0]
        assert (now["decision_reason"] == "other: twin") == (decided[0] == "rejected"), now


def test_a_release_at_the_moment_of_a_decision_does_not_undo_it(desk: dict[str, Any]) -> None:
    client, case_id = desk["client"], desk["cases"][-1]["id"]
    assert client.post(f"/v1/cases/{case_id}/claim", headers=desk["officer"]).status_code == 200
    decide = ("POST", f"/v1/cases/{case_id}/decision", {"decision": "confirm"})
    release = ("POST", f"/v1/cases/{case_id}/release", None)
    codes = at_once(desk, [decide, release] * (TWINS // 2))
    assert codes[200] >= 1 and set(codes) <= {200, 409}, codes  # a decide after a release
    moves = _audited(client, case_id, MOVES)  # claims the case again, so it may win too
    status = client.get(f"/v1/cases/{case_id}", headers=desk["officer"]).json()["status"]
    assert moves.count("confirmed") <= 1 and moves.count("release") == codes[200] - (
        "confirmed" in moves
    ), (moves, codes)
    assert status == ("confirmed" if "confirmed" in moves else "candidate"), moves
    assert "confirmed" not in moves or moves[-1] == "confirmed", moves


def test_twin_payments_of_a_reward_pay_it_once(desk: dict[str, Any]) -> None:
    """``mark_paid`` read the reward FOR UPDATE (ignored by SQLite): every twin paid it."""
    client, case_id = desk["client"], desk["cases"][-2]["id"]
    decided = client.post(
        f"/v1/cases/{case_id}/decision", json={"decision": "confirm"}, headers=desk["officer"]
    )
    assert decided.status_code == 200, decided.text
    rewards = client.get("/v1/rewards", headers=desk["admin"]).json()
    mine = [r for r in rewards if r["case_id"] == case_id and r["status"] == "payable"]
    assert mine, rewards
    codes = at_once(desk, [("POST", f"/v1/rewards/{mine[0]['id']}/paid", None)] * TWINS)
    assert codes == {204: 1, 409: TWINS - 1}, codes
    assert _audited(client, mine[0]["id"], ("reward_paid",)) == ["reward_paid"]
