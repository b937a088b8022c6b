"""CPU per direct upload, by side: where the protocol's own cost lies (benchmarks/upload.py
measures throughput; this counts CPU, which a shared machine's load does not skew much).

    .venv/bin/python -m benchmarks.upload_cpu [--uploads 24] [--concurrency 4] [--size-mb 20]
        [--spy PY_SPY --spy-out FOLDER]

Starts SeaweedFS, a fresh PostgreSQL database and the API (2 processes, S3 store) as
benchmarks/upload.py does, makes distinct real-pixel clips, warms up with a few untimed
uploads, then reports ``--uploads`` clips by the dashcam client (protocol v2, direct) and prints
the CPU milliseconds per upload of the senders (this process), the API's processes, the store
and the database's backends, the database transactions per upload, and the same for raw S3
PUTs of the same bytes. CPU time on a shared machine still varies by a fifth from run to run:
compare alternating runs. ``--spy``: the path of a py-spy executable (MIT; kept out of the
project's environment: ``python3 -m venv /tmp/spy && /tmp/spy/bin/pip install py-spy``); the
API's processes are sampled while they hold the GIL during the uploads (collapsed stacks in
``--spy-out``, one file per process).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.upload import database_cpu, make_clips
from benchmarks.upload_setup import register_devices, s3_settings
from harness.processes import api_server, group_cpu_seconds, process_cpu_seconds, settle
from harness.servers import PG_ADMIN, postgres_database, seaweed_s3
from ingest.direct_upload import DEFAULT_PART
from ingest.migrate import upgrade
from roadwitness.dashcam import DashcamClient


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.append(int(entry.name))
    return pids


def transactions(url: str) -> int:
    """Transactions this run's database has ended so far (PostgreSQL's statistics, which a
    backend reports within a second of a transaction's end)."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    time.sleep(1.5)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
        return int(row[0]) if row else 0


def measured(
    fn: Callable[[int], None], count: int, concurrency: int, pgid: int, store: int, url: str
) -> dict[str, float]:
    """CPU milliseconds per call of ``fn`` over ``count`` calls, by side, and the database
    transactions per call."""
    xacts = transactions(url)
    mine, api, s3, db = (
        time.process_time(),
        group_cpu_seconds(pgid),
        process_cpu_seconds(store),
        database_cpu(url),
    )
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(fn, range(count)))
    wall = time.perf_counter() - start
    db_s = sum(cpu - db.get(pid, 0.0) for pid, cpu in database_cpu(url).items())
    per = 1000 / count
    cpu = {
        "senders": round((time.process_time() - mine) * per, 1),
        "api": round((group_cpu_seconds(pgid) - api) * per, 1),
        "store": round((process_cpu_seconds(store) - s3) * per, 1),
        "database": round(db_s * per, 1),
        "wall_s": round(wall, 2),
    }
    return {**cpu, "db_transactions": round((transactions(url) - xacts) / count, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=24)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--size-mb", type=float, default=20.0)
    parser.add_argument("--spy", type=Path, help="a py-spy executable: sample the API")
    parser.add_argument("--spy-out", type=Path, default=Path("out/spy"))
    args = parser.parse_args()
    warm = 4
    with tempfile.TemporaryDirectory(prefix="rw-cpu-") as tmp:
        work = Path(tmp)
        for sub in ("clips", "s3"):
            (work / sub).mkdir()
        (clips,) = make_clips(work / "clips", args.uploads + warm, args.size_mb)
        with seaweed_s3(work / "s3") as s3, postgres_database() as url:
            settings = s3_settings(work, s3, f"cpu-{uuid.uuid4().hex[:8]}", url)
            upgrade(url)
            creds = register_devices(url, args.concurrency, "cpu")
            from minio import Minio

            raw = Minio(s3.endpoint, s3.access_key, s3.secret_key, secure=False)
            raw.make_bucket("cpu-raw")
            with api_server(settings, work, 2) as api:
                base = f"http://127.0.0.1:{api.port}"  # type: ignore[attr-defined]
                pgid: int = api.pgid  # type: ignore[attr-defined]
                devices = [DashcamClient(base, c, timeout=120) for c in creds]

                def report(i: int) -> None:
                    device = devices[i % args.concurrency]
                    device.report(clips[i], event_id=f"cpu-{i}", direct=True)

                def put(i: int) -> None:
                    raw.fput_object("cpu-raw", f"raw/{i}", str(clips[i]), part_size=DEFAULT_PART)

                for i in range(args.uploads, args.uploads + warm):
                    report(i)
                    put(i)
                settle(pgid)
                spies = []
                if args.spy:
                    args.spy_out.mkdir(parents=True, exist_ok=True)
                    for pid in group_pids(pgid):
                        out = args.spy_out / f"api-{pid}.txt"
                        cmd = [str(args.spy), "record", "--pid", str(pid), "--format", "raw"]
                        cmd += ["--rate", "250", "--gil", "--nonblocking", "-o", str(out)]
                        spies.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL))
                    time.sleep(2)
                ours = measured(report, args.uploads, args.concurrency, pgid, s3.pid, url)
                for spy in spies:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(30)
                raws = measured(put, args.uploads, args.concurrency, pgid, s3.pid, url)
                for device in devices:
                    device.close()
    print(f"{args.uploads} uploads x {args.size_mb} MB, {args.concurrency} at a time; CPU ms each")
    print(f"ours: {ours}")
    print(f"raw:  {raws}")


if __name__ == "__main__":
    main()
