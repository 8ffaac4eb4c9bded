"""Writing to the profile's storage while other processes write too: waiting, conflicts, clear messages.

Two kinds of storage behave differently when several processes write at once:

* **SQLite** (``core.sqlite_dos``, the ``verdi presto`` default) has one writer at a time for the whole
  database. A writer opens its transaction with ``BEGIN IMMEDIATE`` (:func:`write_transaction`), so it takes the
  write lock first and *waits* for the current writer, up to :func:`busy_timeout_s` seconds
  (``AIIDA_SSB_SQLITE_BUSY_TIMEOUT_S``, default :data:`DEFAULT_BUSY_TIMEOUT_S`). Every SQLite connection opened
  after this module is imported gets that busy timeout. A writer that still finds the database locked after
  the timeout gets a :class:`DatabaseLockedError` saying so; nothing of its transaction is stored. Long imports
  store in batches of about :data:`aiida_ssb.importer.store.BATCH_SECONDS`, so no writer waits for minutes.
* **PostgreSQL** (``core.psql_dos``, the lab server) lets writers proceed side by side; two writers that store
  the same sample id or the same raw file meet at a unique database constraint (the registry groups of
  :mod:`aiida_ssb.data.sample` and :mod:`aiida_ssb.data.rawfile`), inside their storing transactions: the
  second one waits for the first to commit, then fails as a whole, plans again and finds the entry stored.

:func:`is_concurrency_conflict` recognises the failures of the second kind, :func:`reset_session` clears the
failed transaction before planning again.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from typing import cast

from aiida.manage import get_manager
from aiida.orm.implementation import StorageBackend
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from aiida_ssb.data.rawfile import DuplicateRawFileError
from aiida_ssb.data.sample import DuplicateSampleError
from aiida_ssb.exceptions import StorageError

__all__ = [
    'DEFAULT_BUSY_TIMEOUT_S',
    'DatabaseLockedError',
    'busy_timeout_s',
    'is_concurrency_conflict',
    'is_locked_error',
    'reset_session',
    'write_transaction',
]

#: how long a writer waits for another writer of the same SQLite database, unless
#: ``AIIDA_SSB_SQLITE_BUSY_TIMEOUT_S`` says otherwise
DEFAULT_BUSY_TIMEOUT_S = 300.0

_ENV = 'AIIDA_SSB_SQLITE_BUSY_TIMEOUT_S'


class DatabaseLockedError(StorageError):
    """Another process kept the SQLite database locked for longer than the busy timeout."""


def busy_timeout_s() -> float:
    """The busy timeout of SQLite connections in seconds (``AIIDA_SSB_SQLITE_BUSY_TIMEOUT_S``, else 300)."""
    text = os.environ.get(_ENV, '').strip()
    if not text:
        return DEFAULT_BUSY_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        raise StorageError(f'{_ENV}={text!r} is not a number of seconds') from None
    if not 0 <= value <= 86400:
        raise StorageError(f'{_ENV}={text!r}: give a number of seconds between 0 and 86400')
    return value


def _set_busy_timeout(dbapi_connection, connection_record=None) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute(f'PRAGMA busy_timeout = {int(busy_timeout_s() * 1000)}')


# every SQLite connection opened from now on waits for other writers instead of failing after pysqlite's 5 s
event.listen(Pool, 'connect', _set_busy_timeout)


def is_locked_error(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (the busy timeout ran out), anywhere in the exception chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (OperationalError, sqlite3.OperationalError)) and 'database is locked' in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _locked_message(what: str) -> str:
    timeout = busy_timeout_s()
    return (
        f'{what}: the SQLite database of this profile stayed locked by another process (an import or an analysis) '
        f'for more than {timeout:g} s; nothing of this {what} was stored. Run it again when the other process has '
        f'finished, or let writers wait longer with {_ENV}=SECONDS (the lab-server profile, PostgreSQL, lets '
        'several writers work at once).'
    )


def _session_of(backend: StorageBackend) -> Session:
    """The SQLAlchemy session of the profile's storage (``core.psql_dos``, ``core.sqlite_dos`` and
    ``core.sqlite_temp`` have one; ``StorageBackend`` itself does not declare it)."""
    get_session = getattr(backend, 'get_session', None)
    if get_session is None:
        raise TypeError(f'aiida-ssb writes to a storage with an SQL session, not {type(backend).__name__}')
    return cast(Session, get_session())


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == 'sqlite'


@contextlib.contextmanager
def write_transaction(what: str = 'write') -> Iterator[None]:
    """A storage transaction for writing: everything in it is stored, or nothing.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock before it reads anything,
    waiting up to :func:`busy_timeout_s` for another writer (a transaction that read first and then wanted to
    write would be refused at once by SQLite's deadlock avoidance). A lock that outlasts the timeout is a
    :class:`DatabaseLockedError` naming ``what``."""
    backend = get_manager().get_profile_storage()
    session = _session_of(backend)
    try:
        if _is_sqlite(session):
            connection = session.connection()
            dbapi = connection.connection.dbapi_connection
            _set_busy_timeout(dbapi)
            if dbapi is not None and not dbapi.in_transaction:
                connection.exec_driver_sql('BEGIN IMMEDIATE')
        with backend.transaction():
            yield
    except Exception as exc:
        if is_locked_error(exc):
            reset_session()
            raise DatabaseLockedError(_locked_message(what)) from None
        raise


def is_concurrency_conflict(exc: BaseException) -> bool:
    """A failure caused by a concurrent writer that a new plan resolves: a sample id or raw file stored meanwhile
    (the registry constraint), a unique-constraint violation, a PostgreSQL serialisation failure or deadlock."""

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (DuplicateSampleError, DuplicateRawFileError)):
            return True
        text = f'{type(seen).__name__}: {seen}'.lower()
        if any(
            word in text
            for word in ('integrityerror', 'unique constraint', 'duplicate key', 'could not serialize', 'deadlock')
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def reset_session() -> None:
    """Drop a failed transaction's state from the storage session (before planning again)."""
    session = _session_of(get_manager().get_profile_storage())
    with contextlib.suppress(Exception):  # nothing to roll back
        session.rollback()
