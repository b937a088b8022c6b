"""YOLOv8n as ONNX, derived at first use from the shipped INT8 TFLite file (never committed).

The TFLite weights are dynamic-range INT8 (int8 filters, float activations), which LiteRT's
XNNPACK delegate does not take, so they run on plain kernels. Here the filters are
dequantised into ultralytics' own YOLOv8n graph (conv and batch-norm fused, as exported),
each convolution matched to its TFLite twin by what it computes on a probe image, checked
against the TFLite output, and exported to ONNX with a free input size: the same weights on
ONNX Runtime (CPU, or CUDA with FP16 where there is a GPU), letterboxed to the frame's aspect
instead of a 640x640 square.

The file lands in ``$ROADWITNESS_CACHE_DIR`` (default ``~/.cache/roadwitness``), named by the
source's SHA-256, written atomically; deleting it only costs a few seconds at the next start.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.weights import ModelUnavailable

SOURCE_OUTPUT_TOLERANCE = 0.2
"""Largest class-score difference allowed against the TFLite output on the probe: LiteRT
quantises activations to int8 on the fly, the derived graph keeps them float."""


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "roadwitness"
    return Path(os.environ.get("ROADWITNESS_CACHE_DIR") or default)


def yolov8n_onnx(tflite: Path, sha256: str) -> Path:
    """The ONNX derived from ``tflite`` (whose SHA-256 the caller has checked), made once."""
    target = cache_dir() / f"yolov8n-from-tflite-{sha256[:16]}.onnx"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    model = _torch_model(tflite)
    fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".onnx.part")
    os.close(fd)
    try:
        _export(model, Path(partial))
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
    return target


def _probe() -> npt.NDArray[np.float32]:
    """A seeded image with structure at every scale, 640x640 RGB in 0..1."""
    rng = np.random.default_rng(8)
    coarse = rng.random((20, 20, 3), dtype=np.float32)
    image = np.kron(coarse, np.ones((32, 32, 1), np.float32)) * 0.7
    return np.asarray(image + rng.random((640, 640, 3), dtype=np.float32) * 0.3, np.float32)


def _tflite_convs(tflite: Path, image: npt.NDArray[np.float32]) -> tuple[list[Any], Any]:
    """(filter OIHW, bias, input NHWC) of every TFLite convolution, and the model's output."""
    from ai_edge_litert.interpreter import Interpreter

    lite = Interpreter(str(tflite), experimental_preserve_all_tensors=True)
    lite.allocate_tensors()
    lite.set_tensor(lite.get_input_details()[0]["index"], image[None])
    lite.invoke()
    output = lite.get_tensor(lite.get_output_details()[0]["index"]).copy()
    details = {t["index"]: t for t in lite.get_tensor_details()}
    convs = []
    for op in lite._get_ops_details():
        if op["op_name"] != "CONV_2D":
            continue
        spec = details[op["inputs"][1]]
        weight = lite.get_tensor(spec["index"]).astype(np.float64)
        quant = spec["quantization_parameters"]
        if spec["dtype"] == np.int8:
            shape = (-1, 1, 1, 1)
            weight = (weight - quant["zero_points"].reshape(shape)) * quant["scales"].reshape(shape)
        bias = lite.get_tensor(op["inputs"][2]).astype(np.float32)
        seen = lite.get_tensor(op["inputs"][0]).copy()[0]
        convs.append((weight.transpose(0, 3, 1, 2).astype(np.float32), bias, seen))
    return convs, output


def _torch_model(tflite: Path) -> Any:
    import torch

    from models.vehicles import offline_ultralytics

    offline_ultralytics()
    from ultralytics.nn import tasks

    yolo: Any = tasks.DetectionModel  # untyped

    image = _probe()
    convs, expected = _tflite_convs(tflite, image)
    model = yolo("yolov8n.yaml", nc=80, verbose=False).eval()
    model.fuse(verbose=False)
    used: set[int] = set()

    def assign(conv: Any, args: tuple[Any, ...]) -> None:
        seen = args[0][0].numpy().transpose(1, 2, 0)
        shape = tuple(conv.weight.shape)
        best = min(
            (k for k, c in enumerate(convs) if k not in used and c[0].shape == shape),
            key=lambda k: _distance(convs[k][2], seen),
        )
        used.add(best)
        conv.weight.data = torch.from_numpy(convs[best][0])
        conv.bias = torch.nn.Parameter(torch.from_numpy(convs[best][1]))

    tensor = torch.from_numpy(image.transpose(2, 0, 1).copy())[None]
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    hooks = [m.register_forward_pre_hook(assign) for m in layers]
    with torch.no_grad():
        model(tensor)
    for hook in hooks:
        hook.remove()
    if len(used) != len(convs) or len(layers) != len(convs):
        raise ModelUnavailable(f"{tflite}: {len(convs)} convolutions, YOLOv8n has {len(layers)}")
    with torch.no_grad():
        derived = model(tensor)[0].numpy()
    gap = float(np.abs(derived[:, 4:] - expected[:, 4:]).max())
    if gap > SOURCE_OUTPUT_TOLERANCE:
        raise ModelUnavailable(
            f"{tflite}: the YOLOv8n derived from it differs by {gap:.3f} in scores; "
            "set detector=yolov8n_int8_tflite to run the file itself"
        )
    return model


def _distance(recorded: npt.NDArray[np.float32], seen: npt.NDArray[np.float32]) -> float:
    if recorded.shape != seen.shape:  # TFLite pads explicitly before some convolutions
        dy, dx = (recorded.shape[0] - seen.shape[0]) // 2, (recorded.shape[1] - seen.shape[1]) // 2
        if dy < 0 or dx < 0 or recorded.shape[2] != seen.shape[2]:
            return float("inf")
        recorded = recorded[dy : dy + seen.shape[0], dx : dx + seen.shape[1]]
    return float(np.abs(recorded - seen).mean())


def _export(model: Any, path: Path) -> None:
    import torch

    for module in model.modules():  # the Detect head's export form: one (1, 84, N) tensor,
        if hasattr(module, "export"):  # its anchors made for whatever size comes in
            module.export, module.format, module.dynamic = True, "onnx", True
    torch.onnx.export(
        model,
        (torch.zeros(1, 3, 640, 640),),
        str(path),
        opset_version=17,
        input_names=["images"],
        output_names=["output0"],
        dynamic_axes={"images": {2: "height", 3: "width"}, "output0": {2: "anchors"}},
        dynamo=False,
    )
