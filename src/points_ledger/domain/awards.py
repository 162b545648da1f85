"""Handlers for the service catalogue and volunteer awards.

State records (namespace: key -> value):

* ``service``: code -> the current definition (see :class:`DefineService`);
* ``award_task``: ``service/task_ref`` -> seq of the award that paid it;
* ``award_day``: ``volunteer/service/YYYY-MM-DD`` -> points awarded that business date;
* ``award_month``: ``volunteer/service/YYYY-MM`` -> points awarded that month.

Caps count business dates (``effective_at``): a date is already a calendar day in the
community's time zone (Asia/Shanghai), so its year-month is the report month. A reversed
award still counts towards the caps and its task reference stays used, so a visit can
never be paid twice; re-award a corrected task under a new reference.
"""

from __future__ import annotations

from points_ledger.domain.admin import require_account, require_config, seated_committee
from points_ledger.domain.state import (
    DeriveContext,
    Plan,
    StatePut,
    StateView,
    register_handler,
)
from points_ledger.errors import (
    DuplicateTaskError,
    InvalidEventError,
    LimitExceededError,
    NotFoundError,
)
from points_ledger.models.common import AccountKind, Asset, Role
from points_ledger.models.community import AwardPoints, DefineService
from points_ledger.models.events import Posting
from points_ledger.models.records import AwardTotal, ServiceRecord
from points_ledger.policy import AllOf, NotOwnedBy, RoleQuorum, all_of

__all__ = ["SERVICE_NS", "require_service"]

SERVICE_NS = "service"
TASK_NS = "award_task"
DAY_NS = "award_day"
MONTH_NS = "award_month"


def require_service(state: StateView, code: str) -> ServiceRecord:
    """Return a catalogue entry.

    Raises:
        NotFoundError: if no service with that code was defined.
        IntegrityError: if its stored record is damaged.
    """
    value = state.get(SERVICE_NS, code)
    if value is None:
        raise NotFoundError(
            f"service {code!r} is not in the catalogue",
            hint="Define the service first (points-ledger service define, or a DefineService "
            "event), or check the code.",
            details={"service": code},
        )
    return ServiceRecord.from_json(value, code)


@register_handler(DefineService)
def _define_service(event: DefineService, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    value = ServiceRecord(
        code=event.code,
        name=event.name,
        points_per_unit=event.points_per_unit,
        unit=event.unit.value,
        points_per_day_max=event.points_per_day_max,
        points_per_month_max=event.points_per_month_max,
        active_from=event.active_from.isoformat(),
        active_to=None if event.active_to is None else event.active_to.isoformat(),
        defined_seq=ctx.seq,
    )
    # What a unit of service is worth is a decision of the committee too, once seated:
    # otherwise the admins could price a service high and award it to people they enrol.
    return Plan(
        requirement=all_of([config.policy.admins(), *seated_committee(state, config)]),
        changes=(StatePut(SERVICE_NS, event.code, value.to_json()),),
    )


@register_handler(AwardPoints, reversible=True)
def _award_points(event: AwardPoints, state: StateView, ctx: DeriveContext) -> Plan:
    require_config(state)
    service = require_service(state, event.service)
    volunteer = require_account(state, event.volunteer)
    if volunteer.kind is not AccountKind.MEMBER:
        raise InvalidEventError(
            f"points are awarded to member accounts; {event.volunteer!r} is a "
            f"{volunteer.kind.value} account"
        )
    day = event.effective_at.isoformat()
    if day < service.active_from or (service.active_to is not None and day > service.active_to):
        raise InvalidEventError(
            f"service {event.service!r} is not active on {day} (active from "
            f"{service.active_from} to {service.active_to or 'open end'})"
        )
    task_key = f"{event.service}/{event.task_ref}"
    paid_by = AwardTotal.read(state.get(TASK_NS, task_key), task_key)
    if paid_by is not None:
        raise DuplicateTaskError(
            f"task {event.task_ref!r} of service {event.service!r} was already paid by "
            f"entry {paid_by.value}",
            details={"service": event.service, "task_ref": event.task_ref, "seq": paid_by.value},
        )
    points = event.quantity * service.points_per_unit
    day_key = f"{event.volunteer}/{event.service}/{day}"
    month_key = f"{event.volunteer}/{event.service}/{day[:7]}"
    day_total = _counted(state, DAY_NS, day_key) + points
    month_total = _counted(state, MONTH_NS, month_key) + points
    _check_cap(event, day_total, service.points_per_day_max, f"on {day}")
    _check_cap(event, month_total, service.points_per_month_max, f"in {day[:7]}")
    postings = (
        Posting(account="issuer", asset=Asset.PTS, amount=-points),
        Posting(account=event.volunteer, asset=Asset.PTS, amount=points),
    )
    return Plan(
        requirement=AllOf(_ISSUERS, NotOwnedBy(event.volunteer)),
        postings=postings,
        changes=(
            StatePut(TASK_NS, task_key, AwardTotal(ctx.seq).to_json()),
            StatePut(DAY_NS, day_key, AwardTotal(day_total).to_json()),
            StatePut(MONTH_NS, month_key, AwardTotal(month_total).to_json()),
        ),
    )


_ISSUERS = RoleQuorum(Role.ISSUER)
"""Who may award points (one immutable value, shared by every award's requirement)."""


def _check_cap(event: AwardPoints, total: int, cap: int | None, period: str) -> None:
    """Refuse an award that takes a day or month counter past the service's cap."""
    if cap is not None and total > cap:
        raise LimitExceededError(
            f"{event.volunteer!r} would earn {total:,} points from {event.service!r} "
            f"{period}; the cap is {cap:,}",
            details={"account": event.volunteer, "cap": cap, "total": total},
        )


def _counted(state: StateView, namespace: str, key: str) -> int:
    """The points a day or month counter holds so far (0 if none was kept)."""
    total = AwardTotal.read(state.get(namespace, key), key)
    return 0 if total is None else total.value
