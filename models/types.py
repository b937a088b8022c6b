"""The small frozen data types that flow from model backends into the pipeline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
"""An image as OpenCV holds it: height x width x 3, BGR, uint8."""


@dataclass(frozen=True, slots=True)
class Box:
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    def contains(self, x: float, y: float) -> bool:
        return self.x1 <= x <= self.x2 and self.y1 <= y <= self.y2

    def as_list(self) -> list[float]:
        return [round(v, 1) for v in (self.x1, self.y1, self.x2, self.y2)]


@dataclass(frozen=True, slots=True)
class Vehicle:
    box: Box
    kind: str
    """car, bus, truck or motorcycle."""
    confidence: float
    track_id: int | None = None
    """Which vehicle of the clip this is (set by the tracker; None for a photo or a detection
    too uncertain to follow): the one detection type carried through tracking, plate
    sightings, votes and evidence."""


@dataclass(frozen=True, slots=True)
class PlateDetection:
    box: Box
    corners: tuple[tuple[float, float], ...]
    """Four corners: top-left, top-right, bottom-right, bottom-left (image pixels)."""
    double_layer: bool
    confidence: float


Alternatives = tuple[tuple[str, float], ...]
"""One plate position's most probable characters, best first, with their probabilities."""


@dataclass(frozen=True, slots=True)
class PlateText:
    text: str
    """The plate in standard form without separators (e.g. 粤B6R678); empty when unreadable."""
    confidence: float
    """The probability that the whole plate is right (calibrated, see models/calibration.py)."""
    valid: bool
    """True when the text fits a Chinese plate pattern; only valid reads count as plates."""
    chars: tuple[Alternatives, ...] = ()
    """Per position of ``text``: the top three characters with their probabilities (empty
    where a backend cannot tell)."""
    agreement: float = 1.0
    """The share of the views of the plate (grey, smoothed, grey-smoothed) that read the
    same text; 1.0 when one clear view sufficed."""
    features: tuple[float, ...] = ()
    """What the confidence was calibrated from (models/calibration.py: ``features``)."""

    @property
    def lowest_char(self) -> float:
        """The probability of the least sure character (1.0 when none are known)."""
        return min((c[0][1] for c in self.chars if c), default=1.0)


def chars_as_lists(chars: tuple[Alternatives, ...]) -> list[list[list[str | float]]]:
    """Alternatives as JSON holds them: per position a list of ``[char, p]``."""
    return [[[c, round(p, 4)] for c, p in position] for position in chars]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Which weights produced a result, so a case can say which models made it."""

    name: str
    file: str
    sha256: str
