"""The PP-OCRv4 recogniser on Paddle Inference, from the Paddle-format model files.

Same network, same pre-processing and the same plate-constrained decoding as the ONNX backend
(``models.plate_reader``); only the engine differs, so the two can be compared side by side.
It needs the optional ``paddle`` extra (``paddlepaddle``, Apache-2.0). The ``paddleocr``
package itself runs on this same engine but cannot share an environment with our OpenCV:
its ``paddlex`` dependency refuses to build a predictor unless the distribution
``opencv-contrib-python==4.10`` is installed, which would overwrite OpenCV 5's ``cv2``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from models.plate_reader import CtcPlateReader
from models.types import ModelInfo
from models.weights import ModelUnavailable


class PaddleUnavailable(ModelUnavailable):
    """paddlepaddle is not installed."""


def characters(config: Path) -> list[str]:
    """The recogniser's alphabet from its ``inference.yml`` (PostProcess.character_dict)."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    chars = data["PostProcess"]["character_dict"]
    # PaddleOCR appends the space itself when use_space_char is set; the dict may hold it.
    return [str(c) for c in chars if str(c) != " "]


class PaddlePlateReader(CtcPlateReader):
    """PP-OCRv4 mobile on Paddle Inference (CPU with oneDNN, or CUDA with a GPU build)."""

    name = "ppocrv4_paddle"

    def __init__(self, model: Path, params: Path, info: ModelInfo, config: Path) -> None:
        try:
            with warnings.catch_warnings():  # "No ccache found": about building extensions
                warnings.simplefilter("ignore", UserWarning)
                import paddle
                from paddle import inference
        except ImportError as exc:
            raise PaddleUnavailable(
                "the ppocrv4_paddle reader needs paddlepaddle: pip install 'roadwitness[paddle]'"
            ) from exc
        settings = inference.Config(str(model), str(params))
        if paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0:
            settings.enable_use_gpu(256, 0)
        else:
            settings.disable_gpu()
            settings.enable_mkldnn()  # oneDNN: 3x faster here than plain CPU kernels
            settings.set_cpu_math_library_num_threads(os.cpu_count() or 1)
        settings.disable_glog_info()
        self._predictor: Any = inference.create_predictor(settings)
        self._input = self._predictor.get_input_handle(self._predictor.get_input_names()[0])
        self._output = self._predictor.get_output_handle(self._predictor.get_output_names()[0])
        super().__init__(characters(config), info)

    def _infer(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        self._input.reshape(list(batch.shape))
        self._input.copy_from_cpu(np.ascontiguousarray(batch))
        self._predictor.run()
        return np.asarray(self._output.copy_to_cpu(), np.float32)
