"""A constant-velocity Kalman filter on a box's (cx, cy, aspect, height), as in ByteTrack.

The state is the box centre, its aspect ratio (width / height) and height, and the velocity
of each: eight numbers. The motion and measurement noise scale with the box height
(``POSITION_WEIGHT``, ``VELOCITY_WEIGHT``), so a near vehicle may move more pixels per frame
than a far one. The numbers and the order of the arithmetic follow ByteTrack's (and SORT's)
filter, so the tracker built on it keeps the same tracks to the last bit.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

NDIM = 4
POSITION_WEIGHT = 1.0 / 20
VELOCITY_WEIGHT = 1.0 / 160
ASPECT_NOISE = (1e-2, 1e-5)
"""Process noise of the aspect ratio and of its velocity (it barely changes)."""
ASPECT_MEASUREMENT_NOISE = 1e-1

_MOTION = np.eye(2 * NDIM) + np.eye(2 * NDIM, k=NDIM)
"""x' = x + v for each of the four numbers (one step per sampled frame)."""


def xyah(tlwh: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """(left, top, width, height) -> (centre x, centre y, width / height, height)."""
    out = tlwh.copy()
    out[:2] += out[2:] / 2
    out[2] /= out[3]
    return out


def initiate(measurement: npt.NDArray[np.float32]) -> tuple[Array, Array]:
    """Mean and covariance of a new track from its first (cx, cy, aspect, h); no velocity."""
    position = np.asarray(measurement, dtype=np.float64)
    mean = np.r_[position, np.zeros_like(position)]
    h = position[3]
    std = [
        2 * POSITION_WEIGHT * h,
        2 * POSITION_WEIGHT * h,
        ASPECT_NOISE[0],
        2 * POSITION_WEIGHT * h,
        10 * VELOCITY_WEIGHT * h,
        10 * VELOCITY_WEIGHT * h,
        ASPECT_NOISE[1],
        10 * VELOCITY_WEIGHT * h,
    ]
    return mean, np.diag(np.square(std))


def predict(means: Array, covariances: Array) -> tuple[Array, Array]:
    """One step ahead for a stack of tracks: ``means`` (N, 8), ``covariances`` (N, 8, 8)."""
    h = means[:, 3]
    ones = np.ones_like(h)
    std = np.r_[
        [POSITION_WEIGHT * h, POSITION_WEIGHT * h, ASPECT_NOISE[0] * ones, POSITION_WEIGHT * h],
        [VELOCITY_WEIGHT * h, VELOCITY_WEIGHT * h, ASPECT_NOISE[1] * ones, VELOCITY_WEIGHT * h],
    ]
    variances = np.square(std).T
    noise = np.zeros((len(means), 2 * NDIM, 2 * NDIM))
    noise[:, range(2 * NDIM), range(2 * NDIM)] = variances
    means = np.dot(means, _MOTION.T)
    left = np.dot(_MOTION, covariances).transpose((1, 0, 2))
    return means, np.dot(left, _MOTION.T) + noise


def update(
    mean: Array, covariance: Array, measurement: npt.NDArray[np.float32]
) -> tuple[Array, Array]:
    """Mean and covariance of one track corrected by a measured (cx, cy, aspect, h)."""
    h = mean[3]
    std = [POSITION_WEIGHT * h, POSITION_WEIGHT * h, ASPECT_MEASUREMENT_NOISE, POSITION_WEIGHT * h]
    projected_mean = mean[:NDIM].copy()
    projected_cov = covariance[:NDIM, :NDIM] + np.diag(np.square(std))
    gain = np.linalg.solve(projected_cov, covariance[:, :NDIM].T).T
    innovation = measurement - projected_mean
    new_mean = mean + np.dot(innovation, gain.T)
    new_cov = covariance - np.linalg.multi_dot((gain, projected_cov, gain.T))
    return new_mean, new_cov
