"""A refusal the sender can act on: an HTTP status, a machine-readable code, a reason."""

from __future__ import annotations


class Refused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
