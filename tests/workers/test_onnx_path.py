"""A worker on the ONNX backends never loads torch or ultralytics (the TFLite detector's
engine): `roadwitness process` of a real dashcam clip, in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from models.derive import yolov8n_onnx
from models.weights import resolve
from tests.conftest import DATA_DIR, MODELS_DIR, REPO

SCRIPT = """
import json, sys
from roadwitness.cli import app
app(["process", sys.argv[1], "--out", sys.argv[2], "--fps", "2"], standalone_mode=False)
print(json.dumps(sorted(m for m in ("torch", "ultralytics") if m in sys.modules)))
"""


def test_processing_a_clip_on_the_onnx_backends_imports_no_torch(tmp_path: Path) -> None:
    tflite, info = resolve(MODELS_DIR, "yolov8n_int8_tflite")
    yolov8n_onnx(tflite, info.sha256)  # derived once before (deriving needs torch)
    clip = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
    env = {**os.environ, "PYTHONPATH": str(REPO), "ROADWITNESS_MODELS_DIR": str(MODELS_DIR)}
    env.pop("ROADWITNESS_DETECTOR", None)  # the default: yolov8n_onnx
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(clip), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "summary.json").is_file()
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
