"""``roadwitness track inspect`` and ``roadwitness inspect`` on real receiver logs, real camera
photos and a real dashcam clip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roadwitness.cli import app
from tests.conftest import DATA_DIR
from tests.tracks import START, drive, nmea

runner = CliRunner()


@pytest.mark.parametrize(
    "name,kept,dropped,first,last",
    [
        ("nmea_boat_ijsselmeer.log", 145, {"duplicate": 1}, "09:47:37Z", "09:50:03Z"),
        ("nmea_walk_brisbane.log", 68, {"void": 6}, "09:53:04.802000Z", "09:54:15.787000Z"),
        ("nmea_static_telit.log", 187, {"void": 37}, "10:51:53.408000Z", "10:54:59.408000Z"),
    ],
)
def test_track_inspect_real_logs(
    name: str, kept: int, dropped: dict[str, int], first: str, last: str
) -> None:
    done = runner.invoke(app, ["track", "inspect", str(DATA_DIR / "gps" / name), "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert (summary["kept"], summary["dropped"]) == (kept, dropped)
    assert summary["first"]["time"].endswith(first) and summary["last"]["time"].endswith(last)
    assert {"latitude", "longitude"} <= summary["first"].keys()
    text = runner.invoke(app, ["track", "inspect", str(DATA_DIR / "gps" / name)])
    assert text.exit_code == 0 and f"kept      {kept} fixes" in text.output


@pytest.mark.parametrize(
    "name,time",
    [
        ("DSCN0010", "2008-10-23T14:27:07.240000+00:00"),
        ("DSCN0021", "2008-10-23T14:36:47.230000+00:00"),
    ],
)
def test_inspect_real_gps_photos(name: str, time: str) -> None:
    done = runner.invoke(
        app, ["inspect", str(DATA_DIR / "gps" / f"photo_gps_{name}.jpg"), "--json"]
    )
    assert done.exit_code == 0, done.output
    facts = json.loads(done.output)
    assert (facts["kind"], facts["time"], facts["time_source"]) == ("image", time, "gps")
    assert facts["place_source"] == "gps" and facts["latitude"] == pytest.approx(43.467, abs=1e-3)
    assert facts["longitude"] == pytest.approx(11.885, abs=1e-3)


def test_inspect_clip_with_its_track(tmp_path: Path) -> None:
    clip = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
    track = tmp_path / "clip.nmea"
    track.write_text(nmea(drive()))
    done = runner.invoke(app, ["inspect", str(clip), "--json", "--track", str(track)])
    assert done.exit_code == 0, done.output
    facts = json.loads(done.output)
    assert (facts["kind"], facts["duration_s"]) == ("video", pytest.approx(8.84, abs=0.1))
    assert (facts["time"], facts["time_source"], facts["place_source"]) == (
        START.isoformat(),
        "device_track",
        "device_track",
    )
    bare = json.loads(runner.invoke(app, ["inspect", str(clip), "--json"]).output)
    assert (bare["time"], bare["time_source"], bare["place_source"]) == (None, None, None)


def test_inspect_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    text = tmp_path / "notes.log"
    text.write_text("$GPRMC,003000.00,A,nan,N,11403.4740,E,1,90,231126,,,A*00\n")
    done = runner.invoke(app, ["track", "inspect", str(text)])
    assert done.exit_code == 2 and "no valid fix" in done.output  # bad checksum: skipped
    weird = tmp_path / "track.csv"
    weird.write_text("a,b\n")
    assert runner.invoke(app, ["track", "inspect", str(weird)]).exit_code == 2
    done = runner.invoke(app, ["inspect", str(text)])
    assert done.exit_code == 2 and "neither a JPEG/PNG photo" in done.output


def test_track_inspect_binary_and_undated_logs(tmp_path: Path) -> None:
    """A log with UBX packets and NUL padding between its sentences gives the same fixes; a
    GGA-only log with no date anywhere says so, exit 2, no traceback."""
    raw = (DATA_DIR / "gps" / "nmea_boat_ijsselmeer.log").read_bytes()
    binary = tmp_path / "boat.nmea"
    binary.write_bytes(raw.replace(b"\r\n$GPRMC", b"\r\n\x00\xb5\x62\x01\x07\xff$GPRMC"))
    done = runner.invoke(app, ["track", "inspect", str(binary), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["kept"] == 145
    walk = (DATA_DIR / "gps" / "nmea_walk_brisbane.log").read_text(encoding="utf-8")
    undated = tmp_path / "walk.nmea"
    undated.write_text("\n".join(x for x in walk.splitlines() if "RMC," not in x))
    done = runner.invoke(app, ["track", "inspect", str(undated)])
    assert done.exit_code == 2 and "no date" in done.output and "Traceback" not in done.output
