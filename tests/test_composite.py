"""The demo's composited dashcam clip (roadwitness/composite.py, roadwitness/samples.py): a real
vehicle driven onto the emergency lane of the real solidWhiteRight footage, judged as the worker
judges a dashcam's upload, gives an ``emergency_lane@1`` case with that vehicle's plate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.scene_labels import labelled_frames
from roadwitness.composite import SWR
from roadwitness.samples import emergency_lane_sample
from tests.conftest import DATA_DIR
from workers.pipeline import recognise_file
from workers.rule_files import load_rules


def test_the_composited_road_uses_the_edge_lines_labelled_by_eye() -> None:
    media = (DATA_DIR / SWR.media).resolve()
    labelled = {
        f.frame: (e.top, e.bottom)
        for f in labelled_frames()
        if f.media == media
        for e in f.edges
        if e.shoulder == SWR.shoulder
    }
    assert {e.frame: (e.top, e.bottom) for e in SWR.edges} == labelled


@pytest.mark.integration
def test_the_demo_clip_gives_an_emergency_lane_case_with_the_right_plate(
    models: Any, tmp_path: Path
) -> None:
    sample = emergency_lane_sample(DATA_DIR, tmp_path)
    assert sample.plate == "琼A6716学"
    t0, t1 = sample.in_lane
    assert t1 - t0 >= 3.0  # in the lane for at least 3 s of the clip
    outcome = recognise_file(
        sample.path,
        models,
        load_rules(sample.rules),
        fps=2.0,
        max_frames=200,
        start=sample.clip_start,
        positions=sample.track,
        view="dashcam",  # a registered dashcam's upload
    )
    cases = [(f.rule, f.plate) for f in outcome.verdict.cases]
    assert cases == [(sample.rule, sample.plate)], outcome.verdict.cases
    (case,) = outcome.verdict.cases
    assert case.t_start <= t1 and case.t_end >= t0
    assert outcome.verdict.unidentified == []
