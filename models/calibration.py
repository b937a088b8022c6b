"""Calibrated plate confidence: the probability that a whole read is right.

A reader's raw scores (mean character probability) stay high on a wrong province: the
recogniser is sure of each stroke it sees. What tells a right read from a wrong one here is
the least sure character, the runner-up at that position and whether the plate's other views
read the same. Platt scaling (a logistic curve over those features) maps them to a
probability; its coefficients are fitted by ``benchmarks/plates.py --fit`` on one half of the
dev data, and the other half reports expected calibration error and a reliability diagram.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from models.types import Alternatives, Image

PLATT = (0.5058, 0.1544, 0.1899, 0.051, -0.0067, -0.0154, -0.6946)
"""Weights of :func:`features` in order, then the bias: fitted by ``benchmarks/plates.py
--degrade --fit`` on the fit half of ``../shared/data/labels.csv`` (clean and degraded reads
of the grey-first, fused-views reader, 2026-12-03); on the held-back half: ECE 0.033, 95 reads
at confidence >= 0.95, none wrong."""


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def image_quality(image: Image) -> tuple[float, float, float]:
    """How well the plate image shows its characters: log sharpness (Laplacian variance at
    the standard 168x48), contrast and brightness of its grey levels (0-1)."""
    grey = cv2.cvtColor(cv2.resize(image, (168, 48)), cv2.COLOR_BGR2GRAY)
    sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    return (
        round(math.log1p(sharpness), 4),
        round(float(grey.std()) / 128, 4),
        round(float(grey.mean()) / 255, 4),
    )


def features(
    chars: Sequence[Alternatives], agreement: float, quality: Sequence[float]
) -> tuple[float, ...]:
    """What the calibrator sees of one read (the same in fitting and in use): the lowest and
    second-lowest character probabilities (as logits), the views' agreement, image quality."""
    tops = sorted(position[0][1] for position in chars if position) or [0.0]
    second = tops[1] if len(tops) > 1 else tops[0]
    return (round(_logit(tops[0]), 4), round(_logit(second), 4), agreement, *quality)


def calibrated(seen: Sequence[float], coefficients: Sequence[float] = PLATT) -> float:
    """The probability that the read with these :func:`features` is right (0 when nothing is
    known of its characters)."""
    if not seen:
        return 0.0
    z = sum(w * v for w, v in zip(coefficients[:-1], seen, strict=True)) + coefficients[-1]
    return round(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))), 4)


FIT_L2 = 10.0
"""L2 on the weights when fitting: chosen by 3-fold cross-validation within the fit half
(reads of a file in one fold): against 0.01 and 1, it gave the lowest calibration error
(0.025) and the fewest wrong reads at confidence >= 0.95 (2 of 81) out of fold. A few
hundred reads, of which few are wrong, do not support sharp weights on six features."""


def fit_platt(
    rows: Sequence[Sequence[float]], right: Sequence[bool], l2: float = FIT_L2, steps: int = 100
) -> tuple[float, ...]:
    """Logistic regression by Newton's method with L2 on the weights (few samples); returns
    the coefficients :func:`calibrated` takes."""
    x: npt.NDArray[np.float64] = np.hstack([np.asarray(rows, np.float64), np.ones((len(rows), 1))])
    y = np.asarray(right, np.float64)
    w = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * l2
    penalty[-1, -1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (p - y) + penalty @ w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty + np.eye(x.shape[1]) * 1e-9
        w -= np.linalg.solve(hessian, gradient)
    return tuple(round(float(v), 4) for v in w)


def expected_calibration_error(
    confidence: Sequence[float], right: Sequence[bool], bins: int = 10
) -> float:
    """Mean gap between confidence and accuracy over equal-width bins, weighted by count."""
    c, r = np.asarray(confidence, np.float64), np.asarray(right, np.float64)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(c, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += inside.mean() * abs(c[inside].mean() - r[inside].mean())
    return float(error)
