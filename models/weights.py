"""Weight files: where they are, what they must hash to, and a clear error when they are wrong.

Weights are never downloaded: they load from the models directory setting
(``ROADWITNESS_MODELS_DIR``), and each file is checked against its published SHA-256 once.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from models.types import ModelInfo

SETTING = "ROADWITNESS_MODELS_DIR"


@dataclass(frozen=True, slots=True)
class WeightSpec:
    name: str
    file: str
    sha256: str
    licence: str


WEIGHTS: dict[str, WeightSpec] = {
    spec.name: spec
    for spec in (
        WeightSpec(
            "yolov8n_int8_tflite",
            "yolov8n_int8.tflite",
            "c8c5ea2b540cee6763aaef944109e710e9be2ee0de6549cff1fd0bae932d6ee6",
            "AGPL-3.0 (Ultralytics)",
        ),
        WeightSpec(
            "yolox_nano",
            "yolox_nano.onnx",
            "e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd",
            "Apache-2.0 (YOLOX)",
        ),
        WeightSpec(
            "plate_det_320",
            "y5fu_320x_sim.onnx",
            "2a985dc63a5cc947ec36d18503d6fc0fd54525b9dba17f2fe29a71e86b44456d",
            "Apache-2.0 (HyperLPR3)",
        ),
        WeightSpec(
            "plate_det_640",
            "y5fu_640x_sim.onnx",
            "0306de937471b87f56eb3f5620815e7e7058f8ab7428e0734fc64627cc4d716c",
            "Apache-2.0 (HyperLPR3)",
        ),
        WeightSpec(
            "plate_colour",
            "litemodel_cls_96x_r1.onnx",
            "fe123688d3bf08b9ef029fcd57f3ac4644ac2e5ef8b9e7a676aacd5fad152142",
            "Apache-2.0 (HyperLPR3)",
        ),
        WeightSpec(
            "ppocrv4_rec",
            "ch_PP-OCRv4_rec_infer.onnx",
            "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
            "Apache-2.0 (PaddleOCR)",
        ),
        WeightSpec(
            "ppocrv4_rec_paddle",
            "paddle/PP-OCRv4_mobile_rec/inference.pdiparams",
            "a6dbfa63e7ee161688523c954e9e293f77dc24044db81e836ff9c7f103fd191a",
            "Apache-2.0 (PaddleOCR)",
        ),
        WeightSpec(
            "ppocrv4_rec_paddle_graph",
            "paddle/PP-OCRv4_mobile_rec/inference.pdmodel",
            "bf78f3898a004615e69c676259d8171bd7ae99000653b41fd72aaa36ae8bd304",
            "Apache-2.0 (PaddleOCR)",
        ),
        WeightSpec(
            "ppocrv4_rec_paddle_config",
            "paddle/PP-OCRv4_mobile_rec/inference.yml",
            "a639bc8b1c97a123efef5c1db4a6b5cefd20e3f31bd98bfbed5d43f2f3c6549b",
            "Apache-2.0 (PaddleOCR); the YAML written for paddleocr 3.x",
        ),
    )
}


class ModelUnavailable(RuntimeError):
    """A model cannot be loaded here; the message says what to do."""


class WeightError(ModelUnavailable):
    """A weight file is missing or is not the file we expect."""


_verified: dict[tuple[str, float, int], str] = {}
_lock = threading.Lock()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve(models_dir: Path, name: str) -> tuple[Path, ModelInfo]:
    """The verified path of weight ``name`` under ``models_dir``, and its provenance."""
    spec = WEIGHTS[name]
    path = (models_dir / spec.file).resolve()
    if not path.is_file():
        raise WeightError(
            f"weight file {spec.file} not found in {models_dir} (setting {SETTING}); "
            f"expected a file with SHA-256 {spec.sha256}. Weights are never downloaded: "
            f"point {SETTING} at the folder that holds them."
        )
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    with _lock:
        actual = _verified.get(key) or _sha256(path)
        _verified[key] = actual
    if actual != spec.sha256:
        raise WeightError(
            f"weight file {path} (setting {SETTING}) has SHA-256 {actual}, "
            f"expected {spec.sha256}: the file is corrupt or not the one this version uses."
        )
    return path, ModelInfo(name=spec.name, file=spec.file, sha256=spec.sha256)
