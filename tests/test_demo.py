"""The README's main job: `roadwitness demo` takes the real samples to reviewable cases."""

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
    assert report["matched"] == report["labelled"] == 16, output
    # Every case from a labelled photo carries that photo's plate: a wrong read beside a
    # right one is a wrong case sent to an officer, not a match.
    labels = report["labels"]
    wrong = [
        (c["source"], c["plate"], labels[c["source"]])
        for c in report["cases"]
        if labels.get(c["source"]) and c["plate"] != labels[c["source"]]
    ]
    assert not wrong, wrong
    assert report["pending_total"] == len(report["cases"]) >= 16
    assert all(c["rule"] == "declared@1" and c["evidence"] for c in report["cases"])
    assert "16/16" in output
