from pathlib import Path

import pytest

from ingest.media import MediaError, probe, sniff
from tests.conftest import DATA_DIR
from tests.media import bad_files, synthetic_video


def test_real_media_is_recognised_by_content() -> None:
    photo = probe(DATA_DIR / "images" / "dev_vehicle_001.jpg")  # PNG data named .jpg
    assert (photo.kind, photo.content_type) == ("image", "image/png")
    clip = probe(DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4")
    assert clip.kind == "video" and (clip.width, clip.height) == (960, 540)
    assert 8.5 < clip.duration_s < 9.0
    avi = probe(DATA_DIR / "videos" / "dev_trafficcam_video1.avi")
    assert avi.content_type == "video/x-msvideo"


def test_photo_named_as_video_is_refused_but_png_named_jpg_is_a_photo(tmp_path: Path) -> None:
    renamed = tmp_path / "clip.mp4"
    renamed.write_bytes((DATA_DIR / "images" / "dev_vehicle_008.jpg").read_bytes())
    assert probe(renamed).kind == "image"  # no name given: judged by its bytes alone
    with pytest.raises(MediaError, match=r"named clip\.mp4"):
        probe(renamed, filename="clip.mp4")
    png_as_jpg = DATA_DIR / "images" / "dev_vehicle_001.jpg"
    assert probe(png_as_jpg, filename=png_as_jpg.name).content_type == "image/png"


def test_rotation_metadata_swaps_display_size(tmp_path: Path) -> None:
    plain = synthetic_video(tmp_path / "plain.mp4", size="320x240")
    rotated = tmp_path / "rotated.mp4"
    import subprocess

    from workers.frames import ffmpeg_exe

    subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-display_rotation",
            "90",
            "-i",
            str(plain),
            "-c",
            "copy",
            str(rotated),
        ],
        check=True,
    )
    info = probe(rotated)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (240, 320)


def test_over_long_video_is_refused(tmp_path: Path) -> None:
    clip = synthetic_video(tmp_path / "long.mp4", seconds=3.0)
    with pytest.raises(MediaError) as err:
        probe(clip, max_video_seconds=2.0)
    assert err.value.status == 413


def test_each_malformed_file_gets_its_reason(tmp_path: Path) -> None:
    for name, (path, status) in bad_files(tmp_path).items():
        with pytest.raises(MediaError) as err:
            probe(path, filename=path.name)
        assert err.value.status == status, (name, err.value.reason)
        assert err.value.reason


def test_sniff_unknown() -> None:
    assert sniff(b"%PDF-1.7 ...") is None
