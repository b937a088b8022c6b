"""Alembic environment: the URL comes from the caller (``roadwitness db upgrade``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import ingest.db_fraud
import ingest.db_review  # noqa: F401  (its tables share the metadata)
from ingest.db import Base, make_engine

config = context.config

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = make_engine(config.get_main_option("sqlalchemy.url") or "")
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
