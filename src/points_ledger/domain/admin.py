"""Handlers for the administrative core: genesis, accounts, keys, transfers, reversals."""

from __future__ import annotations

from collections import defaultdict

from points_ledger.canonical import event_to_bytes, ledger_id_of
from points_ledger.domain.state import (
    AccountOpened,
    DeriveContext,
    KeyAdded,
    KeyRevoked,
    LedgerConfig,
    Plan,
    StatePut,
    StateView,
    before_debit,
    register_handler,
    register_reversible,
    reversible_kinds,
)
from points_ledger.errors import (
    AccountExistsError,
    AlreadyReversedError,
    InvalidEventError,
    LimitExceededError,
    NotFoundError,
    UnknownAccountError,
)
from points_ledger.keys import key_id, public_key_from_b64
from points_ledger.models.common import AccountKind, Asset, Role
from points_ledger.models.entries import AccountRecord, KeyRecord
from points_ledger.models.events import (
    Genesis,
    KeySpec,
    OpenAccount,
    Posting,
    RegisterKey,
    Reverse,
    RevokeKey,
    Transfer,
)
from points_ledger.policy import OwnerSignature, Policy, Requirement, all_of

__all__ = ["SYSTEM_ACCOUNTS", "genesis_keys", "key_record", "require_account", "require_config"]

SYSTEM_ACCOUNTS = {"issuer": AccountKind.ISSUER, "external": AccountKind.EXTERNAL}
"""System accounts every ledger opens at genesis."""

REVERSED_NS = "reversed"
"""State namespace: target seq -> seq of the entry that reversed it."""

_OWNED_ROLES = frozenset({Role.MEMBER, Role.PARTNER})


def key_record(spec: KeySpec, seq: int) -> KeyRecord:
    """Build the key record a ``KeySpec`` registered at entry ``seq`` becomes."""
    public_key = public_key_from_b64(spec.public_key)
    return KeyRecord(
        key_id=key_id(public_key),
        public_key=public_key,
        roles=spec.roles,
        owner=spec.owner,
        valid_from_seq=seq,
    )


def genesis_keys(event: Genesis) -> tuple[KeyRecord, ...]:
    """The admin keys a genesis event introduces (valid from seq 0)."""
    return tuple(key_record(spec, 0) for spec in event.admins)


def require_config(state: StateView) -> LedgerConfig:
    """Return the ledger config, refusing events before genesis.

    Raises:
        InvalidEventError: if the ledger has no genesis entry yet.
    """
    config = state.config()
    if config is None:
        raise InvalidEventError("the first entry of a ledger must be its genesis event")
    return config


def require_account(state: StateView, account: str) -> AccountRecord:
    """Return an opened account.

    Raises:
        UnknownAccountError: if the account has not been opened.
    """
    record = state.account(account)
    if record is None:
        raise UnknownAccountError(f"account {account!r} has not been opened")
    return record


@register_handler(Genesis)
def _genesis(event: Genesis, state: StateView, ctx: DeriveContext) -> Plan:
    if ctx.seq != 0 or state.config() is not None:
        raise InvalidEventError("a ledger has exactly one genesis event, at seq 0")
    for spec in event.admins:
        if spec.owner is not None:
            raise InvalidEventError(
                "genesis admin keys cannot name an owner account: no accounts exist yet"
            )
    policy = Policy(event.admin_threshold, event.committee_threshold)
    config = {
        "origin": event.origin,
        "ledger_id": ledger_id_of(event_to_bytes(event)).hex(),
        "log_key": event.log_key,
        "admin_threshold": event.admin_threshold,
        "committee_threshold": event.committee_threshold,
    }
    changes: list[AccountOpened | KeyAdded | StatePut] = [StatePut("ledger", "config", config)]
    changes += [
        AccountOpened(AccountRecord(account=name, kind=kind, grid=(), opened_seq=0))
        for name, kind in SYSTEM_ACCOUNTS.items()
    ]
    changes += [KeyAdded(record) for record in genesis_keys(event)]
    return Plan(requirement=policy.admins(), changes=tuple(changes))


@register_handler(OpenAccount)
def _open_account(event: OpenAccount, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    if state.account(event.account) is not None:
        raise AccountExistsError(f"account {event.account!r} is already open")
    record = AccountRecord(
        account=event.account, kind=event.account_kind, grid=event.grid, opened_seq=ctx.seq
    )
    return Plan(requirement=config.policy.admins(), changes=(AccountOpened(record),))


@register_handler(RegisterKey)
def _register_key(event: RegisterKey, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    record = key_record(event.key, ctx.seq)
    if state.key(record.key_id) is not None:
        raise InvalidEventError(f"key {record.key_id} is already registered")
    if record.public_key == config.log_key:
        raise InvalidEventError("the log key cannot also sign events; generate another key")
    if record.owner is not None:
        require_account(state, record.owner)
    elif _OWNED_ROLES & set(record.roles):
        raise InvalidEventError("a member or partner key must name the account that owns it")
    return Plan(requirement=config.policy.admins(), changes=(KeyAdded(record),))


@register_handler(RevokeKey)
def _revoke_key(event: RevokeKey, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    record = state.key(event.key_id)
    if record is None:
        raise NotFoundError(f"key {event.key_id} is not registered")
    if record.revoked_at_seq is not None:
        raise InvalidEventError(
            f"key {event.key_id} was already revoked at entry {record.revoked_at_seq}"
        )
    if Role.ADMIN in record.roles:
        # The admin quorum counts people, so count the people still holding an admin key:
        # two keys of one owner must not keep a threshold alive that nobody can meet.
        remaining = len(
            {k.person for k in state.active_keys(Role.ADMIN.value) if k.key_id != event.key_id}
        )
        if remaining < config.policy.admin_threshold:
            raise LimitExceededError(
                f"revoking key {event.key_id} would leave {remaining} person(s) holding an "
                f"admin key, fewer than the admin threshold of "
                f"{config.policy.admin_threshold}",
                hint="Register the replacement admin key first, then revoke the old one.",
            )
    return Plan(requirement=config.policy.admins(), changes=(KeyRevoked(event.key_id, ctx.seq),))


@register_handler(Transfer)
def _transfer(event: Transfer, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    net: defaultdict[tuple[str, Asset], int] = defaultdict(int)
    for posting in event.postings:
        require_account(state, posting.account)
        net[posting.account, posting.asset] += posting.amount
    debited = sorted({account for (account, _), amount in net.items() if amount < 0})
    if not debited:
        raise InvalidEventError(
            "the transfer moves nothing: every account's postings cancel out",
            hint="List each account once per asset, with the amount it gives or receives.",
        )
    requirements: list[Requirement] = []
    if any(not require_account(state, a).constrained for a in debited):
        requirements.append(config.policy.admins())
    constrained = [a for a in debited if require_account(state, a).constrained]
    requirements += [OwnerSignature(a) for a in constrained]
    return Plan(
        requirement=all_of(requirements),
        postings=event.postings,
        changes=before_debit(constrained, state, ctx),
    )


register_reversible(Transfer.kind)


@register_handler(Reverse)
def _reverse(event: Reverse, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    kind = state.entry_kind(event.target_seq)
    if kind is None:
        raise NotFoundError(f"there is no entry {event.target_seq} to reverse")
    if kind not in reversible_kinds():
        raise InvalidEventError(
            f"entry {event.target_seq} is a {kind!r} event, which cannot be reversed",
            hint=f"Only these kinds can be reversed: {', '.join(sorted(reversible_kinds()))}. "
            f"A {kind} entry stays as it is; record a new event that corrects it.",
        )
    earlier = state.get(REVERSED_NS, str(event.target_seq))
    if earlier is not None:
        raise AlreadyReversedError(
            f"entry {event.target_seq} was already reversed by entry {earlier}",
            details={"reversed_by": earlier},
        )
    postings = tuple(
        Posting(account=p.account, asset=p.asset, amount=-p.amount)
        for p in state.entry_postings(event.target_seq)
    )
    debited = [
        p.account
        for p in postings
        if p.amount < 0 and require_account(state, p.account).constrained
    ]
    return Plan(
        requirement=config.policy.admins(),
        postings=postings,
        changes=(
            *before_debit(debited, state, ctx),
            StatePut(REVERSED_NS, str(event.target_seq), ctx.seq),
        ),
    )
