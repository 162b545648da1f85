"""Handlers for the administrative core: genesis, accounts, keys, transfers, reversals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

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
    reversible_kinds,
)
from points_ledger.errors import (
    AccountExistsError,
    AlreadyReversedError,
    AuthorizationError,
    InvalidEventError,
    LimitExceededError,
    NotFoundError,
    UnknownAccountError,
)
from points_ledger.keys import key_id, public_key_from_b64
from points_ledger.models.common import SYSTEM_KINDS, AccountKind, Asset, Role
from points_ledger.models.entries import AccountRecord, KeyRecord
from points_ledger.models.events import (
    BACKDATE_DAYS_DEFAULT,
    Genesis,
    KeySpec,
    OpenAccount,
    Posting,
    RecoverKey,
    RegisterKey,
    Reverse,
    RevokeKey,
    Transfer,
)
from points_ledger.policy import AllOf, NotOwnedBy, OwnerSignature, Policy, Requirement, all_of

__all__ = [
    "COMMON_KINDS",
    "OWNER_KEYS_NS",
    "SYSTEM_ACCOUNTS",
    "UNOWNED_KINDS",
    "active_owned_keys",
    "committee_seated",
    "further_key_requirements",
    "genesis_config_record",
    "genesis_keys",
    "index_owner",
    "key_record",
    "require_account",
    "require_config",
    "seated_committee",
]

SYSTEM_ACCOUNTS = {"issuer": AccountKind.ISSUER, "external": AccountKind.EXTERNAL}
"""System accounts every ledger opens at genesis."""

LEDGER_NS = "ledger"
"""State namespace of ledger-wide records (its configuration, committee seating)."""

COMMITTEE_SEATED = "committee_seated"
"""Key in ``LEDGER_NS``: seq of the entry that first gave the committee its quorum of people.

From then on only the committee quorum (with the admins) adds committee members."""

REVERSED_NS = "reversed"
"""State namespace: target seq -> seq of the entry that reversed it."""

OWNER_KEYS_NS = "owner_keys"
"""State namespace: owner account -> ids of every key registered with that owner."""

COMMON_KINDS = frozenset({AccountKind.POOL, AccountKind.FUND})
"""Accounts held in common: only the committee quorum moves value out of them."""

UNOWNED_KINDS = COMMON_KINDS | SYSTEM_KINDS
"""Account kinds no key may own."""

_OWNED_ROLES = frozenset({Role.MEMBER, Role.PARTNER})
_PERSON_ROLES = frozenset({Role.COMMITTEE, Role.TREASURER, Role.ISSUER})
"""Roles whose keys must name the person (account) holding them."""
_SEPARATED_ROLES = frozenset({Role.COMMITTEE, Role.TREASURER})


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


def genesis_config_record(event: Genesis) -> dict[str, object]:
    """The configuration a genesis event fixes, as the state record stores it.

    Policy fields added after the first release are present only when the genesis sets
    them, as in its bytes; :meth:`Policy.from_config` reads them back with their defaults.
    """
    config: dict[str, object] = {
        "origin": event.origin,
        "ledger_id": ledger_id_of(event_to_bytes(event)).hex(),
        "log_key": event.log_key,
        "admin_threshold": event.admin_threshold,
        "committee_threshold": event.committee_threshold,
    }
    if event.backdate_days_max != BACKDATE_DAYS_DEFAULT:
        config["backdate_days_max"] = event.backdate_days_max
    if event.admin_may_also_hold:
        config["admin_may_also_hold"] = sorted(r.value for r in event.admin_may_also_hold)
    return config


@register_handler(Genesis)
def _genesis(event: Genesis, state: StateView, ctx: DeriveContext) -> Plan:
    if ctx.seq != 0 or state.config() is not None:
        raise InvalidEventError("a ledger has exactly one genesis event, at seq 0")
    for spec in event.admins:
        if spec.owner is not None:
            raise InvalidEventError(
                "genesis admin keys cannot name an owner account: no accounts exist yet"
            )
    config = genesis_config_record(event)
    policy = Policy.from_config(config)
    changes: list[AccountOpened | KeyAdded | StatePut] = [StatePut(LEDGER_NS, "config", config)]
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
    record = _new_key(event.key, state, ctx, config)
    requirements: list[Requirement] = [config.policy.admins()]
    seated = state.get(LEDGER_NS, COMMITTEE_SEATED)
    if {Role.COMMITTEE, Role.TREASURER} & set(record.roles):
        # Once a committee quorum has existed, the committee chooses who joins it and who
        # pays out of the funds: the admins alone must not seat people who sign for them.
        requirements += seated_committee(state, config)
    if record.owner is not None:
        requirements += further_key_requirements(record.owner, state, config)
    return Plan(
        requirement=all_of(requirements),
        changes=(
            KeyAdded(record),
            *index_owner(record, state),
            *_seat_committee(record, state, config, seated, ctx),
        ),
    )


def _people_holding(role: Role, state: StateView, leaving: Collection[str] = ()) -> set[str]:
    """The people (not keys) holding an unrevoked key with ``role``, but for ``leaving``."""
    return {k.person for k in state.active_keys(role.value) if k.key_id not in leaving}


def _check_role_remains(
    role: Role,
    threshold: int,
    hint: str,
    record: KeyRecord,
    state: StateView,
    also_leaving: set[str],
) -> None:
    """Refuse to revoke ``record`` if fewer people than ``threshold`` would hold ``role``.

    Quorums count people, so two keys of one owner must not keep alive a threshold that
    nobody can meet.
    """
    if role not in record.roles:
        return
    remaining = len(_people_holding(role, state, also_leaving | {record.key_id}))
    if remaining < threshold:
        article = "an" if role is Role.ADMIN else "a"
        raise LimitExceededError(
            f"revoking key {record.key_id} would leave {remaining} person(s) holding "
            f"{article} {role.value} key, fewer than the {role.value} threshold of {threshold}",
            hint=hint,
        )


def _check_committee_remains(
    record: KeyRecord, state: StateView, config: LedgerConfig, also_leaving: set[str]
) -> None:
    """Refuse to revoke a seated committee below its quorum: nobody could then refill it."""
    if committee_seated(state):
        _check_role_remains(
            Role.COMMITTEE,
            config.policy.committee_threshold,
            "Seat the new committee member first (the committee signs that), then "
            "revoke the old key.",
            record,
            state,
            also_leaving,
        )


def _seat_committee(
    record: KeyRecord, state: StateView, config: LedgerConfig, seated: object, ctx: DeriveContext
) -> tuple[StatePut, ...]:
    """Mark the committee seated the first time enough people hold committee keys."""
    if seated is not None or Role.COMMITTEE not in record.roles:
        return ()
    people = _people_holding(Role.COMMITTEE, state) | {record.person}
    if len(people) < config.policy.committee_threshold:
        return ()
    return (StatePut(LEDGER_NS, COMMITTEE_SEATED, ctx.seq),)


@register_handler(RecoverKey)
def _recover_key(event: RecoverKey, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    owner = event.key.owner
    if owner is None:
        raise InvalidEventError(
            "a recovered key must name the account it replaces the keys of",
            hint="Set owner to the account whose key was lost.",
        )
    if not state.get(OWNER_KEYS_NS, owner):
        raise InvalidEventError(
            f"account {owner!r} never had a key to recover; register its first key with "
            "RegisterKey instead"
        )
    old = active_owned_keys(state, owner)
    record = _new_key(event.key, state, ctx, config, replacing=old)
    leaving = {k.key_id for k in old}
    for key in old:
        _check_admins_remain(key, state, config, also_leaving=leaving)
    if Role.COMMITTEE not in record.roles:
        for key in old:
            _check_committee_remains(key, state, config, also_leaving=leaving)
    return Plan(
        requirement=AllOf(config.policy.admins(), config.policy.committee(), NotOwnedBy(owner)),
        changes=(
            *(KeyRevoked(key.key_id, ctx.seq) for key in old),
            KeyAdded(record),
            *index_owner(record, state),
        ),
    )


def _new_key(
    spec: KeySpec,
    state: StateView,
    ctx: DeriveContext,
    config: LedgerConfig,
    replacing: tuple[KeyRecord, ...] = (),
) -> KeyRecord:
    """The record for a key being registered, after every rule about who may own it."""
    record = key_record(spec, ctx.seq)
    if state.key(record.key_id) is not None:
        raise InvalidEventError(f"key {record.key_id} is already registered")
    if record.public_key == config.log_key:
        raise InvalidEventError("the log key cannot also sign events; generate another key")
    roles = set(record.roles)
    if record.owner is None:
        if _OWNED_ROLES & roles:
            raise InvalidEventError("a member or partner key must name the account that owns it")
        if _PERSON_ROLES & roles:
            names = ", ".join(sorted(r.value for r in _PERSON_ROLES & roles))
            raise InvalidEventError(
                f"a key with the {names} role must name the account of the person who holds it",
                hint="Set owner to that person's own account, so that two keys of one "
                "person count once in a quorum and nobody signs for their own account.",
            )
    else:
        owner = require_account(state, record.owner)
        if owner.kind in UNOWNED_KINDS:
            raise InvalidEventError(
                f"account {record.owner!r} is a {owner.kind.value} account, which no key may "
                "own: value leaves it only through grants, distributions, settlements or a "
                "transfer signed by the committee quorum",
                details={"account": record.owner, "kind": owner.kind.value},
            )
        kept = [k for k in active_owned_keys(state, record.owner) if k not in replacing]
        roles |= {role for key in kept for role in key.roles}
    if Role.ADMIN in roles:
        clash = (roles & _SEPARATED_ROLES) - config.policy.admin_may_also_hold
        if clash:
            names = " and ".join(sorted(r.value for r in clash))
            raise InvalidEventError(
                f"one person may not hold both the admin and the {names} role on this ledger",
                hint="Give the role to someone else; a ledger that allows it says so in its "
                "genesis entry (admin_may_also_hold).",
                details={"owner": record.owner, "roles": sorted(r.value for r in roles)},
            )
    return record


def committee_seated(state: StateView) -> bool:
    """Whether the committee has ever had its quorum of people (see ``COMMITTEE_SEATED``)."""
    return state.get(LEDGER_NS, COMMITTEE_SEATED) is not None


def seated_committee(state: StateView, config: LedgerConfig) -> list[Requirement]:
    """The committee quorum once the committee is seated; nothing before (the bootstrap).

    Used for the admin decisions that set what points and money are worth or who pays
    them out (the service catalogue, the settlement rate, treasurer keys): once there is a
    committee, the admins alone must not be able to price their own way into a fund.
    """
    return [config.policy.committee()] if committee_seated(state) else []


def further_key_requirements(
    owner: str, state: StateView, config: LedgerConfig
) -> list[Requirement]:
    """What registering one more key owned by ``owner`` needs beyond the admins.

    A further key for an account speaks for it as much as the first: the admins alone
    must not be able to add one and spend. A lost key goes through ``RecoverKey``. The
    first key of an account that already holds points or money (a beneficiary who was
    granted care, a shareholder who was paid) would let the admins spend it, so it needs
    the committee quorum too.

    Raises:
        AuthorizationError: if every key the account had was revoked (recovery is then
            ``RecoverKey``, with the committee quorum).
    """
    if not state.get(OWNER_KEYS_NS, owner):
        holds_value = any(state.balance(owner, asset).posted != 0 for asset in Asset)
        return [config.policy.committee(), NotOwnedBy(owner)] if holds_value else []
    if not active_owned_keys(state, owner):
        raise AuthorizationError(
            f"every key of account {owner!r} was revoked; a new one needs the "
            "recovery quorum (admins and committee), not the admins alone",
            hint="Record a RecoverKey event signed by the admin quorum and the committee quorum.",
            details={"account": owner},
        )
    return [OwnerSignature(owner)]


def active_owned_keys(state: StateView, owner: str) -> tuple[KeyRecord, ...]:
    """The unrevoked keys registered with ``owner`` as their owner account."""
    keys = (state.key(key_id) for key_id in state.get(OWNER_KEYS_NS, owner) or [])
    return tuple(k for k in keys if k is not None and k.revoked_at_seq is None)


def index_owner(record: KeyRecord, state: StateView) -> tuple[StatePut, ...]:
    """The change that lists ``record`` among its owner's keys (none for an owner-less key).

    Every event that registers a key owned by an account must make it, so that a later
    key for that account needs that owner's signature.
    """
    if record.owner is None:
        return ()
    known = list(state.get(OWNER_KEYS_NS, record.owner) or [])
    return (StatePut(OWNER_KEYS_NS, record.owner, [*known, record.key_id]),)


def _check_admins_remain(
    record: KeyRecord, state: StateView, config: LedgerConfig, also_leaving: set[str]
) -> None:
    """Refuse to revoke admin keys below the admin threshold (counted in people)."""
    _check_role_remains(
        Role.ADMIN,
        config.policy.admin_threshold,
        "Register the replacement admin key first, then revoke the old one.",
        record,
        state,
        also_leaving,
    )


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
    _check_admins_remain(record, state, config, also_leaving=set())
    _check_committee_remains(record, state, config, also_leaving=set())
    return Plan(requirement=config.policy.admins(), changes=(KeyRevoked(event.key_id, ctx.seq),))


@register_handler(Transfer, reversible=True)
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
    kinds = {a: require_account(state, a).kind for a in debited}
    system = any(kind in SYSTEM_KINDS for kind in kinds.values())
    if system:
        # Value out of ``issuer`` or ``external`` is new points or new money on the
        # ledger: the admins record it and the committee must agree, so that the admin
        # quorum alone cannot mint what it then spends.
        requirements.append(config.policy.admins())
    if system or any(kind in COMMON_KINDS for kind in kinds.values()):
        # Pools and funds have no owner key: only the committee quorum moves them, and
        # none of its signers may be on the receiving end.
        credited = sorted({a for (a, _), amount in net.items() if amount > 0})
        requirements += [config.policy.committee(), *(NotOwnedBy(a) for a in credited)]
    constrained = [a for a in debited if kinds[a].constrained]
    requirements += [OwnerSignature(a) for a in constrained if kinds[a] not in COMMON_KINDS]
    return Plan(
        requirement=all_of(requirements),
        postings=event.postings,
        changes=before_debit(constrained, state, ctx),
    )


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
    requirements: list[Requirement] = [config.policy.admins()]
    if any(require_account(state, a).kind in COMMON_KINDS for a in debited):
        # Taking value back out of a pool or fund is a decision of the committee too.
        requirements.append(config.policy.committee())
    return Plan(
        requirement=all_of(requirements),
        postings=postings,
        changes=(
            *before_debit(debited, state, ctx),
            StatePut(REVERSED_NS, str(event.target_seq), ctx.seq),
        ),
    )
