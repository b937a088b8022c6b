"""Typed settings, built by a function (never at import time).

Sources, highest priority first: keyword overrides, ``ROADWITNESS_*`` environment variables,
an optional YAML file (``ROADWITNESS_CONFIG`` or the ``config_file`` argument), defaults.
The defaults are the embedded mode: SQLite and a local folder store under ``./var``,
an in-process queue, no server needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

ENV_PREFIX = "ROADWITNESS_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    data_dir: Path = Path("var")
    database_url: str = ""
    """SQLAlchemy URL; empty means ``sqlite:///{data_dir}/roadwitness.db``."""

    store: Literal["local", "s3"] = "local"
    store_path: Path | None = None
    """Folder of the local store; empty means ``{data_dir}/objects``."""
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = "roadwitness"
    s3_secure: bool = False
    s3_region: str = "us-east-1"

    queue: Literal["embedded", "procrastinate"] = "embedded"
    job_max_attempts: int = Field(3, ge=1, le=20)
    job_lease_s: float = Field(60.0, gt=0)
    """A job whose worker has not renewed its lease for this long is taken again."""
    job_retry_delay_s: float = Field(5.0, ge=0)
    """A failed attempt is retried after this delay times the attempts so far."""

    models_dir: Path = Path("../shared/models")
    samples_dir: Path = Path("../shared/data")
    """Real sample media for the demo (never copied into the repository)."""
    detector: Literal["yolov8n_onnx", "yolov8n_int8_tflite", "yolox_nano_onnx"] = "yolov8n_onnx"
    """YOLOv8n (the shipped TFLite weights) on ONNX Runtime, derived once into the cache
    (models/derive.py); yolov8n_int8_tflite runs the file itself through ultralytics and
    LiteRT (1.7x slower here); yolox_nano_onnx is the second, lighter network."""
    plate_detector_size: Literal[320, 640] = 640
    plate_reader: Literal["ppocrv4_onnx", "ppocrv4_paddle", "rapidocr"] = "ppocrv4_onnx"
    """The same PP-OCRv4 network on ONNX Runtime (default) or on Paddle Inference (needs the
    paddle extra); rapidocr is the plain free-text reading, for comparison."""
    plate_province_prior: str | None = Field(
        None,
        pattern=r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]:\d+(\.\d+)?$",
    )
    """A deployment's own province as a prior on the first plate character, as
    ``PROVINCE:WEIGHT`` (Shenzhen: ``粤:2``: 粤 counts twice as likely before reading). Off by
    default: the reader favours no province."""
    rules_file: Path | None = None
    """Rule data (YAML, with GeoJSON road segments beside it); None runs the rules with their
    defaults and no road segments, so only covered-plate and declared reports become cases."""
    sample_fps: float = Field(2.0, gt=0, le=30)
    max_frames: int = Field(600, ge=1)

    max_upload_bytes: int = Field(512 * 1024 * 1024, ge=1)
    max_video_seconds: float = Field(600.0, gt=0)
    upload_ttl_h: float = Field(24.0, gt=0)

    map_tiles_url: str | None = None
    """A tile server for the desk's map (e.g. https://tiles.example/{z}/{x}/{y}.png); without
    one the map shows the track and the place on a plain background."""
    claim_minutes: float = Field(10.0, gt=0)
    """How long an officer's claim on a case lasts before it returns to the queue."""
    reward_policy_file: Path | None = None
    """Reward amounts and caps (YAML); None uses the Shenzhen 2018 measures shipped with the
    project (ingest/reward_policy.yaml)."""
    """A resumable upload that receives no bytes for this long expires."""

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'roadwitness.db'}"
        if self.store_path is None:
            self.store_path = self.data_dir / "objects"
        return self

    @property
    def local_store_path(self) -> Path:
        assert self.store_path is not None
        return self.store_path

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def psycopg_dsn(self) -> str:
        """The database URL as libpq understands it (for Procrastinate)."""
        return self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build settings from overrides, environment, an optional YAML file and defaults."""
    path = config_file or os.environ.get(f"{ENV_PREFIX}CONFIG")
    if path is not None and not Path(path).is_file():
        raise FileNotFoundError(f"settings file {path} does not exist")

    class _Sourced(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if path is not None:
                sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=Path(path)))
            return tuple(sources)

    return _Sourced(**overrides)
