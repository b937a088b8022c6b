"""Shared ONNX Runtime session set-up for the CPU (and CUDA where a GPU build is installed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def cores() -> int:
    """The cores this process may run on (its affinity, as a container's CPU set gives it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # no affinity calls on this platform
        return os.cpu_count() or 1


def default_threads() -> int:
    """A session's intra-op threads: one core fewer than the process has, at least one. A
    worker keeps the other core busy itself: the decoder runs ahead on a thread of its own and
    the road scene and whole-frame plate looks run beside the models (workers.beside). On two
    cores a second intra-op thread per session spent 0.25 s of CPU on the 6 s 1080p sample
    (about 8 ms per sampled frame, benchmarks/throughput.py) and the job took longer."""
    return max(1, cores() - 1)


def cuda() -> bool:
    """Whether sessions here run on CUDA (a GPU build of ONNX Runtime is installed)."""
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


def session(path: Path, threads: int = 0) -> Any:
    """An inference session on ``path`` with ``threads`` intra-op threads (0: the default,
    :func:`default_threads`)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Several small models take turns on few cores: idle threads must sleep, not spin, or
    # they steal the cores the next model needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.intra_op_num_threads = threads or default_threads()
    available = ort.get_available_providers()
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)
