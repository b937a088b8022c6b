"""Real roads with no violation in them (../shared/data/roads and videos), judged with
expressway and bus-lane rule data active and a GPS track on the segment in the bus lane's hours:
no emergency-lane or bus-lane finding at all, neither as a case nor as unidentified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.real_roads import WEDNESDAY_0830_CST, negatives, track_on_segment
from harness.scenes import rules_config
from ingest.media import probe
from rules import RuleBook
from tests.conftest import DATA_DIR
from workers.jobs import recognise_file
from workers.rule_files import load_rules

pytestmark = pytest.mark.integration
LANE_RULES = ("emergency_lane@1", "bus_lane@1")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> RuleBook:
    return load_rules(rules_config(tmp_path_factory.mktemp("rules")))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("negatives")


REAL_ROADS = (
    "cn_arterial_roadside.jpg",
    "cn_expressway_s2_roadside.mp4",
    "cn_street_culane.jpg",
    "cn_street_handheld_1.gif",
    "cn_street_handheld_2.gif",
    "dev_dashcam_lanes_solidWhiteRight.mp4",
    "dev_trafficcam_video1.avi",
    "dev_trafficcam_video2.avi",
)


def test_every_real_road_file_is_judged(folder: Path) -> None:
    assert {n.name for n in negatives(DATA_DIR, folder)} == set(REAL_ROADS)


@pytest.mark.parametrize("name", REAL_ROADS)
def test_real_negative_gives_no_lane_finding(
    name: str, models: Any, book: RuleBook, folder: Path
) -> None:
    (negative,) = [n for n in negatives(DATA_DIR, folder) if n.name == name]
    seconds = probe(negative.path).duration_s
    outcome = recognise_file(
        negative.path,
        models,
        book,
        fps=2.0,
        max_frames=200,
        start=WEDNESDAY_0830_CST,
        positions=track_on_segment(seconds),
    )
    found = outcome.verdict.cases + outcome.verdict.unidentified
    lane = [f.explanation for f in found if f.rule in LANE_RULES]
    assert lane == [], f"{negative.name}: {lane}"
