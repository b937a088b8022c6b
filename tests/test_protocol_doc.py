"""Every example in docs/protocol.md is a real byte string: its signatures verify."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from ingest.signing import canonical, public_from_private, verify

DOC = (Path(__file__).resolve().parents[1] / "docs" / "protocol.md").read_text()


def block(tag: str) -> str:
    match = re.search(rf"```\w* {tag}\n(.*?)\n```", DOC, re.S)
    assert match, f"no {tag} block in docs/protocol.md"
    return match.group(1)


def headers(text: str) -> tuple[str, str, dict[str, str]]:
    first, *rest = text.splitlines()
    method, path, _ = first.split(" ")
    return method, path, dict(line.split(": ", 1) for line in rest)


def test_example_key_is_the_one_described() -> None:
    seed = re.search(r"private seed `([^`]+)`", DOC).group(1)  # type: ignore[union-attr]
    public = re.search(r"public key `([^`]+)`", DOC).group(1)  # type: ignore[union-attr]
    assert base64.b64decode(seed) == bytes(range(32))
    assert public_from_private(seed) == public


def test_event_example_signature_verifies() -> None:
    public = re.search(r"public key `([^`]+)`", DOC).group(1)  # type: ignore[union-attr]
    body = block("example-body").encode()
    method, path, sent = headers(block("example-headers"))
    digest = hashlib.sha256(body).hexdigest()
    assert sent["RW-Content-SHA256"] == digest
    message = canonical(method, path, int(sent["RW-Timestamp"]), sent["RW-Nonce"], digest)
    assert block("example-canonical").encode() == message
    assert verify(public, sent["RW-Signature"], message)
    assert not verify(public, sent["RW-Signature"], message.replace(b"POST", b"PUT"))


def test_chunk_example_signature_verifies() -> None:
    public = re.search(r"public key `([^`]+)`", DOC).group(1)  # type: ignore[union-attr]
    chunk = bytes.fromhex(re.search(r"24 bytes \(hex\)\n`([0-9a-f]+)`", DOC).group(1))  # type: ignore[union-attr]
    method, path, sent = headers(block("example-chunk"))
    digest = hashlib.sha256(chunk).hexdigest()
    assert sent["RW-Content-SHA256"] == digest
    message = canonical(method, path, int(sent["RW-Timestamp"]), sent["RW-Nonce"], digest)
    assert verify(public, sent["RW-Signature"], message)


def test_event_example_body_is_a_valid_event() -> None:
    from api.schemas_protocol import EventIn
    from ingest.tracks import parse

    event = EventIn.model_validate_json(block("example-body"))
    assert event.track is not None
    points = parse(event.track.data, event.track.format)
    assert event.clip_start is not None and points[0].at == event.clip_start
