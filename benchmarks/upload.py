"""Upload throughput of the reporting protocol against a raw S3 PUT of the same bytes.

    .venv/bin/python -m benchmarks.upload [--clients 32] [--size-mb 20] [--rounds 2]
        [--mode direct|tus] [--database postgres|sqlite] [--workers 2] [--json OUT]

Starts a real S3-compatible server (SeaweedFS) and the API (uvicorn, S3 store, PostgreSQL or
SQLite), makes N distinct real-pixel clips of about SIZE MB per round (a 1080p pan over a real
CCPD photo, re-muxed per client and round so each has its own SHA-256), then in one run, for
each round: (a) N concurrent raw PUTs of the same bytes to the same server, (b) N dashcam
clients reporting them concurrently through the protocol (signed; ``--mode direct``, the
default: v2, parts straight to the store by presigned URLs, then the API checks the assembled
object's SHA-256 and media and takes it in; ``--mode tus``: v1, every chunk through the API).
Both sides send 8 MiB parts (the server's plan), ``--parallel-parts`` at a time (the dashcam
client's default, 1), each sender from its own client made before the timing; the API runs as
deployed (2 processes, ``--workers``), warmed up by a few untimed uploads.
A watchdog prints every thread's stack if a run is stuck (``--watchdog-s``) or killed (SIGTERM),
and stops the servers it started.
Rounds alternate ABBA so a drifting machine load favours neither side. Prints uploads/s, MB/s,
p50/p95 latency over all rounds, the ratios to the raw PUT, and the CPU seconds of each side
(senders, the API's processes, the store, the database's backends).
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import urllib3

from benchmarks.upload_setup import SHARED, register_devices, s3_settings
from harness.processes import api_server, group_cpu_seconds, process_cpu_seconds, settle
from harness.servers import database_backends, postgres_database, seaweed_s3
from ingest.direct_upload import DEFAULT_PART
from ingest.migrate import upgrade
from roadwitness.dashcam import PARALLEL_PARTS, DashcamClient
from roadwitness.samples import PAN_PHOTO
from workers.frames import run_ffmpeg


def make_clips(
    folder: Path, clients: int, size_mb: float, rounds: int = 1, warm: int = 0
) -> list[list[Path]]:
    """One clip of about ``size_mb`` from a real photo, then a re-mux per client and round
    (each upload its own SHA-256, so every round stores new originals); with ``warm``, a last
    list of that many more for an untimed warm-up."""
    base = folder / "base.mp4"
    seconds = 20
    bitrate = int(size_mb * 8_000_000 / seconds)
    # Sensor-like noise keeps the encoder at the bitrate (a still photo compresses to little).
    vf = (
        "scale=-2:1400,pad=1920:1400:(ow-iw)/2:0,crop=1920:1080:0:'(ih-oh)*t/20',"
        "noise=alls=10:allf=t,format=yuv420p"
    )
    run_ffmpeg(
        "-loop",
        "1",
        "-i",
        str(SHARED / "data" / PAN_PHOTO),
        "-t",
        str(seconds),
        "-r",
        "30",
        "-vf",
        vf,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-b:v",
        str(bitrate),
        "-maxrate",
        str(bitrate),
        "-bufsize",
        str(bitrate),
        "-movflags",
        "+faststart",
        str(base),
    )
    rounds_of_clips = []
    for r in range(rounds + (1 if warm else 0)):
        clips = []
        for i in range(clients if r < rounds else warm):
            clip = folder / f"clip_{r}_{i:03d}.mp4"
            run_ffmpeg(
                "-i",
                str(base),
                "-c",
                "copy",
                "-metadata",
                f"comment=client {i} round {r}",
                "-movflags",
                "+faststart",
                str(clip),
            )
            clips.append(clip)
        rounds_of_clips.append(clips)
    return rounds_of_clips


@contextmanager
def database(kind: str, work: Path) -> Iterator[str]:
    if kind == "sqlite":
        (work / "var").mkdir(exist_ok=True)
        yield f"sqlite:///{work / 'var' / 'roadwitness.db'}"
        return
    with postgres_database() as url:
        yield url


def watchdog(seconds: float, on_stuck: list[Callable[[], None]]) -> None:
    """Past ``seconds``, or on SIGTERM: print every thread's stack (where the run is stuck),
    stop the servers it started (``on_stuck``) and exit 124."""

    def fire(*_: object) -> None:
        faulthandler.dump_traceback(all_threads=True)
        for stop in on_stuck:
            with suppress(OSError):
                stop()
        os._exit(124)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    signal.signal(signal.SIGTERM, fire)


@contextmanager
def api_log_on_failure(work: Path) -> Iterator[None]:
    """A run that fails prints the end of the API's log (it lives in the run's temporary
    folder, gone afterwards)."""
    try:
        yield
    except BaseException:
        log = work / "api.log"
        if log.exists():
            print(log.read_text(errors="replace")[-6000:], file=sys.stderr)
        raise


def summarise(latencies: list[float], wall: float, total_bytes: int) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "uploads_per_s": round(len(latencies) / wall, 2),
        "mb_per_s": round(total_bytes / wall / 1e6, 1),
        "p50_s": round(statistics.median(ordered), 3),
        "p95_s": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 3),
        "wall_s": round(wall, 2),
    }


def database_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving this run's database (none for
    SQLite: its work is in the API's processes)."""
    if not url.startswith("postgresql"):
        return {}
    return {pid: process_cpu_seconds(pid) for pid in database_backends(url)}


def timed(fn: Any, items: list[Any], workers: int) -> tuple[list[float], float]:
    def one(item: Any) -> float:
        t = time.perf_counter()
        fn(item)
        return time.perf_counter() - t

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        latencies = list(pool.map(one, items))
    return latencies, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--size-mb", type=float, default=20.0)
    parser.add_argument("--chunk-mib", type=int, default=4)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="API server processes; 2 as deployed (docker/api.Dockerfile, docs/operations.md)",
    )
    parser.add_argument(
        "--parallel-parts",
        type=int,
        default=PARALLEL_PARTS,
        help="parts in flight per upload, on both sides (the dashcam client's default)",
    )
    parser.add_argument("--mode", choices=("direct", "tus"), default="direct")
    parser.add_argument(
        "--database",
        choices=("postgres", "sqlite"),
        default="postgres",
        help="postgres (a fresh database on ROADWITNESS_TEST_PG, as in an S3 deployment) or "
        "sqlite (the embedded mode's file)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds in ABBA order (raw first, then ours first, ...) so that a machine whose "
        "load drifts during the run favours neither side; figures are over all rounds",
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--watchdog-s",
        type=float,
        default=1200,
        help="past this, print every thread's stack, stop the servers and exit 124 (a stuck "
        "run shows where)",
    )
    args = parser.parse_args()
    on_stuck: list[Callable[[], None]] = []  # what a stuck or killed run must not leave running
    watchdog(args.watchdog_s, on_stuck)

    with tempfile.TemporaryDirectory(prefix="rw-bench-") as tmp:
        work = Path(tmp)
        for sub in ("clips", "s3"):
            (work / sub).mkdir()
        warm = min(args.clients, 4 * args.workers)
        *rounds, warm_clips = make_clips(
            work / "clips", args.clients, args.size_mb, args.rounds, warm
        )
        every = [*rounds, warm_clips]  # round r's clips, then the warm-up's (r = rounds)
        total = sum(c.stat().st_size for clips in rounds for c in clips)
        with seaweed_s3(work / "s3") as s3, database(args.database, work) as url:
            on_stuck.append(lambda: os.kill(s3.pid, signal.SIGKILL))
            bucket = f"bench-{uuid.uuid4().hex[:8]}"
            settings = s3_settings(work, s3, bucket, url)
            upgrade(url)
            creds = register_devices(url, args.clients, "bench")

            from minio import Minio

            # One S3 client per sender, made before the timing, as each device has its own
            # client (a shared one's connection pool holds 10: the rest would reconnect).
            # minio's own pool, but a 120 s read timeout (its default is 300 s, retried 5
            # times): a stalled request fails within the dashcam client's time, not after 30 min.
            raws = [
                Minio(
                    s3.endpoint,
                    s3.access_key,
                    s3.secret_key,
                    secure=False,
                    http_client=urllib3.PoolManager(
                        timeout=urllib3.Timeout(connect=10, read=120),
                        maxsize=10,
                        retries=urllib3.Retry(
                            total=5, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
                        ),
                    ),
                )
                for _ in range(args.clients)
            ]
            raws[0].make_bucket("bench-raw")

            def put(item: tuple[int, int]) -> None:
                r, i = item
                raws[i].fput_object(
                    "bench-raw",
                    f"raw/{r}/{i}",
                    str(every[r][i]),
                    part_size=DEFAULT_PART,
                    num_parallel_uploads=args.parallel_parts,
                )

            with api_log_on_failure(work), api_server(settings, work, args.workers) as api:
                base = f"http://127.0.0.1:{api.port}"  # type: ignore[attr-defined]
                pgid: int = api.pgid  # type: ignore[attr-defined]
                on_stuck.append(lambda: os.killpg(pgid, signal.SIGKILL))
                # Each device has its client before it reports, as the raw side has its S3
                # client before it puts: neither side's timing includes making a client.
                devices = [
                    DashcamClient(
                        base,
                        cred,
                        chunk_size=args.chunk_mib << 20,
                        timeout=120,
                        parallel_parts=args.parallel_parts,
                        # A failure that persists ends the run (with the API's log) in a minute
                        # or two instead of thirty retries with backoff that look like a hang.
                        max_failures=6,
                    )
                    for cred in creds
                ]

                def report(item: tuple[int, int]) -> None:
                    r, i = item
                    devices[i].report(
                        every[r][i],
                        event_id=f"bench-{r}-{i}",
                        direct=args.mode == "direct",
                    )

                # Untimed: a few uploads each way (connection pools, the API processes' first
                # probe), then wait until the API's processes are quiet (each starts a helper
                # process in the background), as a deployed server would be.
                warm_items = [(args.rounds, i) for i in range(warm)]
                timed(put, warm_items, warm)
                timed(report, warm_items, warm)
                settle(pgid)

                raw_lat: list[float] = []
                ours_lat: list[float] = []
                raw_wall = ours_wall = 0.0
                # CPU seconds per side: the senders (this process), the API's processes, the
                # store (SeaweedFS) and the database's backends (PostgreSQL, on this machine).
                cpu = {
                    side: {"clients": 0.0, "api": 0.0, "store": 0.0, "database": 0.0}
                    for side in ("raw", "ours")
                }
                for r in range(args.rounds):
                    items = [(r, i) for i in range(args.clients)]
                    sides = [(put, raw_lat, "raw"), (report, ours_lat, "ours")]
                    for fn, latencies, side in sides if r % 4 in (0, 3) else sides[::-1]:
                        mine, api_cpu = time.process_time(), group_cpu_seconds(pgid)
                        store_cpu, db_cpu = process_cpu_seconds(s3.pid), database_cpu(url)
                        lat, wall = timed(fn, items, args.clients)
                        cpu[side]["clients"] += time.process_time() - mine
                        cpu[side]["api"] += group_cpu_seconds(pgid) - api_cpu
                        cpu[side]["store"] += process_cpu_seconds(s3.pid) - store_cpu
                        cpu[side]["database"] += sum(
                            cpu_s - db_cpu.get(pid, 0.0) for pid, cpu_s in database_cpu(url).items()
                        )
                        latencies.extend(lat)
                        if side == "raw":
                            raw_wall += wall
                        else:
                            ours_wall += wall
                for device in devices:
                    device.close()

    result = {
        "clients": args.clients,
        "rounds": args.rounds,
        "mode": args.mode,
        "database": args.database,
        "api_processes": args.workers,
        "part_mib": DEFAULT_PART >> 20,
        "parallel_parts": args.parallel_parts,
        "mb_per_upload": round(total / (args.clients * args.rounds) / 1e6, 1),
        "protocol": summarise(ours_lat, ours_wall, total),
        "raw_put": summarise(raw_lat, raw_wall, total),
        "cpu_s": {side: {k: round(v, 2) for k, v in c.items()} for side, c in cpu.items()},
    }
    result["ratio"] = round(result["protocol"]["mb_per_s"] / result["raw_put"]["mb_per_s"], 3)
    result["p95_ratio"] = round(result["protocol"]["p95_s"] / result["raw_put"]["p95_s"], 3)
    print(
        f"{args.clients} clients x {result['mb_per_upload']} MB, mode {args.mode}, "
        f"{args.rounds} rounds (ABBA), {args.database}, API {args.workers} process(es); "
        + (
            f"both sides: {DEFAULT_PART >> 20} MiB parts, {args.parallel_parts} at a time"
            if args.mode == "direct"
            else f"tus chunks of {args.chunk_mib} MiB; raw: {DEFAULT_PART >> 20} MiB parts"
        )
    )
    print(f"{'':10}{'uploads/s':>10}{'MB/s':>8}{'p50 s':>8}{'p95 s':>8}")
    for name in ("protocol", "raw_put"):
        r = result[name]
        print(f"{name:10}{r['uploads_per_s']:>10}{r['mb_per_s']:>8}{r['p50_s']:>8}{r['p95_s']:>8}")
    print(f"ratio protocol/raw PUT (MB/s): {result['ratio']}, p95: {result['p95_ratio']}")
    print(f"CPU seconds, all rounds (senders, API processes, store, database): {result['cpu_s']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
