"""Nothing moves, nothing is redone (workers/sightings.py): a frame that differs from the one
last looked at by no more than noise takes that frame's vehicles and road scene; a vehicle-sized
change is looked at again. The view is compared on the motion stage's shrunk grey frame
(workers/proposals.working_grey), which the still-camera check uses too."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from tests.conftest import DATA_DIR
from workers.frames import Frame, read_image
from workers.sightings import Observer

ROAD = DATA_DIR / "roads" / "cn_arterial_roadside.jpg"


def _frame(index: int, image: np.ndarray) -> Frame:
    return Frame(index, index * 0.5, np.ascontiguousarray(image))


def test_a_still_view_is_not_looked_at_again_and_a_change_is(models: Any) -> None:
    photo = cv2.resize(read_image(ROAD), (1920, 1080))
    rng = np.random.default_rng(3)
    noisy = np.clip(photo.astype(np.int16) + rng.integers(-3, 4, photo.shape), 0, 255)
    moved = photo.copy()
    moved[600:760, 900:1140] = 255 - moved[600:760, 900:1140]  # a car-sized patch changes
    observer = Observer(models, fps=2.0, view="dashcam")  # a dashcam: no still-camera path
    try:
        observer.observe(_frame(0, photo))
        again = observer.observe(_frame(1, noisy.astype(np.uint8)))
        assert (observer.vehicle_looks, observer.scene_looks) == (1, 1)
        assert not again.fresh_scene and again.scene.pts == 0.5
        observer.observe(_frame(2, moved))
        assert (observer.vehicle_looks, observer.scene_looks) == (2, 2)
    finally:
        observer.close()
