"""Shared ONNX Runtime session set-up for the CPU (and CUDA where a GPU build is installed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def session(path: Path, threads: int = 0) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Several small models take turns on few cores: idle threads must sleep, not spin, or
    # they steal the cores the next model needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
    available = ort.get_available_providers()
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)
