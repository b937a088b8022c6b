"""A faint box that never moves is not a vehicle for the rules (the detector's 0.3 box on the
painted 应急车道 of the S2 shoulder); a faint one that drives, or a confident one standing
still (a parked car), is."""

from __future__ import annotations

from models.types import Box, Vehicle
from workers.recognise import faint_and_still


def _track(confidence: float, step: float) -> list[tuple[float, Vehicle]]:
    return [
        (t * 0.2, Vehicle(Box(100 + t * step, 200, 140 + t * step, 220), "car", confidence, 3))
        for t in range(10)
    ]


def test_faint_still_box_is_not_a_vehicle() -> None:
    assert faint_and_still(_track(0.3, 0.5))


def test_faint_moving_box_is_a_vehicle() -> None:
    assert not faint_and_still(_track(0.3, 6.0))  # a still camera's motion proposal


def test_confident_still_box_is_a_vehicle() -> None:
    assert not faint_and_still(_track(0.8, 0.0))  # a parked car
