"""The burned-in clock: found among the caption cells, a missed tick or a whole-second freeze is
no stop, time repeated off the beat is."""

from __future__ import annotations

import numpy as np

from workers.clock import find_clock, stops


def beating(ticks_s: list[float], fps: float = 10.0, seconds: float = 20.0) -> tuple:
    times = tuple(np.arange(0.0, seconds, 1 / fps).round(3).tolist())
    rng = np.random.default_rng(0)
    changes = rng.uniform(0, 1.5, (len(times), 6)).astype(np.float16)  # noise; cell 4 ticks
    for t in ticks_s:
        changes[round(t * fps), 4] = 20
    return changes, times


def test_clock_found_and_whole_seconds_are_no_stop() -> None:
    ticks = [0.3 + k for k in range(20) if k not in (5, 11, 12)]  # three missed ticks
    changes, times = beating(ticks)
    clock = find_clock(changes, times)
    assert clock is not None and clock.cell == 4 and abs(clock.beat_s - 1.0) < 0.01
    assert stops(clock) == []


def test_repeated_time_off_the_beat_is_a_stop() -> None:
    ticks = [0.3 + k for k in range(8)] + [8.3 + k + 0.6 for k in range(11)]  # 0.6 s repeated
    changes, times = beating(ticks)
    clock = find_clock(changes, times)
    assert clock is not None
    (stop,) = stops(clock)
    assert stop.at_s == 7.3 and stop.gap_s == 1.6


def test_no_clock_in_moving_content() -> None:
    rng = np.random.default_rng(1)
    changes = rng.uniform(0, 30, (200, 6)).astype(np.float16)
    assert find_clock(changes, tuple(np.arange(200) / 10)) is None
