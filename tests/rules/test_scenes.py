"""Every rule on rendered dashcam clips with known truth (real vehicle photos on a drawn road),
through the real decoder, detector, tracker, plate reader and lane finder; and the lane finder
on the real dashcam clip."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.scenes import Scenario, render, rules_config, scenarios, track
from ingest.media import probe
from ingest.tracks import parse
from tests.conftest import DATA_DIR
from workers.frames import iter_frames
from workers.jobs import Outcome, recognise_file
from workers.rule_files import load_rules
from workers.scene import detect_lanes

SAMPLE_FPS = 5.0

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def judged(models: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Each scenario rendered and run once for every test that asks about it."""
    folder = tmp_path_factory.mktemp("scenes")
    book = load_rules(rules_config(folder))

    class Lazy(dict[str, Outcome]):
        def __missing__(self, name: str) -> Outcome:
            scenario = next(s for s in scenarios() if s.name == name)
            clip = render(scenario, folder / f"{name}.mp4", DATA_DIR)
            positions = tuple(parse(clip.with_suffix(".json").read_text(), "json"))
            outcome = recognise_file(
                clip,
                models,
                book,
                fps=SAMPLE_FPS,
                max_frames=1000,
                start=scenario.start,
                positions=positions,
            )
            self[name] = outcome
            return outcome

    return Lazy()


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.name)
def test_rule_findings_match_the_scene_truth(
    scenario: Scenario, judged: dict[str, Outcome]
) -> None:
    outcome = judged[scenario.name]
    every = outcome.verdict.cases + outcome.verdict.unidentified  # cases or not
    found = sorted({f.rule.split("@")[0] for f in every})
    assert found == sorted(scenario.expect), [f.explanation for f in every]
    for finding in every:
        assert finding.t_end - finding.t_start >= 1.5  # persistence held in video time
    for finding in outcome.verdict.unidentified:  # a lane finding with no plate read
        assert finding.plate is None and finding.rule in ("emergency_lane@1", "bus_lane@1")


def test_emergency_lane_finding_explains_itself(judged: dict[str, Outcome]) -> None:
    (finding,) = judged["emergency_lane_occupied"].verdict.cases
    assert finding.rule == "emergency_lane@1" and finding.track_id is not None
    assert "beyond the solid edge line" in finding.explanation
    assert "G107 test" in finding.explanation


def test_visible_plate_is_read_on_the_tracked_vehicle(judged: dict[str, Outcome]) -> None:
    label = "琼A6716学"  # dev_vehicle_004's labelled plate
    tracks = judged["plate_visible"].facts.tracks
    assert [t.plate for t in tracks] == [label]


def test_real_dashcam_clip_has_a_solid_right_edge_line() -> None:
    clip = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
    info = probe(clip)
    scenes = [detect_lanes(f.image, f.pts) for f in iter_frames(clip, info, 2.0, 100)]
    with_edge = [s for s in scenes if s.edge_line is not None]
    assert len(with_edge) >= 0.9 * len(scenes)
    for scene in with_edge:  # the edge line meets the bottom of the frame right of centre
        assert scene.edge_line is not None and scene.edge_line.x_at(scene.height) > 600
        assert scene.bus_line is None or scene.bus_line.x_at(scene.height) > scene.width


def test_rendered_scene_is_real_photos_on_a_drawn_road(tmp_path: Path) -> None:
    scenario = next(s for s in scenarios() if s.name == "bus_lane_car_in_hours")
    clip = render(scenario, tmp_path / "clip.mp4", DATA_DIR)
    info = probe(clip)
    assert info.kind == "video" and (info.width, info.height) == (1280, 720)
    assert abs(info.duration_s - scenario.seconds) < 0.2


@pytest.mark.parametrize(
    "name", ["dev_dashcam_lanes_solidWhiteRight.mp4", "dev_trafficcam_video1.avi"]
)
def test_real_clips_on_a_configured_expressway_make_no_case(
    name: str, models: Any, tmp_path: Path
) -> None:
    """Real traffic that keeps to its lanes, judged as if on the configured expressway and bus
    lane in signed hours: no rule may fire."""
    scenario = next(s for s in scenarios() if s.name == "bus_lane_car_in_hours")
    positions = tuple(parse(json.dumps(track(replace(scenario, seconds=40.0))), "json"))
    outcome = recognise_file(
        DATA_DIR / "videos" / name,
        models,
        load_rules(rules_config(tmp_path)),
        fps=2.0,
        max_frames=1000,
        start=scenario.start,
        positions=positions,
    )
    assert outcome.facts.tracks  # there is traffic
    assert outcome.verdict.cases == [], [f.explanation for f in outcome.verdict.cases]


def test_bus_lane_marking_is_read_off_the_road(judged: dict[str, Outcome]) -> None:
    outcome = judged["bus_lane_car_in_hours"]
    assert any("公交" in t or "专用" in t for t in outcome.facts.road_text.values())
    (finding,) = outcome.verdict.cases + outcome.verdict.unidentified
    assert "road text '" in finding.explanation and "公交专用" in finding.explanation
    assert not judged["emergency_lane_occupied"].facts.road_text  # white lines, no road text
