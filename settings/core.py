"""Typed settings, built by a function (never at import time).

Sources, highest priority first: keyword overrides, ``ROADWITNESS_*`` environment variables,
an optional YAML file (``ROADWITNESS_CONFIG`` or the ``config_file`` argument), defaults.
The defaults are the embedded mode: SQLite and a local folder store under ``./var``,
an in-process queue, no server needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from settings.features import (
    AbuseSettings,
    DatabaseSettings,
    ModelSettings,
    OperationsSettings,
    QueueSettings,
    ReviewSettings,
    RulesSettings,
    StoreSettings,
    UploadSettings,
)

ENV_PREFIX = "ROADWITNESS_"


class Settings(
    DatabaseSettings,
    StoreSettings,
    QueueSettings,
    ModelSettings,
    RulesSettings,
    UploadSettings,
    ReviewSettings,
    AbuseSettings,
    OperationsSettings,
    BaseSettings,
):
    """All settings; the fields live in their feature's group (settings/features.py)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'roadwitness.db'}"
        if self.store_path is None:
            self.store_path = self.data_dir / "objects"
        return self


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
