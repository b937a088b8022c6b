"""Calibrated plate confidence: the fitting and the error measure on known numbers, and on real
reads a clear plate is sure while a misread distant one is not."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from benchmarks.plates import variants
from models.calibration import calibrated, expected_calibration_error, fit_platt
from models.plate_reader import rectify
from tests.conftest import DATA_DIR


def test_platt_fit_recovers_a_known_logistic_and_ece_sees_overconfidence() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 2, size=(4000, 1))
    p = 1 / (1 + np.exp(-(1.5 * x[:, 0] - 0.5)))
    right = rng.random(4000) < p
    w, b = fit_platt(x.tolist(), right.tolist(), l2=0.0)
    assert abs(w - 1.5) < 0.15 and abs(b + 0.5) < 0.15
    fitted = [calibrated([v], (w, b)) for v in x[:, 0]]
    assert expected_calibration_error(fitted, right.tolist()) < 0.03
    assert expected_calibration_error([0.99] * 100, [True] * 70 + [False] * 30) > 0.25


def test_a_clear_real_plate_is_sure_and_a_blurred_misread_is_not(models: Any) -> None:
    image = cv2.imread(str(DATA_DIR / "images" / "dev_vehicle_013.jpg"))
    plate = models.plates.detect(image)[0]
    clear = models.reader.read(rectify(image, plate), plate.double_layer)
    assert clear.text == "苏AD39970" and clear.confidence >= 0.95
    # as benchmarks/plates.py --degrade makes it: the plate 40-60 px wide, its province lost
    distant = variants(image, "vehicle_image", plate.box.width, 69)["distant"]
    plate = models.plates.detect(distant)[0]
    misread = models.reader.read(rectify(distant, plate), plate.double_layer)
    assert misread.text != "苏AD39970" and misread.confidence < 0.95  # never shown as sure
    assert 0.0 <= misread.confidence <= 1.0 and len(misread.features) == 6
