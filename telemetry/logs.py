"""Structured logs: JSON lines when stderr is not a terminal (collectors parse them), readable
text on a terminal. Every line logged while a job runs carries its ids (submission, job and,
once known, case) from a context variable, so the lines of one report can be found together.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, Literal

IDS = ("submission_id", "job_id", "case_id")
LogFormat = Literal["auto", "json", "text"]

_ids: ContextVar[dict[str, str]] = ContextVar("roadwitness_log_ids", default={})  # noqa: B039


def bind(**ids: str | None) -> Token[dict[str, str]]:
    """Add ids to every following line of this context; undo with :func:`unbind`."""
    merged = {**_ids.get(), **{k: v for k, v in ids.items() if v is not None}}
    return _ids.set(merged)


def unbind(token: Token[dict[str, str]]) -> None:
    _ids.reset(token)


def current_ids() -> dict[str, str]:
    return dict(_ids.get())


class ContextIds(logging.Filter):
    """Copies the bound ids onto each record (an ``extra={"case_id": ...}`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _ids.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for key in IDS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class Readable(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = " ".join(f"{k[:-3]}={getattr(record, k)}" for k in IDS if hasattr(record, k))
        return f"{text} [{ids}]" if ids else text


def _json_lines(fmt: LogFormat) -> bool:
    return fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())


class _LiveStderr:
    """``sys.stderr`` looked up at each write, not once: whoever swaps it (a test runner, a
    CLI runner) may close the old one, and a later log line must not go there."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: int = logging.INFO, fmt: LogFormat = "auto") -> None:
    """One stderr handler on the root logger, JSON or text (``auto``: text on a terminal)."""
    handler = logging.StreamHandler(_LiveStderr())
    handler.setFormatter(JsonLines() if _json_lines(fmt) else Readable())
    handler.addFilter(ContextIds())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def uvicorn_config(fmt: LogFormat = "auto", level: str = "INFO") -> dict[str, Any]:
    """The same format as a ``logging.config`` dict, for uvicorn (it applies it in each of
    its server processes); uvicorn's own loggers write through the root handler."""
    formatter = "telemetry.logs.JsonLines" if _json_lines(fmt) else "telemetry.logs.Readable"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"ids": {"()": "telemetry.logs.ContextIds"}},
        "formatters": {"main": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "main",
                "filters": ["ids"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            name: {"level": level, "handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
