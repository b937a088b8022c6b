import hashlib
import re
from pathlib import Path

import pytest

from models.weights import WEIGHTS, WeightError, resolve
from tests.conftest import MODELS_DIR


def _published_sha256(file: str) -> str:
    """The hash ../shared/models/MANIFEST.md publishes for ``file`` (not this code's table)."""
    manifest = (MODELS_DIR / "MANIFEST.md").read_text()
    match = re.search(rf"^\| {re.escape(file)} \| \d+ \| ([0-9a-f]{{64}}) \|", manifest, re.M)
    assert match, f"{file} is not in the models MANIFEST"
    return match.group(1)


def test_real_weight_resolves_with_provenance() -> None:
    path, info = resolve(MODELS_DIR, "plate_det_640")
    on_disk = hashlib.sha256(path.read_bytes()).hexdigest()
    assert info.sha256 == on_disk == _published_sha256(path.name)
    assert info.file == path.name == "y5fu_640x_sim.onnx"


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
