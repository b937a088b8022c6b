"""No regional bias: the reader reads the real non-皖 dev crops with their own province, and a
deployment's province prior (off by default) shifts probability without overriding a clear
read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import pytest
from pydantic import ValidationError

from models.registry import ModelSet, parse_province_prior
from settings import load_settings
from tests.conftest import DATA_DIR, MODELS_DIR, labels


def _crops(keep: Any) -> list[tuple[Any, str]]:
    rows = [r for r in labels() if r.get("kind") == "plate_crop" and keep(r["plate_text"])]
    return [(cv2.imread(str(DATA_DIR / r["file"])), r["plate_text"]) for r in rows]


def test_non_anhui_crops_keep_their_province_with_no_prior(models: Any) -> None:
    crops = _crops(lambda plate: not plate.startswith("皖"))
    assert len(crops) == 44 and len({plate[0] for _, plate in crops}) >= 9
    assert getattr(models.reader, "province_prior", None) is None  # off by default
    reads = [(models.reader.read(image), plate) for image, plate in crops]
    wrong = [(read.text, plate) for read, plate in reads if read.text != plate]
    assert not wrong
    for read, plate in reads:  # the province's alternatives never put 皖 above the read
        assert read.chars[0][0][0] == plate[0]


def test_a_deployment_prior_raises_its_province_but_never_overrides_a_clear_read() -> None:
    shenzhen = ModelSet(MODELS_DIR, province_prior="粤:4")
    plain = ModelSet(MODELS_DIR)
    for image, plate in _crops(lambda plate: plate[0] in "京沪浙苏粤"):
        biased, neutral = shenzhen.reader.read(image), plain.reader.read(image)
        assert biased.text == neutral.text == plate
        if plate[0] != "粤":
            p_yue = dict(biased.chars[0]).get("粤", 0.0)
            assert p_yue >= dict(neutral.chars[0]).get("粤", 0.0)


def test_the_prior_setting_is_checked(tmp_path: Path) -> None:
    assert parse_province_prior("粤:2") == ("粤", 2.0)
    assert parse_province_prior(None) is None
    assert load_settings(None, data_dir=tmp_path).plate_province_prior is None
    assert load_settings(None, data_dir=tmp_path, plate_province_prior="粤:2")
    with pytest.raises(ValidationError):
        load_settings(None, data_dir=tmp_path, plate_province_prior="X:2")
