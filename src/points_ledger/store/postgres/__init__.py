"""The PostgreSQL store: one ledger per schema on a database server many offices share.

Needs the ``postgres`` extra (``pip install 'points_ledger[postgres]'``, psycopg 3). This
package is the only code that imports ``psycopg``: the schema (``schema``), the report
queries (``reports``) and the store (``store``). Open a ledger with a URL::

    Ledger.open("postgresql://ledger@db.example/city?schema=office_zhiqiang")
"""

from points_ledger.store.postgres.store import (
    DEFAULT_SCHEMA,
    LedgerUrl,
    PostgresState,
    PostgresStore,
    storage_errors,
)

__all__ = [
    "DEFAULT_SCHEMA",
    "LedgerUrl",
    "PostgresState",
    "PostgresStore",
    "storage_errors",
]
