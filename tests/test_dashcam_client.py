"""The reference dashcam client through a link that cuts out several times mid-upload."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from harness.processes import api_server
from ingest.db import Submission, make_engine, make_sessionmaker
from ingest.identity import Identity
from ingest.migrate import upgrade
from ingest.store import LocalStore
from ingest.submissions import original_key
from roadwitness.dashcam import DashcamClient, DeviceCredential
from tests.conftest import DATA_DIR, MODELS_DIR
from tests.proxy import cutting_proxy
from tests.tracks import drive, gpx

pytestmark = pytest.mark.integration


def test_upload_survives_cut_connections(tmp_path: Path) -> None:
    clip = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
    settings = {"data_dir": tmp_path / "var", "models_dir": MODELS_DIR}
    url = f"sqlite:///{tmp_path / 'var' / 'roadwitness.db'}"
    upgrade(url)
    sessions = make_sessionmaker(make_engine(url))
    issued = Identity(sessions).register_device("cam-tunnel", "Zhang Wei", "RW-Cam 2")
    assert issued.private_key is not None
    credential = DeviceCredential(issued.device_id, issued.key_id, issued.private_key)
    track = tmp_path / "drive.gpx"
    track.write_text(gpx(drive()))
    size = clip.stat().st_size
    assert size > 2_000_000

    with (
        api_server(settings, tmp_path) as api,
        cutting_proxy(
            api.port,
            cut_after=300_000,  # type: ignore[attr-defined]
            cuts=4,
        ) as proxy,
    ):
        with DashcamClient(
            f"http://127.0.0.1:{proxy.port}", credential, chunk_size=256 * 1024, max_backoff_s=0.5
        ) as client:
            first = client.report(clip, event_id="evt-tunnel", track=track)
        assert proxy.cuts_done == 4 and first.resumes >= 3
        with DashcamClient(f"http://127.0.0.1:{proxy.port}", credential) as client:
            again = client.report(clip, event_id="evt-tunnel", track=track)
        assert again.submission_id == first.submission_id

    digest = hashlib.sha256(clip.read_bytes()).hexdigest()
    stored = LocalStore(tmp_path / "var" / "objects")
    assert stored.stat(original_key(digest)).sha256 == digest
    out = tmp_path / "back.mp4"
    stored.download(original_key(digest), out)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 1
        sub = session.get(Submission, first.submission_id)
        assert sub is not None and sub.place_source == "device_track"
