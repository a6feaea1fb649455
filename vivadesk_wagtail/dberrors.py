"""Which database errors are transient: worth trying again later
(:func:`is_transient`), and recovering the connection after one
(:func:`recover`).
"""

from __future__ import annotations

#: SQLSTATEs of errors that go away on their own: serialization failure,
#: deadlock detected, lock not available (``lock_timeout``, ``NOWAIT``),
#: the server shutting down or terminating the backend, cannot connect now.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03"})
#: SQLSTATE classes that are transient as a whole: connection exceptions.
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08"})

#: Lower-case fragments of the messages of errors without a SQLSTATE (raised
#: by the driver or SQLite, not by a PostgreSQL server) that are transient.
TRANSIENT_MESSAGES = (
    # SQLite: another connection holds the lock past the busy timeout.
    "database is locked",
    "database table is locked",
    "database schema is locked",
    # libpq / psycopg / psycopg2: the connection is gone.
    "server closed the connection",
    "connection is closed",
    "connection is lost",
    "connection already closed",
    "connection not open",
    "terminating connection",
    "ssl connection has been closed",
    "could not receive data from server",
    "could not send data to server",
    "connection timed out",
    "connection refused",
    "no connection to the server",
    "consuming input failed",
    "sending query failed",
)

#: DB-API exception classes whose message is read (by name, so every driver
#: and Django's wrappers of them count without importing any driver).
_READ_MESSAGE_OF = frozenset({"OperationalError", "InterfaceError"})


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE a driver attached to ``error``, if any."""
    for name in ("sqlstate", "pgcode"):
        value = getattr(error, name, None)
        if isinstance(value, str) and value:
            return value.upper()
    return None


def _chain(error: BaseException):
    """``error`` and what caused it (Django wraps the driver's exception)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def _reads_message(error: BaseException) -> bool:
    return any(cls.__name__ in _READ_MESSAGE_OF for cls in type(error).__mro__)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is a database error that may not happen again.

    A lost or terminated connection, a serialization failure, a deadlock, a
    lock that could not be taken in time, SQLite's "database is locked": the
    same work may well succeed on the next attempt. Anything else (a
    constraint, bad data, a bug) fails the same way again.

    A SQLSTATE decides where there is one (psycopg 3 ``sqlstate``, psycopg2
    ``pgcode``, on the exception and its causes); an ``OperationalError`` or
    ``InterfaceError`` without one is transient when its message says the
    connection was lost or the database was locked."""
    for link in _chain(error):
        state = sqlstate(link)
        if state is not None:
            return state in TRANSIENT_SQLSTATES or state[:2] in (
                TRANSIENT_SQLSTATE_CLASSES
            )
        if _reads_message(link):
            message = str(link).lower()
            if any(fragment in message for fragment in TRANSIENT_MESSAGES):
                return True
    return False


def describe(error: BaseException) -> str:
    """One line naming ``error`` for logs and the row's details, with the
    SQLSTATE where the driver gave one."""
    state = next(filter(None, map(sqlstate, _chain(error))), None)
    text = f"{type(error).__name__}: {str(error).strip()}"
    return f"{text} (SQLSTATE {state})" if state else text


def recover(connection) -> None:
    """After a database error: close ``connection`` if the error left it
    unusable (or it is past ``CONN_MAX_AGE``), so the next query opens a
    fresh one. Inside an ``atomic`` block nothing is done: the block's owner
    rolls back and its connection must stay."""
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
