"""CPU-heavy request work run in a small pool of other processes.

A worker thread is not enough for a long pure-Python parse (a 30,000-point NMEA track takes
seconds here): it holds the GIL between switches, and every other request of the process
waits its turn for it. In another process it waits for nothing."""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import re
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from api.refuse import check_strings
from ingest.tracks import TrackError, TrackFormat, parse

T = TypeVar("T")
WORKERS = 2
IN_PROCESS_BYTES = 256 * 1024
"""Tracks up to this size are parsed in a thread (they take milliseconds); larger ones in the
pool."""

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:  # made on first use; "spawn": never fork a threaded server
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=context)
        return _pool


def _ready() -> None:
    """Nothing: a first task, so that a worker process exists before a request needs one."""


def warm_up() -> None:
    """Start a pool worker now (in the background): starting one takes about a second of
    CPU, which must not fall on the first request that sends a long track."""
    _executor().submit(_ready)


def _forget(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def run_in_process(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the pool (``fn`` and its arguments must pickle)."""
    pool = _executor()
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
    except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh next time
        _forget(pool)
        raise


MAX_VALUES = 100_000
"""The most values (counted by their separating commas) one JSON body may hold: json.loads is
one C call that holds the GIL, ~0.1 s per million values, so it is bounded before it starts."""
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def _too_many_values(body: bytes) -> bool:
    # Commas inside strings (an NMEA track has a dozen a line) do not count: strip the strings
    # (a few ms per MB) only when the raw count is already over the limit.
    return body.count(b",") > MAX_VALUES and _STRINGS.sub(b'""', body).count(b",") > MAX_VALUES


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number (only finite numbers are accepted)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:24]} is out of range (only finite numbers are accepted)")
    return value


def parse_json(body: bytes) -> Any:
    """``json.loads``, refusing what cannot round-trip as JSON or would exhaust the parser."""
    if _too_many_values(body):
        raise json.JSONDecodeError(f"the JSON holds over {MAX_VALUES} values", "", 0)
    try:
        value = json.loads(body, parse_constant=_reject_constant, parse_float=_finite)
        if b"\\u" in body or b"\xed" in body:  # only an escape or raw CESU-8 makes either
            check_strings(value)
        return value
    except json.JSONDecodeError as exc:  # without the document: it may be megabytes
        raise json.JSONDecodeError(exc.msg, "", 0) from None
    except RecursionError:
        raise json.JSONDecodeError("the JSON is nested too deeply", "", 0) from None
    except (ValueError, UnicodeDecodeError) as exc:  # huge integers, bad UTF-8, NaN
        raise json.JSONDecodeError(str(exc)[:200], "", 0) from None


def track_points(data: str, fmt: TrackFormat) -> list[dict[str, Any]] | str:
    """The track's points as JSON-ready dicts, or the reason it is refused (an exception
    with several arguments does not survive the trip back from another process)."""
    try:
        points = parse(data, fmt)
    except TrackError as exc:
        return str(exc)
    return [
        {"at": p.at.isoformat(), "lat": p.latitude, "lon": p.longitude, "speed": p.speed_mps}
        for p in points
    ]


async def parse_track(data: str, fmt: TrackFormat) -> list[dict[str, Any]] | str:
    if len(data) <= IN_PROCESS_BYTES:
        return await asyncio.to_thread(track_points, data, fmt)
    return await run_in_process(track_points, data, fmt)
