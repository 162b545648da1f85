"""SQL for the community reports: view definitions and the fixed queries over them.

The views are created by migration ``m002_community_views`` so that Datasette (or the
``sqlite3`` shell) shows the same reports as :mod:`points_ledger.reports`. Views over
``entries`` and ``postings`` read the signed log itself; ``v_holds`` reads the ``hold``
state records, which ``verify()`` rebuilds from the log and compares.

Every query here is a constant; values are always bound as ``?`` parameters.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ACCOUNTS",
    "AWARD_LINES",
    "CONFIRMS_FOR_PARTNER",
    "ENTRY_EVENT",
    "ENTRY_SPAN",
    "HOLD_ENTRY",
    "KEYS",
    "OFFERS",
    "OUTSTANDING_HOLDS",
    "POINTS_BY_GRID_MONTH",
    "POINTS_BY_SERVICE_MONTH",
    "POOL_FLOWS",
    "RATE_BEFORE",
    "REDEMPTIONS",
    "SERVICES",
    "SETTLEMENTS",
    "SETTLES_FOR_PARTNER",
    "TOP_VOLUNTEERS",
    "VIEWS",
]

VIEWS: Final[dict[str, str]] = {
    "v_account_postings": (
        "SELECT p.seq, p.idx, e.event_id, e.kind, e.effective_at, e.recorded_at_us, "
        "p.account, p.asset, p.amount FROM postings p JOIN entries e ON e.seq = p.seq"
    ),
    "v_award_lines": (
        "SELECT e.seq, e.event_id, e.effective_at, substr(e.effective_at, 1, 7) AS month, "
        "json_extract(CAST(e.event AS TEXT), '$.volunteer') AS volunteer, "
        "json_extract(CAST(e.event AS TEXT), '$.service') AS service, "
        "json_extract(CAST(e.event AS TEXT), '$.quantity') AS quantity, "
        "json_extract(CAST(e.event AS TEXT), '$.grid_cell') AS grid_cell, "
        "json_extract(CAST(e.event AS TEXT), '$.task_ref') AS task_ref, p.amount AS points, "
        "(SELECT r.seq FROM entries r WHERE r.kind = 'reverse' AND "
        "json_extract(CAST(r.event AS TEXT), '$.target_seq') = e.seq) AS reversed_by_seq "
        "FROM entries e JOIN postings p ON p.seq = e.seq AND p.asset = 'PTS' "
        "AND p.account = json_extract(CAST(e.event AS TEXT), '$.volunteer') "
        "WHERE e.kind = 'award_points'"
    ),
    "v_points_issued_by_service_month": (
        "SELECT service, month, count(*) AS awards, sum(quantity) AS quantity, "
        "sum(points) AS points FROM v_award_lines WHERE reversed_by_seq IS NULL "
        "GROUP BY service, month"
    ),
    "v_pool_flows": (
        "SELECT p.seq, e.event_id, e.effective_at, e.kind, p.account AS pool, p.amount, "
        "(SELECT q.account FROM postings q WHERE q.seq = p.seq AND q.asset = p.asset "
        "AND q.account <> p.account ORDER BY q.idx LIMIT 1) AS counterparty, "
        "coalesce(json_extract(CAST(e.event AS TEXT), '$.purpose'), '') AS purpose "
        "FROM postings p JOIN entries e ON e.seq = p.seq "
        "JOIN accounts a ON a.account = p.account WHERE a.kind = 'pool' AND p.asset = 'PTS'"
    ),
    "v_holds": (
        "SELECT s.key AS voucher, json_extract(s.value, '$.member') AS member, "
        "json_extract(s.value, '$.offer') AS offer, "
        "json_extract(s.value, '$.partner') AS partner, "
        "json_extract(s.value, '$.quantity') AS quantity, "
        "json_extract(s.value, '$.points') AS points, "
        "json_extract(s.value, '$.hold_seq') AS hold_seq, "
        "json_extract(s.value, '$.held_on') AS held_on, "
        "json_extract(s.value, '$.expires_at_us') AS expires_at_us, "
        "json_extract(s.value, '$.status') AS status, "
        "json_extract(s.value, '$.closed_seq') AS closed_seq, "
        "json_extract(s.value, '$.confirmed_on') AS confirmed_on, "
        "json_extract(s.value, '$.settled_seq') AS settled_seq "
        "FROM state s WHERE s.namespace = 'hold'"
    ),
    "v_outstanding_holds": "SELECT * FROM v_holds WHERE status = 'pending'",
    "v_settlements": (
        "SELECT e.seq, e.event_id, e.effective_at, "
        "json_extract(CAST(e.event AS TEXT), '$.partner') AS partner, "
        "json_extract(CAST(e.event AS TEXT), '$.fund') AS fund, "
        "json_extract(CAST(e.event AS TEXT), '$.period_from') AS period_from, "
        "json_extract(CAST(e.event AS TEXT), '$.period_to') AS period_to, "
        "json_array_length(s.value, '$.vouchers') AS redemptions, "
        "(SELECT sum(q.amount) FROM postings q WHERE q.seq = e.seq AND q.asset = 'PTS' "
        "AND q.amount > 0) AS points, "
        "(SELECT sum(q.amount) FROM postings q WHERE q.seq = e.seq AND q.asset = 'CNY' "
        "AND q.amount > 0) AS fen "
        "FROM entries e LEFT JOIN state s ON s.namespace = 'settlement' "
        "AND s.key = CAST(e.seq AS TEXT) WHERE e.kind = 'settle_partner'"
    ),
}
"""View name -> SELECT statement."""

AWARD_LINES: Final = (
    "SELECT seq, event_id, effective_at, volunteer, service, quantity, grid_cell, task_ref, "
    "points, reversed_by_seq FROM v_award_lines ORDER BY seq"
)
POINTS_BY_SERVICE_MONTH: Final = (
    "SELECT service, month, awards, quantity, points FROM v_points_issued_by_service_month "
    "ORDER BY month, service"
)
POINTS_BY_GRID_MONTH: Final = (
    "SELECT coalesce(grid_cell, ''), month, count(*), count(DISTINCT volunteer), sum(points) "
    "FROM v_award_lines WHERE reversed_by_seq IS NULL GROUP BY grid_cell, month "
    "ORDER BY month, grid_cell"
)
TOP_VOLUNTEERS: Final = (
    "SELECT grid_cell, rank, volunteer, points, awards FROM ("
    "SELECT grid_cell, volunteer, sum(points) AS points, count(*) AS awards, "
    "row_number() OVER (PARTITION BY grid_cell ORDER BY sum(points) DESC, volunteer) AS rank "
    "FROM v_award_lines WHERE reversed_by_seq IS NULL AND effective_at BETWEEN ? AND ? "
    "GROUP BY grid_cell, volunteer) WHERE rank <= ? ORDER BY grid_cell, rank"
)
POOL_FLOWS: Final = (
    "SELECT seq, event_id, effective_at, kind, amount, counterparty, purpose "
    "FROM v_pool_flows WHERE pool = ? ORDER BY seq"
)
REDEMPTIONS: Final = (
    "SELECT voucher, partner, member, offer, quantity, points, status, hold_seq, "
    "closed_seq, confirmed_on, settled_seq FROM v_holds "
    "WHERE (? IS NULL OR partner = ?) ORDER BY hold_seq"
)
OFFERS: Final = (
    "SELECT s.key, json_extract(s.value, '$.partner'), json_extract(s.value, '$.item'), "
    "json_extract(s.value, '$.price_points'), json_extract(s.value, '$.stock'), "
    "json_extract(s.value, '$.active'), json_extract(s.value, '$.listed_seq') "
    "FROM state s WHERE s.namespace = 'offer' "
    "AND (? IS NULL OR json_extract(s.value, '$.partner') = ?) "
    "ORDER BY json_extract(s.value, '$.listed_seq')"
)
OUTSTANDING_HOLDS: Final = (
    "SELECT voucher, member, offer, partner, quantity, points, hold_seq, expires_at_us "
    "FROM v_outstanding_holds ORDER BY hold_seq"
)
SETTLEMENTS: Final = (
    "SELECT seq, effective_at, partner, fund, period_from, period_to, redemptions, points, fen "
    "FROM v_settlements WHERE (? IS NULL OR partner = ?) ORDER BY seq"
)
ENTRY_EVENT: Final = "SELECT kind, effective_at, CAST(event AS TEXT) FROM entries WHERE seq = ?"
ENTRY_SPAN: Final = (
    "SELECT min(seq), max(seq), count(*) FROM entries WHERE effective_at BETWEEN ? AND ?"
)
HOLD_ENTRY: Final = (
    "SELECT json_extract(CAST(e.event AS TEXT), '$.member'), "
    "json_extract(CAST(e.event AS TEXT), '$.offer'), "
    "json_extract(CAST(e.event AS TEXT), '$.quantity'), "
    "(SELECT json_extract(CAST(o.event AS TEXT), '$.item') FROM entries o "
    "WHERE o.kind = 'list_offer' AND json_extract(CAST(o.event AS TEXT), '$.offer') = "
    "json_extract(CAST(e.event AS TEXT), '$.offer')) "
    "FROM entries e WHERE e.seq = ? AND e.kind = 'hold_redemption'"
)
CONFIRMS_FOR_PARTNER: Final = (
    "SELECT e.seq, e.effective_at, json_extract(CAST(e.event AS TEXT), '$.voucher'), "
    "p.amount FROM entries e JOIN postings p ON p.seq = e.seq AND p.asset = 'PTS' "
    "AND p.amount > 0 WHERE e.kind = 'confirm_redemption' AND p.account = ? AND e.seq < ? "
    "ORDER BY e.seq"
)
SETTLES_FOR_PARTNER: Final = (
    "SELECT e.seq, json_extract(CAST(e.event AS TEXT), '$.period_from'), "
    "json_extract(CAST(e.event AS TEXT), '$.period_to') FROM entries e "
    "WHERE e.kind = 'settle_partner' AND "
    "json_extract(CAST(e.event AS TEXT), '$.partner') = ? AND e.seq < ? ORDER BY e.seq"
)
RATE_BEFORE: Final = (
    "SELECT json_extract(CAST(e.event AS TEXT), '$.fen_per_point') FROM entries e "
    "WHERE e.kind = 'set_settlement_rate' AND e.seq < ? ORDER BY e.seq DESC LIMIT 1"
)
SERVICES: Final = (
    "SELECT s.key, json_extract(s.value, '$.name'), json_extract(s.value, '$.points_per_unit'), "
    "json_extract(s.value, '$.unit'), json_extract(s.value, '$.points_per_day_max'), "
    "json_extract(s.value, '$.points_per_month_max'), json_extract(s.value, '$.active_from'), "
    "json_extract(s.value, '$.active_to'), json_extract(s.value, '$.defined_seq') "
    "FROM state s WHERE s.namespace = 'service' ORDER BY s.key"
)
ACCOUNTS: Final = (
    "SELECT account, kind, grid, opened_seq FROM accounts "
    "WHERE (? IS NULL OR kind = ?) ORDER BY opened_seq"
)
KEYS: Final = (
    "SELECT key_id, roles, owner, valid_from_seq, revoked_at_seq FROM keys "
    "ORDER BY valid_from_seq, key_id"
)
