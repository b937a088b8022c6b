"""Motion proposals on a still roadside camera (workers/proposals.py), on real footage: the
S2 expressway pole camera's counted vehicles are tracked; a dashcam is never taken for a still
camera and gets no vehicle the detector did not find."""

from __future__ import annotations

from typing import Any

from benchmarks.s2_tracking import measure
from ingest.media import probe
from tests.conftest import DATA_DIR
from workers.frames import iter_frames
from workers.proposals import RoadsideDetector

DASHCAM = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"


def test_most_counted_s2_vehicles_are_tracked(models: Any) -> None:
    # 5-50 s of the clip: 9 of the 12 counted vehicles, about 90 sampled frames
    result = measure(models, start=5.0, end=50.0)
    assert result["counted"] == 9
    assert result["tracked"] >= 0.8 * result["counted"], result["vehicles"]
    assert result["static_frames"] >= result["frames"] - 3  # a pole camera, still from the 3rd


def test_a_dashcam_is_not_a_still_camera(models: Any) -> None:
    roadside = RoadsideDetector(models)
    for frame in iter_frames(DASHCAM, probe(DASHCAM), 2.0, 20):
        found = roadside.detect(frame.image)
        assert not roadside.static
        assert roadside.last_proposed == []
        assert len(found) == len(models.vehicles.detect(frame.image))
    assert roadside.frames == 18 and roadside.static_frames == 0 and roadside.proposed == 0


def test_a_dashcam_device_is_never_a_still_camera(models: Any) -> None:
    """The submission's source settles it: frames of a still pole camera from a device that
    says it is a dashcam (parked, say) get no proposals."""
    media = DATA_DIR / "roads" / "cn_expressway_s2_roadside.mp4"
    roadside = RoadsideDetector(models, view="dashcam")
    for frame in iter_frames(media, probe(media), 2.0, 30):
        roadside.detect(frame.image)
    assert roadside.static_frames == 0 and roadside.proposed == 0
