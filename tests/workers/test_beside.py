"""The thread beside the models: work in order, on one other thread, timed to the job; an
error comes back where the result is asked for; plates read beside are the plates read inline."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from ingest.media import probe
from telemetry.metrics import add_stage_time, start_clock, stop_clock
from workers.beside import Beside
from workers.frames import iter_frames
from workers.sightings import Observer


def test_work_runs_in_order_on_one_other_thread_and_counts_to_the_job() -> None:
    beside = Beside()
    ran: list[tuple[int, int]] = []

    def work(n: int) -> int:
        ran.append((n, threading.get_ident()))
        add_stage_time("plates", 0.25)
        return n * n

    token = start_clock()
    try:
        futures = [beside.submit(work, n) for n in range(20)]
        assert [f.result() for f in futures] == [n * n for n in range(20)]
    finally:
        beside.close()
        stages = stop_clock(token, observe=False)
    assert [n for n, _ in ran] == list(range(20))
    threads = {t for _, t in ran}
    assert len(threads) == 1 and threading.get_ident() not in threads
    assert stages["plates"] == pytest.approx(5.0)


def test_an_error_beside_is_raised_where_the_result_is_asked_for() -> None:
    beside = Beside()

    def broken() -> None:
        raise ValueError("no plate here")

    try:
        future = beside.submit(broken)
        with pytest.raises(ValueError, match="no plate here"):
            future.result()
        assert beside.submit(lambda: 7).result() == 7  # the thread goes on
    finally:
        beside.close()


def test_inline_work_runs_at_once_in_the_callers_thread() -> None:
    beside = Beside(inline=True)
    where: list[int] = []
    future = beside.submit(lambda: where.append(threading.get_ident()))
    assert future.done() and where == [threading.get_ident()]

    def broken() -> None:
        raise RuntimeError("bad crop")

    with pytest.raises(RuntimeError, match="bad crop"):
        beside.submit(broken).result()


@pytest.mark.integration
def test_plates_read_beside_are_the_plates_read_inline(
    models: Any, pan_video: tuple[Path, str]
) -> None:
    clip, plate = pan_video
    info = probe(clip)
    frames = list(iter_frames(clip, info, 5.0, 30))

    def observed(beside: Beside) -> list[tuple[Any, ...]]:
        observer = Observer(models, 5.0, beside=beside)
        try:
            seen = [observer.observe(frame) for frame in frames]
            return [
                (
                    [(v.box, v.track_id) for v in s.vehicles],
                    [(o.frame_index, o.read, o.read_confidence, o.plate) for o in s.observations],
                    s.unread,
                    s.scene,
                )
                for s in seen
            ]
        finally:
            observer.close()

    inline = observed(Beside(inline=True))
    assert observed(Beside()) == inline
    assert plate in {read for _, reads, _, _ in inline for _, read, _, _ in reads}
