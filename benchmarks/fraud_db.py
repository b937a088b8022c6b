"""The anti-fraud check's whole cost per submission with the database behind it, on SQLite and
PostgreSQL: ``FraudChecks.record`` (load the fingerprints added since the worker's last look,
search the index, store the new fingerprint, flag the re-use on both submissions' cases), and
with the commit, against a table already holding ``--index`` fingerprints and as many cases.

    .venv/bin/python -m benchmarks.fraud_db [--index 100000] [--lookups 40] [--json OUT]

Half the submissions are re-used copies of stored ones (every hash a few bits off: the re-use
path, with its case look-ups, runs), half are new. The worker's first load of the whole table
(once per worker process: reading the table and building the band index) is timed apart. Each
backend is measured with the schema as migrated and again with ``ix_cases_submission_id``
dropped: the index that the case look-ups need.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from ingest.db import Case, MediaObject, Submission, make_engine, make_sessionmaker
from ingest.db_fraud import MediaFingerprint
from ingest.migrate import upgrade
from workers.fingerprint import Fingerprint
from workers.fraud import Examined, FraudChecks

CHUNK = 5_000
CASE = {"violation": "bus_lane", "plate_confidence": 0.9, "vehicle_class": "car", "t_start": 0.0,
        "t_end": 1.0}  # fmt: skip


def _filler(rng: np.random.Generator, i: int) -> np.ndarray[Any, Any]:
    """A photo's 3 hashes or a 30 s clip's 60, random."""
    return rng.integers(0, np.iinfo(np.uint64).max, 3 if i % 2 else 60, dtype=np.uint64)


def _fill(session: Session, size: int, rng: np.random.Generator) -> list[np.ndarray[Any, Any]]:
    stored = []
    for at in range(0, size, CHUNK):
        ids = [f"s{i:09d}" for i in range(at, min(size, at + CHUNK))]
        prints = [_filler(rng, at + k) for k in range(len(ids))]
        stored += prints
        session.execute(
            insert(MediaObject),
            [
                {"id": i, "sha256": i, "key": i, "size": 1, "content_type": "video/mp4"}
                | {"kind": "video"}
                for i in ids
            ],
        )
        session.execute(
            insert(Submission), [{"id": i, "media_id": i, "reporter": f"r{i}"} for i in ids]
        )
        session.execute(
            insert(Case),
            [{"id": i, "submission_id": i, "case_key": i, **CASE} for i in ids],
        )
        session.execute(
            insert(MediaFingerprint),
            [
                {"submission_id": i, "kind": "video", "hashes": p.astype(">u8").tobytes()}
                for i, p in zip(ids, prints, strict=True)
            ],
        )
        session.commit()
    return stored


def _query(
    rng: np.random.Generator, stored: list[np.ndarray[Any, Any]], reused: bool
) -> Fingerprint:
    if reused:
        original = stored[int(rng.integers(0, len(stored) // 2)) * 2]  # a 60-hash clip
        hashes = original[:40].copy()
        for j in range(len(hashes)):  # 3 bits off each, as a re-encoded copy
            for bit in rng.choice(64, size=3, replace=False):
                hashes[j] ^= np.uint64(1) << np.uint64(int(bit))
    else:
        hashes = rng.integers(0, np.iinfo(np.uint64).max, 40, dtype=np.uint64)
    return Fingerprint("video", hashes, rng.integers(0, np.iinfo(np.uint64).max, 40, np.uint64))


def _submissions(
    session: Session, checks: FraudChecks, queries: list[Fingerprint], tag: str
) -> tuple[list[float], list[float], int]:
    times, with_commit, flagged = [], [], 0
    for k, print_ in enumerate(queries):
        sid = f"q{tag}{k:06d}"
        session.add(MediaObject(id=sid, sha256=sid, key=sid, size=1, content_type="video/mp4",
                                kind="video"))  # fmt: skip
        session.flush()
        session.add(Submission(id=sid, media_id=sid, reporter=f"new{k}"))
        session.flush()
        session.add(Case(id=sid, submission_id=sid, case_key=sid, **CASE))
        session.commit()
        submission = session.get(Submission, sid)
        assert submission is not None
        started = time.perf_counter()
        checks.record(session, submission, Examined(print_, [], {}, {}), "benchmark")
        times.append((time.perf_counter() - started) * 1000)
        session.commit()  # the job's own commit, which carries its other writes too
        with_commit.append((time.perf_counter() - started) * 1000)
        case = session.get(Case, sid)
        flagged += int(case is not None and any(f["kind"] == "reused_media@1" for f in case.flags))
    return times, with_commit, flagged


def _row(times: list[float]) -> dict[str, float]:
    p95 = float(np.percentile(times, 95))
    return {"mean_ms": round(float(np.mean(times)), 2), "p95_ms": round(p95, 2)}


def measure(url: str, size: int, lookups: int) -> dict[str, Any]:
    upgrade(url)
    engine = make_engine(url)
    rng = np.random.default_rng(11)
    result: dict[str, Any] = {}
    with make_sessionmaker(engine)() as session:
        started = time.perf_counter()
        stored = _fill(session, size, rng)
        session.execute(text("ANALYZE"))  # statistics, as autovacuum keeps them in service
        session.commit()
        result["fill_s"] = round(time.perf_counter() - started, 1)
        checks = FraudChecks()
        started = time.perf_counter()
        checks.refresh(session)
        checks.index.search(_query(rng, stored, reused=False))  # packs and builds the bands
        result["first_load_s"] = round(time.perf_counter() - started, 2)
        for label, tag in (("indexed", "a"), ("without_ix_cases_submission_id", "b")):
            if tag == "b":
                session.execute(text("DROP INDEX ix_cases_submission_id"))
                session.commit()
            queries = [_query(rng, stored, reused=k % 2 == 0) for k in range(lookups)]
            times, with_commit, flagged = _submissions(session, checks, queries, tag)
            result[label] = {
                **_row(times),
                "with_commit": _row(with_commit),
                "reused_found": f"{flagged}/{(lookups + 1) // 2}",
            }
    engine.dispose()
    return result


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="roadwitness-fraud-db-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=int, default=100_000, help="fingerprints in the table")
    parser.add_argument("--lookups", type=int, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from harness.servers import postgres_database

    result = {}
    for name, database in (("sqlite", _sqlite), ("postgresql", postgres_database)):
        with database() as url:
            result[name] = measure(url, args.index, args.lookups)
        print(name, json.dumps(result[name]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
