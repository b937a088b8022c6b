"""One contract, every object store: the local folder and a real S3-compatible server."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.store import LocalStore, ObjectExists, ObjectMissing, ObjectStore, S3Store


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalStore(tmp_path / "objects")
    else:
        server = request.getfixturevalue("s3_server")
        yield S3Store.connect(
            server.endpoint,
            server.access_key,
            server.secret_key,
            f"contract-{uuid.uuid4().hex[:8]}",
        )


def test_put_file_keeps_bytes_and_sha256(store: ObjectStore, tmp_path: Path) -> None:
    data = b"\x00\x01" * 300_000 + b"end"
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    stored = store.put_file("originals/ab/one", src, "video/mp4")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert store.stat("originals/ab/one") == stored
    assert b"".join(store.iter_bytes("originals/ab/one", 4096)) == data
    out = tmp_path / "out.bin"
    store.download("originals/ab/one", out)
    assert out.read_bytes() == data


def test_objects_are_written_once(store: ObjectStore) -> None:
    store.put_bytes("evidence/x.jpg", b"first", "image/jpeg")
    with pytest.raises(ObjectExists):
        store.put_bytes("evidence/x.jpg", b"second", "image/jpeg")
    assert b"".join(store.iter_bytes("evidence/x.jpg")) == b"first"


def test_missing_objects(store: ObjectStore) -> None:
    assert not store.exists("nope/none")
    with pytest.raises(ObjectMissing):
        store.stat("nope/none")
    with pytest.raises(ObjectMissing):
        b"".join(store.iter_bytes("nope/none"))


def test_delete(store: ObjectStore) -> None:
    store.put_bytes("tmp/gone", b"bye", "text/plain")
    store.delete("tmp/gone")
    assert not store.exists("tmp/gone")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a"])
def test_bad_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put_bytes(key, b"x", "text/plain")


@pytest.mark.integration
def test_s3_refuses_a_wrong_secret(s3_server: Any) -> None:
    from minio.error import S3Error

    with pytest.raises(S3Error, match=r"AccessDenied|SignatureDoesNotMatch|InvalidAccessKeyId"):
        S3Store.connect(s3_server.endpoint, s3_server.access_key, "not-the-secret", "any-bucket")
