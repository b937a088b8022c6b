"""Where a vehicle is beyond a line (rules.facts.beyond): past it by a margin, but within the
strip along it, and (from the roadside) not farther up the road than the line was seen: a
roadside camera's median line is not the edge of the other carriageway beyond it."""

from __future__ import annotations

from models.types import Box
from rules.facts import LaneLine, beyond

EDGE = LaneLine(0.0, 500.0, 200.0, 600.0, "white", "solid", 1.0)
"""A vertical solid line at x = 500, seen from row 200 to row 600."""


def car(x: float, bottom: float = 500.0, width: float = 40.0) -> Box:
    return Box(x - width / 2, bottom - 30.0, x + width / 2, bottom)


def test_beyond_by_a_margin_and_within_reach() -> None:
    assert not beyond(EDGE, car(503.0), 0.15)  # a wheel on the line
    assert beyond(EDGE, car(530.0), 0.15)
    assert beyond(EDGE, car(600.0), 0.15)  # no reach given: any distance
    assert not beyond(EDGE, car(600.0), 0.15, reach=2.0)  # 2.5 widths out: the next lane
    assert beyond(EDGE, car(470.0), 0.15, "left", reach=2.0)


def test_not_where_the_line_was_never_seen() -> None:
    assert beyond(EDGE, car(530.0, bottom=120.0), 0.15)  # a dashcam's line goes on ahead
    assert beyond(EDGE, car(530.0, bottom=180.0), 0.15, ahead=0.1)  # a tenth of its length
    assert not beyond(EDGE, car(530.0, bottom=120.0), 0.15, ahead=0.1)
