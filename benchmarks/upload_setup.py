"""What the upload benchmarks set up alike: the API's settings in S3 mode and the dashcams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.db import make_engine, make_sessionmaker
from ingest.identity import Identity
from roadwitness.dashcam import DeviceCredential

SHARED = Path(__file__).resolve().parents[2] / "shared"


def s3_settings(work: Path, s3: Any, bucket: str, database_url: str) -> dict[str, Any]:
    """The API's settings in S3 mode on ``s3`` (harness.servers.seaweed_s3)."""
    return {
        "data_dir": work / "var",
        "models_dir": SHARED / "models",
        "store": "s3",
        "s3_endpoint": s3.endpoint,
        "s3_access_key": s3.access_key,
        "s3_secret_key": s3.secret_key,
        "s3_bucket": bucket,
        "database_url": database_url,
    }


def register_devices(database_url: str, count: int, prefix: str) -> list[DeviceCredential]:
    """``count`` dashcams registered in the database, with their signing keys."""
    identity = Identity(make_sessionmaker(make_engine(database_url)))
    creds = []
    for i in range(count):
        issued = identity.register_device(f"{prefix}-{i:03d}", "bench", "bench")
        assert issued.private_key is not None
        creds.append(DeviceCredential(issued.device_id, issued.key_id, issued.private_key))
    return creds
