"""Staff accounts (officer, supervisor, admin): passwords hashed with scrypt, sign-in sessions
as bearer tokens (``rws_...``) or the desk's cookie, which expire."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.audit import audit
from ingest.db import now
from ingest.db_review import ROLES, StaffSession, StaffUser
from ingest.identity import AuthError, token_sha256

SESSION_HOURS = 12
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True, slots=True)
class StaffCaller:
    id: str
    role: str
    display_name: str

    @property
    def owner(self) -> str:
        return f"{self.role}:{self.id}"


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, salt, _ = stored.split("$")
    except ValueError:
        return False
    return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)


class Staff:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def add_user(
        self, user_id: str, role: str, password: str, display_name: str = "", actor: str = "admin"
    ) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise ValueError("a password needs at least 8 characters")
        try:
            with self.sessions.begin() as session:
                if session.get(StaffUser, user_id) is not None:
                    raise ValueError(f"user {user_id} exists")
                session.add(
                    StaffUser(
                        id=user_id,
                        role=role,
                        display_name=display_name or user_id,
                        password_hash=hash_password(password),
                    )
                )
                audit(session, actor, "user_added", "staff", user_id, {"role": role})
        except IntegrityError:  # added by another request since the check above
            raise ValueError(f"user {user_id} exists") from None

    def login(self, user_id: str, password: str) -> tuple[str, StaffCaller]:
        """A session token for a correct password (shown once); refused otherwise."""
        with self.sessions.begin() as session:
            user = session.get(StaffUser, user_id)
            if (
                user is None
                or user.disabled_at is not None
                or not check_password(password, user.password_hash)
            ):
                raise AuthError(401, "bad_login", "unknown user or wrong password")
            token = "rws_" + secrets.token_urlsafe(32)
            session.execute(delete(StaffSession).where(StaffSession.expires_at < now()))
            session.add(
                StaffSession(
                    token_sha256=token_sha256(token),
                    user_id=user.id,
                    expires_at=now() + timedelta(hours=SESSION_HOURS),
                )
            )
            audit(session, f"{user.role}:{user.id}", "login", "staff", user.id, {})
            return token, StaffCaller(user.id, user.role, user.display_name)

    def logout(self, token: str) -> None:
        with self.sessions.begin() as session:
            session.execute(
                delete(StaffSession).where(StaffSession.token_sha256 == token_sha256(token))
            )

    def verify(self, token: str) -> StaffCaller:
        with self.sessions() as session:
            row = session.execute(
                select(StaffUser, StaffSession.expires_at)
                .join(StaffSession, StaffSession.user_id == StaffUser.id)
                .where(StaffSession.token_sha256 == token_sha256(token))
            ).first()
        if row is None or row[1] < now() or row[0].disabled_at is not None:
            raise AuthError(401, "bad_session", "sign in again")
        user = row[0]
        return StaffCaller(user.id, user.role, user.display_name)
