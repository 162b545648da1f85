"""One error tree for everything the ledger refuses or finds wrong.

Every error is a :class:`LedgerError`. Each class has a stable snake_case ``code`` that
programs can match on, a ``message`` that says in plain words what was wrong, and a
``hint`` that says what to do about it. Foreign exceptions (``sqlite3.Error``,
``cryptography``'s ``InvalidSignature``, pydantic's ``ValidationError``) are wrapped with
``raise ... from e`` so that callers only ever need to catch :class:`LedgerError`.

The codes are part of the public API: they never change meaning once released.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccountExistsError",
    "AlreadyReversedError",
    "AuthorizationError",
    "DuplicateTaskError",
    "EffectiveDateError",
    "EntryConflictError",
    "EquivocationError",
    "EventExpiredError",
    "ExtraNotInstalledError",
    "HoldClosedError",
    "HoldExpiredError",
    "IntegrityError",
    "InvalidEventError",
    "KeyFileError",
    "KeyRevokedError",
    "LedgerError",
    "LimitExceededError",
    "LogRecordError",
    "NotFoundError",
    "NoteError",
    "OutOfStockError",
    "OverdraftError",
    "PriceChangedError",
    "ProofError",
    "RollbackError",
    "SchemaVersionError",
    "SignatureError",
    "SplitError",
    "StorageError",
    "UnknownAccountError",
    "UnknownKeyError",
    "WrongPassphraseError",
    "WrongThreadError",
]


class LedgerError(Exception):
    """Base of every error the library raises on purpose.

    Attributes:
        code: Stable snake_case identifier of the kind of problem.
        message: What was wrong, in plain words.
        hint: What the person at the keyboard can do about it (may be empty).
        seq: The ledger entry concerned, when there is one.
        details: Extra machine-readable facts (never secrets).
    """

    code: ClassVar[str] = "ledger_error"
    default_hint: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        seq: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint
        self.seq = seq
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def diagnostics(self) -> str:
        """Return a human-readable, multi-line explanation with code, seq and hint."""
        lines = [f"[{self.code}] {self.message}"]
        if self.seq is not None:
            lines.append(f"entry: seq {self.seq}")
        if self.hint:
            lines.append(f"what to do: {self.hint}")
        return "\n".join(lines)


class InvalidEventError(LedgerError):
    """An event, amount or argument is malformed or breaks a limit of the model."""

    code = "invalid_event"
    default_hint = "Correct the value named in the message and submit the event again."


class EffectiveDateError(InvalidEventError):
    """An event's business date lies outside the window the ledger accepts.

    No entry may be dated later than the day after it is recorded (Asia/Shanghai), nor
    earlier than the genesis policy's ``backdate_days_max`` days before.
    """

    code = "effective_date_out_of_range"
    default_hint = "Check the date; a mistyped year is the usual cause."


class EntryConflictError(LedgerError):
    """An event id was already used for an event with different content."""

    code = "entry_conflict"
    default_hint = (
        "Event ids are idempotency keys: use a new id for a new event, or resend the "
        "exact original event to get its stored entry back."
    )


class SignatureError(LedgerError):
    """A signature does not verify, or was made for another ledger or another event."""

    code = "bad_signature"
    default_hint = "Sign the event again with the right key for this ledger."


class UnknownKeyError(LedgerError):
    """A signature names a key that is not registered in this ledger."""

    code = "unknown_key"
    default_hint = (
        "Register the key first (points-ledger key register, or a RegisterKey event), or "
        "sign with a known key."
    )


class KeyRevokedError(LedgerError):
    """A signature was made by a key that has been revoked."""

    code = "key_revoked"
    default_hint = "Sign with a key that is still valid; revoked keys stay revoked."


class AuthorizationError(LedgerError):
    """The signatures present do not satisfy the ledger's signing policy."""

    code = "not_authorized"
    default_hint = "Collect the signatures the message names and submit the event again."


class UnknownAccountError(LedgerError):
    """An account named by an event has not been opened."""

    code = "unknown_account"
    default_hint = (
        "Open the account first (points-ledger account open, or an OpenAccount event), or "
        "check its id."
    )


class AccountExistsError(LedgerError):
    """An account id is already taken."""

    code = "account_exists"
    default_hint = "Choose another account id; accounts are never reused."


class OverdraftError(LedgerError):
    """A posting would take a constrained account's available balance below zero."""

    code = "insufficient_balance"
    default_hint = "Check the account's available balance (pending holds count against it)."


class AlreadyReversedError(LedgerError):
    """An entry that has already been reversed was named by another reversal."""

    code = "already_reversed"
    default_hint = "An entry can be reversed once; look up the existing reversal."


class LimitExceededError(LedgerError):
    """A configured limit or cap would be exceeded."""

    code = "limit_exceeded"
    default_hint = "Stay within the limit named in the message."


class NotFoundError(LedgerError):
    """A requested entry or record does not exist."""

    code = "not_found"
    default_hint = "Check the number or id you asked for."


class KeyFileError(LedgerError):
    """A key file is missing, unsafe (readable by others, a symlink) or malformed."""

    code = "key_file_unsafe"
    default_hint = "Keep key files private: owner read/write only (chmod 600), no symlinks."


class WrongPassphraseError(LedgerError):
    """A key file could not be decrypted with the passphrase given."""

    code = "wrong_passphrase"
    default_hint = "Type the passphrase again; it is case-sensitive."


class IntegrityError(LedgerError):
    """Stored data does not match what the log proves: tampering or corruption."""

    code = "integrity_failure"
    default_hint = (
        "Do not write to this file. Keep a copy for investigation and restore from a "
        "verified backup; run an audit (points-ledger audit, or Ledger.audit in Python) for "
        "the full list of problems."
    )


class ProofError(LedgerError):
    """A Merkle inclusion or consistency proof is malformed or does not verify."""

    code = "proof_invalid"
    default_hint = "Ask the ledger operator for a fresh proof and checkpoint."


class ExtraNotInstalledError(LedgerError):
    """A feature needs an optional part of the library that is not installed (e.g. Excel)."""

    code = "extra_not_installed"
    default_hint = (
        "Install the optional part the message names, e.g. pip install 'points_ledger[excel]'."
    )


class StorageError(LedgerError):
    """The database could not be read or written."""

    code = "storage_error"
    default_hint = "Check the file path, free disk space and permissions, then try again."


class SchemaVersionError(LedgerError):
    """The ledger file was written by a newer (or unknown) version of the library.

    Also raised for a file in an older format (1: signatures bound only the origin; 2:
    written before the committee had to agree to minting, the catalogue, the settlement
    rate and treasurer keys): its message and hint say what to do with it.
    """

    code = "schema_version"
    default_hint = "Upgrade points_ledger to open this file."


class NoteError(LedgerError):
    """A signed note or checkpoint is malformed, or no trusted signature verifies."""

    code = "note_invalid"
    default_hint = "Check that the note is complete and that you hold the right verifier key."


class SplitError(InvalidEventError):
    """An apportionment, split policy or investor schedule is invalid."""

    code = "split_invalid"
    default_hint = (
        "Check the amount and weights: integers or fractions, not negative, not all zero."
    )


class RollbackError(LedgerError):
    """A checkpoint is older (smaller) than one already accepted for the same log."""

    code = "checkpoint_rollback"
    default_hint = "A log never shrinks: treat this as a sign of tampering and keep the evidence."


class EquivocationError(LedgerError):
    """Two checkpoints signed by the same log cannot both be true (a fork)."""

    code = "equivocation"
    default_hint = (
        "The log has shown two different histories. Keep both checkpoints (in ``details``) "
        "as evidence and report them."
    )


class DuplicateTaskError(LedgerError):
    """A task reference was already paid for the same service (the same visit twice)."""

    code = "duplicate_task"
    default_hint = (
        "Each task (visit, check, shift) is paid once per service; look up the earlier "
        "award, or use the task reference of the task actually done."
    )


class OutOfStockError(LimitExceededError):
    """An offer has fewer unreserved items than a redemption asks for."""

    code = "out_of_stock"
    default_hint = "Ask for fewer items, or wait until the partner restocks the offer."


class PriceChangedError(InvalidEventError):
    """The points a member agreed to pay differ from the offer's current price."""

    code = "price_changed"
    default_hint = "Show the member the current price and have them sign again."


class HoldExpiredError(LedgerError):
    """A redemption hold passed its expiry time before it was confirmed."""

    code = "hold_expired"
    default_hint = (
        "The voucher is void: the member's points are released. Place a new hold if the "
        "member still wants the item."
    )


class HoldClosedError(LedgerError):
    """A redemption hold was already confirmed, voided or released as expired."""

    code = "hold_not_pending"
    default_hint = "A voucher is confirmed or voided once; look up its status first."


class EventExpiredError(InvalidEventError):
    """The event's ``not_after`` date has passed: its signers allowed it only until then."""

    code = "event_expired"
    default_hint = (
        "The signers limited how long this event may be recorded. If it is still wanted, "
        "make a new event (a new id) and have it signed again."
    )


class LogRecordError(IntegrityError):
    """The log key holder's record is damaged, rolled back, or another ledger's.

    A problem of the record folder, not of the ledger file: nothing is signed with it
    until it is put right.
    """

    code = "log_record_invalid"
    default_hint = (
        "Check that --record (Python: the record argument) names this ledger's record "
        "folder, kept with the log key (keys/log.record). If it is damaged, restore the "
        "record folder from its own backup; the ledger file is not blamed by this."
    )


class WrongThreadError(StorageError):
    """A ``Ledger`` was used in another thread than the one that opened it.

    A ``Ledger`` holds one SQLite connection, which belongs to the thread that opened it.
    Nothing was read or written.
    """

    code = "wrong_thread"
    default_hint = (
        "Open one Ledger per thread (or per request) with Ledger.open; several Ledger "
        "objects may use the same file at once."
    )
