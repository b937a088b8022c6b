"""Who is calling: devices (Ed25519-signed requests) and app reporters (bearer tokens).

Devices are registered by an administrator; keys rotate (the old key stays valid for a grace
period) and can be revoked. A signed request is refused when it is outside the clock-skew
window, reuses a nonce, carries a bad signature, or comes from a revoked device or key; each
refusal has a machine-readable code (docs/protocol.md).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.audit import audit
from ingest.db import Device, DeviceKey, Nonce, Reporter, now
from ingest.errors import Refused
from ingest.signing import HEADERS, MAX_SKEW_S, NONCE, canonical, new_keypair, valid_public_key
from ingest.signing import verify as verify_signature

DEVICE_ID = re.compile(r"^[A-Za-z0-9._-]{3,64}$")
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
TIMESTAMP = re.compile(r"[0-9]{1,12}")
"""Unix seconds as ASCII digits: a longer number is no clock's (and past 10**308 it is no
float either, so the skew could not even be computed)."""


class AuthError(Refused):
    """The caller is not who it claims, or may not do this."""


@dataclass(frozen=True, slots=True)
class Caller:
    kind: str
    """device or reporter."""
    id: str

    @property
    def owner(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True)
class Credential:
    device_id: str
    key_id: str
    public_key: str
    private_key: str | None
    """Only when the server generated the pair: shown once, never stored."""


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Identity:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    # -- devices -------------------------------------------------------------------------
    def register_device(
        self,
        device_id: str,
        owner: str,
        model: str,
        public_key: str | None = None,
        actor: str = "admin",
    ) -> Credential:
        if not DEVICE_ID.fullmatch(device_id):
            raise ValueError("device id: 3-64 characters of letters, digits, '.', '_', '-'")
        taken = f"device {device_id} is already registered"
        try:
            with self.sessions.begin() as session:
                if session.get(Device, device_id) is not None:
                    raise ValueError(taken)
                session.add(Device(id=device_id, owner=owner, model=model))
                session.flush()
                credential = self._add_key(session, device_id, public_key)
                audit(
                    session,
                    actor,
                    "device_registered",
                    "device",
                    device_id,
                    {"owner": owner, "model": model, "key": credential.key_id},
                )
        except IntegrityError:  # registered by another request since the check above
            raise ValueError(taken) from None
        return credential

    def _add_key(self, session: Session, device_id: str, public_key: str | None) -> Credential:
        private = None
        if public_key is None:
            pair = new_keypair()
            public_key, private = pair.public_b64, pair.private_b64
        elif not valid_public_key(public_key):
            raise ValueError("the public key must be a base64 raw 32-byte Ed25519 key")
        key_id = secrets.token_hex(8)
        session.add(DeviceKey(id=key_id, device_id=device_id, public_key=public_key))
        return Credential(device_id, key_id, public_key, private)

    def rotate_key(
        self,
        device_id: str,
        public_key: str | None = None,
        grace: timedelta = timedelta(hours=24),
        actor: str = "admin",
    ) -> Credential:
        with self.sessions.begin() as session:
            device = session.get(Device, device_id)
            if device is None or device.revoked_at is not None:
                raise ValueError(f"device {device_id} is not registered or is revoked")
            for key in device.keys:
                if key.revoked_at is None and key.not_after is None:
                    key.not_after = now() + grace
            credential = self._add_key(session, device_id, public_key)
            audit(
                session,
                actor,
                "device_key_rotated",
                "device",
                device_id,
                {"key": credential.key_id},
            )
        return credential

    def revoke_device(self, device_id: str, actor: str = "admin") -> None:
        with self.sessions.begin() as session:
            device = session.get(Device, device_id)
            if device is None:
                raise ValueError(f"device {device_id} is not registered")
            device.revoked_at = now()
            audit(session, actor, "device_revoked", "device", device_id, {})

    def verify_device(self, headers: Mapping[str, str], method: str, path: str) -> Caller:
        """Check a signed request's headers (the body's digest is checked by the caller)."""
        values = {h: headers.get(h.lower()) or headers.get(h) for h in HEADERS}
        missing = [h for h, v in values.items() if not v]
        if missing:
            raise AuthError(401, "missing_signature", f"missing headers: {', '.join(missing)}")
        device_id, key_id = values["RW-Device"] or "", values["RW-Key-Id"] or ""
        if not DEVICE_ID.fullmatch(device_id):  # never registered: no need to ask the database
            raise AuthError(401, "unknown_device", "RW-Device is not a registered device id")
        if not KEY_ID.fullmatch(key_id):
            raise AuthError(401, "unknown_key", "RW-Key-Id is not a key id")
        if not TIMESTAMP.fullmatch(values["RW-Timestamp"] or ""):
            raise AuthError(401, "bad_timestamp", "RW-Timestamp must be Unix seconds")
        timestamp = int(values["RW-Timestamp"] or "")
        nonce = values["RW-Nonce"] or ""
        if not NONCE.fullmatch(nonce):
            raise AuthError(401, "bad_nonce", "RW-Nonce: 16-64 characters of [A-Za-z0-9_-]")
        digest = (values["RW-Content-SHA256"] or "").lower()
        # One transaction: the device and key read, and the nonce written once the signature
        # verifies (every signed request pays this, so each database round trip counts).
        with self.sessions.begin() as session:
            # The device and the named key in one query (a key of another device reads as
            # none), with no ORM objects to build.
            row = session.execute(
                select(
                    Device.revoked_at,
                    DeviceKey.device_id,
                    DeviceKey.public_key,
                    DeviceKey.revoked_at,
                    DeviceKey.not_after,
                )
                .select_from(Device)
                .outerjoin(DeviceKey, DeviceKey.id == key_id)
                .where(Device.id == device_id)
            ).one_or_none()
            if row is None:
                raise AuthError(401, "unknown_device", f"device {device_id} is not registered")
            device_revoked, key_device, public_key, key_revoked, not_after = row
            if device_revoked is not None:
                raise AuthError(403, "device_revoked", f"device {device_id} is revoked")
            if key_device != device_id:
                raise AuthError(401, "unknown_key", f"key {key_id} is not a key of {device_id}")
            t = now()
            if key_revoked is not None or (not_after is not None and not_after < t):
                raise AuthError(403, "key_revoked", f"key {key_id} was rotated out or revoked")
            skew = abs(t.timestamp() - timestamp)
            if skew > MAX_SKEW_S:
                raise AuthError(
                    401,
                    "clock_skew",
                    f"RW-Timestamp is {skew:.0f} s from server time {int(t.timestamp())}",
                )
            message = canonical(method, path, timestamp, nonce, digest)
            if not verify_signature(public_key, values["RW-Signature"] or "", message):
                raise AuthError(401, "bad_signature", "the signature does not verify")
            try:
                session.execute(insert(Nonce).values(device_id=device_id, nonce=nonce))
            except IntegrityError:
                raise AuthError(401, "replayed_nonce", "this nonce was already used") from None
        return Caller("device", device_id)

    def prune_nonces(self) -> int:
        cutoff: datetime = now() - timedelta(seconds=2 * MAX_SKEW_S)
        with self.sessions.begin() as session:
            result = session.execute(delete(Nonce).where(Nonce.seen_at < cutoff))
            return int(result.rowcount)  # type: ignore[attr-defined]

    # -- reporters -----------------------------------------------------------------------
    def create_reporter(
        self, real_name: str | None = None, payment_account: str | None = None
    ) -> tuple[str, str]:
        """A new reporter account; returns (id, bearer token). The token is shown once."""
        token = "rwr_" + secrets.token_urlsafe(32)
        with self.sessions.begin() as session:
            reporter = Reporter(
                token_sha256=token_sha256(token),
                real_name=real_name,
                payment_account=payment_account,
            )
            session.add(reporter)
            session.flush()
            return reporter.id, token

    def verify_reporter(self, authorization: str) -> Caller:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthError(401, "bad_token", "use 'Authorization: Bearer <token>'")
        with self.sessions() as session:
            reporter_id = session.scalar(
                select(Reporter.id).where(Reporter.token_sha256 == token_sha256(token.strip()))
            )
        if reporter_id is None:
            raise AuthError(401, "bad_token", "unknown reporter token")
        return Caller("reporter", reporter_id)
