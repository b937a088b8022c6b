"""An INT8 version of the derived YOLOv8n ONNX (models/derive.py), made once at first use.

ONNX Runtime's int8 convolutions (u8 activations, s8 weights) run about twice as fast as the
float ones on a CPU with VNNI: 17 against 35 ms per call at 512x288 on one thread here. The
price is in the answers: near the confidence threshold some vehicles come and go and a few
change class (a truck read as a car), so it is an opt-in (``detector=yolov8n_int8_onnx``),
not the default; README (the detector section) gives the figures.

Static QDQ quantisation: per-channel s8 weights, u8 activations whose ranges come from the
99.999th percentile over calibration frames (real dev photos from ``samples_dir`` and the
model's own probe), all letterboxed onto one 512x288 canvas (what a 1080p frame is read at);
the ranges hold for any input size. The first convolution and the head's last layers (box
distributions, class logits, their decoding) stay float: quantising them moved scores the
most. Cached like the float file, named by the source's SHA-256 and ``VERSION``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from models.derive import _probe, cache_dir
from models.weights import ModelUnavailable

VERSION = "q1"
"""Part of the cache name: change it when the recipe below changes."""

CANVAS = (512, 288)
CALIBRATION = (
    "images/dev_vehicle_001.jpg",
    "images/dev_vehicle_002.jpg",
    "images/dev_vehicle_003.jpg",
    "images/dev_vehicle_004.jpg",
    "images/dev_vehicle_005.jpg",
    "images/dev_vehicle_006.jpg",
    "images/dev_vehicle_007.jpg",
    "images/dev_vehicle_008.jpg",
    "roads/cn_arterial_roadside.jpg",
    "roads/cn_street_culane.jpg",
)
"""Dev photos (never test data) under ``samples_dir``, read as they are."""


def yolov8n_int8_onnx(float_onnx: Path, sha256: str, samples_dir: Path) -> Path:
    """The INT8 ONNX made from ``float_onnx`` (derived from the TFLite with ``sha256``)."""
    target = cache_dir() / f"yolov8n-int8-{VERSION}-from-tflite-{sha256[:16]}.onnx"
    if target.is_file():
        return target
    frames = [_canvas(_read(samples_dir / name)) for name in CALIBRATION]
    frames.append(_canvas((_probe()[:, :, ::-1] * 255).astype(np.uint8)))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        prepared, partial = Path(work) / "pre.onnx", Path(work) / "int8.onnx"
        _quantise(float_onnx, prepared, partial, frames)
        os.replace(partial, target)
    return target


def _read(path: Path) -> npt.NDArray[np.uint8]:
    image = cv2.imread(str(path))
    if image is None:
        raise ModelUnavailable(f"{path}: a calibration frame for the INT8 detector is missing")
    return np.asarray(image, np.uint8)


def _canvas(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """``image`` (BGR) letterboxed onto the 512x288 canvas as the detector's input tensor."""
    w, h = CANVAS
    scale = min(w / image.shape[1], h / image.shape[0])
    rw, rh = round(image.shape[1] * scale), round(image.shape[0] * scale)
    left, top = (w - rw) // 2, (h - rh) // 2
    canvas = np.full((h, w, 3), 114, np.uint8)
    canvas[top : top + rh, left : left + rw] = cv2.resize(image, (rw, rh))
    tensor = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return np.ascontiguousarray(tensor)


def _float_nodes(model: Any) -> list[str]:
    """The first convolution and the head, less the two 3x3 blocks of each head branch."""
    kept = tuple(f"/cv{i}.{j}/cv{i}.{j}.{k}/" for i in (2, 3) for j in (0, 1, 2) for k in (0, 1))
    return [
        n.name
        for n in model.graph.node
        if n.name.startswith("/model.0/")
        or (n.name.startswith("/model.22/") and not any(part in n.name for part in kept))
    ]


def _quantise(
    source: Path, prepared: Path, target: Path, frames: list[npt.NDArray[np.float32]]
) -> None:
    import onnx
    from onnxruntime import quantization as q
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Frames(q.CalibrationDataReader):  # type: ignore[misc]  # untyped base
        def __init__(self) -> None:
            self.rest: Iterator[npt.NDArray[np.float32]] = iter(frames)

        def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
            frame = next(self.rest, None)
            return None if frame is None else {"images": frame}

    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
    q.quantize_static(
        str(prepared),
        str(target),
        Frames(),
        quant_format=q.QuantFormat.QDQ,
        per_channel=True,
        activation_type=q.QuantType.QUInt8,
        weight_type=q.QuantType.QInt8,
        calibrate_method=q.CalibrationMethod.Percentile,
        nodes_to_exclude=_float_nodes(onnx.load(str(prepared))),
    )
