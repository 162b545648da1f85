"""Revenue commands: ``policy adopt``, ``roster record``, ``revenue record``, ``distribute``.

All four events are signed by the committee quorum (``--key`` repeated, k different
people). ``distribute --dry-run`` prints the step-by-step working (the explain trace) of
what would be paid and writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import click

from points_ledger.cli.app import (
    append_signed,
    cli,
    echo_json,
    echo_table,
    event_options,
    json_option,
    load_keys,
    new_event_id,
    open_ledger,
    resolve_event_id,
    signing_keys_option,
)
from points_ledger.cli.columns import canonical_columns
from points_ledger.cli.params import DATE, SHARE, YUAN
from points_ledger.cli.render import already_recorded_text, created_text
from points_ledger.errors import InvalidEventError, LedgerError, NotFoundError, UnknownAccountError
from points_ledger.i18n import gettext as _
from points_ledger.i18n import translate_working
from points_ledger.models import (
    AdoptSplitPolicy,
    Asset,
    Distribute,
    Holding,
    InvestorTerms,
    RecordRevenue,
    RecordRoster,
)
from points_ledger.split import (
    COMMUNITY_FUND_FIVE_PERCENT,
    MICRO_FUND_THIRTY_PERCENT,
    PROPERTY_MANAGER_FIFTEEN_PERCENT,
    THREE_THREE_THREE_ONE,
    Distribution,
    InvestorSchedule,
    SplitPolicy,
    format_fen,
)

__all__ = [
    "INPUT_FILE_MAX_BYTES",
    "PRESETS",
    "distribute",
    "distribution_to_json",
    "policy_group",
    "read_roster",
    "revenue_group",
    "roster_group",
]

PRESETS: Final[Mapping[str, SplitPolicy]] = {
    "3331": THREE_THREE_THREE_ONE,
    "community-fund-5": COMMUNITY_FUND_FIVE_PERCENT,
    "property-manager-15": PROPERTY_MANAGER_FIFTEEN_PERCENT,
    "micro-fund-30": MICRO_FUND_THIRTY_PERCENT,
}
"""Ready-made policies ``policy adopt --preset`` accepts (see :mod:`points_ledger.split`)."""

INPUT_FILE_MAX_BYTES: Final = 4 * 1024 * 1024
"""Largest policy or roster file read (4 MiB: a roster of 8,000 people is far smaller)."""

_YES: Final = frozenset({"1", "y", "yes", "true", "是"})
_NO: Final = frozenset({"", "0", "n", "no", "false", "否"})


def _read_text(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(INPUT_FILE_MAX_BYTES + 1)
    except OSError as e:
        raise InvalidEventError(f"cannot read {path}: {e.strerror}") from e
    if len(raw) > INPUT_FILE_MAX_BYTES:
        raise InvalidEventError(f"{path} is larger than {INPUT_FILE_MAX_BYTES:,} bytes")
    try:
        return raw.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as e:
        hint = "Save the file as UTF-8 text and try again."
        try:
            raw.decode("gb18030")
        except UnicodeDecodeError:
            pass
        else:  # Chinese-locale Excel saves "CSV (逗号分隔)" in GBK: say which choice to use
            hint = (
                "It looks like GBK text, which Excel and WPS write for 'CSV (逗号分隔)': "
                "save it again as 'CSV UTF-8 (逗号分隔)' and try again."
            )
        raise InvalidEventError(f"{path} is not UTF-8 text", hint=hint) from e


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read_text(path))
    except json.JSONDecodeError as e:
        raise InvalidEventError(f"{path} is not JSON: line {e.lineno}: {e.msg}") from e


# -- policy ------------------------------------------------------------------------------------


committee_keys_option = signing_keys_option("Committee key file (repeat for each signer).")
"""``--key PATH`` for the committee members who sign (k of n)."""


@cli.group("policy")
def policy_group() -> None:
    """Split policies for collective income (committee-signed)."""


def _account_pairs(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        bucket, sep, account = value.partition("=")
        if not sep or not bucket or not account:
            raise click.BadParameter(f"{value!r} is not BUCKET=ACCOUNT")
        pairs[bucket] = account
    return pairs


def _policy_from_file(path: Path) -> tuple[SplitPolicy, dict[str, str], InvestorTerms | None]:
    document = _read_json(path)
    if not isinstance(document, dict):
        raise InvalidEventError(f"{path} must hold a JSON object")
    if "policy" not in document:
        return SplitPolicy.from_dict(document), {}, None
    unknown = set(document) - {"policy", "accounts", "investor"}
    if unknown:
        raise InvalidEventError(f"{path} has unknown fields: {', '.join(sorted(unknown))}")
    accounts = document.get("accounts") or {}
    if not isinstance(accounts, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in accounts.items()
    ):
        raise InvalidEventError(f"'accounts' in {path} must map bucket names to account ids")
    investor = document.get("investor")
    terms = None
    if investor is not None:
        if not isinstance(investor, dict):
            raise InvalidEventError(f"'investor' in {path} must be an object")
        terms = InvestorTerms.model_validate(
            {**investor, "schedule": InvestorSchedule.from_dict(investor.get("schedule", {}))}
        )
    return SplitPolicy.from_dict(document["policy"]), dict(accounts), terms


@policy_group.command("adopt")
@click.argument("policy_id")
@click.option("--version", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option(
    "--effective-from", type=DATE, default=None, help="First date it applies (default: --date)."
)
@click.option(
    "--file",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON: a policy, or {policy, accounts, investor}.",
)
@click.option("--preset", type=click.Choice(sorted(PRESETS)), help="A ready-made policy.")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    callback=_account_pairs,
    metavar="BUCKET=ACCOUNT",
    help="Pay an account bucket to this account (repeatable).",
)
@click.option("--investor", "investor_account", help="The investor's account (kind investor).")
@click.option("--investor-start", type=SHARE, help="Investor share in year 1, e.g. 70%.")
@click.option("--investor-end", type=SHARE, help="Investor share in the last year, e.g. 10%.")
@click.option("--investor-years", type=click.IntRange(1, 100), help="Contract length in years.")
@click.option("--contract-start-year", type=click.IntRange(1900, 9999), help="Contract year 1.")
@committee_keys_option
@event_options
@json_option
def policy_adopt(
    policy_id: str,
    version: int,
    effective_from: dt.date | None,
    policy_file: Path | None,
    preset: str | None,
    accounts: dict[str, str],
    investor_account: str | None,
    investor_start: Fraction | None,
    investor_end: Fraction | None,
    investor_years: int | None,
    contract_start_year: int | None,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Adopt version --version of split policy POLICY_ID, from a --file or a --preset.

    With --investor, the investor is paid first, its share moving linearly from
    --investor-start in contract year 1 to --investor-end in year --investor-years
    (70% to 10% over 20 years in Quanxing village); the policy splits the rest.
    """
    if (policy_file is None) == (preset is None):
        raise click.UsageError("give exactly one of --file and --preset")
    terms: InvestorTerms | None = None
    if policy_file is not None:
        policy, file_accounts, terms = _policy_from_file(policy_file)
    else:
        policy, file_accounts = PRESETS[str(preset)], {}
    investor_options = (investor_start, investor_end, investor_years, contract_start_year)
    if investor_account is not None:
        if terms is not None:
            raise click.UsageError("the policy file already names an investor")
        if any(option is None for option in investor_options):
            raise click.UsageError(
                "--investor needs --investor-start, --investor-end, --investor-years "
                "and --contract-start-year"
            )
        schedule = InvestorSchedule.linear(
            start=Fraction(investor_start or 0),
            end=Fraction(investor_end or 0),
            years=int(investor_years or 0),
        )
        terms = InvestorTerms(
            account=investor_account,
            schedule=schedule,
            contract_start_year=int(contract_start_year or 0),
        )
    elif any(option is not None for option in investor_options):
        raise click.UsageError("the --investor-* options need --investor ACCOUNT")
    event = AdoptSplitPolicy(
        id=resolve_event_id(event_id, "policy"),
        effective_at=effective_at,
        memo=memo,
        policy_id=policy_id,
        version=version,
        effective_from=effective_from or effective_at,
        policy=policy,
        accounts={**file_accounts, **accounts},
        investor=terms,
    )
    _require_bucket_accounts(event)
    append_signed(event, key_paths, as_json=as_json)


def _require_bucket_accounts(event: AdoptSplitPolicy) -> None:
    """Refuse, naming --account, a bucket that pays an account nobody has opened.

    A preset's ``account`` buckets pay an account named like the bucket unless --account
    maps it; the ledger's own refusal ("account … has not been opened") would not say so.
    """
    with open_ledger() as ledger:
        for bucket in event.resolved_policy().buckets:
            if bucket.account is None:
                continue
            try:
                ledger.account(bucket.account)
            except NotFoundError as e:
                raise UnknownAccountError(
                    f"bucket {bucket.name!r} pays account {bucket.account!r}, which has not "
                    "been opened",
                    hint=f"Name the account it pays: --account {bucket.name}=ACCOUNT (e.g. "
                    f"--account {bucket.name}=fund:welfare), or open {bucket.account!r} first.",
                ) from e


# -- roster ----------------------------------------------------------------------------------


def _roster_from_json(path: Path) -> tuple[tuple[Holding, ...], tuple[str, ...]]:
    document = _read_json(path)
    if not isinstance(document, dict):
        raise InvalidEventError(f"{path} must hold a JSON object with shareholders, villagers")
    raw_holders = document.get("shareholders", [])
    if isinstance(raw_holders, dict):
        raw_holders = [{"account": k, "shares": v} for k, v in raw_holders.items()]
    if not isinstance(raw_holders, list) or not all(isinstance(h, dict) for h in raw_holders):
        raise InvalidEventError(
            "'shareholders' must be a list of {account, shares} or a map account -> shares"
        )
    # Constructing (not model_validate) turns a bad value into InvalidEventError.
    holders = tuple(Holding(**h) for h in raw_holders)
    villagers = document.get("villagers", [])
    if not isinstance(villagers, list) or not all(isinstance(v, str) for v in villagers):
        raise InvalidEventError("'villagers' must be a list of account ids")
    return holders, tuple(villagers)


def _roster_from_csv(path: Path) -> tuple[tuple[Holding, ...], tuple[str, ...]]:
    reader = csv.DictReader(io.StringIO(_read_text(path)))
    columns = canonical_columns(reader.fieldnames)
    if "account" not in columns:
        raise InvalidEventError(
            f"{path} needs a header row with an 'account' (账户) column",
            hint="Put account (账户), shares (股份) and villager (村民) in the first row.",
        )
    reader.fieldnames = columns
    holders: list[Holding] = []
    villagers: list[str] = []
    for line, row in enumerate(reader, start=2):
        account = (row.get("account") or "").strip()
        if not account:
            raise InvalidEventError(f"{path} line {line}: the account is empty")
        shares_text = (row.get("shares") or "").strip().replace(",", "")
        if shares_text not in ("", "0"):
            # isdigit() alone accepts digits int() refuses ("²"); a number longer than
            # any share count is refused before int() is asked to read it.
            if not (shares_text.isascii() and shares_text.isdigit()) or len(shares_text) > 18:
                raise InvalidEventError(
                    f"{path} line {line}: shares {shares_text[:20]!r} is not a whole number "
                    "of shares"
                )
            holders.append(Holding(account=account, shares=int(shares_text)))
        flag = (row.get("villager") or "").strip().lower() if "villager" in columns else "yes"
        if flag in _YES:
            villagers.append(account)
        elif flag not in _NO:
            raise InvalidEventError(f"{path} line {line}: villager {flag!r} is not yes or no")
    return tuple(holders), tuple(villagers)


def read_roster(path: Path) -> tuple[tuple[Holding, ...], tuple[str, ...]]:
    """Read shareholders (with shares) and villagers from a CSV or JSON file.

    CSV (UTF-8, a BOM from Excel is fine): a header row with ``account`` and optionally
    ``shares`` (blank or 0: not a shareholder) and ``villager`` (yes/no, 1/0, 是/否;
    without the column everyone listed is a villager); the Chinese headers ``账户``,
    ``股份`` and ``村民`` mean the same (see
    :data:`~points_ledger.cli.columns.COLUMN_ALIASES`). JSON:
    ``{"shareholders": [{"account": "hh:01", "shares": 2}] or {"hh:01": 2},
    "villagers": ["hh:01", ...]}``. The file type is chosen by its ``.json`` suffix.

    Raises:
        InvalidEventError: if the file cannot be read, a row is malformed (naming the
            line), or it lists nobody.
    """
    holders, villagers = (
        _roster_from_json(path) if path.suffix.lower() == ".json" else _roster_from_csv(path)
    )
    if not holders and not villagers:
        raise InvalidEventError(
            f"{path} lists nobody: a roster needs at least one shareholder or villager",
            hint="Check that you chose the right file and that it has rows below the header.",
        )
    return holders, villagers


@cli.group("roster")
def roster_group() -> None:
    """Rosters of shareholders and villagers for distributions (committee-signed)."""


@roster_group.command("record")
@click.argument("roster_id")
@click.option(
    "--file",
    "roster_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV (account,shares,villager or 账户,股份,村民) or JSON file.",
)
@click.option("--as-of", type=DATE, default=None, help="Date the roster describes (--date).")
@committee_keys_option
@event_options
@json_option
def roster_record(
    roster_id: str,
    roster_file: Path,
    as_of: dt.date | None,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Record roster ROSTER_ID: who holds how many shares, and who counts per capita."""
    holders, villagers = read_roster(roster_file)
    event = RecordRoster(
        id=resolve_event_id(event_id, "roster"),
        effective_at=effective_at,
        memo=memo,
        roster_id=roster_id,
        as_of=as_of or effective_at,
        shareholders=holders,
        villagers=villagers,
    )
    with open_ledger() as ledger:
        result = ledger.append(event, load_keys(key_paths))
    if as_json:
        echo_json({"status": result.status, "seq": result.entry.seq, "roster_id": roster_id})
        return
    if not result.created:
        click.echo(already_recorded_text(result.entry.seq, "record_roster", result.entry.event_id))
        return
    click.echo(created_text(result.entry.seq, "record_roster", result.entry.event_id))
    click.echo(
        _("roster {roster_id}: {holders} shareholders, {villagers} villagers").format(
            roster_id=roster_id, holders=len(holders), villagers=len(villagers)
        )
    )


# -- revenue -----------------------------------------------------------------------------------


@cli.group("revenue")
def revenue_group() -> None:
    """Collective income entering a fund account (committee-signed)."""


@revenue_group.command("record")
@click.argument("account")
@click.argument("amount", type=YUAN)
@click.option("--period", required=True, help="Period label, e.g. 2026 or 2026-H1.")
@click.option("--fiscal-year", required=True, type=click.IntRange(1900, 9999))
@committee_keys_option
@event_options
@json_option
def revenue_record(
    account: str,
    amount: int,
    period: str,
    fiscal_year: int,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Record AMOUNT yuan of income (e.g. 1000000.01) into fund ACCOUNT for --period."""
    event = RecordRevenue(
        id=resolve_event_id(event_id, "revenue"),
        effective_at=effective_at,
        memo=memo,
        account=account,
        period=period,
        fiscal_year=fiscal_year,
        amount=amount,
    )
    append_signed(event, key_paths, as_json=as_json)


# -- distribute --------------------------------------------------------------------------------


def distribution_to_json(result: Distribution) -> dict[str, Any]:
    """A distribution as JSON: amounts in fen, and the trace as printable text."""
    return {
        "amount": result.amount,
        "investor_amount": result.investor_amount,
        "bucket_totals": dict(result.bucket_totals),
        "amounts": dict(result.amounts),
        "trace": result.trace.to_text(),
    }


def _distribution_table(result: Distribution) -> None:
    rows = [(label, format_fen(units)) for label, units in result.trace.summary]
    rows.append(("total", format_fen(result.amount)))
    echo_table(["part", "CNY"], rows, right=[False, True])


@cli.command()
@click.argument("period")
@click.argument("amount", type=YUAN)
@click.option("--policy", "policy_id", required=True, help="The adopted split policy id.")
@click.option("--roster", "roster_id", default=None, help="The recorded roster id.")
@click.option(
    "--dry-run", is_flag=True, help="Print the working and what would be paid; write nothing."
)
@click.option(
    "--key",
    "key_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Committee key file (repeatable; not needed with --dry-run).",
)
@event_options
@json_option
def distribute(
    period: str,
    amount: int,
    policy_id: str,
    roster_id: str | None,
    dry_run: bool,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Pay out AMOUNT yuan of PERIOD's revenue by --policy and --roster, in one entry.

    The payments are derived by the ledger from the policy in force on --date, the
    investor's schedule and the roster. Run with --dry-run first: it prints the
    step-by-step working (largest-remainder rounding at each level) and writes nothing.
    """
    if not dry_run and not key_paths:
        raise click.UsageError("give the committee's --key files (or --dry-run)")
    event = Distribute(
        id=(event_id or new_event_id("distribute"))
        if dry_run
        else resolve_event_id(event_id, "distribute"),
        effective_at=effective_at,
        memo=memo,
        period=period,
        policy_id=policy_id,
        roster_id=roster_id,
        amount=amount,
    )
    with open_ledger() as ledger:
        if dry_run:
            preview = ledger.preview_distribution(event)
            if as_json:
                echo_json({"dry_run": True, **distribution_to_json(preview)})
            else:
                click.echo(translate_working(preview.trace.to_text()))
                click.echo("")
                click.echo(_("dry run: nothing was written"))
            return
        try:
            summary: Distribution | None = ledger.preview_distribution(event)
        except LedgerError:
            summary = None  # a retry of a stored distribution; append says so below
        result = ledger.append(event, load_keys(key_paths))
    entry = result.entry
    if as_json:
        extra = distribution_to_json(summary) if summary is not None and result.created else {}
        echo_json({"status": result.status, "seq": entry.seq, **extra})
        return
    if not result.created:
        click.echo(already_recorded_text(entry.seq, "distribute", entry.event_id))
        click.echo(_("'report distribution {seq}' shows what it paid").format(seq=entry.seq))
        return
    click.echo(created_text(entry.seq, "distribute", entry.event_id))
    credits = sum(1 for p in entry.postings if p.asset is Asset.CNY and p.amount > 0)
    click.echo(
        _(
            "paid {cny} CNY to {count} accounts; see 'entry {seq}' and 'report distribution {seq}'"
        ).format(cny=format_fen(amount), count=credits, seq=entry.seq)
    )
    if summary is not None:
        _distribution_table(summary)
