"""Load on loopback: the whole distributed system under concurrent reports, N = 1, 2, 4 workers.

    .venv/bin/python -m benchmarks.load [--submissions 200] [--workers 1 2 4] [--chaos]
        [--max-queue 0] [--concurrency 16] [--json OUT]

Per N: a fresh PostgreSQL database (the machine's server) and bucket (a SeaweedFS S3 server),
the API (uvicorn, 2 processes, Procrastinate queue, S3 store) and N worker processes. M real
photos and clips from ../shared/data (each copy made unique: trailing bytes on a photo, a
re-mux with its own comment for a clip) are reported concurrently through the resumable
protocol, half by signed devices and half by bearer reporters. Reported: submissions per
second, p50/p95/p99 upload-to-settled latency (from the server's acceptance to the job's end),
the mean time per job of each stage (from the workers' /metrics), CPU use per process kind,
503 back-pressure answers. With ``--chaos`` a random worker is SIGKILLed every 15 s (and
started again) and the API once; then every submission must end with its cases or ``failed``
with a reason: ``lost`` counts those that did not, ``duplicate_cases`` cases made twice.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from benchmarks.load_cluster import Chaos, Cluster, CpuSampler
from harness.servers import postgres_database, seaweed_s3
from ingest.db import Case, Job, Submission, make_engine, make_sessionmaker
from ingest.dispatch import apply_procrastinate_schema
from ingest.identity import Identity
from ingest.media import probe
from ingest.migrate import upgrade
from roadwitness.dashcam import DashcamClient, DeviceCredential
from workers.frames import run_ffmpeg

SHARED = Path(__file__).resolve().parents[2] / "shared"
SETTLED = ("candidate", "no_case", "failed")
STAGES = ("decode", "vehicles", "plates", "read", "rules", "evidence")


class ReporterClient(DashcamClient):
    """The same resumable protocol as an app reporter: a bearer token instead of signatures."""

    def __init__(self, base_url: str, token: str, **kwargs: Any) -> None:
        super().__init__(base_url, DeviceCredential("", "", ""), **kwargs)
        self.token = token

    def _send(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        auth = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, path, content=body, headers={**auth, **(headers or {})})


def sources(media: str = "mixed") -> list[Path]:
    photos = sorted((SHARED / "data" / "images").glob("*.jpg"))
    clips = sorted((SHARED / "data" / "videos").iterdir())
    return {"photos": photos, "clips": clips}.get(media, [*photos, *clips])


def unique_copies(folder: Path, count: int, media: str = "mixed") -> list[Path]:
    """``count`` files cycling over the real media, each with its own SHA-256."""
    pieces, made = sources(media), []
    for i in range(count):
        source = pieces[i % len(pieces)]
        out = folder / f"{i:04d}_{source.name}"
        if source.suffix.lower() in (".jpg", ".jpeg", ".png"):
            # Bytes after the image's end are ignored by decoders; the photo is unchanged.
            out.write_bytes(source.read_bytes() + f"\nroadwitness-load {i}".encode())
        else:
            run_ffmpeg("-i", str(source), "-c", "copy", "-metadata", f"comment=load {i}", str(out))
        made.append(out)
    return made


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else 0.0


def stage_means(pages: list[str]) -> tuple[dict[str, float], int]:
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for page in pages:
        for family in text_string_to_metric_families(page):
            if family.name != "roadwitness_stage_duration_seconds":
                continue
            for s in family.samples:
                stage = s.labels.get("stage", "")
                if s.name.endswith("_sum"):
                    sums[stage] = sums.get(stage, 0.0) + s.value
                elif s.name.endswith("_count"):
                    counts[stage] = counts.get(stage, 0.0) + s.value
    jobs = int(max(counts.values(), default=0))
    return {k: round(sums[k] / counts[k], 3) for k in STAGES if counts.get(k)}, jobs


def refused(api_page: str) -> int:
    for family in text_string_to_metric_families(api_page):
        if family.name == "roadwitness_uploads_refused":
            return int(sum(s.value for s in family.samples if s.name.endswith("_total")))
    return 0


def one_run(
    args: argparse.Namespace, workers: int, files: list[Path], s3: Any, work: Path
) -> dict[str, Any]:
    logs = work / f"logs-n{workers}"
    logs.mkdir()
    with postgres_database() as url:
        settings: dict[str, Any] = {
            "data_dir": work / f"var-n{workers}",
            "models_dir": SHARED / "models",
            "database_url": url,
            "queue": "procrastinate",
            "store": "s3",
            "s3_endpoint": s3.endpoint,
            "s3_access_key": s3.access_key,
            "s3_secret_key": s3.secret_key,
            "s3_bucket": f"load-{uuid.uuid4().hex[:8]}",
            "max_queue_depth": args.max_queue,
            "busy_retry_after_s": 2,
            "job_lease_s": 10 if args.chaos else 60,
            "job_max_attempts": 5 if args.chaos else 3,
            "log_format": "json",
        }
        upgrade(url)
        apply_procrastinate_schema(url.replace("postgresql+psycopg://", "postgresql://"))
        sessions = make_sessionmaker(make_engine(url))
        identity = Identity(sessions)
        senders: list[tuple[str, Any]] = []
        for i in range(len(files)):
            if i % 2 == 0:
                issued = identity.register_device(f"load-{i}", "load", "load")
                assert issued.private_key is not None
                cred = DeviceCredential(issued.device_id, issued.key_id, issued.private_key)
                senders.append(("device", cred))
            else:
                senders.append(("reporter", identity.create_reporter()[1]))
        cluster = Cluster(settings, workers, logs)
        cluster.start()
        sampler = CpuSampler()
        sampler.start(cluster.role_pids)
        chaos = Chaos(cluster, args.chaos_every, for_s=args.chaos_for) if args.chaos else None
        errors: list[str] = []

        def report(i: int) -> str | None:
            kind, secret = senders[i]
            options: dict[str, Any] = {"chunk_size": 1 << 20, "timeout": 60, "max_failures": 60}
            # A declared violation makes each report a case (with its evidence package) even
            # without road data, so every stage of the pipeline is loaded.
            event = {"event_id": f"load-{i}", "declared_violation": args.declare}
            try:
                if kind == "device":
                    with DashcamClient(cluster.base_url, secret, **options) as client:
                        return client.report(files[i], **event).submission_id
                with ReporterClient(cluster.base_url, secret, **options) as client:
                    return client.report(files[i], **event).submission_id
            except Exception as exc:  # a report the client could not deliver is a lost one
                errors.append(f"{files[i].name}: {type(exc).__name__}: {exc}"[:300])
                return None

        start = time.monotonic()
        if chaos is not None:
            chaos.start()
        with ThreadPoolExecutor(args.concurrency) as pool:
            accepted = [s for s in pool.map(report, range(len(files))) if s]
        uploaded_s = time.monotonic() - start

        def unsettled() -> int:
            with sessions() as session:
                return (
                    session.scalar(
                        select(func.count())
                        .select_from(Submission)
                        .where(Submission.status.not_in(SETTLED))
                    )
                    or 0
                )

        deadline = time.monotonic() + args.settle_timeout
        while unsettled() and time.monotonic() < deadline:
            time.sleep(1)
        wall = time.monotonic() - start
        if chaos is not None:
            chaos.stop()
        cluster.wait_api()
        worker_pages, api_page = cluster.scrape_workers(), cluster.scrape_api()
        cpu = sampler.stop(cluster.role_pids)
        cluster.stop()
        result = summarise(sessions, accepted, files, errors, wall, uploaded_s, workers)
        stages, staged_jobs = stage_means(worker_pages)
        result |= {
            "stage_mean_s": stages,
            "stage_jobs_seen": staged_jobs,
            "refused_503": refused(api_page),
            "cpu_percent": {k: round(v / wall * 100, 1) for k, v in cpu.items()},
            "kills": chaos.kills if chaos else [],
        }
        make_engine(url).dispose()
    return result


def summarise(
    sessions: Any,
    accepted: list[str],
    files: list[Path],
    errors: list[str],
    wall: float,
    uploaded_s: float,
    workers: int,
) -> dict[str, Any]:
    with sessions() as session:
        rows = session.execute(
            select(
                Submission.id,
                Submission.status,
                Submission.error,
                Submission.created_at,
                func.max(Job.finished_at),
            )
            .join(Job, Job.submission_id == Submission.id)
            .group_by(Submission.id)
        ).all()
        dup = session.execute(
            select(Submission.media_id, Case.case_key, func.count())
            .join(Submission, Case.submission_id == Submission.id)
            .group_by(Submission.media_id, Case.case_key)
            .having(func.count() > 1)
        ).all()
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        # Jobs a kill interrupted: taken again by another attempt.
        retried = session.scalar(select(func.count()).select_from(Job).where(Job.attempts > 1))
    settled = {r[0]: r for r in rows if r[1] in SETTLED}
    latencies = [(r[4] - r[3]).total_seconds() for r in settled.values() if r[4] is not None]
    failed = {r[0]: r[2] for r in settled.values() if r[1] == "failed"}
    lost = len(files) - len([s for s in accepted if s in settled])
    video_s = sum(probe(f).duration_s for f in files if f.suffix.lower() not in (".jpg", ".png"))
    return {
        "workers": workers,
        "submissions": len(files),
        "accepted": len(set(accepted)),
        "submissions_per_s": round(len(settled) / wall, 3),
        "p50_s": round(percentile(latencies, 0.50), 2),
        "p95_s": round(percentile(latencies, 0.95), 2),
        "p99_s": round(percentile(latencies, 0.99), 2),
        "wall_s": round(wall, 1),
        "upload_phase_s": round(uploaded_s, 1),
        "video_s_per_s_per_worker": round(video_s / wall / workers, 3),
        "cases": cases,
        "jobs_retried": retried or 0,
        "failed": len(failed),
        "failed_reasons": sorted({(e or "no reason")[:160] for e in failed.values()}),
        "failed_without_reason": sum(1 for e in failed.values() if not e),
        "lost": lost,
        "client_errors": errors[:10],
        "duplicate_cases": sum(int(d[2]) - 1 for d in dup),
    }


def table(runs: list[dict[str, Any]], chaos: bool) -> str:
    head = f"{'N':>2} {'subm':>5} {'subm/s':>7} {'p50 s':>7} {'p95 s':>7} {'p99 s':>7} {'503s':>5}"
    head += f" {'failed':>6} {'lost':>5} {'dup':>4}  cpu% api/workers/postgres"
    lines = [head]
    for r in runs:
        cpu = r["cpu_percent"]
        lines.append(
            f"{r['workers']:>2} {r['submissions']:>5} {r['submissions_per_s']:>7} {r['p50_s']:>7}"
            f" {r['p95_s']:>7} {r['p99_s']:>7} {r['refused_503']:>5} {r['failed']:>6}"
            f" {r['lost']:>5} {r['duplicate_cases']:>4}  {cpu.get('api', 0)}/"
            f"{cpu.get('workers', 0)}/{cpu.get('postgres', 0)}"
        )
    lines.append("mean seconds per job by stage:")
    lines.append("   N " + "".join(f"{s:>10}" for s in STAGES))
    for r in runs:
        lines.append(
            f"  {r['workers']:>2} " + "".join(f"{r['stage_mean_s'].get(s, 0):>10}" for s in STAGES)
        )
    if chaos:
        for r in runs:
            lines.append(f"  N={r['workers']} kills: {', '.join(r['kills']) or 'none'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=16, help="clients at once")
    parser.add_argument("--max-queue", type=int, default=0, help="back-pressure limit (0: none)")
    parser.add_argument("--chaos", action="store_true")
    parser.add_argument("--chaos-every", type=float, default=15.0, help="seconds between kills")
    parser.add_argument(
        "--chaos-for", type=float, help="stop the kills after this many seconds (default: never)"
    )
    parser.add_argument(
        "--media", choices=["mixed", "photos", "clips"], default="mixed", help="what to report"
    )
    parser.add_argument("--declare", default="bus_lane", help="declared violation of each report")
    parser.add_argument("--settle-timeout", type=float, default=3600.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rw-load-") as tmp:
        work = Path(tmp)
        (work / "media").mkdir()
        (work / "s3").mkdir()
        files = unique_copies(work / "media", args.submissions, args.media)
        runs = []
        with seaweed_s3(work / "s3") as s3:
            for n in args.workers:
                runs.append(one_run(args, n, files, s3, work))
                print(table(runs[-1:], args.chaos), flush=True)
    result = {
        "machine": {"cpus": os.cpu_count()},
        "submissions": args.submissions,
        "chaos": args.chaos,
        "chaos_every_s": args.chaos_every if args.chaos else None,
        "chaos_for_s": args.chaos_for if args.chaos else None,
        "max_queue_depth": args.max_queue,
        "media": args.media,
        "runs": runs,
    }
    print(table(runs, args.chaos))
    base = runs[0]["submissions_per_s"]
    print(
        f"speed-up over N={runs[0]['workers']}: "
        + ", ".join(
            f"N={r['workers']} x{r['submissions_per_s'] / max(base, 1e-9):.2f}" for r in runs
        )
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
