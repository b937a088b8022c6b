"""SIGKILL a worker in the middle of a job: the job is redone and makes exactly one case."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cases.services import Services
from harness.processes import running, wait_for
from harness.servers import postgres_database
from ingest.db import Case, Job, make_engine, make_sessionmaker
from ingest.migrate import upgrade
from ingest.submissions import Declared
from settings import load_settings
from tests.conftest import MODELS_DIR

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("kind", ["embedded", "procrastinate"])
def test_killed_worker_job_is_redone_once(
    kind: str, tmp_path: Path, pan_video: tuple[Path, str]
) -> None:
    video, plate = pan_video
    settings: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "models_dir": MODELS_DIR,
        "job_lease_s": 3,
        "sample_fps": 5,
    }
    with ExitStack() as stack:
        if kind == "procrastinate":
            url = stack.enter_context(postgres_database())
            settings |= {"database_url": url, "queue": "procrastinate"}
        _kill_and_redo(settings, video, plate, tmp_path)


def _kill_and_redo(settings: dict[str, Any], video: Path, plate: str, logs: Path) -> None:
    config = load_settings(None, **settings)
    upgrade(config.database_url)
    if config.queue == "procrastinate":
        from ingest.dispatch import apply_procrastinate_schema

        apply_procrastinate_schema(config.psycopg_dsn)
    services = Services.build(config)
    try:
        accepted = services.intake.accept(video, "pan.mp4", Declared(violation="bus_lane"))
    finally:
        services.close()
    sessions = make_sessionmaker(make_engine(config.database_url))

    def job() -> Job:
        with sessions() as session:
            found = session.scalar(select(Job).where(Job.submission_id == accepted.id))
            assert found is not None
            return found

    with running("worker-1", ["worker"], settings, logs) as first:
        wait_for(lambda: job().state == "running", 120, first.log, interval=0.05)
        first.kill()
    assert job().state == "running" and job().attempts == 1

    with running("worker-2", ["worker"], settings, logs) as second:
        wait_for(lambda: job().state == "done", 180, second.log)
    final = job()
    assert final.attempts == 2 and final.state == "done"
    with sessions() as session:
        cases = session.scalars(select(Case).where(Case.submission_id == accepted.id)).all()
        assert [c.plate for c in cases] == [plate]
        assert session.scalar(select(func.count()).select_from(Case)) == 1
