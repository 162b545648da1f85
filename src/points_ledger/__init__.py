"""points_ledger: an append-only, signed, verifiable ledger of volunteer points and income."""

from points_ledger.errors import LedgerError

__all__ = ["LedgerError"]
__version__ = "0.1.0"
