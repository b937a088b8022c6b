"""Custody of evidence: every file's creation, viewing and checking is an audit event, and a
case's package can be re-hashed from the store at any time and compared with its manifest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ingest.audit import audit_event
from ingest.db import AuditEvent, Case, EvidenceItem
from ingest.store import ObjectStore


def custody(actor: str, action: str, item: EvidenceItem, data: dict[str, Any]) -> AuditEvent:
    """One line of an evidence file's custody log: who made, viewed or checked it."""
    return audit_event(actor, action, "evidence", item.id, {"sha256": item.sha256, **data})


@dataclass
class Verification:
    case_id: str
    checked: list[str] = field(default_factory=list)
    """Names of the files whose bytes match every record of their hash."""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checked) and not self.problems


def _sha256(store: ObjectStore, key: str) -> tuple[str, bytes]:
    data = b"".join(store.iter_bytes(key))
    return hashlib.sha256(data).hexdigest(), data


def verify_case(session: Session, store: ObjectStore, case_id: str, actor: str) -> Verification:
    """Recompute the SHA-256 of every evidence file and of the original, and compare each with
    the database and with the package's manifest.json. The check is logged on every file."""
    case = session.get(Case, case_id)
    if case is None:
        raise KeyError(case_id)
    result = Verification(case_id)
    actual: dict[str, str] = {}
    manifest: dict[str, Any] | None = None
    for item in case.evidence:
        try:
            digest, data = _sha256(store, item.key)
        except Exception as exc:  # a missing object is a finding, not a crash
            result.problems.append(f"{item.name}: cannot be read from the store ({exc})")
            continue
        actual[item.name] = digest
        if digest != item.sha256:
            result.problems.append(
                f"{item.name}: SHA-256 is {digest}, the case records {item.sha256}"
            )
        elif item.role != "manifest":
            result.checked.append(item.name)
        if item.role == "manifest" and digest == item.sha256:
            manifest = json.loads(data)
    if manifest is None:
        result.problems.append("manifest.json: missing or altered")
    else:
        listed = {f["name"]: f["sha256"] for f in manifest["files"]}
        for name, digest in listed.items():
            if name not in actual:
                result.problems.append(f"{name}: in the manifest but not in the case")
            elif actual[name] != digest:
                result.problems.append(f"{name}: does not match the manifest")
        for name in actual:
            if name not in listed and name != "manifest.json":
                result.problems.append(f"{name}: in the case but not in the manifest")
        original = case.submission.media
        digest, _ = _sha256(store, original.key)
        if not (digest == original.sha256 == manifest["original"]["sha256"]):
            result.problems.append(f"original {original.key}: SHA-256 does not match")
        else:
            result.checked.append(f"original {original.key}")
    for item in case.evidence:
        session.add(custody(actor, "evidence_verified", item, {"ok": result.ok}))
    return result
