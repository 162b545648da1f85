"""Event handlers: the deterministic function from (event, state) to postings and changes.

Importing this package registers every handler.
"""

from points_ledger.domain import admin, revenue
from points_ledger.domain.state import (
    DeriveContext,
    LedgerConfig,
    Plan,
    StateView,
    handler_for,
)

__all__ = ["DeriveContext", "LedgerConfig", "Plan", "StateView", "admin", "handler_for", "revenue"]
