"""Object store: originals and evidence, written once, each with its SHA-256.

Two implementations of one small interface: a local folder (the embedded default) and any
S3-compatible server (MinIO in production) through the ``minio`` client.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    sha256: str
    size: int
    content_type: str
    checked: str = "sha256"
    """How the store's object was checked against ``sha256``: ``sha256`` (its bytes were hashed
    whole), or ``parts`` (a direct upload: each part's MD5 as the store computed it matched the
    sender's; the whole hash is checked on the first full read, see docs/protocol.md 6.3)."""


class ObjectExists(FileExistsError):
    """Objects are written once; this key already holds one."""


class ObjectMissing(FileNotFoundError):
    pass


class ObjectCorrupt(ValueError):
    """An object's bytes do not hash to the SHA-256 it is stored under."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_object(store: ObjectStore, key: str) -> str:
    """SHA-256 of a stored object's bytes, read whole."""
    digest = hashlib.sha256()
    for block in store.iter_bytes(key, 4 * CHUNK):
        digest.update(block)
    return digest.hexdigest()


def download_checked(store: ObjectStore, key: str, path: Path, sha256: str) -> None:
    """Download an original, hashing it on the way: raises :class:`ObjectCorrupt` unless its
    bytes are ``sha256``. The first full read of a direct upload's original confirms it."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for block in store.iter_bytes(key, 4 * CHUNK):
            digest.update(block)
            out.write(block)
    if digest.hexdigest() != sha256:
        raise ObjectCorrupt(f"{key}: its bytes hash to {digest.hexdigest()}, not {sha256}")


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid object key {key!r}")
    return key


class ObjectStore(Protocol):
    def put_file(
        self, key: str, path: Path, content_type: str, sha256: str | None = None
    ) -> StoredObject:
        """Store the file at ``key`` (``sha256``: its digest, when the caller already has it);
        raises :class:`ObjectExists` if the key is taken."""

    def put_bytes(self, key: str, data: bytes, content_type: str) -> StoredObject: ...

    def stat(self, key: str) -> StoredObject:
        """The object's facts; raises :class:`ObjectMissing`."""

    def exists(self, key: str) -> bool: ...

    def iter_bytes(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]: ...

    def download(self, key: str, path: Path) -> None: ...

    def delete(self, key: str) -> None: ...


class LocalStore:
    """Objects as files under a folder, with a ``.meta.json`` sidecar each."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def _meta(self, key: str) -> Path:
        return self._path(key).with_name(self._path(key).name + ".meta.json")

    def put_file(
        self, key: str, path: Path, content_type: str, sha256: str | None = None
    ) -> StoredObject:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        obj = StoredObject(key, sha256 or sha256_file(path), path.stat().st_size, content_type)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out, path.open("rb") as src:
                for block in iter(lambda: src.read(CHUNK), b""):
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            self._meta(key).write_text(
                json.dumps({"sha256": obj.sha256, "size": obj.size, "content_type": content_type})
            )
            try:
                os.link(tmp, target)  # atomic, and refuses an existing key
            except FileExistsError as exc:
                raise ObjectExists(key) from exc
        finally:
            os.unlink(tmp)
        return obj

    def put_bytes(self, key: str, data: bytes, content_type: str) -> StoredObject:
        with tempfile.NamedTemporaryFile() as tmp:
            tmp.write(data)
            tmp.flush()
            return self.put_file(key, Path(tmp.name), content_type)

    def stat(self, key: str) -> StoredObject:
        if not self._path(key).is_file():
            raise ObjectMissing(key)
        meta = json.loads(self._meta(key).read_text())
        return StoredObject(key, meta["sha256"], meta["size"], meta["content_type"])

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def iter_bytes(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        try:
            fh = self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        with fh:
            yield from iter(lambda: fh.read(chunk_size), b"")

    def download(self, key: str, path: Path) -> None:
        with path.open("wb") as out:
            for block in self.iter_bytes(key):
                out.write(block)

    def delete(self, key: str) -> None:
        for p in (self._path(key), self._meta(key)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


class S3Store:
    """Objects in one bucket of an S3-compatible server; SHA-256 kept as user metadata."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @classmethod
    def connect(
        cls,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = False,
        region: str = "us-east-1",
    ) -> S3Store:
        import urllib3
        from minio import Minio

        # One connection per request thread: the API's thread pool (40) talks to the store at
        # once; urllib3's default pool of 10 would open and drop connections beyond that.
        http = urllib3.PoolManager(
            maxsize=64,
            timeout=urllib3.Timeout(connect=10, read=300),
            retries=urllib3.Retry(
                total=5, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
            ),
        )
        client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http,
        )
        if not client.bucket_exists(bucket):
            from minio.error import S3Error

            try:
                client.make_bucket(bucket)
            except S3Error as exc:  # another API process made it meanwhile
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        return cls(client, bucket)

    def _put(
        self, key: str, stream: BinaryIO, size: int, sha256: str, content_type: str
    ) -> StoredObject:
        if self.exists(key):
            raise ObjectExists(key)
        self.client.put_object(
            self.bucket,
            _check_key(key),
            stream,
            size,
            content_type=content_type,
            metadata={"sha256": sha256},
            part_size=16 * CHUNK,
        )
        return StoredObject(key, sha256, size, content_type)

    def put_file(
        self, key: str, path: Path, content_type: str, sha256: str | None = None
    ) -> StoredObject:
        digest, size = sha256 or sha256_file(path), path.stat().st_size
        with path.open("rb") as fh:
            return self._put(key, fh, size, digest, content_type)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> StoredObject:
        digest = hashlib.sha256(data).hexdigest()
        return self._put(key, io.BytesIO(data), len(data), digest, content_type)

    def stat(self, key: str) -> StoredObject:
        from minio.error import S3Error

        try:
            st = self.client.stat_object(self.bucket, _check_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                raise ObjectMissing(key) from exc
            raise
        meta = {k.lower(): v for k, v in (st.metadata or {}).items()}
        return StoredObject(
            key,
            meta.get("x-amz-meta-sha256", ""),
            int(st.size or 0),
            st.content_type or "application/octet-stream",
            meta.get("x-amz-meta-checked", "sha256"),
        )

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectMissing:
            return False
        return True

    def iter_bytes(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        from minio.error import S3Error

        try:
            response = self.client.get_object(self.bucket, _check_key(key))
        except S3Error as exc:
            raise ObjectMissing(key) from exc
        try:
            yield from response.stream(chunk_size)
        finally:
            response.close()
            response.release_conn()

    def download(self, key: str, path: Path) -> None:
        with path.open("wb") as out:
            for block in self.iter_bytes(key):
                out.write(block)

    def open_ranged(self, key: str, size: int) -> io.BufferedReader:
        """A seekable read-only file over the object, fetched by range as it is read: a probe
        that needs a video's header and first frame reads those, not the whole file (its
        ``raw``: the :class:`RangedReader`, with the object's metadata once a byte is read)."""
        return io.BufferedReader(RangedReader(self, _check_key(key), size), 1 << 16)

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        return self.read_range_meta(key, offset, length)[0]

    def read_range_meta(self, key: str, offset: int, length: int) -> tuple[bytes, dict[str, str]]:
        """The bytes of a range, and the object's metadata (``x-amz-meta-*``) as the answer
        gave them (a ``HEAD`` fewer for a reader that needs both)."""
        response = self.client.get_object(self.bucket, key, offset=offset, length=length)
        try:
            meta = {
                k.lower(): v
                for k, v in response.headers.items()
                if k.lower().startswith("x-amz-meta-")
            }
            return bytes(response.data), meta
        finally:
            response.close()
            response.release_conn()

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, _check_key(key))


class RangedReader(io.RawIOBase):
    """Read-only, seekable view of an S3 object; each miss fetches one aligned block (1 MiB) by
    a range request, and the last few blocks are kept."""

    BLOCK = 1 << 20

    def __init__(self, store: S3Store, key: str, size: int, keep: int = 8) -> None:
        self.store, self.key, self.size, self.keep = store, key, size, keep
        self.pos = 0
        self.blocks: dict[int, bytes] = {}
        self.fetched = 0
        """Bytes read from the store so far."""
        self.meta: dict[str, str] | None = None
        """The object's ``x-amz-meta-*`` headers, from the first range read."""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def _block(self, index: int) -> bytes:
        block = self.blocks.get(index)
        if block is None:
            start = index * self.BLOCK
            block, meta = self.store.read_range_meta(
                self.key, start, min(self.BLOCK, self.size - start)
            )
            if self.meta is None:
                self.meta = meta
            self.fetched += len(block)
            if len(self.blocks) >= self.keep:
                self.blocks.pop(next(iter(self.blocks)))
            self.blocks[index] = block
        return block

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self.pos < self.size:
            index, within = divmod(self.pos, self.BLOCK)
            block = self._block(index)
            take = min(len(view) - done, len(block) - within)
            view[done : done + take] = block[within : within + take]
            done += take
            self.pos += take
        return done
