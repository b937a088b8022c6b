"""The labelled real frames of ``tests/data/scene_labels.json``: where a person saw the solid
edge lines (two endpoints each, in the media's own pixels) and on which side the shoulder lies.
Shared by the scene benchmark and the tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2

from models.types import Image

REPO = Path(__file__).resolve().parents[1]
LABELS = REPO / "tests" / "data" / "scene_labels.json"
Side = Literal["left", "right"]


@dataclass(frozen=True, slots=True)
class LabelledEdge:
    shoulder: Side
    top: tuple[float, float]
    bottom: tuple[float, float]

    def x_at(self, y: float) -> float:
        (x0, y0), (x1, y1) = self.top, self.bottom
        return x0 + (x1 - x0) * (y - y0) / (y1 - y0)


@dataclass(frozen=True, slots=True)
class LabelledFrame:
    media: Path
    frame: int | None
    edges: tuple[LabelledEdge, ...]

    @property
    def name(self) -> str:
        return self.media.stem + ("" if self.frame is None else f"#{self.frame}")

    def image(self) -> Image:
        """The frame as decoded by OpenCV (a still, or the video frame at its index)."""
        if self.frame is None:
            image = cv2.imread(str(self.media))
            if image is None:
                raise FileNotFoundError(self.media)
            return image
        capture = cv2.VideoCapture(str(self.media))
        try:
            capture.set(cv2.CAP_PROP_POS_FRAMES, self.frame)
            ok, image = capture.read()
        finally:
            capture.release()
        if not ok:
            raise FileNotFoundError(f"{self.media} frame {self.frame}")
        return image


def labelled_frames(path: Path = LABELS) -> list[LabelledFrame]:
    """The frames, with media paths resolved against the repository (they say ../shared/...)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        LabelledFrame(
            (REPO / item["media"]).resolve(),
            item["frame"],
            tuple(
                LabelledEdge(edge["shoulder"], tuple(edge["points"][0]), tuple(edge["points"][1]))
                for edge in item["edge_lines"]
            ),
        )
        for item in data["frames"]
    ]
