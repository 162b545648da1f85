"""Deprecated: the former name of :mod:`points_ledger.log_notes`.

Importing it warns. ``open_checkpoint`` is the former name of
:func:`points_ledger.log_notes.verify_checkpoint_note`.
"""

from __future__ import annotations

import warnings

from points_ledger.log_notes import (
    log_verifier,
    log_vkey,
    verify_checkpoint_consistency,
    verify_checkpoint_note,
)

__all__ = [
    "log_verifier",
    "log_vkey",
    "open_checkpoint",
    "verify_checkpoint_consistency",
    "verify_checkpoint_note",
]

open_checkpoint = verify_checkpoint_note
"""Deprecated name of :func:`points_ledger.log_notes.verify_checkpoint_note`."""

warnings.warn(
    "points_ledger.checkpoints is now points_ledger.log_notes "
    "(and open_checkpoint is verify_checkpoint_note)",
    DeprecationWarning,
    stacklevel=2,
)
