"""``roadwitness device add | rotate | revoke`` on a real SQLite database: the credential the
device installs, a rotated key, a revoked device, and a clear error for an unknown one."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from roadwitness.cli import app

runner = CliRunner()


def test_device_lifecycle_through_the_cli(tmp_path: Path) -> None:
    env = {"ROADWITNESS_DATABASE_URL": f"sqlite:///{tmp_path / 'rw.db'}"}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    key = tmp_path / "cam.json"
    added = runner.invoke(
        app,
        [
            "device",
            "add",
            "cam-7",
            "--owner",
            "Li Lei",
            "--model",
            "RW-Cam 2",
            "--key-out",
            str(key),
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    first = json.loads(key.read_text())
    assert first["device"] == "cam-7" and (key.stat().st_mode & 0o777) == 0o600
    rotated = runner.invoke(app, ["device", "rotate", "cam-7", "--key-out", str(key)], env=env)
    assert rotated.exit_code == 0, rotated.output
    assert json.loads(key.read_text())["key_id"] != first["key_id"]
    assert "revoked" in runner.invoke(app, ["device", "revoke", "cam-7"], env=env).output
    unknown = runner.invoke(app, ["device", "revoke", "cam-nobody"], env=env)
    assert unknown.exit_code == 2 and "error" in unknown.output


def test_a_device_id_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    """``$`` matched before a final newline: "cam-8\\n" was registered, a device that could
    never sign in (requests are checked with fullmatch)."""
    env = {"ROADWITNESS_DATABASE_URL": f"sqlite:///{tmp_path / 'rw.db'}"}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    args = ["device", "add", "cam-8\n", "--owner", "o", "--model", "m"]
    added = runner.invoke(app, [*args, "--key-out", str(tmp_path / "k.json")], env=env)
    assert added.exit_code != 0 and "device id" in added.output, added.output
