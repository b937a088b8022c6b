"""Time to load a case page on the review desk: the case's metadata and all its images.

    .venv/bin/python -m benchmarks.desk [--cases 10000] [--loads 200] [--json OUT]

A real photo goes through the real pipeline once; its case is then copied (rows only, the
evidence files are shared) until PostgreSQL holds ``--cases`` cases, and an API server
(``roadwitness serve``, local folder store) answers an officer who opens random cases: GET
/v1/cases/{id}, then every image of its package (keyframes, raw frames, plate crop). The same
is measured with only 100 cases in the database as the baseline: the ratio says how much a full
database slows a page. Prints p50/p95/max in ms; --json writes {"cases": n, "p95_ms": ...}.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from cases.services import Services
from ingest.db import Case, EvidenceItem, Submission
from ingest.migrate import upgrade
from ingest.submissions import Declared
from models.registry import ModelSet
from settings import load_settings
from workers.jobs import SubmissionProcessor
from workers.runner import run

SHARED = Path(__file__).resolve().parents[2] / "shared"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _database() -> str:
    import psycopg

    name = f"roadwitness_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fill(services: Services, total: int) -> list[str]:
    """Copy the one real case (and its submission and evidence rows) up to ``total`` cases."""
    with services.sessions.begin() as session:
        case = session.scalar(select(Case))
        assert case is not None, "the real photo made no case"
        sub = case.submission
        have = session.query(Case).count()
        sub_cols = {c.key: getattr(sub, c.key) for c in Submission.__table__.columns}
        case_cols = {c.key: getattr(case, c.key) for c in Case.__table__.columns}
        items = [
            {c.key: getattr(e, c.key) for c in EvidenceItem.__table__.columns}
            for e in case.evidence
        ]
        batch_subs, batch_cases, batch_items = [], [], []
        for _ in range(total - have):
            sid, cid = uuid.uuid4().hex, uuid.uuid4().hex
            batch_subs.append({**sub_cols, "id": sid})
            batch_cases.append(
                {**case_cols, "id": cid, "submission_id": sid, "case_key": cid, "incident_id": cid}
            )
            batch_items += [{**e, "id": uuid.uuid4().hex, "case_id": cid} for e in items]
            if len(batch_subs) >= 2000:
                session.execute(insert(Submission), batch_subs)
                session.execute(insert(Case), batch_cases)
                session.execute(insert(EvidenceItem), batch_items)
                batch_subs, batch_cases, batch_items = [], [], []
        if batch_subs:
            session.execute(insert(Submission), batch_subs)
            session.execute(insert(Case), batch_cases)
            session.execute(insert(EvidenceItem), batch_items)
        return list(session.scalars(select(Case.id)))


def _load_pages(base: str, token: str, ids: list[str], loads: int) -> list[float]:
    rng = random.Random(7)
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for _ in range(loads):
            case_id = rng.choice(ids)
            started = time.perf_counter()
            case = client.get(f"/v1/cases/{case_id}")
            case.raise_for_status()
            for e in case.json()["evidence"]:
                if e["content_type"].startswith("image/"):
                    client.get(e["url"]).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return times


def _measure(settings_kw: dict[str, Any], total: int, loads: int) -> dict[str, Any]:
    from harness.processes import api_server

    settings = load_settings(None, **settings_kw)
    services = Services.build(settings)
    try:
        ids = _fill(services, total)
        services.staff.add_user(f"bench{total}", "officer", "bench-password")
        token, _ = services.staff.login(f"bench{total}", "bench-password")
    finally:
        services.close()
    with (
        tempfile.TemporaryDirectory() as logs,
        api_server({k: str(v) for k, v in settings_kw.items()}, Path(logs)) as api,
    ):
        base = f"http://127.0.0.1:{api.port}"  # type: ignore[attr-defined]
        _load_pages(base, token, ids, 20)  # warm up
        times = sorted(_load_pages(base, token, ids, loads))
    return {
        "cases": len(ids),
        "loads": loads,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
        "max_ms": round(times[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=200)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    args = parser.parse_args()

    results = {}
    with tempfile.TemporaryDirectory(prefix="roadwitness-desk-") as tmp:
        for total in (100, args.cases):
            url = _database()
            try:
                kw = {
                    "data_dir": Path(tmp) / f"var{total}",
                    "database_url": url,
                    "models_dir": args.models,
                }
                upgrade(url)
                services = Services.build(load_settings(None, **kw))
                try:
                    photo = args.data / "images" / "dev_vehicle_014.jpg"
                    declared = Declared(violation="bus_lane", latitude=22.54, longitude=114.06)
                    services.intake.accept(photo, photo.name, declared, actor="bench")
                    run(services, SubmissionProcessor(services, ModelSet(args.models)), drain=True)
                finally:
                    services.close()
                results[total] = _measure(kw, total, args.loads)
            finally:
                _drop(url)
    base, full = results[100], results[args.cases]
    print(f"{'cases in PostgreSQL':>20s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
    for r in (base, full):
        print(f"{r['cases']:>20d} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['max_ms']:8.1f}")
    ratio = full["p95_ms"] / base["p95_ms"]
    print(f"p95 with {full['cases']} cases / with {base['cases']}: {ratio:.2f}")
    if args.json:
        args.json.write_text(
            json.dumps({**full, "baseline": base, "ratio": round(ratio, 3)}, indent=2)
        )


if __name__ == "__main__":
    main()
