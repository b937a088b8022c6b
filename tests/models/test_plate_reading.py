"""Real plates from ../shared/data read by the real detector + rectifier + PP-OCRv4 reader."""

import importlib.util
import os
from typing import Any

import cv2
import numpy as np
import pytest

from models.grammar import is_valid_plate
from models.plate_reader import rectify
from models.registry import PLATE_READERS
from tests.conftest import DATA_DIR, MODELS_DIR, labels


def _read_photo(models: Any, file: str) -> tuple[str, str]:
    image = cv2.imread(str(DATA_DIR / file))
    plates = models.plates.detect(image)
    assert plates, f"no plate found in {file}"
    crop = rectify(image, plates[0])
    return models.reader.read(crop, plates[0].double_layer).text, models.colour.classify(crop)[0]


def test_vehicle_photos_read_like_their_labels(models: Any) -> None:
    rows = [r for r in labels() if r["kind"] == "vehicle_image"]
    read = {r["file"]: _read_photo(models, r["file"])[0] for r in rows}
    correct = [f for f, r in zip(read, rows, strict=True) if read[f] == r["plate_text"]]
    assert len(rows) >= 15
    assert len(correct) / len(rows) >= 0.95, read


def _reader(backend: str) -> Any:
    """The backend; the Paddle one is skipped where paddlepaddle is not installed, except in
    CI, whose test command installs it (scripts/test.sh)."""
    if backend == "ppocrv4_paddle" and not importlib.util.find_spec("paddle"):
        if os.environ.get("CI"):
            pytest.fail("paddlepaddle missing: EXTRAS=dev,paddle bash scripts/setup.sh")
        pytest.skip("paddlepaddle not installed (EXTRAS=dev,paddle bash scripts/setup.sh)")
    return PLATE_READERS[backend](MODELS_DIR)


@pytest.mark.parametrize("backend", sorted(PLATE_READERS))
def test_every_reader_backend_reads_real_plate_crops(backend: str) -> None:
    reader = _reader(backend)
    rows = [r for r in labels() if r["kind"] == "plate_crop"]
    correct = 0
    for row in rows:
        read = reader.read(cv2.imread(str(DATA_DIR / row["file"])))
        assert read.valid == is_valid_plate(read.text)
        correct += read.text == row["plate_text"]
    assert correct / len(rows) >= 0.95


def test_colour_on_real_plates(models: Any) -> None:
    rows = [
        r
        for r in labels()
        if r["kind"] == "vehicle_image"
        and r["plate_colour"].split(" ")[0] in ("blue", "green", "yellow")
        and "double" not in r["plate_colour"]
    ]
    right = sum(_read_photo(models, r["file"])[1] == r["plate_colour"].split(" ")[0] for r in rows)
    assert right / len(rows) >= 0.8


def test_invalid_reads_are_never_plates(models: Any) -> None:
    # A crop of plain road texture holds no plate: any read must be marked invalid.
    image = cv2.imread(str(DATA_DIR / "images" / "dev_vehicle_008.jpg"))
    read = models.reader.read(image[0:48, 0:168])
    assert not read.valid or read.text == ""


def test_double_layer_plate_reads_both_rows(models: Any) -> None:
    row = next(r for r in labels() if "double" in r["plate_colour"])
    assert _read_photo(models, row["file"])[0] == row["plate_text"]


def test_real_road_texture_never_reads_as_a_plate(models: Any) -> None:
    """Crops of real traffic videos with no readable Chinese plate: even decoding held to the
    plate's shape (the reader's last resort) must not force one into a plate."""
    rng = np.random.default_rng(0)
    clip = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
    capture = cv2.VideoCapture(str(clip))
    frames = [capture.read()[1] for _ in range(100)][::20]
    reads = []
    for frame in frames:
        h, w = frame.shape[:2]
        for _ in range(30):
            cw = int(rng.integers(40, 300))
            ch = max(12, cw * 48 // 168)
            x, y = int(rng.integers(0, w - cw)), int(rng.integers(0, h - ch))
            reads.append(models.reader.read(cv2.resize(frame[y : y + ch, x : x + cw], (168, 48))))
    assert len(reads) == 150 and not [r.text for r in reads if r.valid]


def test_paddle_and_onnx_engines_agree_on_real_plates(models: Any) -> None:
    """The same network on two engines: the same per-step probabilities and the same reads,
    one- and two-row plates alike."""
    paddle, onnx = _reader("ppocrv4_paddle"), PLATE_READERS["ppocrv4_onnx"](MODELS_DIR)
    for row in [r for r in labels() if r["kind"] == "vehicle_image"]:
        image = cv2.imread(str(DATA_DIR / row["file"]))
        plate = models.plates.detect(image)[0]
        crop = rectify(image, plate)
        batch = paddle._tensor(crop)
        np.testing.assert_allclose(paddle._infer(batch), onnx._infer(batch), atol=1e-3)
        by_paddle, by_onnx = (
            paddle.read(crop, plate.double_layer),
            onnx.read(crop, plate.double_layer),
        )
        assert (by_paddle.text, by_paddle.valid) == (by_onnx.text, by_onnx.valid)
        assert by_paddle.confidence == pytest.approx(by_onnx.confidence, abs=1e-3)
