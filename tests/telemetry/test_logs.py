"""Structured log lines: JSON with the bound ids, readable text on a terminal."""

from __future__ import annotations

import io
import json
import logging
import logging.config

from telemetry import logs


def _record(message: str, **extra: str) -> logging.LogRecord:
    record = logging.LogRecord("workers.jobs", logging.INFO, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(record, key, value)
    logs.ContextIds().filter(record)
    return record


def test_json_line_carries_bound_ids_and_an_explicit_case_id() -> None:
    token = logs.bind(job_id="j1", submission_id="s1")
    try:
        line = json.loads(logs.JsonLines().format(_record("case made", case_id="c1")))
    finally:
        logs.unbind(token)
    assert line["msg"] == "case made" and line["level"] == "info"
    assert (line["job_id"], line["submission_id"], line["case_id"]) == ("j1", "s1", "c1")
    after = json.loads(logs.JsonLines().format(_record("idle")))
    assert "job_id" not in after and "submission_id" not in after


def test_exceptions_stay_on_one_json_line() -> None:
    try:
        raise ValueError("bad frame")
    except ValueError:
        import sys

        record = logging.LogRecord("w", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = logs.JsonLines().format(record)
    assert "\n" not in text and "ValueError: bad frame" in json.loads(text)["exc"]


def test_readable_text_appends_ids() -> None:
    token = logs.bind(job_id="j2", submission_id="s2")
    try:
        text = logs.Readable().format(_record("working"))
    finally:
        logs.unbind(token)
    assert text.endswith("working [submission=s2 job=j2]")


def test_uvicorn_config_is_a_valid_logging_config() -> None:
    config = logs.uvicorn_config("json")
    stream = io.StringIO()
    config["handlers"]["stderr"]["stream"] = stream
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    try:
        logging.config.dictConfig(config)
        logging.getLogger("uvicorn.error").info("started")
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])
    assert json.loads(stream.getvalue().splitlines()[-1])["msg"] == "started"
