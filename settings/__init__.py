"""Typed settings, at the bottom of the import graph: every package may import this one, and it
imports none of ours. One group per feature (settings/features.py)."""

from settings.core import ENV_PREFIX, Settings, load_settings
from settings.features import (
    DatabaseSettings,
    ModelSettings,
    QueueSettings,
    ReviewSettings,
    RulesSettings,
    StoreSettings,
    UploadSettings,
)

VERSION = "0.1.0"
"""The project's version (the API reports it); here so that no package needs the CLI's."""

__all__ = [
    "ENV_PREFIX",
    "VERSION",
    "DatabaseSettings",
    "ModelSettings",
    "QueueSettings",
    "ReviewSettings",
    "RulesSettings",
    "Settings",
    "StoreSettings",
    "UploadSettings",
    "load_settings",
]
