"""The plain facts the rules judge, owned by the rules: a GPS/time fix, a lane line and the road
scene of one frame. No I/O and no image work here: the workers detect lines, intake parses
tracks, and both hand these types over."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from models.types import Box

Colour = Literal["white", "yellow"]
Style = Literal["solid", "dashed"]
Side = Literal["left", "right"]
View = Literal["dashcam", "roadside", "unknown"]
"""Where the camera is: driving in a lane, beside the road (a pole, a phone at the kerb), or
not known from the frame."""


@dataclass(frozen=True, slots=True)
class Point:
    at: datetime
    latitude: float
    longitude: float
    speed_mps: float | None = None


def position_at(points: list[Point], at: datetime, max_gap_s: float = 10.0) -> Point | None:
    """The position at ``at``, interpolated between fixes; None outside the track or in a gap
    longer than ``max_gap_s`` (a tunnel: better no place than a wrong one)."""
    if (
        not points
        or at < points[0].at - timedelta(seconds=1)
        or at > points[-1].at + timedelta(seconds=1)
    ):
        return None
    times = [p.at for p in points]
    i = bisect.bisect_left(times, at)
    if (i < len(points) and times[i] == at) or i == 0:
        return points[min(i, len(points) - 1)]
    if i == len(points):
        return points[-1]
    a, b = points[i - 1], points[i]
    span = (b.at - a.at).total_seconds()
    if span > max_gap_s:
        return None
    f = (at - a.at).total_seconds() / span
    return Point(
        at,
        a.latitude + f * (b.latitude - a.latitude),
        a.longitude + f * (b.longitude - a.longitude),
        None
        if a.speed_mps is None or b.speed_mps is None
        else a.speed_mps + f * (b.speed_mps - a.speed_mps),
    )


@dataclass(frozen=True, slots=True)
class LaneLine:
    """A marking as x = a*y + b over rows y_top..y_bottom (image pixels)."""

    a: float
    b: float
    y_top: float
    y_bottom: float
    colour: Colour
    style: Style
    coverage: float

    def x_at(self, y: float) -> float:
        return self.a * y + self.b

    def points(self) -> tuple[tuple[int, int], tuple[int, int]]:
        return (
            (int(self.x_at(self.y_top)), int(self.y_top)),
            (int(self.x_at(self.y_bottom)), int(self.y_bottom)),
        )


@dataclass(frozen=True, slots=True)
class Edge:
    """A solid edge line and the side of it where the shoulder (the emergency lane) lies."""

    line: LaneLine
    shoulder: Side


@dataclass(frozen=True, slots=True)
class Scene:
    pts: float
    width: int
    height: int
    lines: tuple[LaneLine, ...]
    view: View = "dashcam"
    edges: tuple[Edge, ...] | None = None
    """The edge lines found with their shoulder side; None in facts from before they were
    found (then the dashcam's rightmost solid line stands for the edge line)."""
    reason: str = ""
    """Why no edge line could be placed in this frame (empty when one was)."""

    @property
    def shoulders(self) -> tuple[Edge, ...]:
        """Where an emergency lane can be: beyond these lines, on their shoulder side."""
        if self.view == "unknown":
            return ()
        if self.edges is not None:
            # a dashcam drives on the right: its left edge line borders the median, not a shoulder
            return tuple(e for e in self.edges if self.view != "dashcam" or e.shoulder == "right")
        line = self.edge_line
        return (Edge(line, "right"),) if line is not None else ()

    @property
    def bus_lane_edge(self) -> Edge | None:
        """The yellow bus-lane line with the bus lane right of it, seen from a dashcam only: from
        the roadside, which side of a yellow line the bus lane is on cannot be told."""
        line = self.bus_line if self.view == "dashcam" else None
        return Edge(line, "right") if line is not None else None

    def _right_of_centre(self, colour: Colour, style: Style | None) -> list[LaneLine]:
        centre = self.width / 2
        return [
            line
            for line in self.lines
            if line.colour == colour
            and (style is None or line.style == style)
            and line.a > 0  # goes down to the right: a marking right of the camera
            and line.x_at(self.height) > centre
        ]

    @property
    def edge_line(self) -> LaneLine | None:
        """The rightmost solid white line right of the camera."""
        found = self._right_of_centre("white", "solid")
        return max(found, key=lambda line: line.x_at(self.height)) if found else None

    @property
    def bus_line(self) -> LaneLine | None:
        """The yellow line nearest the camera on its right: the bus lane lies beyond it."""
        found = self._right_of_centre("yellow", None)
        return min(found, key=lambda line: line.x_at(self.height)) if found else None


SEEN_AHEAD = 0.1
"""From the roadside a line is trusted only this share of its own length beyond the far end
where it was seen (``beyond``'s ``ahead``)."""


def beyond(
    line: LaneLine,
    box: Box,
    margin: float,
    side: Side = "right",
    reach: float = math.inf,
    ahead: float = math.inf,
) -> bool:
    """Whether the vehicle's ground point lies on ``side`` of ``line`` by at least ``margin`` of
    its own width (so a wheel on the line is not yet over it) and by at most ``reach`` of it (a
    vehicle farther out is in the next lane or on the other carriageway, not in the strip along
    the line), no farther up the road than ``ahead`` of the line's length past where the line
    was seen."""
    x, y = (box.x1 + box.x2) / 2, box.y2
    if y < line.y_top - ahead * (line.y_bottom - line.y_top):
        return False
    past = x - line.x_at(y) if side == "right" else line.x_at(y) - x
    return margin * box.width < past <= reach * box.width
