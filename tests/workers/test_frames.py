"""Frame sampling: real presentation times (variable frame rate) and rotated phone videos."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from ingest.media import probe
from tests.conftest import DATA_DIR
from workers.frames import Sampler, decoded, ffmpeg_exe, iter_frames, run_ffmpeg


def test_variable_frame_rate_keeps_each_frames_own_time(tmp_path: Path) -> None:
    clip = tmp_path / "vfr.mp4"
    # 25 fps for one second, then 12.5 fps: a phone that slowed down in the dark.
    run_ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=3",
        "-vf",
        "setpts='if(lt(N,25),N/25,1+(N-25)*2/25)/TB'",
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(clip),
    )
    with av.open(str(clip)) as container:
        real = {round(float(f.time), 3) for f in container.decode(video=0)}
    sampled = [f.pts for f in iter_frames(clip, probe(clip), fps=5, max_frames=1000)]
    assert set(sampled) <= real  # every time is a real frame's own time
    # One frame per 0.2 s of video time: the first real frame at or after each step.
    times = sorted(real)
    steps = [k * 0.2 for k in range(int(times[-1] / 0.2) + 1)]
    expected = sorted({min(t for t in times if t >= step - 1e-6) for step in steps})
    assert sampled == expected


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_phone_video_is_upright_like_ffmpeg_shows_it(tmp_path: Path, rotation: int) -> None:
    photo = cv2.imread(str(DATA_DIR / "images" / "dev_vehicle_011.jpg"))
    still = tmp_path / "still.png"
    cv2.imwrite(str(still), cv2.resize(photo, (360, 580)))
    plain, rotated = tmp_path / "plain.mp4", tmp_path / f"r{rotation}.mp4"
    run_ffmpeg(
        "-loop",
        "1",
        "-i",
        str(still),
        "-t",
        "1",
        "-r",
        "10",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(plain),
    )
    run_ffmpeg("-display_rotation", str(rotation), "-i", str(plain), "-c", "copy", str(rotated))
    info = probe(rotated)
    ours = next(iter_frames(rotated, info, fps=2, max_frames=1)).image
    shown = subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-i",
            str(rotated),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgr24",
            "pipe:",
        ],
        capture_output=True,
        check=True,
    ).stdout
    reference = np.frombuffer(shown, np.uint8).reshape(ours.shape)
    assert ours.shape[:2] == (info.height, info.width)
    assert np.abs(ours.astype(int) - reference).mean() < 1.0


def test_real_clip_is_sampled_by_its_clock() -> None:
    clip = DATA_DIR / "videos" / "dev_trafficcam_video1.avi"  # 15 fps AVI
    frames = list(iter_frames(clip, probe(clip), fps=2, max_frames=1000))
    assert len(frames) == pytest.approx(33.3 * 2, abs=2)
    assert frames[1].pts == pytest.approx(0.533, abs=0.07)


def test_frames_the_sampler_cannot_take_are_not_decoded_and_the_sample_is_unchanged(
    tmp_path: Path,
) -> None:
    clip = tmp_path / "bframes.mp4"  # x264's defaults: B-frames, some never referred to
    run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=3",
        "-c:v", "libx264", "-bf", "3", "-pix_fmt", "yuv420p", str(clip),
    )  # fmt: skip
    with av.open(str(clip)) as container:
        every = [(float(f.time), f.to_ndarray(format="bgr24")) for f in container.decode(video=0)]
    steps = [k * 0.2 for k in range(int(every[-1][0] / 0.2) + 1)]
    expected = [next((t, im) for t, im in every if t >= step - 1e-6) for step in steps]
    sampled = list(iter_frames(clip, probe(clip), fps=5, max_frames=1000))
    assert [f.pts for f in sampled] == [round(t, 3) for t, _ in expected]
    assert all(np.array_equal(f.image, im) for f, (_, im) in zip(sampled, expected, strict=True))
    sampler = Sampler(0.2)
    decoded_count = sum(1 for t, _ in decoded(clip, None, sampler) if sampler.take(t) or True)
    assert decoded_count < len(every)  # the skipped B-frames were never decoded
