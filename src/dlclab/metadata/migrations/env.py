"""Alembic environment of the meta-data catalogue. Run through :mod:`dlclab.metadata.db`,
which passes the connection in ``config.attributes["connection"]``."""
from __future__ import annotations

from alembic import context

from dlclab.metadata.models import Base

config = context.config
connection = config.attributes.get("connection")


def run() -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is None:
    from sqlalchemy import create_engine

    with create_engine(config.get_main_option("sqlalchemy.url")).connect() as connection:
        run()
else:
    run()
