"""Request signing for devices (protocol v1, see docs/protocol.md).

A device signs every request with its Ed25519 key over a canonical string:

    RW1-ED25519\\n{METHOD}\\n{path}\\n{timestamp}\\n{nonce}\\n{hex SHA-256 of the body}

Ed25519 rather than an HMAC secret: the server keeps only public keys, so a leak of the
server's database lets nobody forge a device's reports; and signatures are 64 bytes,
deterministic, and available in every embedded TLS stack (mbedTLS, wolfSSL, TweetNaCl).
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SCHEME = "RW1-ED25519"
HEADERS = (
    "RW-Device",
    "RW-Key-Id",
    "RW-Timestamp",
    "RW-Nonce",
    "RW-Content-SHA256",
    "RW-Signature",
)
MAX_SKEW_S = 300
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def canonical(method: str, path: str, timestamp: int, nonce: str, body_sha256: str) -> bytes:
    return "\n".join([SCHEME, method.upper(), path, str(timestamp), nonce, body_sha256]).encode()


@dataclass(frozen=True, slots=True)
class KeyPair:
    private_b64: str
    """The 32-byte Ed25519 seed, base64: the device's secret."""
    public_b64: str


def new_keypair() -> KeyPair:
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes_raw()
    return KeyPair(base64.b64encode(seed).decode(), base64.b64encode(public).decode())


def public_from_private(private_b64: str) -> str:
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return base64.b64encode(private.public_key().public_bytes_raw()).decode()


def sign_headers(
    private_b64: str,
    device: str,
    key_id: str,
    method: str,
    path: str,
    body_sha256: str,
    timestamp: int,
    nonce: str | None = None,
) -> dict[str, str]:
    """The six RW-* headers that authenticate one request."""
    nonce = nonce or secrets.token_urlsafe(18)
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    signature = private.sign(canonical(method, path, timestamp, nonce, body_sha256))
    return {
        "RW-Device": device,
        "RW-Key-Id": key_id,
        "RW-Timestamp": str(timestamp),
        "RW-Nonce": nonce,
        "RW-Content-SHA256": body_sha256,
        "RW-Signature": base64.b64encode(signature).decode(),
    }


def verify(public_b64: str, signature_b64: str, message: bytes) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))
        public.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def valid_public_key(public_b64: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))
    except ValueError:
        return False
    return True
