"""Hostile input over HTTP: each request that once got a 500 or broke the contract now gets a
4xx with a reason, in the one error body ({"error", "detail"}), never echoing the input."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.refs import KEY_FILE, reporter_ref, reporter_ref_key
from ingest.migrate import upgrade
from tests.api.roles import role_headers
from tests.conftest import MODELS_DIR

Client = tuple[TestClient, dict[str, dict[str, str]]]
MEDIA = {"size": 10, "sha256": "0" * 64}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    from settings import load_settings

    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("var"), models_dir=MODELS_DIR)
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        yield client, role_headers(client)


def refused(response: Any, status: int, error: str) -> dict[str, Any]:
    """The answer is ``status`` with the error body and a short reason."""
    assert response.status_code == status, response.text[:500]
    body: dict[str, Any] = response.json()
    assert body["error"] == error and body["detail"], body
    assert len(response.content) < 4000
    return body


def _event(place: str, headers: dict[str, str], client: TestClient) -> Any:
    text = f'{{"event_id": "e-1", "media": {json.dumps(MEDIA)}, "place": {place}}}'
    return client.post(
        "/v1/events", content=text, headers={**headers, "Content-Type": "application/json"}
    )


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 400])
def test_non_finite_numbers_in_place_are_refused(api: Client, number: str) -> None:
    client, headers = api
    body = refused(
        _event(f'{{"lat": {number}, "lon": 114.0}}', headers["reporter"], client),
        422,
        "invalid_request",
    )
    assert "finite" in body["detail"] or "place.lat" in body["detail"], body


def test_json_nested_deeply_or_with_huge_integers_is_refused(api: Client) -> None:
    client, headers = api
    nested = "[" * 30_000 + "]" * 30_000
    response = client.put(
        "/v1/budget/2026",
        content=nested,
        headers={**headers["admin"], "Content-Type": "application/json"},
    )
    assert "nested too deeply" in refused(response, 422, "invalid_request")["detail"]
    huge = '{"amount_yuan": 1' + "0" * 5000 + "}"
    response = client.put(
        "/v1/budget/2026",
        content=huge,
        headers={**headers["admin"], "Content-Type": "application/json"},
    )
    refused(response, 422, "invalid_request")


def test_a_20_mb_body_gets_a_short_413(api: Client) -> None:
    client, headers = api
    junk = json.dumps({"event_id": "e-big", "media": MEDIA, "x": "a" * 20_000_000})
    response = client.post(
        "/v1/events",
        content=junk,
        headers={**headers["reporter"], "Content-Type": "application/json"},
    )
    refused(response, 413, "too_large")
    # Streamed without a Content-Length: refused as soon as the bytes pass the limit.
    streamed = client.put(
        "/v1/budget/2026",
        content=(b" " * 1024 for _ in range(200)),
        headers={**headers["admin"], "Content-Type": "application/json"},
    )
    refused(streamed, 413, "too_large")
    # Under the limit but invalid: the 422 names the field, never repeats the input.
    padded = json.dumps({"event_id": "e-pad", "media": MEDIA, "x": "b" * 3_000_000})
    response = client.post(
        "/v1/events",
        content=padded,
        headers={**headers["reporter"], "Content-Type": "application/json"},
    )
    assert "bbbbbbbbbbbbbbbb" not in refused(response, 422, "invalid_request")["detail"]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/v1/stats/annual?year=0", None),
        ("GET", "/v1/stats/annual?year=-1", None),
        ("GET", "/v1/stats/annual?year=10000", None),
        ("GET", "/v1/stats/quarterly?year=9999&quarter=4", None),
        ("GET", "/v1/stats/quarterly?year=2026&quarter=5", None),
        ("GET", "/v1/budget/1" + "0" * 40, None),
        ("PUT", "/v1/budget/2026", '{"amount_yuan": 1e300}'),
        ("PUT", "/v1/budget/2026", '{"amount_yuan": Infinity}'),
        ("PUT", "/v1/budget/2026", '{"amount_yuan": NaN}'),
        ("PUT", "/v1/budget/2026", '{"amount_yuan": -1}'),
        ("PUT", "/v1/budget/10000", '{"amount_yuan": 1}'),
        ("GET", "/v1/export?since=2026-01-01&until=9999-12-31", None),
    ],
)
def test_years_quarters_and_amounts_out_of_range(
    api: Client, method: str, url: str, body: str | None
) -> None:
    client, headers = api
    response = client.request(
        method,
        url,
        content=body,
        headers={**headers["admin"], "Content-Type": "application/json"},
    )
    if url.startswith("/v1/export"):  # the end of time is a valid (empty) range
        assert response.status_code == 200 and response.json() == []
        return
    refused(response, 422, "invalid_request")


def test_a_budget_in_range_is_kept(api: Client) -> None:
    client, headers = api
    response = client.put("/v1/budget/2026", json={"amount_yuan": 1e9}, headers=headers["admin"])
    assert response.status_code == 200 and response.json()["budget"] == 1e9


@pytest.mark.parametrize("near", ["inf,0,1", "1e309,0,1", "nan,0,1", "91,0,1", "0,0,0", "1,2"])
def test_bad_near_is_refused(api: Client, near: str) -> None:
    client, headers = api
    listed = client.get("/v1/cases", params={"near": near}, headers=headers["officer"])
    assert "lat,lon,km" in refused(listed, 422, "bad_near")["detail"]
    claimed = client.post("/v1/claims/next", params={"near": near}, headers=headers["officer"])
    refused(claimed, 422, "bad_near")


def test_good_near_and_confidence_filters_work(api: Client) -> None:
    client, headers = api
    ok = client.get("/v1/cases?near=22.54,114.06,5&min_confidence=0.5", headers=headers["officer"])
    assert ok.status_code == 200 and ok.json() == {"items": [], "total": 0}
    refused(
        client.get("/v1/cases?min_confidence=nan", headers=headers["officer"]),
        422,
        "invalid_request",
    )


def test_validation_errors_of_every_kind_share_the_error_body(api: Client) -> None:
    client, headers = api
    decision = client.post(
        "/v1/cases/nope/decision", json={"decision": "maybe"}, headers=headers["officer"]
    )
    body = refused(decision, 422, "invalid_request")
    assert body["errors"][0]["loc"] == ["body", "decision"]
    submission = client.post(
        "/v1/submissions",
        files={"file": ("x.jpg", b"not a photo")},
        data={"violation": "speeding_on_the_moon"},
        headers=headers["reporter"],
    )
    refused(submission, 422, "invalid_request")
    missing = client.get("/v1/cases/nope", headers=headers["officer"])
    refused(missing, 404, "not_found")
    bad_track = client.post(
        "/v1/events",
        json={"event_id": "e-t", "media": MEDIA, "track": {"format": "json", "data": "[1"}},
        headers=headers["reporter"],
    )
    refused(bad_track, 422, "bad_track")


def test_openapi_declares_security_and_the_error_body(api: Client) -> None:
    client, _ = api
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"reporterToken", "deviceSignature", "staffToken", "staffSession"}
    cases = document["paths"]["/v1/cases"]["get"]
    assert cases["security"] == [{"staffToken": []}, {"staffSession": []}]
    events = document["paths"]["/v1/events"]["post"]
    assert {"deviceSignature": []} in events["security"]
    assert {"401", "403", "413", "422"} <= set(events["responses"])
    assert "security" not in document["paths"]["/v1/reporters"]["post"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_reporter_refs_are_keyed(tmp_path: Path, make_settings: Any) -> None:
    key = b"server secret"
    expected = hmac.new(key, b"reporter:r-1", hashlib.sha256).hexdigest()[:16]
    assert reporter_ref(key, "r-1") == f"rep-{expected}"
    assert reporter_ref(b"another secret", "r-1") != reporter_ref(key, "r-1")
    unkeyed = hashlib.sha256(b"roadwitness-reporter:r-1").hexdigest()[:12]
    assert unkeyed not in reporter_ref(key, "r-1")
    configured = make_settings(reporter_ref_key="from settings")
    assert reporter_ref_key(configured) == b"from settings"
    made = make_settings(data_dir=tmp_path / "fresh")
    first = reporter_ref_key(made)
    assert len(first) == 64 and (tmp_path / "fresh" / KEY_FILE).stat().st_mode & 0o077 == 0
    assert (tmp_path / "fresh" / KEY_FILE).read_bytes() == first  # kept for the next start
    assert reporter_ref_key(make_settings(data_dir=tmp_path / "fresh")) == first


def test_long_lists_in_a_query_or_form_are_bounded(api: Client) -> None:
    client, headers = api
    skipped = "&".join(f"exclude=c{i}" for i in range(1001))
    refused(
        client.post(f"/v1/claims/next?{skipped}", headers=headers["officer"]),
        422,
        "invalid_request",
    )
    many = ",".join(f"r{i}" for i in range(50_000))  # once past SQLite's bound-variable limit
    answer = client.post(
        "/v1/submissions",
        files={"file": ("a.jpg", b"x")},
        data={"joint_with": many},
        headers=headers["reporter"],
    )
    assert "at most 20" in refused(answer, 422, "invalid_request")["detail"]


def test_refusals_at_the_door_and_csv_answers_are_documented(api: Client) -> None:
    """A NUL in the query string is refused before any route runs, on every operation: the
    400 must be in each one's documented answers (schemathesis found it missing). CSV
    answers and HEAD's body-less 200 are documented as they are sent."""
    client, headers = api
    document = client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        url = re.sub(r"\{[^}]+\}", "x", path) + "?q=%00"
        for method, operation in operations.items():
            answer = client.request(method, url, headers=headers["admin"])
            assert str(answer.status_code) in operation["responses"], (method, path)
    for path in ("/v1/export", "/v1/stats/annual", "/v1/stats/quarterly"):
        assert "text/csv" in document["paths"][path]["get"]["responses"]["200"]["content"]
    csv = client.get("/v1/stats/annual?year=2026&format=csv", headers=headers["supervisor"])
    assert csv.headers["content-type"].startswith("text/csv")
    head = document["paths"]["/v1/uploads/{upload_id}"]["head"]["responses"]["200"]
    assert "content" not in head


@pytest.mark.parametrize("day", ["0", "86400", "2026-01-01T00:00", "2026-01-01T00:00:00Z"])
def test_a_day_filter_is_a_day(api: Client, day: str) -> None:
    """``since=0`` listed everything since 1970 and a date-time at midnight passed as its day
    (pydantic's lax date): a filter that is not YYYY-MM-DD is a 422 on every route."""
    client, headers = api
    for url, role in [
        (f"/v1/cases?since={day}", "officer"),
        (f"/v1/cases?until={day}", "officer"),
        (f"/v1/export?since={day}", "supervisor"),
        (f"/v1/export?since=2026-01-01&until={day}", "supervisor"),
    ]:
        refused(client.get(url, headers=headers[role]), 422, "invalid_request")
    for url, role in [("/v1/claims/next", "officer")]:
        answer = client.post(f"{url}?since={day}", headers=headers[role])
        refused(answer, 422, "invalid_request")
    assert client.get("/v1/export?since=2026-01-01", headers=headers["supervisor"]).json() == []


@pytest.mark.parametrize(
    "path,methods",
    [
        ("/v1/uploads/x", {"HEAD", "PATCH", "DELETE"}),
        ("/v1/budget/2026", {"GET", "PUT"}),
        ("/v1/reporters/x/reward-suspension", {"PUT", "DELETE"}),
    ],
)
def test_a_405_allows_every_method_of_the_path(api: Client, path: str, methods: set[str]) -> None:
    """Starlette named only the first matching route's methods in ``Allow``."""
    client, _ = api
    for method in ("OPTIONS", "POST", "TRACE"):
        answer = client.request(method, path)
        refused(answer, 405, "method_not_allowed")
        assert set(answer.headers["Allow"].split(", ")) == methods, method
