"""Evidence packages through the real job: a rendered bus-lane clip becomes a case whose
package verifies, and stops verifying when one byte of any file changes; the cloned-plate
flag on two real submissions 100 km and 10 minutes apart."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cases.custody import verify_case
from cases.services import Services
from harness.scenes import render, rules_config, scenarios
from ingest.db import AuditEvent, Case
from ingest.migrate import upgrade
from ingest.store import LocalStore
from ingest.submissions import Declared
from ingest.tracks import parse
from tests.conftest import DATA_DIR, labels
from tests.tracks import START
from workers.jobs import SubmissionProcessor
from workers.runner import run

pytestmark = pytest.mark.integration


@pytest.fixture
def services(make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Services]:
    folder = tmp_path / "rules"
    folder.mkdir()
    settings = make_settings(rules_file=rules_config(folder), sample_fps=4.0)
    upgrade(settings.database_url)
    built = Services.build(settings)
    yield built
    built.close()


def _cases(services: Services) -> list[Case]:
    with services.sessions() as session:
        cases = list(session.scalars(select(Case).order_by(Case.created_at)))
        for case in cases:
            _ = case.evidence
        return cases


def test_bus_lane_case_carries_a_package_that_verifies_until_a_byte_changes(
    services: Services, models: Any, tmp_path: Path
) -> None:
    scenario = next(s for s in scenarios() if s.name == "bus_lane_car_in_hours")
    clip = render(scenario, tmp_path / "clip.mp4", DATA_DIR)
    track = tuple(parse(clip.with_suffix(".json").read_text(), "json"))
    declared = Declared(violation="bus_lane", clip_start=scenario.start, track=track)
    services.intake.accept(clip, "clip.mp4", declared, actor="device:test")
    run(services, SubmissionProcessor(services, models), drain=True)

    (case,) = _cases(services)
    assert case.rule == "bus_lane@1" and case.violation == "bus_lane"
    assert case.latitude is not None and case.observed_at is not None
    roles = {e.role for e in case.evidence}
    moments = {f"{kind}_{m}" for kind in ("frame", "raw") for m in ("before", "during", "after")}
    assert moments | {"clip", "metadata", "manifest"} <= roles
    meta_item = next(e for e in case.evidence if e.role == "metadata")
    meta = json.loads(b"".join(services.store.iter_bytes(meta_item.key)))
    assert meta["rule"] == {"id": "bus_lane@1", "version": 1}
    assert meta["time_source"] == "device_clock" and meta["place_source"] == "device_track"
    assert set(meta["models"]) >= {"yolov8n_onnx", "ppocrv4_rec"}
    assert meta["moments"]["during"]["latitude"] is not None

    with services.sessions.begin() as session:
        assert verify_case(session, services.store, case.id, "test").ok
    store = services.store
    assert isinstance(store, LocalStore)
    for item in case.evidence:
        path = store.root / item.key
        original = path.read_bytes()
        os.chmod(path, 0o644)
        tampered = bytearray(original)
        tampered[len(tampered) // 2] ^= 0x01
        path.write_bytes(bytes(tampered))
        with services.sessions.begin() as session:
            result = verify_case(session, store, case.id, "test")
        assert not result.ok and any(item.name in p for p in result.problems), item.role
        path.write_bytes(original)
    with services.sessions.begin() as session:
        assert verify_case(session, services.store, case.id, "test").ok


def test_cloned_plate_flag_on_two_real_submissions_far_apart(
    services: Services, models: Any
) -> None:
    row = next(r for r in labels() if r["file"] == "images/dev_vehicle_014.jpg")
    photo = DATA_DIR / row["file"]
    shenzhen = Declared(violation="other", latitude=22.5431, longitude=114.0579, taken_at=START)
    guangzhou_way = Declared(  # ~100 km north-west, ten minutes later
        violation="other",
        latitude=23.1291,
        longitude=113.3644,
        taken_at=START + timedelta(minutes=10),
    )
    services.intake.accept(photo, "a.jpg", shenzhen, actor="reporter:a")
    services.intake.accept(photo, "b.jpg", guangzhou_way, actor="reporter:b")
    run(services, SubmissionProcessor(services, models), drain=True)

    first, second = _cases(services)
    assert first.plate == second.plate == row["plate_text"]
    cloned = [[f for f in c.flags if f["kind"] == "cloned_plate@1"] for c in (first, second)]
    assert [f["other_case"] for f in cloned[0]] == [second.id]
    assert [f["other_case"] for f in cloned[1]] == [first.id]
    # the same photo from another reporter is re-used media as well: flagged on the later one
    assert all(f["kind"] == "cloned_plate@1" for f in first.flags)
    assert {f["kind"] for f in second.flags} == {"cloned_plate@1", "reused_media@1"}
    flag = cloned[0][0]
    assert flag["kind"] == "cloned_plate@1" and 90 < flag["distance_km"] < 110
    assert flag["minutes"] == 10.0 and "km/h" in flag["reason"]
    assert first.status == second.status == "candidate"  # a flag, never a decision
    with services.sessions() as session:
        raised = session.scalars(select(AuditEvent).where(AuditEvent.action == "flag_raised"))
        assert {e.entity_id for e in raised} == {first.id, second.id}
