"""Opening the catalogue: engine, alembic migrations, sessions.

SQLite (``sqlite:///<data root>/metadata/catalogue.sqlite``) is the embedded default;
deployments pass a PostgreSQL URL (``postgresql+psycopg://user@host/db``).
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dlclab import config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def default_url() -> str:
    """The embedded SQLite catalogue below the data root."""
    return f"sqlite:///{config.data_root() / 'metadata' / 'catalogue.sqlite'}"


def create_private_sqlite(path: Path) -> None:
    """Create the SQLite file's folder (0700) and the empty file (0600) if missing,
    private from their creation whatever the umask: the catalogue holds collaboration-
    internal rows and users' export requests, and only its service reads it. SQLite
    gives its ``-wal``/``-shm`` files the database file's mode."""
    folder = path.parent
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass  # created meanwhile by another process
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    except FileExistsError:
        pass
    # a catalogue written before it was private (an older checkout): ours, so close it
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if st.st_uid == os.geteuid() and st.st_mode & 0o077:
                os.fchmod(fd, st.st_mode & 0o600)
        finally:
            os.close(fd)


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: :func:`default_url`); SQLite gets WAL and FK checks
    (and a private file, see :func:`create_private_sqlite`)."""
    url = url or default_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        create_private_sqlite(Path(url.removeprefix("sqlite:///").split("?", 1)[0]))
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
            cursor = dbapi_connection.cursor()
            # WAL: the service reads while an extractor writes; a killed writer leaves
            # no half-written transaction behind.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # no pre-ping (a round trip per checkout, a third of a file-level query's latency):
    # connections are recycled before servers or proxies drop idle ones instead
    return create_engine(url, pool_recycle=300, pool_size=10, max_overflow=20)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url",
                        engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (a no-op when it is there already)."""
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def open_catalogue(url: str | None = None, *, seed: bool = True) -> Engine:
    """Engine of an up-to-date catalogue; seeds access groups and the thesaurus (idempotent)."""
    engine = make_engine(url)
    for attempt in range(3):
        try:
            upgrade(engine)
            break
        except OperationalError:
            # another process (a second service, an extractor) is creating the same new
            # catalogue: its migration wins, ours finds the schema there on the next try
            if attempt == 2:
                raise
            time.sleep(0.5 * (attempt + 1))
    if seed:
        from dlclab.metadata.thesaurus import seed_catalogue

        with Session(engine) as session, session.begin():
            seed_catalogue(session)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
