"""What officers see of a reporter: a keyed reference (HMAC-SHA256 with a server secret), so a
leaked reference cannot be tested against guessed reporter ids."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

from settings import Settings

KEY_FILE = "reporter_ref.key"
_lock = threading.Lock()
_keys: dict[str, bytes] = {}


def _key_from_file(path: Path) -> bytes:
    """The data folder's own key, made once (readable by this user only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(draft, path)  # atomic: a whole key or none
        except FileExistsError:  # another process made it first: use theirs
            pass
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it or set ROADWITNESS_REPORTER_REF_KEY")
    return key.encode()


def reporter_ref_key(settings: Settings) -> bytes:
    if settings.reporter_ref_key is not None:
        return settings.reporter_ref_key.get_secret_value().encode()
    path = settings.data_dir / KEY_FILE
    with _lock:
        cached = _keys.get(str(path.resolve()))
        if cached is None:
            cached = _keys[str(path.resolve())] = _key_from_file(path)
    return cached


def reporter_ref(key: bytes, reporter_id: str) -> str:
    """A stable reference that names no one and cannot be recomputed without ``key``."""
    digest = hmac.new(key, f"reporter:{reporter_id}".encode(), hashlib.sha256).hexdigest()
    return "rep-" + digest[:16]
