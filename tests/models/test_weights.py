from pathlib import Path

import pytest

from models.weights import WEIGHTS, WeightError, resolve
from tests.conftest import MODELS_DIR


def test_real_weight_resolves_with_provenance() -> None:
    path, info = resolve(MODELS_DIR, "plate_det_640")
    assert path.is_file()
    assert info.sha256 == WEIGHTS["plate_det_640"].sha256


def test_missing_weight_names_the_setting_and_hash(tmp_path: Path) -> None:
    with pytest.raises(WeightError) as err:
        resolve(tmp_path, "ppocrv4_rec")
    assert "ROADWITNESS_MODELS_DIR" in str(err.value)
    assert WEIGHTS["ppocrv4_rec"].sha256 in str(err.value)


def test_corrupt_weight_is_refused(tmp_path: Path) -> None:
    good = (MODELS_DIR / "y5fu_320x_sim.onnx").read_bytes()
    (tmp_path / "y5fu_320x_sim.onnx").write_bytes(good[:-10] + b"corrupted!")
    with pytest.raises(WeightError, match="expected 2a985dc6"):
        resolve(tmp_path, "plate_det_320")
