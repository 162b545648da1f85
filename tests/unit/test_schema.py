from sqlite_utils import Database

from points_ledger.store.sqlite.schema import MIGRATIONS, SCHEMA_NAMES


def test_schema_names_list_every_registered_migration() -> None:
    pending = [m.name for m in MIGRATIONS.pending(Database(memory=True))]
    assert set(pending) == SCHEMA_NAMES
    assert pending == sorted(pending), "migrations must be named in the order they apply"
