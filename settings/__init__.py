"""Typed settings, at the bottom of the import graph: every package may import this one, and it
imports none of ours."""

from settings.core import ENV_PREFIX, Settings, load_settings

__all__ = ["ENV_PREFIX", "Settings", "load_settings"]
