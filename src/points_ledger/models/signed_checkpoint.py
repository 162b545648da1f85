"""Signed checkpoints as the ledger stores and returns them."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Annotated

from pydantic import Field

from points_ledger.models.common import FrozenModel
from points_ledger.notes import CheckpointBody

__all__ = ["SignedCheckpoint"]


class SignedCheckpoint(FrozenModel):
    r"""A checkpoint signed by the ledger's log key: "my first ``size`` entries have root R".

    Attributes:
        origin: The ledger's origin (also the note's key name).
        size: Number of entries the checkpoint covers.
        root_hash: RFC 9162 Merkle root of entries ``0 .. size - 1``.
        note: The whole C2SP signed note: ``origin\nsize\nbase64(root)\n``, a blank line
            and the log key's signature line. Hand this text to witnesses and verifiers.
        recorded_at: When the ledger signed it (UTC).

    Guarantees: a ledger never signs two checkpoints of the same size with different
    roots, and each checkpoint it signs is consistent with every earlier one.
    """

    origin: str
    size: Annotated[int, Field(ge=0)]
    root_hash: Annotated[bytes, Field(min_length=32, max_length=32)]
    note: str
    recorded_at: dt.datetime

    @property
    def body(self) -> CheckpointBody:
        """The unsigned checkpoint body (origin, size, root)."""
        return CheckpointBody(self.origin, self.size, self.root_hash)

    @property
    def checkpoint(self) -> CheckpointBody:
        """Deprecated name of :attr:`body` (it warns)."""
        warnings.warn(
            "SignedCheckpoint.checkpoint is now SignedCheckpoint.body",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.body

    @property
    def text(self) -> str:
        """The signed note text without signatures (what a witness cosigns)."""
        return self.body.to_text()
