"""Shared fixtures: real sample media, real models, a real S3 server, real PostgreSQL."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.servers import S3Server, postgres_database, seaweed_s3

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ROADWITNESS_SHARED", REPO.parent / "shared"))
MODELS_DIR = SHARED / "models"
DATA_DIR = SHARED / "data"


def labels() -> list[dict[str, str]]:
    with (DATA_DIR / "labels.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def models() -> Any:
    from models.registry import ModelSet

    model_set = ModelSet(MODELS_DIR)
    model_set.warm_up()
    return model_set


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with seaweed_s3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for each test: no test sees another's jobs or originals,
    whatever the order."""
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def pan_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A 1080p H.264 pan over a real CCPD photo, and its labelled plate."""
    from roadwitness.samples import PAN_PHOTO, label_of, make_pan_video

    out = tmp_path_factory.mktemp("media") / "pan.mp4"
    plate = label_of(DATA_DIR, PAN_PHOTO)
    assert plate
    return make_pan_video(DATA_DIR / PAN_PHOTO, out, seconds=4.0), plate


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Any]:
    from settings import load_settings

    def build(**overrides: Any) -> Any:
        base: dict[str, Any] = {
            "data_dir": tmp_path / "var",
            "models_dir": MODELS_DIR,
            "samples_dir": DATA_DIR,
        }
        return load_settings(None, **{**base, **overrides})

    return build


def s3_overrides(server: S3Server, bucket: str) -> dict[str, Any]:
    return {
        "store": "s3",
        "s3_endpoint": server.endpoint,
        "s3_access_key": server.access_key,
        "s3_secret_key": server.secret_key,
        "s3_bucket": bucket,
    }


def cuda_available() -> bool:
    """A CUDA device that ONNX Runtime can use (the onnxruntime-gpu build on an NVIDIA host)."""
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any("gpu" in item.keywords for item in items) and not cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA device and onnxruntime-gpu")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)
