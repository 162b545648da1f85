"""Community commands: the service catalogue and awards, the alliance mall, the charity pool.

``service define``, ``award``, ``alliance join``, ``offer list`` / ``update`` / ``delist``,
``offers`` (read), ``redeem hold`` / ``confirm`` / ``void``, ``donate``, ``grant``,
``settlement-rate set`` and ``settle``. Each builds one event of
:mod:`points_ledger.models.community`, signs it with the ``--key`` files and appends it;
every rule (who may sign, prices, caps, balances) is the library's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from points_ledger.cli.app import (
    append_signed,
    cli,
    echo_jsonl,
    echo_table,
    event_options,
    json_option,
    keys_option,
    open_ledger,
    resolve_event_id,
)
from points_ledger.cli.bulk_cmds import award_file
from points_ledger.cli.keys_cmds import public_key_of_file
from points_ledger.cli.params import DATE, POINTS, YUAN
from points_ledger.i18n import format_number
from points_ledger.i18n import gettext as _
from points_ledger.models import (
    AwardPoints,
    ConfirmRedemption,
    DefineService,
    DelistOffer,
    Donate,
    Grant,
    HoldRedemption,
    JoinAlliance,
    ListOffer,
    ServiceUnit,
    SetSettlementRate,
    SettlePartner,
    UpdateOffer,
    VoidRedemption,
)
from points_ledger.models.community import HOLD_HOURS_DEFAULT, HOLD_HOURS_MAX
from points_ledger.reports import offers as offers_report
from points_ledger.split import format_fen

__all__ = [
    "alliance_group",
    "award",
    "donate",
    "grant",
    "offer_group",
    "offers",
    "redeem_group",
    "service_group",
    "settle",
    "settlement_rate_group",
    "voucher_of",
]


def voucher_of(hold_seq: int) -> str:
    """The voucher code a hold entry issues: ``V`` and its seq, at least 8 digits."""
    return f"V{hold_seq:08d}"


# -- catalogue and awards ------------------------------------------------------------------


@cli.group("service")
def service_group() -> None:
    """The service catalogue awards are priced from (admin-signed)."""


@service_group.command("define")
@click.argument("code")
@click.option("--name", required=True, help="What the service is, e.g. 燃气安全检查.")
@click.option(
    "--points",
    "points_per_unit",
    required=True,
    type=click.IntRange(1, 10_000),
    help="Points paid per unit.",
)
@click.option(
    "--unit",
    type=click.Choice([u.value for u in ServiceUnit]),
    default=ServiceUnit.VISIT.value,
    show_default=True,
)
@click.option("--per-day-max", type=POINTS, default=None, help="Cap per volunteer per day.")
@click.option("--per-month-max", type=POINTS, default=None, help="Cap per volunteer per month.")
@click.option("--active-from", type=DATE, default=None, help="First date (default: --date).")
@click.option("--active-to", type=DATE, default=None, help="Last date (default: open-ended).")
@keys_option
@event_options
@json_option
def service_define(
    code: str,
    name: str,
    points_per_unit: int,
    unit: str,
    per_day_max: int | None,
    per_month_max: int | None,
    active_from: dt.date | None,
    active_to: dt.date | None,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Add service CODE (e.g. gas-check) to the catalogue, or redefine it from now on."""
    event = DefineService(
        id=resolve_event_id(event_id, "service"),
        effective_at=effective_at,
        memo=memo,
        code=code,
        name=name,
        points_per_unit=points_per_unit,
        unit=ServiceUnit(unit),
        points_per_day_max=per_day_max,
        points_per_month_max=per_month_max,
        active_from=active_from or effective_at,
        active_to=active_to,
    )
    append_signed(event, key_paths, as_json=as_json)


@cli.command()
@click.argument("volunteer", required=False)
@click.argument("service", required=False)
@click.option("--quantity", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--cell", "grid_cell", help="Grid cell where the work was done.")
@click.option("--task", "task_ref", help="Task reference; paid once per service.")
@click.option(
    "--from-file",
    "from_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A CSV or XLSX file with one award per row (columns volunteer, service, "
    "quantity, cell, task, date, memo, id, points; Chinese headers 账户, 服务, 数量, 网格, "
    "任务, 日期, 备注 too). All rows are appended or none.",
)
@click.option(
    "--per-row",
    is_flag=True,
    help="With --from-file: append each row on its own and report each one; rows the "
    "ledger refuses are listed and the others kept (exit 1 if any was refused).",
)
@keys_option
@event_options
@json_option
@click.pass_context
def award(
    ctx: click.Context,
    volunteer: str | None,
    service: str | None,
    quantity: int,
    grid_cell: str | None,
    task_ref: str | None,
    from_file: Path | None,
    per_row: bool,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Award VOLUNTEER points for QUANTITY units of catalogue SERVICE (issuer-signed).

    The points come from the catalogue (quantity x points per unit), never from the
    command line. The issuer signing must not own the volunteer's account.

    With --from-file, award every row of a CSV or XLSX file, signed by the same keys
    (loaded once). Every row is checked first; then all rows are appended in one
    transaction, or none if the ledger refuses one (the error names the row), unless
    --per-row is given. Rows without a date take --date. Each row's id is its id column
    or a digest of its content, so giving the same file again pays nobody twice.
    """
    if from_file is not None:
        given = [
            name
            for name, value in (
                ("VOLUNTEER", volunteer),
                ("SERVICE", service),
                ("--cell", grid_cell),
                ("--task", task_ref),
                ("--id", event_id),
                ("--memo", memo or None),
                ("--quantity", None if _is_default(ctx, "quantity") else quantity),
            )
            if value is not None
        ]
        if given:
            raise click.UsageError(
                f"--from-file takes every award from the file; leave out {', '.join(given)}"
            )
        code = award_file(from_file, key_paths, effective_at, per_row=per_row, as_json=as_json)
        ctx.exit(code)
    if per_row:
        raise click.UsageError("--per-row goes with --from-file")
    if volunteer is None or service is None or grid_cell is None or task_ref is None:
        missing = [
            name
            for name, value in (
                ("VOLUNTEER", volunteer),
                ("SERVICE", service),
                ("--cell", grid_cell),
                ("--task", task_ref),
            )
            if value is None
        ]
        raise click.UsageError(f"missing {', '.join(missing)} (or give --from-file FILE)")
    event = AwardPoints(
        id=resolve_event_id(event_id, "award"),
        effective_at=effective_at,
        memo=memo,
        volunteer=volunteer,
        service=service,
        quantity=quantity,
        grid_cell=grid_cell,
        task_ref=task_ref,
    )
    append_signed(event, key_paths, as_json=as_json)


def _is_default(ctx: click.Context, name: str) -> bool:
    """True when option ``name`` was not given on the command line or in the environment."""
    return ctx.get_parameter_source(name) in (None, click.core.ParameterSource.DEFAULT)


# -- the alliance mall -----------------------------------------------------------------------


@cli.group("alliance")
def alliance_group() -> None:
    """Admit partners (merchants, social enterprises) to the alliance (admin-signed)."""


@alliance_group.command("join")
@click.argument("partner")
@click.option("--name", required=True, help="Name shown in the mall, e.g. 致强理发店.")
@click.option(
    "--partner-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The partner's key file (its public part; no passphrase).",
)
@click.option("--public-key", help="The partner's public key in standard base64.")
@keys_option
@event_options
@json_option
def alliance_join(
    partner: str,
    name: str,
    partner_key_file: Path | None,
    public_key: str | None,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Admit PARTNER (an open account of kind partner) and register its partner key."""
    if (partner_key_file is None) == (public_key is None):
        raise click.UsageError("give exactly one of --partner-key-file and --public-key")
    public = public_key_of_file(partner_key_file) if partner_key_file else str(public_key)
    event = JoinAlliance(
        id=resolve_event_id(event_id, "join"),
        effective_at=effective_at,
        memo=memo,
        partner=partner,
        name=name,
        public_key=public,
    )
    append_signed(event, key_paths, as_json=as_json)


@cli.group("offer")
def offer_group() -> None:
    """A partner lists, changes and delists offers in the points mall (partner-signed)."""


@offer_group.command("list")
@click.argument("offer")
@click.option("--partner", required=True, help="The partner account supplying the item.")
@click.option("--item", required=True, help="What the member gets, e.g. 理发一次.")
@click.option("--price", "price_points", required=True, type=click.IntRange(1, 1_000_000))
@click.option("--stock", required=True, type=click.IntRange(0, 100_000))
@keys_option
@event_options
@json_option
def offer_list(
    offer: str,
    partner: str,
    item: str,
    price_points: int,
    stock: int,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """List (put up for redemption) the new offer OFFER; to read offers, use 'offers'."""
    event = ListOffer(
        id=resolve_event_id(event_id, "offer"),
        effective_at=effective_at,
        memo=memo,
        offer=offer,
        partner=partner,
        item=item,
        price_points=price_points,
        stock=stock,
    )
    append_signed(event, key_paths, as_json=as_json)


@offer_group.command("update")
@click.argument("offer")
@click.option("--price", "price_points", type=click.IntRange(1, 1_000_000), default=None)
@click.option("--stock", type=click.IntRange(0, 100_000), default=None, help="Unreserved items.")
@keys_option
@event_options
@json_option
def offer_update(
    offer: str,
    price_points: int | None,
    stock: int | None,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Change OFFER's price and/or unreserved stock; holds keep their price."""
    if price_points is None and stock is None:
        raise click.UsageError("give --price, --stock or both")
    event = UpdateOffer(
        id=resolve_event_id(event_id, "offer-update"),
        effective_at=effective_at,
        memo=memo,
        offer=offer,
        price_points=price_points,
        stock=stock,
    )
    append_signed(event, key_paths, as_json=as_json)


@offer_group.command("delist")
@click.argument("offer")
@keys_option
@event_options
@json_option
def offer_delist(
    offer: str,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Take OFFER out of the mall; holds already placed may still be confirmed or voided."""
    event = DelistOffer(
        id=resolve_event_id(event_id, "offer-delist"),
        effective_at=effective_at,
        memo=memo,
        offer=offer,
    )
    append_signed(event, key_paths, as_json=as_json)


@cli.command()
@click.option("--partner", default=None, help="Only this partner's offers.")
@click.option("--all", "show_all", is_flag=True, help="Include delisted offers.")
@json_option
def offers(partner: str | None, show_all: bool, as_json: bool) -> None:
    """Show the offers in the points mall: price, unreserved stock, partner."""
    with open_ledger() as ledger:
        rows = [r for r in offers_report(ledger, partner) if show_all or r.active]
    if as_json:
        echo_jsonl(
            {
                "offer": r.offer,
                "partner": r.partner,
                "item": r.item,
                "price_points": r.price_points,
                "stock": r.stock,
                "active": r.active,
                "listed_seq": r.listed_seq,
            }
            for r in rows
        )
        return
    echo_table(
        ["offer", "partner", "item", "price", "stock", "listed"],
        [
            (r.offer, r.partner, r.item, r.price_points, r.stock, "yes" if r.active else "no")
            for r in rows
        ],
        right=[False, False, False, True, True, False],
    )


# -- redemptions ---------------------------------------------------------------------------


@cli.group("redeem")
def redeem_group() -> None:
    """Two-phase redemption: the member holds, the partner confirms (or someone voids)."""


@redeem_group.command("hold")
@click.argument("member")
@click.argument("offer")
@click.option("--points", required=True, type=POINTS, help="Total the member agrees to pay.")
@click.option("--quantity", type=click.IntRange(1, 100), default=1, show_default=True)
@click.option(
    "--expires-in-hours",
    type=click.IntRange(1, HOLD_HOURS_MAX),
    default=HOLD_HOURS_DEFAULT,
    show_default=True,
)
@keys_option
@event_options
@json_option
def redeem_hold(
    member: str,
    offer: str,
    points: int,
    quantity: int,
    expires_in_hours: int,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """MEMBER reserves points and stock of OFFER and gets a voucher (member-signed).

    --points must equal quantity x the offer's current price: the member consents to
    exactly what is taken. Prints the voucher code the partner confirms.
    """
    event = HoldRedemption(
        id=resolve_event_id(event_id, "hold"),
        effective_at=effective_at,
        memo=memo,
        member=member,
        offer=offer,
        quantity=quantity,
        points=points,
        expires_in_hours=expires_in_hours,
    )
    result = append_signed(event, key_paths, as_json=as_json)
    if not as_json:
        click.echo(_("voucher: {voucher}").format(voucher=voucher_of(result.entry.seq)))


@redeem_group.command("confirm")
@click.argument("voucher")
@keys_option
@event_options
@json_option
def redeem_confirm(
    voucher: str,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """The partner hands over the item for VOUCHER; the held points go to the partner."""
    event = ConfirmRedemption(
        id=resolve_event_id(event_id, "confirm"),
        effective_at=effective_at,
        memo=memo,
        voucher=voucher,
    )
    append_signed(event, key_paths, as_json=as_json)


@redeem_group.command("void")
@click.argument("voucher")
@click.option("--reason", required=True, help="Why the hold is cancelled.")
@keys_option
@event_options
@json_option
def redeem_void(
    voucher: str,
    reason: str,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Cancel the pending hold VOUCHER, releasing points and stock."""
    event = VoidRedemption(
        id=resolve_event_id(event_id, "void"),
        effective_at=effective_at,
        memo=memo,
        voucher=voucher,
        reason=reason,
    )
    append_signed(event, key_paths, as_json=as_json)


# -- charity pool ----------------------------------------------------------------------------


@cli.command()
@click.argument("donor")
@click.argument("points", type=POINTS)
@click.option("--pool", required=True, help="The pool account, e.g. pool:charity.")
@keys_option
@event_options
@json_option
def donate(
    donor: str,
    points: int,
    pool: str,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """DONOR gives POINTS to the charity pool (signed by the donor's member key)."""
    event = Donate(
        id=resolve_event_id(event_id, "donate"),
        effective_at=effective_at,
        memo=memo,
        donor=donor,
        pool=pool,
        points=points,
    )
    append_signed(event, key_paths, as_json=as_json)


@cli.command()
@click.argument("beneficiary")
@click.argument("points", type=POINTS)
@click.option("--pool", required=True, help="The pool account paying.")
@click.option("--purpose", required=True, help="What the grant is for (no personal data).")
@keys_option
@event_options
@json_option
def grant(
    beneficiary: str,
    points: int,
    pool: str,
    purpose: str,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Grant BENEFICIARY POINTS from the pool: k committee members sign (--key, repeated).

    k is the ledger's committee threshold (2 unless set at init). The quorum counts
    different people, not keys.
    """
    event = Grant(
        id=resolve_event_id(event_id, "grant"),
        effective_at=effective_at,
        memo=memo,
        pool=pool,
        beneficiary=beneficiary,
        points=points,
        purpose=purpose,
    )
    append_signed(event, key_paths, as_json=as_json)


# -- settlement ------------------------------------------------------------------------------


@cli.group("settlement-rate")
def settlement_rate_group() -> None:
    """The rate partners are paid per redeemed point (admin-signed)."""


@settlement_rate_group.command("set")
@click.argument("yuan_per_point", metavar="YUAN_PER_POINT", type=YUAN)
@keys_option
@event_options
@json_option
def settlement_rate_set(
    yuan_per_point: int,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Pay partners YUAN_PER_POINT (e.g. 0.05 = 5 fen) per redeemed point from now on."""
    event = SetSettlementRate(
        id=resolve_event_id(event_id, "rate"),
        effective_at=effective_at,
        memo=memo,
        fen_per_point=yuan_per_point,
    )
    result = append_signed(event, key_paths, as_json=as_json)
    if not as_json and result.created:
        # Say the stored rate back in both units, so a slip (0.5 for 0.05) shows at once.
        click.echo(
            _(
                "partners are paid {yuan} yuan ({fen} fen) per redeemed point from this entry on"
            ).format(yuan=format_fen(yuan_per_point), fen=format_number(yuan_per_point))
        )


@cli.command()
@click.argument("partner")
@click.option("--fund", required=True, help="The fund account (kind fund) that pays.")
@click.option("--from", "period_from", required=True, type=DATE, help="First confirmation date.")
@click.option("--to", "period_to", required=True, type=DATE, help="Last confirmation date.")
@keys_option
@event_options
@json_option
def settle(
    partner: str,
    fund: str,
    period_from: dt.date,
    period_to: dt.date,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Pay PARTNER in CNY for its unsettled confirmed redemptions (treasurer-signed).

    The amount is derived by the ledger: points redeemed x the settlement rate.
    """
    event = SettlePartner(
        id=resolve_event_id(event_id, "settle"),
        effective_at=effective_at,
        memo=memo,
        partner=partner,
        fund=fund,
        period_from=period_from,
        period_to=period_to,
    )
    append_signed(event, key_paths, as_json=as_json)
