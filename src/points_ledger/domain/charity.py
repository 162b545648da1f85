"""Handlers for the charity pool: members donate points, the committee grants them.

A donation is signed by the donor (a member key it owns) and first releases the donor's
expired redemption holds (see :mod:`points_ledger.domain.alliance`). A grant needs k
different committee members (``Policy.committee()``); the pool is a constrained account,
so a grant larger than the pool's available balance is refused.
"""

from __future__ import annotations

from points_ledger.domain.admin import require_account, require_config
from points_ledger.domain.alliance import release_expired_holds
from points_ledger.domain.state import DeriveContext, Plan, StateView, register_handler
from points_ledger.domain.working import WorkingState
from points_ledger.errors import InvalidEventError
from points_ledger.models.common import AccountKind, Asset, Role
from points_ledger.models.community import Donate, Grant
from points_ledger.models.events import Posting
from points_ledger.policy import AllOf, NotOwnedBy, OwnerSignature

__all__: list[str] = []

_RECIPIENT_KINDS = frozenset({AccountKind.BENEFICIARY, AccountKind.MEMBER})


def _require_kind(state: StateView, account: str, kinds: frozenset[AccountKind], what: str) -> None:
    record = require_account(state, account)
    if record.kind not in kinds:
        raise InvalidEventError(f"{what}; {account!r} is a {record.kind.value} account")


@register_handler(Donate)
def _donate(event: Donate, state: StateView, ctx: DeriveContext) -> Plan:
    require_config(state)
    _require_kind(
        state, event.donor, frozenset({AccountKind.MEMBER}), "donations come from members"
    )
    _require_kind(state, event.pool, frozenset({AccountKind.POOL}), "donations go to a pool")
    work = WorkingState(state)
    release_expired_holds(work, ctx, member=event.donor)
    postings = (
        Posting(account=event.donor, asset=Asset.PTS, amount=-event.points),
        Posting(account=event.pool, asset=Asset.PTS, amount=event.points),
    )
    return Plan(
        requirement=OwnerSignature(event.donor, frozenset({Role.MEMBER})),
        postings=postings,
        changes=work.changes(),
    )


@register_handler(Grant)
def _grant(event: Grant, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    _require_kind(state, event.pool, frozenset({AccountKind.POOL}), "grants come from a pool")
    _require_kind(
        state, event.beneficiary, _RECIPIENT_KINDS, "grants go to beneficiary or member accounts"
    )
    postings = (
        Posting(account=event.pool, asset=Asset.PTS, amount=-event.points),
        Posting(account=event.beneficiary, asset=Asset.PTS, amount=event.points),
    )
    # The quorum counts people, and nobody on the committee grants to their own account.
    return Plan(
        requirement=AllOf(config.policy.committee(), NotOwnedBy(event.beneficiary)),
        postings=postings,
    )
