"""Perceptual fingerprints on real footage: re-used copies are found, other scenes are not,
and the band index finds exactly what a full scan finds."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import DATA_DIR
from workers.fingerprint import (
    BAND_BITS,
    MATCH_BITS,
    Fingerprint,
    FingerprintIndex,
    fingerprint,
)
from workers.frames import run_ffmpeg
from workers.scan import scan_file, scan_image

DASHCAM = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
TRAFFIC = DATA_DIR / "videos" / "dev_trafficcam_video1.avi"
X264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")


@pytest.fixture(scope="module")
def index() -> FingerprintIndex:
    built = FingerprintIndex()
    for path in (DASHCAM, TRAFFIC):
        built.add(path.stem, fingerprint(scan_file(path, "video")).hashes)
    for photo in sorted((DATA_DIR / "images").glob("*.jpg")):
        built.add(photo.stem, fingerprint(scan_file(photo, "image")).hashes)
    return built


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("cropped_reencoded", ["-t", "6", "-vf", "crop=iw*0.95:ih*0.95:0:0", "-b:v", "300k"]),
        ("trimmed_12fps", ["-ss", "2.3", "-t", "4", "-vf", "fps=12"]),
        ("mirrored_half", ["-t", "6", "-vf", "hflip,scale=iw/2:-2"]),
    ],
)
def test_reused_clip_finds_its_original(
    index: FingerprintIndex, tmp_path: Path, name: str, args: list[str]
) -> None:
    out = tmp_path / f"{name}.mp4"
    if args[0] == "-ss":
        run_ffmpeg(args[0], args[1], "-i", str(DASHCAM), *args[2:], *X264, str(out))
    else:
        run_ffmpeg("-i", str(DASHCAM), *args, *X264, str(out))
    matches = index.search(fingerprint(scan_file(out, "video")))
    assert [m.owner for m in matches] == [DASHCAM.stem]
    assert matches[0].mirrored == name.startswith("mirrored") and matches[0].share >= 0.9


def test_other_scenes_match_nothing(index: FingerprintIndex) -> None:
    for path in (DATA_DIR / "roads" / "cn_expressway_s2_roadside.mp4",):
        assert index.search(fingerprint(scan_file(path, "video"))) == []
    for path in (DASHCAM, TRAFFIC):  # each real clip, itself left out
        assert index.search(fingerprint(scan_file(path, "video")), exclude=path.stem) == []
    for photo in sorted((DATA_DIR / "images").glob("*.jpg")):
        print_ = fingerprint(scan_file(photo, "image"))
        assert index.search(print_, exclude=photo.stem) == []


def test_captioned_and_scaled_photo_finds_its_original(index: FingerprintIndex) -> None:
    image = cv2.imread(str(DATA_DIR / "images" / "dev_vehicle_010.jpg"))
    small = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    cv2.putText(small, "2026-03-02 08:15", (8, 30), 0, 1.0, (255, 255, 255), 2)
    matches = index.search(fingerprint(scan_image(small)))
    assert [m.owner for m in matches] == ["dev_vehicle_010"]


def test_band_index_finds_exactly_what_a_full_scan_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    import workers.fingerprint

    monkeypatch.setattr(workers.fingerprint, "TAIL", 100)  # every hash in the sorted bands
    rng = np.random.default_rng(1)
    index = FingerprintIndex()
    stored = rng.integers(0, np.iinfo(np.uint64).max, (3000, 3), dtype=np.uint64)
    for i, hashes in enumerate(stored):
        index.add(f"p{i}", hashes)
    for i in range(0, 3000, 97):  # flip 0..14 bits of two of a photo's three hashes
        query = stored[i].copy()
        for j in (0, 1):
            for bit in rng.choice(64, size=int(rng.integers(0, 15)), replace=False):
                query[j] ^= np.uint64(1) << np.uint64(bit)
        near = np.bitwise_count(query[:, None] ^ stored[i][None, :]).min(axis=1) <= MATCH_BITS
        expected = int(near.sum()) >= 2
        found = index.search(Fingerprint("image", query, np.zeros(0, np.uint64)))
        assert ([m.owner for m in found] == [f"p{i}"]) == expected
    assert len(index._bands.keys) == stored.size  # the bands were used, not a scan


def test_bands_find_the_hardest_split_of_twelve_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    """12 bits spread 3 per band (no band within 2: only the first band's wider search finds
    it) and 4 + 3 + 3 + 3 (13, one too many) over every photo hash."""
    import workers.fingerprint

    monkeypatch.setattr(workers.fingerprint, "TAIL", 10)
    rng = np.random.default_rng(2)
    stored = rng.integers(0, np.iinfo(np.uint64).max, (200, 3), dtype=np.uint64)
    index = FingerprintIndex()
    for i, hashes in enumerate(stored):
        index.add(f"p{i}", hashes)
    starts = np.cumsum((0, *BAND_BITS[:-1]))

    def flipped(hashes: np.ndarray, per_band: tuple[int, ...]) -> np.ndarray:
        out = hashes.copy()
        for j in range(len(out)):
            for start, bits, n in zip(starts, BAND_BITS, per_band, strict=True):
                for bit in rng.choice(bits, size=n, replace=False):
                    out[j] ^= np.uint64(1) << np.uint64(int(start + bit))
        return out

    for i in range(0, 200, 20):
        for per_band, found in (((3, 3, 3, 3), True), ((4, 3, 3, 3), False), ((0, 3, 3, 3), True)):
            query = flipped(stored[i], per_band)
            matches = index.search(Fingerprint("image", query, np.zeros(0, np.uint64)))
            assert ([m.owner for m in matches] == [f"p{i}"]) == found, per_band


def test_fingerprint_bytes_round_trip() -> None:
    print_ = fingerprint(scan_file(DATA_DIR / "images" / "dev_vehicle_014.jpg", "image"))
    again = Fingerprint.stored("image", print_.to_bytes())
    assert np.array_equal(again.hashes, print_.hashes) and len(print_.hashes) == 3
