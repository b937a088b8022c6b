"""Rule data from files: the YAML rule file and the GeoJSON road segments it names, read here
(at the edge) and handed to the pure rules core for validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from rules.config import RuleBook, RuleConfigError, book_from


def load_rules(path: Path | None) -> RuleBook:
    """The rule data in ``path`` (YAML), or the built-in defaults (no road segments)."""
    if path is None:
        return RuleBook()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise RuleConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise RuleConfigError(f"{path}: not YAML: {exc}") from None

    def read_geojson(name: str, field: str) -> tuple[Any, str]:
        segment_file = path.parent / name
        try:
            return json.loads(segment_file.read_text(encoding="utf-8")), str(segment_file)
        except OSError as exc:
            raise RuleConfigError(
                f"{segment_file} (from {field}): cannot read: {exc.strerror}"
            ) from None
        except json.JSONDecodeError as exc:
            raise RuleConfigError(f"{segment_file}: not JSON: {exc}") from None

    return book_from(raw, str(path), read_geojson)
