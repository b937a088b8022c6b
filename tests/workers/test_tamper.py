"""Signs of editing on real footage: a cut spliced from two real clips, a cut with its
timestamps kept and inserted duplicate frames are flagged; the untouched clips are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import DATA_DIR
from workers.frames import run_ffmpeg
from workers.scan import scan_file
from workers.tamper import (
    CONTAINER_MISMATCH,
    DUPLICATED,
    EDITING_SOFTWARE,
    EXIF_GPS_TIME,
    PLACE_MISMATCH,
    SPLICED,
    photo_signs,
    software_signs,
    video_signs,
)

DASHCAM = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
TRAFFIC = DATA_DIR / "videos" / "dev_trafficcam_video2.avi"
X264 = ("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p")


def kinds(path: Path) -> set[str]:
    return {s.kind for s in video_signs(scan_file(path, "video"))}


@pytest.mark.parametrize(
    "path",
    [
        DASHCAM,
        TRAFFIC,
        DATA_DIR / "videos" / "dev_trafficcam_video1.avi",
        DATA_DIR / "roads" / "cn_expressway_s2_roadside.mp4",
    ],
)
def test_untouched_real_clips_carry_no_sign(path: Path) -> None:
    assert kinds(path) == set()


def test_cut_spliced_from_two_clips(tmp_path: Path) -> None:
    out = tmp_path / "splice.mp4"
    graph = (
        "[0:v]trim=0:3,setpts=PTS-STARTPTS,scale=640:360,fps=25,setsar=1[a];"
        "[1:v]trim=2:5,setpts=PTS-STARTPTS,scale=640:360,fps=25,setsar=1[b];"
        "[a][b]concat=n=2:v=1[v]"
    )
    run_ffmpeg("-i", str(DASHCAM), "-i", str(TRAFFIC), "-filter_complex", graph,
               "-map", "[v]", *X264, str(out))  # fmt: skip
    (sign,) = video_signs(scan_file(out, "video"))
    assert sign.kind == SPLICED and sign.data["at_s"] == [3.0]


def test_cut_with_timestamps_kept_is_a_jump(tmp_path: Path) -> None:
    out = tmp_path / "dropped.mp4"
    run_ffmpeg("-i", str(DASHCAM), "-t", "7", "-vf", "select='not(between(t,2,4))'",
               "-fps_mode", "passthrough", *X264, str(out))  # fmt: skip
    assert SPLICED in kinds(out)


def test_inserted_duplicate_frames(tmp_path: Path) -> None:
    out = tmp_path / "dup.mp4"
    loop = "loop=loop=8:size=1:start=40,setpts=N/FRAME_RATE/TB"
    run_ffmpeg("-i", str(DASHCAM), "-t", "5", "-vf", loop, *X264, str(out))
    assert kinds(out) == {DUPLICATED}


S2 = DATA_DIR / "roads" / "cn_expressway_s2_roadside.mp4"
"""A roadside pole camera, screen-recorded: its picture often stands still for a second or
two on its own, so a run of identical frames says nothing; its printed clock keeps ticking."""


@pytest.mark.parametrize("repeats", [0, 6, 13])
def test_repeats_in_a_clip_that_stands_still_are_told_by_its_clock(
    tmp_path: Path, repeats: int
) -> None:
    out = tmp_path / "s2.mp4"
    loop = f"loop=loop={repeats}:size=1:start=50,setpts=N/FRAME_RATE/TB"
    run_ffmpeg("-ss", "10", "-i", str(S2), "-t", "15", "-vf", loop, *X264, str(out))
    signs = video_signs(scan_file(out, "video"))
    assert {s.kind for s in signs} == ({DUPLICATED} if repeats else set())
    if repeats:
        assert "clock" in signs[0].reason and signs[0].data["clock_stops"]


def test_software_and_container() -> None:
    assert [s.kind for s in software_signs({"software": "Adobe Photoshop 25.0"}, None, {})] == [
        EDITING_SOFTWARE
    ]
    assert software_signs({"encoder": "Lavf58.76.100"}, None, {}) == []  # an app may transcode
    lavf = software_signs({"encoder": "Lavf58.76.100"}, "RW-Cam 2", {})
    assert [s.kind for s in lavf] == [CONTAINER_MISMATCH] and "lavf" in lavf[0].reason
    expected = {"RW-Cam 2": ["RWCAM"]}
    assert software_signs({"handler_name": "RWCAM video"}, "RW-Cam 2", expected) == []
    other = software_signs({"handler_name": "Core Media Video"}, "RW-Cam 2", expected)
    assert [s.kind for s in other] == [CONTAINER_MISMATCH]


def test_photo_time_and_place() -> None:
    gps = datetime(2026, 3, 2, 0, 15, 7, tzinfo=UTC)
    shenzhen, beijing = (22.54, 114.06), (39.9, 116.4)
    assert photo_signs(gps + timedelta(seconds=20), gps, 300, shenzhen, shenzhen, 2.0) == []
    signs = photo_signs(gps + timedelta(days=1), gps, 300, shenzhen, beijing, 2.0)
    assert [s.kind for s in signs] == [EXIF_GPS_TIME, PLACE_MISMATCH]
    assert signs[0].data["seconds"] == 86400 and signs[1].data["distance_km"] > 1900
