"""Frozen, strictly validated records: values, events and entries."""

from points_ledger.models.common import (
    AMOUNT_MAX,
    AccountId,
    AccountKind,
    Asset,
    FrozenModel,
    Role,
)
from points_ledger.models.entries import (
    AccountRecord,
    AppendResult,
    Balance,
    Entry,
    KeyRecord,
    Signature,
    StatementLine,
)
from points_ledger.models.events import (
    Event,
    Genesis,
    KeySpec,
    OpenAccount,
    Posting,
    RegisterKey,
    Reverse,
    RevokeKey,
    Transfer,
    event_types,
    register_event,
)

__all__ = [
    "AMOUNT_MAX",
    "AccountId",
    "AccountKind",
    "AccountRecord",
    "AppendResult",
    "Asset",
    "Balance",
    "Entry",
    "Event",
    "FrozenModel",
    "Genesis",
    "KeyRecord",
    "KeySpec",
    "OpenAccount",
    "Posting",
    "RegisterKey",
    "Reverse",
    "RevokeKey",
    "Role",
    "Signature",
    "StatementLine",
    "Transfer",
    "event_types",
    "register_event",
]
