"""Handlers for collective income: split policies, rosters, revenue and distributions.

Every event here is signed by the ``committee`` quorum. A distribution's postings are never
taken from the event: :func:`derive_distribution` recomputes them from the policy version in
force, the roster and the amount, so the audit replay checks them like any other entry.
:func:`preview_distribution` runs the same derivation without writing.

State records (JSON, under namespaces of the ``state`` table):

* ``revenue.policy`` / policy id: ``{"versions": [version record, ...]}``, oldest first;
* ``revenue.roster`` / roster id: the roster's shareholders and villagers;
* ``revenue.period`` / period label: account, fiscal year, recorded and distributed fen.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Final

from points_ledger.domain.admin import require_account, require_config
from points_ledger.domain.state import DeriveContext, Plan, StatePut, StateView, register_handler
from points_ledger.errors import (
    IntegrityError,
    InvalidEventError,
    LedgerError,
    LimitExceededError,
    NotFoundError,
    OverdraftError,
    SplitError,
)
from points_ledger.models.common import AccountKind, Asset
from points_ledger.models.events import Posting
from points_ledger.models.records import (
    RevenuePeriodRecord,
    RosterRecord,
    SplitPolicyRecord,
    SplitPolicyVersion,
)
from points_ledger.models.revenue import (
    AdoptSplitPolicy,
    Distribute,
    InvestorTerms,
    RecordRevenue,
    RecordRoster,
)
from points_ledger.split import Distribution, InvestorSchedule, SplitPolicy, distribute

__all__ = [
    "ACCOUNT_BUCKET_KINDS",
    "PERIOD_NS",
    "POLICY_NS",
    "ROSTER_NS",
    "VILLAGER_KINDS",
    "DerivedDistribution",
    "derive_distribution",
    "distribution_postings",
    "explain_distribution",
    "preview_distribution",
]

POLICY_NS: Final = "revenue.policy"
"""State namespace: policy id -> every adopted version."""

ROSTER_NS: Final = "revenue.roster"
"""State namespace: roster id -> the recorded roster."""

PERIOD_NS: Final = "revenue.period"
"""State namespace: period label -> revenue account, fiscal year, recorded and distributed."""

ACCOUNT_BUCKET_KINDS: Final = frozenset({AccountKind.FUND, AccountKind.PARTNER})
"""Kinds an ``account`` bucket may pay: collective funds, or a partner such as an operator."""

VILLAGER_KINDS: Final = frozenset({AccountKind.MEMBER, AccountKind.SHAREHOLDER})
"""Kinds a roster's villagers may have."""


@dataclass(frozen=True)
class DerivedDistribution:
    """What a :class:`Distribute` event does, computed from the event and the ledger state.

    Attributes:
        distribution: The split result with its step-by-step trace.
        source_account: The revenue account debited.
        policy_version: The version of the policy that was in force.
        contract_year: The investor's contract year, or ``None`` without an investor.
        postings: The entry's postings: the debit, then every non-zero part by account id.
    """

    distribution: Distribution
    source_account: str
    policy_version: int
    contract_year: int | None
    postings: tuple[Posting, ...]


def distribution_postings(source_account: str, distribution: Distribution) -> tuple[Posting, ...]:
    """Return the postings that pay ``distribution`` out of ``source_account``.

    The debit of the whole amount comes first, then one credit per account with a non-zero
    part, in ascending account id order (zero parts are left out: a posting is never zero).

    Raises:
        SplitError: The source account is also a recipient.
    """
    if source_account in distribution.amounts:
        raise SplitError(
            f"account {source_account!r} would pay the distribution and receive part of it",
            hint="Distribute from a revenue account that is not one of the policy's buckets.",
        )
    postings = [Posting(account=source_account, asset=Asset.CNY, amount=-distribution.amount)]
    postings += [
        Posting(account=account, asset=Asset.CNY, amount=part)
        for account, part in distribution.amounts.items()
        if part != 0
    ]
    return tuple(postings)


def derive_distribution(event: Distribute, state: StateView) -> DerivedDistribution:
    """Compute the distribution an event asks for, checking it against the ledger state.

    Checks, in this order: the period has recorded revenue, a version of the policy is in
    force on ``event.effective_at``, the roster exists, the revenue account has the amount
    available, the period has that much left to distribute, and the split itself succeeds.

    Raises:
        NotFoundError: No revenue recorded for the period, no version of the policy in force
            on the event's date, no such roster, or no roster named for a policy that
            needs one.
        OverdraftError: The amount is above the revenue account's available balance.
        LimitExceededError: The amount is above what is left of the period's revenue.
        SplitError: The contract year is outside the investor schedule, a roster the policy
            needs is empty, or the revenue account is also a recipient.
        IntegrityError: A state record cannot be read (a damaged file).
    """
    period = _require_period(state, event.period)
    version = _version_in_force(state, event.policy_id, event.effective_at)
    policy, investor, roster = _policy_and_roster(event, version, state)
    source = period.account
    available = state.balance(source, Asset.CNY).available
    if event.amount > available:
        raise OverdraftError(
            f"account {source!r} has {Asset.CNY.format_amount(available)} CNY available; "
            f"the distribution needs {Asset.CNY.format_amount(event.amount)}",
            details={"account": source, "available": available, "needed": event.amount},
        )
    left = period.recorded - period.distributed
    if event.amount > left:
        raise LimitExceededError(
            f"period {event.period!r} has {Asset.CNY.format_amount(left)} CNY of revenue "
            f"left to distribute; this distribution asks for "
            f"{Asset.CNY.format_amount(event.amount)}",
            details={"period": event.period, "left": left, "needed": event.amount},
        )
    return _split(event, period, version, policy, investor, roster)


def explain_distribution(event: Distribute, seq: int, state: StateView) -> DerivedDistribution:
    """Re-derive the split that distribution entry ``seq`` paid, with its full working.

    Uses what was in force when the entry was appended: the latest version of the policy
    adopted before ``seq`` and in force on the event's date, the roster (rosters never
    change) and the period's fiscal year. Balance and period limits are not checked
    again: they held when the entry was appended.

    Raises:
        NotFoundError: The period, policy version or roster is missing (a damaged file).
        IntegrityError: A state record cannot be read.
    """
    period = _period(state, event.period)
    if period is None:
        raise NotFoundError(f"no revenue is recorded for period {event.period!r}", seq=seq)
    version = _version_in_force(state, event.policy_id, event.effective_at, before_seq=seq)
    policy, investor, roster = _policy_and_roster(event, version, state)
    return _split(event, period, version, policy, investor, roster)


def _policy_and_roster(
    event: Distribute, version: SplitPolicyVersion, state: StateView
) -> tuple[SplitPolicy, InvestorTerms | None, RosterRecord | None]:
    try:
        policy = SplitPolicy.from_dict(version.policy)
        investor_data = version.investor
        investor = None if investor_data is None else InvestorTerms.model_validate(investor_data)
    except (LedgerError, ValueError, TypeError, KeyError) as e:
        raise IntegrityError(f"stored split policy {event.policy_id!r} cannot be read") from e
    needs_roster = sorted(b.name for b in policy.buckets if b.mode != "account")
    if event.roster_id is None and needs_roster:
        raise NotFoundError(
            f"policy {event.policy_id!r} pays bucket(s) {', '.join(needs_roster)} by roster, "
            "and the distribution names no roster",
            hint="Name a recorded roster in roster_id.",
        )
    roster: RosterRecord | None = None
    if event.roster_id is not None:
        recorded = RosterRecord.read(state.get(ROSTER_NS, event.roster_id), event.roster_id)
        if recorded is None:
            raise NotFoundError(
                f"roster {event.roster_id!r} has not been recorded",
                hint="Record it first (points-ledger roster record, or a RecordRoster event), or "
                "check its id.",
            )
        roster = recorded
    return policy, investor, roster


def _split(
    event: Distribute,
    period: RevenuePeriodRecord,
    version: SplitPolicyVersion,
    policy: SplitPolicy,
    investor: InvestorTerms | None,
    roster: RosterRecord | None,
) -> DerivedDistribution:
    source = period.account
    shareholders = {} if roster is None else dict(roster.shareholders)
    villagers = [] if roster is None else list(roster.villagers)
    shares = {b.name: shareholders for b in policy.buckets if b.mode == "pro_rata"}
    members = {b.name: villagers for b in policy.buckets if b.mode == "per_capita"}
    schedule: InvestorSchedule | None = None
    contract_year: int | None = None
    investor_account = "investor"
    if investor is not None:
        schedule = investor.schedule
        contract_year = investor.contract_year(period.fiscal_year)
        investor_account = investor.account
    result = distribute(
        event.amount,
        policy,
        investor_schedule=schedule,
        contract_year=contract_year,
        investor_account=investor_account,
        shares=shares,
        members=members,
    )
    return DerivedDistribution(
        distribution=result,
        source_account=source,
        policy_version=version.version,
        contract_year=contract_year,
        postings=distribution_postings(source, result),
    )


def preview_distribution(event: Distribute, state: StateView) -> Distribution:
    """Return what appending ``event`` would pay, without writing and without signatures.

    Runs :func:`derive_distribution`, the same derivation the handler runs, against the
    given state.

    Raises:
        InvalidEventError: The ledger has no genesis entry, or ``event`` is not a
            :class:`Distribute`.
        LedgerError: Any refusal of :func:`derive_distribution`.
    """
    if not isinstance(event, Distribute):
        raise InvalidEventError(f"expected a Distribute event, got {type(event).__name__}")
    require_config(state)
    return derive_distribution(event, state).distribution


@register_handler(AdoptSplitPolicy)
def _adopt_split_policy(event: AdoptSplitPolicy, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    record = SplitPolicyRecord.read(state.get(POLICY_NS, event.policy_id), event.policy_id)
    versions = [] if record is None else list(record.versions)
    expected = len(versions) + 1
    if event.version != expected:
        raise InvalidEventError(
            f"policy {event.policy_id!r} has {len(versions)} version(s); the next one must be "
            f"version {expected}, not {event.version}",
            details={"policy_id": event.policy_id, "expected": expected},
        )
    if versions:
        last_from = _iso_date(versions[-1].effective_from)
        if event.effective_from < last_from:
            raise InvalidEventError(
                f"version {event.version} of policy {event.policy_id!r} would take effect on "
                f"{event.effective_from}, before version {expected - 1} ({last_from})",
                hint="A new version supersedes the last one from its own date on.",
            )
    policy = event.resolved_policy()
    for bucket in policy.buckets:
        if bucket.account is not None:
            _require_kind(state, bucket.account, ACCOUNT_BUCKET_KINDS, f"bucket {bucket.name!r}")
    if event.investor is not None:
        _require_kind(state, event.investor.account, {AccountKind.INVESTOR}, "the investor")
    versions.append(
        SplitPolicyVersion(
            version=event.version,
            effective_from=event.effective_from.isoformat(),
            seq=ctx.seq,
            policy=policy.to_dict(),
            investor=None if event.investor is None else event.investor.model_dump(mode="json"),
        )
    )
    adopted = SplitPolicyRecord(versions=tuple(versions))
    return Plan(
        requirement=config.policy.committee(),
        changes=(StatePut(POLICY_NS, event.policy_id, adopted.to_json()),),
    )


@register_handler(RecordRoster)
def _record_roster(event: RecordRoster, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    earlier = RosterRecord.read(state.get(ROSTER_NS, event.roster_id), event.roster_id)
    if earlier is not None:
        raise InvalidEventError(
            f"roster {event.roster_id!r} was already recorded at entry {earlier.seq}",
            hint="Rosters are snapshots: record a changed roster under a new id.",
        )
    for holding in event.shareholders:
        _require_kind(state, holding.account, {AccountKind.SHAREHOLDER}, "a shareholder")
    for villager in event.villagers:
        _require_kind(state, villager, VILLAGER_KINDS, "a villager")
    roster = RosterRecord(
        seq=ctx.seq,
        as_of=event.as_of.isoformat(),
        shareholders=tuple((h.account, h.shares) for h in event.shareholders),
        villagers=tuple(event.villagers),
    )
    return Plan(
        requirement=config.policy.committee(),
        changes=(StatePut(ROSTER_NS, event.roster_id, roster.to_json()),),
    )


@register_handler(RecordRevenue)
def _record_revenue(event: RecordRevenue, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    _require_kind(state, event.account, {AccountKind.FUND}, "the revenue account")
    period = _period(state, event.period)
    if period is None:
        period = RevenuePeriodRecord(
            account=event.account, fiscal_year=event.fiscal_year, recorded=0, distributed=0
        )
    elif period.account != event.account or period.fiscal_year != event.fiscal_year:
        raise InvalidEventError(
            f"period {event.period!r} belongs to account {period.account!r}, fiscal "
            f"year {period.fiscal_year}; this event names {event.account!r}, "
            f"{event.fiscal_year}",
            hint="Use the period's account and fiscal year, or another period label.",
        )
    updated = dataclasses.replace(period, recorded=period.recorded + event.amount)
    return Plan(
        requirement=config.policy.committee(),
        postings=(
            Posting(account="external", asset=Asset.CNY, amount=-event.amount),
            Posting(account=event.account, asset=Asset.CNY, amount=event.amount),
        ),
        changes=(StatePut(PERIOD_NS, event.period, updated.to_json()),),
    )


@register_handler(Distribute)
def _distribute(event: Distribute, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    derived = derive_distribution(event, state)
    period = _require_period(state, event.period)
    updated = dataclasses.replace(period, distributed=period.distributed + event.amount)
    return Plan(
        requirement=config.policy.committee(),
        postings=derived.postings,
        changes=(StatePut(PERIOD_NS, event.period, updated.to_json()),),
    )


def _require_kind(
    state: StateView, account: str, kinds: frozenset[AccountKind] | set[AccountKind], role: str
) -> None:
    record = require_account(state, account)
    if record.kind not in kinds:
        allowed = " or ".join(sorted(kind.value for kind in kinds))
        raise InvalidEventError(
            f"{role} must be an account of kind {allowed}; {account!r} is a "
            f"{record.kind.value} account",
            details={"account": account, "kind": record.kind.value},
        )


def _version_in_force(
    state: StateView, policy_id: str, on: dt.date, *, before_seq: int | None = None
) -> SplitPolicyVersion:
    """The policy version in force on ``on`` (among versions adopted before ``before_seq``)."""
    record = SplitPolicyRecord.read(state.get(POLICY_NS, policy_id), policy_id)
    if record is None:
        raise NotFoundError(
            f"split policy {policy_id!r} has not been adopted",
            hint="The committee adopts it first (points-ledger policy adopt, or an "
            "AdoptSplitPolicy event), or check its id.",
        )
    in_force = [
        v
        for v in record.versions
        if _iso_date(v.effective_from) <= on and (before_seq is None or v.seq < before_seq)
    ]
    if not in_force:
        raise NotFoundError(
            f"no version of split policy {policy_id!r} is in force on {on}",
            hint="Date the distribution on or after the policy's effective_from date.",
        )
    return in_force[-1]


def _period(state: StateView, period: str) -> RevenuePeriodRecord | None:
    return RevenuePeriodRecord.read(state.get(PERIOD_NS, period), period)


def _require_period(state: StateView, period: str) -> RevenuePeriodRecord:
    record = _period(state, period)
    if record is None:
        raise NotFoundError(
            f"no revenue has been recorded for period {period!r}",
            hint="Record the income first (points-ledger revenue record, or a RecordRevenue "
            "event).",
        )
    return record


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise IntegrityError(f"a stored split policy holds {value!r} as a date") from e
