"""Reference dashcam client for the reporting protocol (docs/protocol.md), also importable.

It signs every request, sends the clip in chunks, and after a cut connection asks the server
for its offset and resumes, retrying with exponential backoff; re-sending the same event id
never makes a second report.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import ssl
import time
import uuid
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from ingest.direct_parts import part_size_for
from ingest.signing import sign_headers
from ingest.store import sha256_file

TRACK_FORMATS = {".nmea": "nmea", ".txt": "nmea", ".log": "nmea", ".gpx": "gpx", ".json": "json"}
RETRYABLE = {408, 423, 425, 429, 500, 502, 503, 504}
PARALLEL_PARTS = 1
"""Parts a direct upload sends at once by default. One: a store serving many devices gains
nothing from more connections and spends more CPU on them (benchmarks/upload.py, 32 clients:
SeaweedFS used about 1.5x the CPU with 3 at a time); raise it (``parallel_parts``) for a single
device on a link with a long round trip."""


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client of this process: making one costs more CPU than
    sending a 20 MB clip to a store on the same network."""
    return ssl.create_default_context()


class ProtocolError(RuntimeError):
    def __init__(self, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {"error": "http_error", "detail": response.text[:200]}
        self.status, self.code = response.status_code, body.get("error", "http_error")
        super().__init__(f"{response.status_code} {self.code}: {body.get('detail', '')}")


@dataclass(frozen=True, slots=True)
class DeviceCredential:
    device: str
    key_id: str
    private_key: str

    @classmethod
    def load(cls, path: Path) -> DeviceCredential:
        data = json.loads(path.read_text())
        return cls(data["device"], data["key_id"], data["private_key"])

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                {"device": self.device, "key_id": self.key_id, "private_key": self.private_key},
                indent=2,
            )
        )
        path.chmod(0o600)


@dataclass(frozen=True, slots=True)
class Reported:
    submission_id: str
    upload_id: str
    resumes: int
    """How many times the upload resumed after a failure."""


def _resumable(response: httpx.Response) -> bool:
    """Worth a HEAD and another try: a passing server state, an offset the server does not
    share (our last chunk did land), or our clock (now corrected)."""
    if response.status_code in RETRYABLE or response.status_code == 409:
        return response.status_code != 409 or "offset_mismatch" in response.text
    return response.status_code == 401 and "clock_skew" in response.text


def digests(clip: Path, part_size: int) -> tuple[str, list[str]]:
    """The file's SHA-256 and each part's CRC32 (base64 of its 4 big-endian bytes), in one
    read of the file."""
    sha, crcs, block = hashlib.sha256(), list[str](), 1 << 20
    with clip.open("rb", buffering=0) as fh:
        while True:
            crc, got = 0, 0
            while got < part_size:
                data = fh.read(min(block, part_size - got))
                if not data:
                    break
                sha.update(data)
                crc, got = zlib.crc32(data, crc), got + len(data)
            if got or not crcs:
                crcs.append(base64.b64encode(crc.to_bytes(4, "big")).decode())
            if got < part_size:
                break
    return sha.hexdigest(), crcs


def track_payload(track: Path) -> dict[str, str]:
    """A GPS log as the event's ``track``: a receiver's log is sent as it is, but for what no
    JSON text can carry to the API (bytes that are not UTF-8, binary packets between the
    sentences, an SD card's NUL padding), which holds no sentence."""
    fmt = TRACK_FORMATS.get(track.suffix.lower())
    if fmt is None:
        raise ValueError(f"unknown track format {track.suffix}; use .nmea, .gpx or .json")
    text = track.read_bytes().decode("utf-8", errors="replace")
    return {"format": fmt, "data": text.replace("\x00", "") if fmt == "nmea" else text}


class DashcamClient:
    def __init__(
        self,
        base_url: str,
        credential: DeviceCredential,
        *,
        chunk_size: int = 1 << 20,
        timeout: float = 30.0,
        max_failures: int = 30,
        max_backoff_s: float = 30.0,
        on_progress: Callable[[int, int], None] | None = None,
        parallel_parts: int = PARALLEL_PARTS,
    ) -> None:
        self.credential = credential
        self.parallel_parts = parallel_parts
        self.chunk_size = chunk_size
        self.max_failures = max_failures
        self.max_backoff_s = max_backoff_s
        self.on_progress = on_progress
        self.clock_offset = 0.0
        self.http = httpx.Client(base_url=base_url, timeout=timeout, verify=_tls())
        self._store: httpx.Client | None = None

    @property
    def store(self) -> httpx.Client:
        """The client for the store's presigned URLs (direct uploads), made once: a client's
        set-up costs more CPU than sending a part."""
        if self._store is None:
            self._store = httpx.Client(timeout=self.http.timeout, verify=_tls())
        return self._store

    def close(self) -> None:
        self.http.close()
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> DashcamClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _backoff(self, failures: int) -> None:
        """Exponential backoff with jitter: 0.2 s x 2^n, capped, times 0.5-1."""
        time.sleep(min(self.max_backoff_s, 0.2 * 2 ** min(failures, 8)) * random.uniform(0.5, 1))

    def _send(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        signed = sign_headers(
            self.credential.private_key,
            self.credential.device,
            self.credential.key_id,
            method,
            path,
            hashlib.sha256(body).hexdigest(),
            int(time.time() + self.clock_offset),
        )
        response = self.http.request(
            method, path, content=body, headers={**signed, **(headers or {})}
        )
        if (
            response.status_code == 401
            and response.headers.get("content-type", "").startswith("application/json")
            and response.json().get("error") == "clock_skew"
        ):
            self._sync_clock(response)
        return response

    def _sync_clock(self, response: httpx.Response) -> None:
        """Our clock is off: take the server's time from its Date header, then try again."""
        if "date" in response.headers:
            server = parsedate_to_datetime(response.headers["date"]).timestamp()
            self.clock_offset = server - time.time()

    def _retrying(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        failures = 0
        while True:
            try:
                response = self._send(method, path, body, headers)
                retry = response.status_code in RETRYABLE or (
                    response.status_code == 401 and "clock_skew" in response.text
                )
                if not retry:
                    return response
            except httpx.TransportError:
                pass
            failures += 1
            if failures > self.max_failures:
                raise ConnectionError(f"{method} {path}: giving up after {failures} failures")
            self._backoff(failures)

    def report(
        self,
        clip: Path,
        *,
        event_id: str | None = None,
        track: Path | None = None,
        trigger: str = "button",
        declared_violation: str | None = None,
        clip_start: datetime | None = None,
        direct: bool = False,
    ) -> Reported:
        """Report one clip (with its GPS track): open the event, upload, resume as needed.
        ``direct``: send the bytes straight to the store (protocol v2, S3 mode servers)."""
        size = clip.stat().st_size
        media: dict[str, Any] = {"size": size, "filename": clip.name}
        if direct:  # v2: each part's CRC32 too, from the same read (section 6.3)
            part_size = part_size_for(size)
            media["sha256"], crc32 = digests(clip, part_size)
            media["parts"] = {"size": part_size, "crc32": crc32}
        else:
            media["sha256"] = sha256_file(clip)
        event: dict[str, Any] = {
            "event_id": event_id or uuid.uuid4().hex,
            "trigger": trigger,
            "device_time": datetime.now(UTC).isoformat(),
            "media": media,
        }
        if direct:  # v2: the plan comes in the answer (a server without S3 answers it null)
            event["transfer"] = "direct"
        if clip_start is not None:
            event["clip_start"] = clip_start.isoformat()
        if declared_violation:
            event["declared_violation"] = declared_violation
        if track is not None:
            event["track"] = track_payload(track)
        opened = self._retrying(
            "POST", "/v1/events", json.dumps(event).encode(), {"Content-Type": "application/json"}
        )
        if opened.status_code not in (200, 201):
            raise ProtocolError(opened)
        upload = opened.json()
        if upload["submission_id"]:
            return Reported(upload["submission_id"], upload["upload_id"], 0)
        if direct:
            return self._upload_direct(clip, upload["upload_id"], upload.get("direct"))
        return self._upload(clip, upload["upload_url"], upload["upload_id"], upload["offset"], size)

    def _upload(self, clip: Path, url: str, upload_id: str, offset: int, size: int) -> Reported:
        resumes, failures = 0, 0
        with clip.open("rb") as fh:
            while True:
                fh.seek(offset)
                chunk = fh.read(self.chunk_size)
                try:
                    response = self._send(
                        "PATCH",
                        url,
                        chunk,
                        {
                            "Tus-Resumable": "1.0.0",
                            "Upload-Offset": str(offset),
                            "Content-Type": "application/offset+octet-stream",
                        },
                    )
                except httpx.TransportError:
                    response = None
                if response is not None and response.status_code == 204:
                    offset = int(response.headers["Upload-Offset"])
                    failures = 0
                    if self.on_progress is not None:
                        self.on_progress(offset, size)
                    if "RW-Submission-Id" in response.headers:
                        return Reported(response.headers["RW-Submission-Id"], upload_id, resumes)
                    continue
                if response is not None and not _resumable(response):
                    raise ProtocolError(response)
                failures += 1
                if failures > self.max_failures:
                    raise ConnectionError(
                        f"upload {upload_id}: giving up after {failures} failures"
                    )
                self._backoff(failures)
                head = self._retrying("HEAD", url)
                if head.status_code != 200:
                    raise ProtocolError(head)
                if "RW-Submission-Id" in head.headers:
                    return Reported(head.headers["RW-Submission-Id"], upload_id, resumes + 1)
                offset, resumes = int(head.headers["Upload-Offset"]), resumes + 1

    def _send_part(self, clip: Path, part: dict[str, Any]) -> dict[str, Any] | None:
        """Send one part unless the store has it: with the headers the plan names (its CRC32,
        signed into the URL), or else with ``Content-MD5``; its number and MD5 (None: its
        CRC32 was declared instead)."""
        signed = part.get("headers") or {}
        if signed and part["done"]:
            return None
        with clip.open("rb", buffering=0) as fh:
            fh.seek(part["offset"])
            data = fh.read(part["size"])
        if signed:  # the store checks the body against the CRC32 in the URL's signature
            self.store.put(part["url"], content=data, headers=signed).raise_for_status()
            return None
        md5 = hashlib.md5(data, usedforsecurity=False)  # transport integrity, per part
        if not part["done"]:
            headers = {"Content-MD5": base64.b64encode(md5.digest()).decode()}
            self.store.put(part["url"], content=data, headers=headers).raise_for_status()
        return {"number": part["number"], "md5": md5.hexdigest()}

    def _plan(self, plan_path: str) -> dict[str, Any]:
        answer = self._retrying("POST", plan_path)
        if answer.status_code != 200:
            raise ProtocolError(answer)
        plan: dict[str, Any] = answer.json()
        return plan

    def _upload_direct(
        self, clip: Path, upload_id: str, first_plan: dict[str, Any] | None = None
    ) -> Reported:
        """Protocol v2, 6.3: parts to the store's presigned URLs, then one completion.
        ``first_plan``: the plan that came with the event's answer, if it did."""
        plan_path = f"/v1/uploads/{upload_id}/direct"
        resumes, failures = 0, 0
        while True:
            plan, first_plan = first_plan or self._plan(plan_path), None
            if plan["submission_id"]:
                return Reported(plan["submission_id"], upload_id, resumes)
            try:
                # The parts go to the store's own (absolute, presigned) URLs, not to the API,
                # parallel_parts at a time, each with its MD5: the store refuses a part that
                # arrives changed, and the digests let the server check the file in place.
                parts = plan["parts"]
                if self.parallel_parts > 1 and len(parts) > 1:
                    with ThreadPoolExecutor(min(self.parallel_parts, len(parts))) as pool:
                        sent = list(pool.map(lambda part: self._send_part(clip, part), parts))
                else:  # one at a time: no pool of threads to start
                    sent = [self._send_part(clip, part) for part in parts]
                body = json.dumps({"parts": [d for d in sent if d is not None]}).encode()
                done = self._retrying(
                    "POST", f"{plan_path}/complete", body, {"Content-Type": "application/json"}
                )
            except httpx.HTTPError as exc:
                failures, resumes = failures + 1, resumes + 1
                if failures > self.max_failures:
                    raise ConnectionError(
                        f"upload {upload_id}: giving up after {failures} failures"
                    ) from exc
                self._backoff(failures)
                continue
            if done.status_code == 200:
                return Reported(done.json()["submission_id"], upload_id, resumes)
            if done.status_code == 409 and done.json().get("error") == "parts_missing":
                failures, resumes = failures + 1, resumes + 1  # a part was lost: plan again
                if failures > self.max_failures:
                    raise ProtocolError(done)
                continue
            raise ProtocolError(done)
