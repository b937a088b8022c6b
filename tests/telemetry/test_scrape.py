"""The API (two server processes) and a worker as separate processes, a real clip reported
through the protocol: both /metrics pages list every metric family, the worker's log lines are
JSON carrying the submission, job and case ids, and its probe turns ready."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from harness.processes import api_server, running, wait_for
from harness.servers import free_port
from ingest.db import Case, Submission, make_engine, make_sessionmaker
from ingest.identity import Identity
from ingest.migrate import upgrade
from roadwitness.dashcam import DashcamClient, DeviceCredential
from settings import load_settings
from tests.conftest import DATA_DIR, MODELS_DIR

pytestmark = pytest.mark.integration

API_FAMILIES = {
    "roadwitness_http_requests",
    "roadwitness_http_request_duration_seconds",
    "roadwitness_upload_bytes",
    "roadwitness_upload_resumptions",
    "roadwitness_queue_depth",
    "roadwitness_queue_oldest_job_age_seconds",
    "roadwitness_cases",
    "roadwitness_desk_decisions_last_hour",
}
WORKER_FAMILIES = {
    "roadwitness_jobs",
    "roadwitness_stage_duration_seconds",
    "roadwitness_model_load_seconds",
    "roadwitness_cases_created",
    "roadwitness_queue_depth",
    "roadwitness_worker_ready",
}
REAL_CLIP = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
STAGES = {
    "decode",
    "keep",
    "vehicles",
    "proposals",
    "track",
    "scene",
    "plates",
    "read",
    "rules",
    "evidence",
}


def _families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_and_json_logs_after_a_real_clip(
    tmp_path: Path, pan_video: tuple[Path, str]
) -> None:
    video, _ = pan_video
    probe_port = free_port()
    settings: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "models_dir": MODELS_DIR,
        "sample_fps": 2,
        "worker_metrics_port": probe_port,
        "log_format": "json",
    }
    url = load_settings(None, **settings).database_url
    upgrade(url)
    issued = Identity(make_sessionmaker(make_engine(url))).register_device("cam-1", "t", "t")
    assert issued.private_key is not None
    credential = DeviceCredential(issued.device_id, issued.key_id, issued.private_key)
    probe = f"http://127.0.0.1:{probe_port}"

    with (
        api_server(settings, tmp_path, workers=2) as api,
        running("worker", ["worker"], settings, tmp_path) as worker,
    ):
        wait_for(lambda: _get(f"{probe}/healthz") == 200, 60, worker.log)
        wait_for(lambda: _get(f"{probe}/readyz") == 200, 300, worker.log)
        base = str(api.base_url)
        with DashcamClient(base, credential, chunk_size=256 * 1024) as client:
            # A real dashcam clip (no Chinese plate in it) and a pan over a real plate photo
            # (which makes a case, so the read and evidence stages run too).
            dashcam = client.report(REAL_CLIP, event_id="scrape-0", declared_violation="bus_lane")
            reported = client.report(video, event_id="scrape-1", declared_violation="bus_lane")
        sessions = make_sessionmaker(make_engine(url))

        def settled(submission_id: str) -> str | None:
            with sessions() as session:
                sub = session.get(Submission, submission_id)
                return sub.status if sub and sub.status not in ("received", "processing") else None

        assert wait_for(lambda: settled(dashcam.submission_id), 300, worker.log) == "no_case"
        assert wait_for(lambda: settled(reported.submission_id), 300, worker.log) == "candidate"
        api_text = api.get("/metrics").text
        worker_text = httpx.get(f"{probe}/metrics").text

    api_families = _families(api_text)
    assert set(api_families) >= API_FAMILIES, API_FAMILIES - set(api_families)
    uploads = {
        s.labels["protocol"]: s.value
        for s in api_families["roadwitness_upload_bytes"].samples
        if s.name.endswith("_total")
    }
    assert uploads["resumable"] >= video.stat().st_size + REAL_CLIP.stat().st_size
    routes = {s.labels["route"] for s in api_families["roadwitness_http_requests"].samples}
    assert "/v1/uploads/{upload_id}" in routes

    worker_families = _families(worker_text)
    assert set(worker_families) >= WORKER_FAMILIES, WORKER_FAMILIES - set(worker_families)
    staged = {
        s.labels["stage"]
        for s in worker_families["roadwitness_stage_duration_seconds"].samples
        if s.name.endswith("_count") and s.value >= 1
    }
    assert staged == STAGES
    jobs = {s.labels["outcome"]: s.value for s in worker_families["roadwitness_jobs"].samples}
    assert jobs.get("done") == 2

    with sessions() as session:
        case_ids = set(
            session.scalars(select(Case.id).where(Case.submission_id == reported.submission_id))
        )
    assert case_ids
    lines = [
        json.loads(line)
        for line in worker.log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    assert lines, worker.log()
    of_job = [line for line in lines if line.get("submission_id") == reported.submission_id]
    assert of_job and all(line["job_id"] for line in of_job)
    assert {line.get("case_id") for line in of_job} >= case_ids
    assert all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)


def _get(url: str) -> int:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return 0
