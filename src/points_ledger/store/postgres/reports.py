"""SQL for the named report queries on PostgreSQL, over the views of ``schema``.

Each query gives the rows the SQLite store gives for the same ledger: JSON numbers come
back as integers, JSON ``true``/``false`` as 1/0 (as SQLite's ``json_extract`` gives
them), sums as integers, and text is ordered byte by byte (``COLLATE "C"``), as SQLite
orders it, whatever the database's own collation is. Values are always bound as ``%s``
parameters.
"""

from __future__ import annotations

from typing import Final

__all__ = ["QUERIES", "TWICE"]

QUERIES: Final[dict[str, str]] = {
    "award_lines": (
        "SELECT seq, event_id, effective_at, volunteer, service, quantity, grid_cell, "
        "task_ref, points, reversed_by_seq FROM v_award_lines ORDER BY seq"
    ),
    "points_by_service_month": (
        "SELECT service, month, count(*), sum(quantity)::bigint, sum(points)::bigint "
        "FROM v_award_lines WHERE reversed_by_seq IS NULL GROUP BY service, month "
        'ORDER BY month COLLATE "C", service COLLATE "C"'
    ),
    "points_by_grid_month": (
        "SELECT coalesce(grid_cell, ''), month, count(*), count(DISTINCT volunteer), "
        "sum(points)::bigint FROM v_award_lines WHERE reversed_by_seq IS NULL "
        "GROUP BY grid_cell, month "
        'ORDER BY month COLLATE "C", grid_cell COLLATE "C" NULLS FIRST'
    ),
    "top_volunteers": (
        "SELECT grid_cell, rank, volunteer, points, awards FROM ("
        "SELECT grid_cell, volunteer, sum(points)::bigint AS points, count(*) AS awards, "
        "row_number() OVER (PARTITION BY grid_cell "
        'ORDER BY sum(points) DESC, volunteer COLLATE "C") AS rank '
        "FROM v_award_lines WHERE reversed_by_seq IS NULL "
        "AND effective_at BETWEEN %s AND %s GROUP BY grid_cell, volunteer) ranked "
        'WHERE rank <= %s ORDER BY grid_cell COLLATE "C" NULLS FIRST, rank'
    ),
    "pool_flows": (
        "SELECT p.seq, e.event_id, e.effective_at, e.kind, p.amount, "
        "(SELECT q.account FROM postings q WHERE q.seq = p.seq AND q.asset = p.asset "
        "AND q.account <> p.account ORDER BY q.idx LIMIT 1), "
        "coalesce(e.event ->> 'purpose', '') "
        "FROM postings p JOIN v_events e ON e.seq = p.seq "
        "JOIN accounts a ON a.account = p.account "
        "WHERE a.kind = 'pool' AND p.asset = 'PTS' AND p.account = %s ORDER BY p.seq, p.idx"
    ),
    "redemptions": (
        "SELECT voucher, partner, member, offer, quantity, points, status, hold_seq, "
        "closed_seq, confirmed_on, settled_seq FROM v_hold_rows "
        "WHERE (%s::text IS NULL OR partner = %s::text) "
        "ORDER BY hold_seq NULLS FIRST"
    ),
    "outstanding_holds": (
        "SELECT voucher, member, offer, partner, quantity, points, hold_seq, expires_at_us "
        "FROM v_hold_rows WHERE status = 'pending' "
        "ORDER BY hold_seq NULLS FIRST"
    ),
    "offers": (
        "SELECT s.key, o ->> 'partner', o ->> 'item', (o ->> 'price_points')::bigint, "
        "(o ->> 'stock')::bigint, "
        "CASE jsonb_typeof(o -> 'active') WHEN 'boolean' THEN (o -> 'active')::boolean::int "
        "ELSE (o ->> 'active')::bigint END, (o ->> 'listed_seq')::bigint "
        "FROM (SELECT \"key\", value::jsonb AS o FROM state WHERE namespace = 'offer') s "
        "WHERE (%s::text IS NULL OR o ->> 'partner' = %s::text) "
        "ORDER BY (o ->> 'listed_seq')::bigint NULLS FIRST"
    ),
    "settlements": (
        "SELECT e.seq, e.effective_at, e.event ->> 'partner', e.event ->> 'fund', "
        "e.event ->> 'period_from', e.event ->> 'period_to', "
        "CASE jsonb_typeof(s.value::jsonb -> 'vouchers') WHEN 'array' "
        "THEN jsonb_array_length(s.value::jsonb -> 'vouchers') END, "
        "(SELECT sum(q.amount)::bigint FROM postings q WHERE q.seq = e.seq AND q.asset = 'PTS' "
        "AND q.amount > 0), "
        "(SELECT sum(q.amount)::bigint FROM postings q WHERE q.seq = e.seq AND q.asset = 'CNY' "
        "AND q.amount > 0) "
        "FROM v_events e LEFT JOIN state s ON s.namespace = 'settlement' "
        "AND s.key = e.seq::text WHERE e.kind = 'settle_partner' "
        "AND (%s::text IS NULL OR e.event ->> 'partner' = %s::text) ORDER BY e.seq"
    ),
    "entry_event": (
        "SELECT kind, effective_at, convert_from(event, 'UTF8') FROM entries WHERE seq = %s"
    ),
    "entry_span": (
        "SELECT min(seq), max(seq), count(*) FROM entries WHERE effective_at BETWEEN %s AND %s"
    ),
    "hold_entry": (
        "SELECT e.event ->> 'member', e.event ->> 'offer', (e.event ->> 'quantity')::bigint, "
        "(SELECT o.event ->> 'item' FROM v_events o WHERE o.kind = 'list_offer' "
        "AND o.event -> 'offer' = e.event -> 'offer' ORDER BY o.seq LIMIT 1) "
        "FROM v_events e WHERE e.seq = %s AND e.kind = 'hold_redemption'"
    ),
    "confirms_for_partner": (
        "SELECT e.seq, e.effective_at, e.event ->> 'voucher', p.amount "
        "FROM v_events e JOIN postings p ON p.seq = e.seq AND p.asset = 'PTS' "
        "AND p.amount > 0 WHERE e.kind = 'confirm_redemption' AND p.account = %s "
        "AND e.seq < %s ORDER BY e.seq, p.idx"
    ),
    "settles_for_partner": (
        "SELECT e.seq, e.event ->> 'period_from', e.event ->> 'period_to' FROM v_events e "
        "WHERE e.kind = 'settle_partner' AND e.event ->> 'partner' = %s AND e.seq < %s "
        "ORDER BY e.seq"
    ),
    "rate_before": (
        "SELECT (e.event ->> 'fen_per_point')::bigint FROM v_events e "
        "WHERE e.kind = 'set_settlement_rate' AND e.seq < %s ORDER BY e.seq DESC LIMIT 1"
    ),
    "services": (
        "SELECT s.key, v ->> 'name', (v ->> 'points_per_unit')::bigint, v ->> 'unit', "
        "(v ->> 'points_per_day_max')::bigint, (v ->> 'points_per_month_max')::bigint, "
        "v ->> 'active_from', v ->> 'active_to', (v ->> 'defined_seq')::bigint "
        "FROM (SELECT \"key\", value::jsonb AS v FROM state WHERE namespace = 'service') s "
        'ORDER BY s.key COLLATE "C"'
    ),
    "accounts": (
        "SELECT account, kind, grid, opened_seq FROM accounts "
        "WHERE (%s::text IS NULL OR kind = %s::text) ORDER BY opened_seq, opened_order"
    ),
    "keys": (
        "SELECT key_id, roles, owner, valid_from_seq, revoked_at_seq FROM keys "
        'ORDER BY valid_from_seq, key_id COLLATE "C"'
    ),
}
"""Report name -> query text (parameters as ``%s``)."""

TWICE: Final = frozenset({"redemptions", "offers", "settlements", "accounts"})
"""Queries whose one optional filter value is bound twice (``%s IS NULL OR … = %s``)."""
