"""Stage clocks: a job's time per stage is one histogram sample per stage."""

from __future__ import annotations

import time
from collections.abc import Iterator

from telemetry.metrics import metrics, start_clock, stop_clock, timed_iter, timed_stage


def _count(stage: str) -> float:
    for family in metrics().stage_seconds.collect():
        for sample in family.samples:
            if sample.name.endswith("_count") and sample.labels.get("stage") == stage:
                return sample.value
    return 0.0


def test_a_job_clock_sums_each_stage_into_one_sample() -> None:
    before = _count("decode"), _count("rules")
    token = start_clock()

    def frames() -> Iterator[int]:
        for i in range(3):
            time.sleep(0.01)
            yield i

    assert list(timed_iter("decode", frames())) == [0, 1, 2]
    with timed_stage("rules"):
        time.sleep(0.005)
    with timed_stage("rules"):
        time.sleep(0.005)
    seconds = stop_clock(token)
    assert seconds["decode"] >= 0.03 and seconds["rules"] >= 0.01
    assert (_count("decode"), _count("rules")) == (before[0] + 1, before[1] + 1)


def test_a_discarded_clock_observes_nothing() -> None:
    before = _count("evidence")
    token = start_clock()
    with timed_stage("evidence"):
        pass
    stop_clock(token, observe=False)
    assert _count("evidence") == before
