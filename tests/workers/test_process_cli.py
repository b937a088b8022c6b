"""`roadwitness process` on real media: the summary's plate matches the label."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roadwitness.cli import app
from tests.conftest import DATA_DIR, MODELS_DIR, labels

ENV = {"ROADWITNESS_MODELS_DIR": str(MODELS_DIR)}


def test_process_real_photo(tmp_path: Path) -> None:
    row = next(r for r in labels() if r["file"] == "images/dev_vehicle_011.jpg")
    result = CliRunner().invoke(
        app,
        ["process", str(DATA_DIR / row["file"]), "--out", str(tmp_path), "--violation", "other"],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [c["plate"] for c in summary["cases"]] == [row["plate_text"]]
    case = summary["cases"][0]
    assert case["rule"] == "declared@1" and case["violation"] == "other"
    assert case["t_start"] == case["t_end"] == 0.0
    assert all((tmp_path / name).is_file() for name in case["evidence"].values())
    assert {"frame_during", "raw_during", "plate_crop", "metadata", "manifest"} <= set(
        case["evidence"]
    )
    assert summary["models"]["ppocrv4_rec"]["sha256"].startswith("48fc40f2")


def test_process_says_how_to_install_a_missing_reader_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "paddle", None)  # as on a machine without paddlepaddle
    photo = DATA_DIR / "images" / "dev_vehicle_011.jpg"
    result = CliRunner().invoke(
        app,
        ["process", str(photo), "--out", str(tmp_path)],
        env={**ENV, "ROADWITNESS_PLATE_READER": "ppocrv4_paddle"},
    )
    assert result.exit_code == 2, result.output
    assert "pip install 'roadwitness[paddle]'" in result.output
    assert not (tmp_path / "summary.json").exists()


def test_worker_without_its_reader_engine_stops_before_taking_a_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "paddle", None)
    env = {
        **ENV,
        "ROADWITNESS_PLATE_READER": "ppocrv4_paddle",
        "ROADWITNESS_DATA_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(app, ["worker", "--drain"], env=env)
    assert result.exit_code == 2, result.output
    assert "needs paddlepaddle" in result.output and "job(s)" not in result.output


def test_process_with_the_paddle_reader_records_its_weights(tmp_path: Path) -> None:
    pytest.importorskip("paddle", reason="EXTRAS=dev,paddle bash scripts/setup.sh")
    row = next(r for r in labels() if r["file"] == "images/dev_vehicle_005.jpg")
    result = CliRunner().invoke(
        app,
        ["process", str(DATA_DIR / row["file"]), "--out", str(tmp_path), "--violation", "other"],
        env={**ENV, "ROADWITNESS_PLATE_READER": "ppocrv4_paddle"},
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [c["plate"] for c in summary["cases"]] == [row["plate_text"]]
    assert summary["models"]["ppocrv4_rec_paddle"]["sha256"].startswith("a6dbfa63")


def test_process_video_made_from_a_real_photo(tmp_path: Path, pan_video: tuple[Path, str]) -> None:
    video, plate = pan_video
    result = CliRunner().invoke(
        app,
        ["process", str(video), "--out", str(tmp_path), "--fps", "2", "--violation", "other"],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [c["plate"] for c in summary["cases"]] == [plate]
    case = summary["cases"][0]
    assert summary["frames_analysed"] == 8
    # read until settled (two sure reads alike), then once more at each whole-frame look (1 s)
    assert 4 <= case["sightings"] < 8
    assert 0.0 <= case["t_start"] < case["t_end"] <= 4.0
    assert case["track"] is not None  # one vehicle, followed through the clip
    assert {"frame_before", "frame_during", "frame_after"} <= set(case["evidence"])
    assert "clip" in case["evidence"] and (tmp_path / case["evidence"]["clip"]).stat().st_size > 0


def test_process_real_dashcam_clip_without_plates(tmp_path: Path) -> None:
    clip = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
    result = CliRunner().invoke(app, ["process", str(clip), "--out", str(tmp_path)], env=ENV)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["frames_analysed"] == 18 and summary["cases"] == []


def test_process_refuses_a_non_media_file(tmp_path: Path) -> None:
    page = tmp_path / "page.mp4"
    page.write_text("<html>nope</html>")
    result = CliRunner().invoke(app, ["process", str(page), "--out", str(tmp_path / "o")], env=ENV)
    assert result.exit_code == 2 and "neither" in result.output


def test_process_names_the_models_setting_when_weights_are_missing(tmp_path: Path) -> None:
    photo = DATA_DIR / "images" / "dev_vehicle_011.jpg"
    result = CliRunner().invoke(
        app,
        ["process", str(photo), "--out", str(tmp_path)],
        env={"ROADWITNESS_MODELS_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2 and "ROADWITNESS_MODELS_DIR" in result.output


def test_process_a_dashcam_clip_with_its_track_and_rule_data(tmp_path: Path) -> None:
    from harness.scenes import render, rules_config, scenarios

    scenario = next(s for s in scenarios() if s.name == "emergency_lane_occupied")
    clip = render(scenario, tmp_path / "clip.mp4", DATA_DIR)
    rules = rules_config(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["process", str(clip), "--out", str(out), "--fps", "4", "--track",
         str(clip.with_suffix(".json")), "--rules", str(rules)],
        env=ENV,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    (case,) = summary["cases"]
    assert case["rule"] == "emergency_lane@1" and "edge line" in case["explanation"]
    assert summary["rules"]["source"] == str(rules)
    roles = set(case["evidence"])
    assert {"frame_before", "frame_during", "frame_after", "clip", "manifest"} <= roles
    manifest = json.loads((out / case["evidence"]["manifest"]).read_text())
    assert manifest["original"]["sha256"] == summary["sha256"]
    # facts.json beside it, judged again without models or media: the same findings
    facts = json.loads((out / "facts.json").read_text())
    assert facts["media"]["kind"] == "video" and facts["clip"]["tracks"]
    replayed = out / "replayed.json"
    again = CliRunner().invoke(
        app, ["rules", "replay", str(out / "facts.json"), "--rules", str(rules),
              "--json", str(replayed)],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    findings = json.loads(replayed.read_text())
    assert findings == facts["findings"]
    assert [(f["rule"], f["t_start"], f["t_end"]) for f in findings] == [
        (c["rule"], c["t_start"], c["t_end"]) for c in summary["cases"]
    ]
    # without the road segments the emergency lane cannot be judged: no finding
    bare = CliRunner().invoke(app, ["rules", "replay", str(out / "facts.json")])
    assert bare.exit_code == 0 and "0 finding(s)" in bare.output


def test_rules_replay_refuses_what_is_not_facts(tmp_path: Path) -> None:
    bad = tmp_path / "facts.json"
    bad.write_text('{"format": "roadwitness.facts/1", "clip": {"kind": "video"}}')
    result = CliRunner().invoke(app, ["rules", "replay", str(bad)])
    assert result.exit_code == 2 and "not clip facts" in result.output
    bad.write_text("[1, 2]")
    result = CliRunner().invoke(app, ["rules", "replay", str(bad)])
    assert result.exit_code == 2 and "not a roadwitness.facts/1 file" in result.output
