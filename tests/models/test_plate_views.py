"""Views of a plate and the batched entry point, on real dev plates and the real recogniser:
``read_many`` gives each plate the read ``read`` gives it alone, in one network call for the
first views of all the one-row plates; views of a plate fuse step by step."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks.plates import jpeg
from models.plate_reader import OnnxPlateReader, rectify
from models.plate_views import fuse, grey, smooth, visible_steps
from models.registry import PLATE_READERS
from models.types import Image
from tests.conftest import DATA_DIR, MODELS_DIR, labels


class CountingReader(OnnxPlateReader):
    """The real ONNX reader, counting how often the network runs and on how many images."""

    def __init__(self, reader: OnnxPlateReader) -> None:
        self.__dict__.update(reader.__dict__)
        self.calls: list[int] = []

    def _infer(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        self.calls.append(batch.shape[0])
        return super()._infer(batch)


def _onnx_reader() -> OnnxPlateReader:
    reader = PLATE_READERS["ppocrv4_onnx"](MODELS_DIR)
    assert isinstance(reader, OnnxPlateReader)
    return reader


def _image(file: str) -> Image:
    image = cv2.imread(str(DATA_DIR / file))
    assert image is not None, file
    return np.asarray(image, np.uint8)


def _plates(models: Any) -> list[tuple[Image, bool, str]]:
    """Real plates, one- and two-row, some made hard (JPEG) so that they need more views."""
    rows = labels()
    crops = [r for r in rows if r["kind"] == "plate_crop"][:6]
    found = [(_image(r["file"]), False, r["plate_text"]) for r in crops]
    rng = np.random.default_rng(3)
    found += [(jpeg(image, rng), False, text) for image, _, text in found[:3]]
    double = next(r for r in rows if "double" in r["plate_colour"])
    photo = _image(double["file"])
    plate = models.plates.detect(photo)[0]
    assert plate.double_layer
    return [*found, (rectify(photo, plate), True, double["plate_text"])]


def test_read_many_reads_each_plate_as_read_does(models: Any) -> None:
    reader = _onnx_reader()
    plates = _plates(models)
    many = reader.read_many([(image, double) for image, double, _ in plates])
    alone = [reader.read(image, double) for image, double, _ in plates]
    assert [r.text for r in many] == [r.text for r in alone]
    assert [r.confidence for r in many] == [r.confidence for r in alone]
    assert [r.chars for r in many] == [r.chars for r in alone]
    clean = [read.text == text for read, (_, _, text) in zip(many[:6], plates[:6], strict=True)]
    assert all(clean) and many[-1].text == plates[-1][2]
    assert reader.read_many([]) == []


def test_clear_plates_share_one_network_call() -> None:
    reader = CountingReader(_onnx_reader())
    rows = [r for r in labels() if r["kind"] == "plate_crop"][:8]
    images = [np.asarray(cv2.resize(_image(r["file"]), (168, 48)), np.uint8) for r in rows]
    reads = reader.read_many([(image, False) for image in images])  # one width: one batch
    clear = sum(r.agreement == 1.0 and r.confidence > 0 for r in reads)
    assert [r.text for r in reads] == [r["plate_text"] for r in rows]
    assert reader.calls[0] == len(images)  # every first view in one call
    assert len(reader.calls) <= 2 and clear >= 1  # the unsure ones' further views: one more


def test_views_keep_the_plate_and_fuse_step_by_step() -> None:
    image = _image(next(r["file"] for r in labels() if r["kind"] == "plate_crop"))
    for view in (grey, smooth):
        assert view(image).shape == image.shape and view(image).dtype == np.uint8
    g = grey(image)
    assert (g[:, :, 0] == g[:, :, 1]).all() and (g[:, :, 1] == g[:, :, 2]).all()
    a = np.zeros((40, 3), np.float32)
    b = np.ones((40, 3), np.float32)
    fused = fuse([a, b], 21)
    assert fused.shape == (21, 3) and np.allclose(fused, 0.5)
    assert visible_steps((48, 168, 3), 40, 640) == 22  # 168 of 320 columns, and one more
    assert visible_steps((24, 400, 3), 100, 640) == 100  # wider than the padding: all steps
