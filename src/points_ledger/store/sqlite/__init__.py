"""The SQLite store: one ledger in one file, through sqlite-utils.

This package holds every SQL statement of the library and is the only code that imports
``sqlite3`` or ``sqlite_utils``: the schema and its migrations (``schema``), the report
views and queries (``reports``), the ledger store (``store``) and the witness's own file
(``witness``).
"""

from points_ledger.store.sqlite.store import SqliteState, SqliteStore, storage_errors

__all__ = ["SqliteState", "SqliteStore", "storage_errors"]
