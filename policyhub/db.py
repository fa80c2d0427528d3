"""What a write meets when another transaction is in its way."""

from django.db import OperationalError

# PostgreSQL's SQLSTATEs for a transaction that lost to another one: a deadlock, a
# serialization failure, a lock not granted within `lock_timeout`.
_CONTENTION = {"40P01", "40001", "55P03"}
# SQLite's, in words: the file (or, in shared memory, a table) written by another
# connection for longer than the busy timeout.
_SQLITE_LOCKED = ("database is locked", "database table is locked")


def contention(error: BaseException) -> bool:
    """True if `error` says another transaction was in the way (a deadlock, a
    serialization failure, a lock not had in time): the work was rolled back and the
    same request may well succeed when tried again. Anything else (the server gone, a
    full disk) is not this."""
    if not isinstance(error, OperationalError):
        return False
    code = getattr(error.__cause__, "pgcode", None)
    if code is not None:
        return code in _CONTENTION
    return any(words in str(error) for words in _SQLITE_LOCKED)
