"""The import rules hold on the repository, and the checker catches a forbidden edge."""

from __future__ import annotations

from pathlib import Path

from tests.architecture.imports import violations

ROOT = Path(__file__).resolve().parents[2]

KNOWN: set[str] = set()
"""Edges allowed to break the rules for now, by name (none today). The test fails on any edge
not listed here and on a listed edge that is gone, so the list can only shrink."""


def _keyed(root: Path) -> set[str]:
    return {f"{v.module}: {v.what}" for v in violations(root)}


def test_the_repository_keeps_the_import_rules() -> None:
    found = _keyed(ROOT)
    assert found - KNOWN == set(), "forbidden imports:\n" + "\n".join(sorted(found - KNOWN))
    assert KNOWN - found == set(), "fixed, remove from KNOWN:\n" + "\n".join(sorted(KNOWN - found))


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_forbidden_import_in_a_small_tree_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "ingest/__init__.py": "",
            "ingest/store.py": "import os\nfrom models.types import Box\n",
            "ingest/media.py": "from workers.frames import Frame\n",
            "models/__init__.py": "",
            "models/types.py": "from dataclasses import dataclass\n",
            "workers/__init__.py": "",
            "workers/frames.py": "from ingest import store\n",
        },
    )
    found = violations(root)
    assert [str(v) for v in found] == [
        "ingest.media:1: ingest imports workers.frames (workers)",
        "ingest.media:1: ingest imports workers.frames.Frame (workers)",
    ]


def test_each_rule_of_the_issue_is_checked(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "models/x.py": "import ingest.db\n",
            "workers/x.py": "from api import app\n",
            "api/x.py": "from roadwitness.cli import app\n",
            "ingest/x.py": "from cases import lifecycle\n",
            "rules/x.py": "import cv2\nfrom . import y\nopen('f')\n",
            "rules/y.py": "from workers.scene import Scene\n",
            "settings/x.py": "import models\n",
        },
    )
    found = _keyed(root)
    assert found == {
        "models.x: models imports ingest.db (ingest)",
        "workers.x: workers imports api (api)",
        "workers.x: workers imports api.app (api)",
        "api.x: api imports roadwitness.cli (roadwitness)",
        "api.x: api imports roadwitness.cli.app (roadwitness)",
        "ingest.x: ingest imports cases (cases)",
        "ingest.x: ingest imports cases.lifecycle (cases)",
        "rules.x: rules imports cv2 (I/O or cv2)",
        "rules.x: rules calls open()",
        "rules.y: rules imports workers.scene (workers)",
        "rules.y: rules imports workers.scene.Scene (workers)",
        "settings.x: settings imports models (models)",
    }
