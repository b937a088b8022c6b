"""The PostgreSQL pool replaces a connection the server closed before it is used, with no
round trip per checkout (ingest.db.make_engine)."""

from __future__ import annotations

import psycopg
from sqlalchemy import text

from harness.servers import PG_ADMIN
from ingest.db import make_engine


def test_a_backend_the_server_ended_is_replaced_before_use(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1, pool_overflow=0)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
            admin.execute("SELECT pg_sleep(0.2)")
        with engine.connect() as conn:  # the pooled one is gone: a new one, and no error
            second = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first
    finally:
        engine.dispose()


def test_a_live_pooled_connection_is_kept(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1, pool_overflow=0)
    try:
        pids = set()
        for _ in range(3):
            with engine.connect() as conn:
                pids.add(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        assert len(pids) == 1
    finally:
        engine.dispose()
