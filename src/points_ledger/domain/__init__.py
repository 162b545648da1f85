"""Event handlers: the deterministic function from (event, state) to postings and changes.

Importing this package registers every event kind with its handler: the administrative
core (``admin``), the service catalogue and awards (``awards``), the partner alliance and
redemptions (``alliance``), partner settlement (``settlement``), the charity pool
(``charity``) and revenue distributions (``revenue``). It then checks that no known kind
lacks a handler, so a forgotten one stops the import with its name.
"""

from points_ledger.domain import admin, alliance, awards, charity, revenue, settlement
from points_ledger.domain.state import (
    DeriveContext,
    LedgerConfig,
    Plan,
    StateView,
    check_every_kind_handled,
    handler_for,
)

__all__ = [
    "DeriveContext",
    "LedgerConfig",
    "Plan",
    "StateView",
    "admin",
    "alliance",
    "awards",
    "charity",
    "handler_for",
    "revenue",
    "settlement",
]

check_every_kind_handled()
