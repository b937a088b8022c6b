"""The road-structure finder on real frames labelled by eye (tests/data/scene_labels.json):
edge lines with their shoulder side where a person saw them, none where there is none, and a
reason when no shoulder can be placed. Accuracy figures are in benchmarks/scene.py."""

from __future__ import annotations

import pytest

from harness.scene_labels import LabelledFrame, labelled_frames
from workers.scene import detect_lanes, steady_view

FRAMES = labelled_frames()


def _frame(name: str) -> LabelledFrame:
    return next(f for f in FRAMES if f.name == name)


@pytest.mark.parametrize(
    "name", ["cn_expressway_s2_roadside#0", "dev_dashcam_lanes_solidWhiteRight#0"]
)
def test_edge_lines_are_where_a_person_saw_them(name: str) -> None:
    frame = _frame(name)
    scene = detect_lanes(frame.image())
    for label in frame.edges:
        (edge,) = [e for e in scene.shoulders if e.shoulder == label.shoulder]
        for y in (label.top[1], label.bottom[1]):
            assert abs(edge.line.x_at(y) - label.x_at(y)) < 10
    assert scene.reason == ""


def test_pole_camera_is_a_roadside_view_with_a_shoulder_on_each_carriageway() -> None:
    scene = detect_lanes(_frame("cn_expressway_s2_roadside#0").image())
    assert scene.view == "roadside"
    assert sorted(e.shoulder for e in scene.shoulders) == ["left", "right"]


def test_dashcam_sees_its_shoulder_on_the_right_only() -> None:
    scene = detect_lanes(_frame("dev_dashcam_lanes_solidWhiteRight#0").image())
    assert scene.view == "dashcam"
    assert [e.shoulder for e in scene.shoulders] == ["right"]


def test_view_where_no_emergency_lane_can_be_placed_says_why() -> None:
    scene = detect_lanes(_frame("cn_street_culane").image())
    assert scene.shoulders == ()
    assert "no solid edge line" in scene.reason


def test_a_clip_keeps_one_point_of_view() -> None:
    dashcam = detect_lanes(_frame("dev_dashcam_lanes_solidWhiteRight#0").image(), 0.0)
    pole = detect_lanes(_frame("cn_expressway_s2_roadside#0").image(), 1.0)
    other = detect_lanes(_frame("cn_expressway_s2_roadside#150").image(), 2.0)
    steady = steady_view({0.0: dashcam, 1.0: pole, 2.0: other})
    assert {s.view for s in steady.values()} == {"roadside"}
    assert [e.shoulder for e in steady_view({0.0: dashcam}, "dashcam")[0.0].shoulders] == ["right"]
