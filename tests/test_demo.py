"""The README's main job: `roadwitness demo` takes the real samples to reviewable cases, and
finds an emergency-lane violation by itself in the composited dashcam clip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.processes import run_cli
from tests.conftest import DATA_DIR, MODELS_DIR

pytestmark = pytest.mark.integration


def test_demo_turns_every_labelled_sample_into_a_case_with_its_plate(tmp_path: Path) -> None:
    settings = {"data_dir": tmp_path / "demo", "models_dir": MODELS_DIR, "samples_dir": DATA_DIR}
    output = run_cli(settings, "demo")
    report = json.loads((tmp_path / "demo" / "demo_report.json").read_text())
    assert report["matched"] == report["labelled"] == 17, output
    # Every case from a labelled photo carries that photo's plate: a wrong read beside a
    # right one is a wrong case sent to an officer, not a match.
    labels = report["labels"]
    wrong = [
        (c["source"], c["plate"], labels[c["source"]])
        for c in report["cases"]
        if labels.get(c["source"]) and c["plate"] != labels[c["source"]]
    ]
    assert not wrong, wrong
    assert report["pending_total"] == len(report["cases"]) >= 17
    assert all(c["evidence"] for c in report["cases"])
    found = [
        (Path(c["source"]).name, c["plate"]) for c in report["cases"] if c["rule"] != "declared@1"
    ]
    # the dashcam declared nothing: the system found the violation itself, with the plate
    assert found == [("dashcam_emergency_lane.mp4", "琼A6716学")], report["cases"]
    assert all(
        c["rule"] == "emergency_lane@1" for c in report["cases"] if "dashcam_" in c["source"]
    )
    assert "emergency_lane@1" in output
    assert "17/17" in output
