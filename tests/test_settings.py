from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import load_settings


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("ROADWITNESS_"):
            monkeypatch.delenv(key)
    settings = load_settings()
    assert settings.database_url == "sqlite:///var/roadwitness.db"
    assert settings.store == "local" and settings.local_store_path == Path("var/objects")
    assert settings.queue == "embedded"


def test_yaml_then_env_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "rw.yaml"
    config.write_text("sample_fps: 4\nqueue: procrastinate\ndata_dir: /srv/rw\n")
    monkeypatch.setenv("ROADWITNESS_SAMPLE_FPS", "3")
    settings = load_settings(config, data_dir=tmp_path)
    assert settings.sample_fps == 3.0  # the environment beats the file
    assert settings.queue == "procrastinate"  # from the file
    assert settings.data_dir == tmp_path  # an explicit override beats both


def test_unknown_or_bad_keys_are_errors(tmp_path: Path) -> None:
    config = tmp_path / "rw.yaml"
    config.write_text("sampel_fps: 4\n")
    with pytest.raises(ValidationError, match="sampel_fps"):
        load_settings(config)
    config.write_text("queue: rabbit\n")
    with pytest.raises(ValidationError, match="queue"):
        load_settings(config)
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "missing.yaml")
