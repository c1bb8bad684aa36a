"""The scorecard: every KPI the given tables allow, per period, in one long table.

Definitions: docs/metrics/scorecard.md. Each table is optional; a table that is not given leaves its
KPIs out. The values are those of the individual functions (:func:`csmetrics.revenue_kpis`,
:func:`csmetrics.churn_rates`, :func:`csmetrics.nps`, :func:`csmetrics.retention_cost`, ...) called
with their defaults and the same ``period`` and ``as_of``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, overload

import polars as pl

from csmetrics._frames import IntoFrame, column_names, frame_function, from_polars, to_polars
from csmetrics._options import choice, guard_module, keyword_only, micros
from csmetrics.exceptions import InvalidInputError
from csmetrics.revenue import Instant, Period

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["scorecard", "wide"]

#: Exchange rates into the reporting currency: ``{"EUR": 1.08, ...}`` or a frame with
#: ``currency`` and ``rate``.
Rates = Mapping[str, float] | pl.DataFrame

#: The human label of every scorecard metric, keyed by its machine name (the ``metric`` column).
LABELS: dict[str, str] = {
    "mrr": "MRR",
    "arr": "ARR",
    "paying_customers": "Paying customers",
    "arpa": "Average revenue per account (ARPA)",
    "nrr": "Net revenue retention (NRR)",
    "grr": "Gross revenue retention (GRR)",
    "expansion_rate": "Expansion rate",
    "quick_ratio": "Quick ratio",
    "non_recurring_revenue": "Non-recurring revenue (one-time invoice lines)",
    "usage_revenue": "Usage revenue (metered invoice lines)",
    "churn_rate": "Logo churn rate",
    "retention_rate": "Logo retention rate",
    "growth_rate": "Customer growth rate",
    "committed_mrr": "Committed MRR (without canceled subscriptions running out)",
    "cancellations": "Cancellation requests",
    "paused_customers": "Paused customers",
    "involuntary_churn_share": "Involuntary share of churned customers",
    "crc": "Customer retention cost",
    "nps": "Net Promoter Score (NPS)",
    "csat": "Satisfied share (CSAT)",
    "ces_low_effort": "Low-effort share (CES)",
    "trial_conversion": "Trial-to-paid conversion",
    "upsell_rate": "Upsell rate",
    "cross_sell_rate": "Cross-sell rate",
    "fcr_gross": "First-contact resolution (gross)",
    "fcr_net": "First-contact resolution (net)",
    "first_response_median_hours": "Median first response (hours)",
    "first_response_p90_hours": "90th percentile first response (hours)",
    "resolution_median_hours": "Median resolution time (hours)",
    "ticket_backlog": "Open tickets at the period's end",
    "sla_attainment": "First responses within the SLA",
    "dau": "Daily active customers (DAU)",
    "wau": "Weekly active customers (WAU)",
    "mau": "Active customers in the period (MAU)",
    "stickiness": "Stickiness (DAU / MAU)",
    "buyers": "Buyers",
    "purchases": "Purchases",
    "purchase_revenue": "Purchase revenue",
    "average_order_value": "Average order value",
    "repeat_buyer_share": "Repeat-buyer share",
}

_SCHEMA = {
    "period": pl.Date,
    "metric": pl.String,
    "label": pl.String,
    "value": pl.Float64,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
}


def _rows(
    frame: pl.DataFrame,
    metric: str,
    value: str,
    numerator: str | pl.Expr | None = None,
    denominator: str | pl.Expr | None = None,
) -> pl.DataFrame:
    def expr(e: str | pl.Expr | None) -> pl.Expr:
        if e is None:
            return pl.lit(None, dtype=pl.Float64)
        return (pl.col(e) if isinstance(e, str) else e).cast(pl.Float64)

    return frame.select(
        pl.col("period").cast(pl.Date),
        pl.lit(metric).alias("metric"),
        pl.lit(LABELS[metric]).alias("label"),
        pl.col(value).cast(pl.Float64).alias("value"),
        expr(numerator).alias("numerator"),
        expr(denominator).alias("denominator"),
    )


def _polars(data: IntoFrame) -> pl.DataFrame:
    frame, _ = to_polars(data, column_names(data))
    return frame


_Polars = pl.DataFrame | pl.LazyFrame | None


# The result is pandas when any table is pandas, else Polars (a pyarrow table, typed Any, gives
# pyarrow when no table is pandas).
@overload
def scorecard(
    *,
    subscriptions: _Polars = ...,
    responses: _Polars = ...,
    tickets: _Polars = ...,
    usage: _Polars = ...,
    costs: _Polars = ...,
    trials: _Polars = ...,
    conversions: _Polars = ...,
    transactions: _Polars = ...,
    period: Period = ...,
    as_of: Instant | None = ...,
    discounts: IntoFrame | None = ...,
    fx: Rates | None = ...,
    invoices: _Polars = ...,
    sla_hours: float | Mapping[str, float] | None = ...,
) -> pl.DataFrame: ...
@overload
def scorecard(
    *,
    subscriptions: IntoFrame | None = ...,
    responses: IntoFrame | None = ...,
    tickets: IntoFrame | None = ...,
    usage: IntoFrame | None = ...,
    costs: IntoFrame | None = ...,
    trials: IntoFrame | None = ...,
    conversions: IntoFrame | None = ...,
    transactions: IntoFrame | None = ...,
    period: Period = ...,
    as_of: Instant | None = ...,
    discounts: IntoFrame | None = ...,
    fx: Rates | None = ...,
    invoices: IntoFrame | None = ...,
    sla_hours: float | Mapping[str, float] | None = ...,
) -> pd.DataFrame: ...
@keyword_only(8)  # the tables, positional in earlier releases
def scorecard(
    *,
    subscriptions: IntoFrame | None = None,
    responses: IntoFrame | None = None,
    tickets: IntoFrame | None = None,
    usage: IntoFrame | None = None,
    costs: IntoFrame | None = None,
    trials: IntoFrame | None = None,
    conversions: IntoFrame | None = None,
    transactions: IntoFrame | None = None,
    period: Period = "month",
    as_of: Instant | None = None,
    discounts: IntoFrame | None = None,
    fx: Rates | None = None,
    invoices: IntoFrame | None = None,
    sla_hours: float | Mapping[str, float] | None = None,
) -> Any:
    """Every KPI the given tables allow, per period, as one long table.

    - ``subscriptions``: ``mrr``, ``arr``, ``paying_customers``, ``arpa``, ``nrr``, ``grr``,
      ``expansion_rate``, ``quick_ratio`` (:func:`csmetrics.revenue_kpis`) and ``churn_rate``,
      ``retention_rate``, ``growth_rate`` (:func:`csmetrics.churn_rates`);
    - ``invoices`` (invoice lines, ``table="invoices"`` of the revenue functions): the same
      KPIs from the lines instead of the subscriptions, and ``non_recurring_revenue`` and
      ``usage_revenue``;
    - ``responses`` (``timestamp`` and score columns ``nps``, ``csat``, ``ces``, or a single
      ``score`` read as NPS): ``nps``, ``csat``, ``ces_low_effort``;
    - ``subscriptions`` with billing detail (docs/metrics/billing.md): ``committed_mrr`` (with a
      ``canceled_at`` column), ``cancellations``, ``paused_customers`` (with a ``status``
      column) and ``involuntary_churn_share`` (with a ``churn_reason`` column: involuntary /
      churned customers);
    - ``costs`` with ``subscriptions``: ``crc`` (:func:`csmetrics.retention_cost`);
    - ``trials``: ``trial_conversion``; ``conversions``: ``upsell_rate``, ``cross_sell_rate``;
    - ``tickets``: ``fcr_gross``, ``fcr_net`` (with a ``contacts`` column, or without a
      ``first_response_at`` one); with a ``first_response_at`` column
      ``first_response_median_hours``, ``first_response_p90_hours``, and with ``resolved_at``
      ``resolution_median_hours`` and ``ticket_backlog`` (:func:`csmetrics.response_times`),
      and with ``sla_hours`` ``sla_attainment``; ``usage``: ``dau``, ``wau``, ``mau``, ``stickiness``;
    - ``transactions`` (``customer_id``, ``timestamp``, ``amount``): ``buyers`` (distinct
      customers purchasing), ``purchases``, ``purchase_revenue``, ``average_order_value``
      (revenue / purchases) and ``repeat_buyer_share`` (buyers who had bought before the period
      / buyers).

    Parameters
    ----------
    subscriptions, responses, tickets, usage, costs, trials, conversions, transactions
        The input tables with the default column names of the individual functions; each may be
        None. Keyword-only, as in :func:`csmetrics.report` (by position they still work, with a
        :class:`DeprecationWarning`, for one release).
    period
        Reporting period.
    as_of
        Cut-off passed to the functions that take one (revenue, churn, retention cost, trials,
        engagement).
    discounts
        The discounts table of the subscriptions (``discounts=`` of
        :func:`csmetrics.mrr_bridge`), such as :func:`csmetrics.io.stripe.read` gives.
    fx
        Rates into the reporting currency (``{"EUR": 1.08, ...}`` or a frame with ``currency``
        and ``rate``) for subscriptions or invoice lines in several currencies, converted in
        the core; the retention-cost KPI, which takes no rates, reads the subscriptions'
        amounts converted at the same rates.
    invoices
        Invoice lines (``customer_id``, ``amount``, ``period_start``, ``period_end``, ``kind``,
        ``subscription_id``, ``currency``: the ``invoice_lines`` of
        :func:`csmetrics.io.stripe.read`): the history of what customers were billed. Given,
        the revenue and churn KPIs come from them, with prorations spread and no gap
        tolerance (the defaults of :func:`csmetrics.mrr_bridge`); the billing-detail KPIs
        still come from ``subscriptions`` (statuses, cancellations and churn reasons are not
        on invoices).
    sla_hours
        The first-response SLA of the tickets (hours: one number, or one per ``priority``, as
        in :func:`csmetrics.response_times`); None (default): no ``sla_attainment``.

    Returns
    -------
    DataFrame
        ``period``, ``metric`` (the machine name listed above), ``label`` (the metric in words,
        such as "Low-effort share (CES)" for ``ces_low_effort`` or "Customer retention cost" for
        ``crc``), ``value``, ``numerator``, ``denominator`` (the counts or amounts behind a rate;
        null for levels), sorted by period and metric. pandas when any input is pandas.
        :func:`wide` pivots it (one column per machine name).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> sales = pl.DataFrame({
    ...     "timestamp": [dt.date(2024, 3, 1)] * 100,
    ...     "kind": ["upsell"] * 10 + ["cross_sell"] * 5 + ["new"] * 85,
    ... })
    >>> csm.scorecard(conversions=sales).select("metric", "value", "numerator", "denominator").rows()
    [('cross_sell_rate', 0.05, 5.0, 100.0), ('upsell_rate', 0.1, 10.0, 100.0)]
    >>> csm.scorecard(conversions=sales)["label"].to_list()
    ['Cross-sell rate', 'Upsell rate']
    """
    import csmetrics as csm

    given = [subscriptions, responses, tickets, usage, costs, trials, conversions, transactions]
    given += [invoices]
    choice(period, "period", ("day", "week", "month", "quarter", "year"))
    micros(as_of, "as_of")
    # pandas if any table is pandas, else pyarrow if any is pyarrow, else Polars.
    families = {to_polars(t, [])[1] for t in given if t is not None}
    family = next((f for f in ("pandas", "arrow") if f in families), "polars")
    parts: list[pl.DataFrame] = []
    subs = _polars(subscriptions) if subscriptions is not None else None
    lines = _polars(invoices) if invoices is not None else None
    money: dict[str, Any] = {}
    if discounts is not None:
        money["discounts"] = _polars(discounts)
    source = lines if lines is not None else subs
    if source is not None:
        # The revenue and churn KPIs: from the invoice lines when given, else the subscriptions.
        options = {"table": "invoices"} if lines is not None else money
        kpis = csm.revenue_kpis(source, period=period, as_of=as_of, fx=fx, **options)
        churn = csm.churn_rates(source, period=period, as_of=as_of, fx=fx, **options)
        parts += [
            _rows(kpis, "mrr", "mrr"),
            _rows(kpis, "arr", "arr"),
            _rows(kpis, "paying_customers", "paying_customers"),
            _rows(kpis, "arpa", "arpa", "mrr", "paying_customers"),
            _rows(kpis, "nrr", "nrr", "retained_mrr", "starting_mrr"),
            _rows(kpis, "grr", "grr", "retained_mrr_gross", "starting_mrr"),
            _rows(kpis, "expansion_rate", "expansion_rate", "expansion", "starting_mrr"),
            _rows(kpis, "quick_ratio", "quick_ratio"),
        ]
        if "non_recurring" in kpis.columns:
            parts.append(_rows(kpis, "non_recurring_revenue", "non_recurring"))
            parts.append(_rows(kpis, "usage_revenue", "usage"))
        retained = pl.col("customers_end") - pl.col("new") - pl.col("reactivated")
        parts += [
            _rows(churn, "churn_rate", "churn_rate", "churned", "churn_denominator"),
            _rows(churn, "retention_rate", "retention_rate", retained, "customers_start"),
            _rows(
                churn,
                "growth_rate",
                "growth_rate",
                pl.col("customers_end") - pl.col("customers_start"),
                "customers_start",
            ),
        ]
    if subs is not None:
        if lines is not None:
            # Billing detail lives on the subscriptions: their own KPIs and churn.
            kpis = csm.revenue_kpis(subs, period=period, as_of=as_of, fx=fx, **money)
            churn = csm.churn_rates(subs, period=period, as_of=as_of, fx=fx, **money)
        # Billing detail, when the subscriptions carry it (docs/metrics/billing.md).
        if "committed_mrr" in kpis.columns:
            parts.append(_rows(kpis, "committed_mrr", "committed_mrr"))
        if "cancellations" in churn.columns:
            parts.append(_rows(churn, "cancellations", "cancellations"))
        if "paused_customers" in churn.columns:
            parts.append(_rows(churn, "paused_customers", "paused_customers"))
        if "churned_involuntary" in churn.columns:
            share = churn.with_columns(
                pl.when(pl.col("churned") > 0)
                .then(pl.col("churned_involuntary") / pl.col("churned"))
                .otherwise(None)
                .alias("involuntary_churn_share")
            )
            parts.append(
                _rows(
                    share,
                    "involuntary_churn_share",
                    "involuntary_churn_share",
                    "churned_involuntary",
                    "churned",
                )
            )
        if costs is not None:
            counted, _ = one_currency(subs, money.get("discounts"), fx)
            crc = csm.retention_cost(counted, _polars(costs), period=period, as_of=as_of)
            parts.append(_rows(crc, "crc", "crc", "cost", "customers"))
    if responses is not None:
        answers = _polars(responses)
        names = answers.columns
        nps_column = "nps" if "nps" in names else "score"
        nps = csm.nps(answers, score=nps_column, period=period)
        parts.append(_rows(nps, "nps", "nps", pl.col("promoters") - pl.col("detractors"), "n"))
        if "csat" in names:
            csat = csm.csat(answers, score="csat", period=period)
            parts.append(_rows(csat, "csat", "csat", "satisfied", "n"))
        if "ces" in names:
            ces = csm.ces(answers, score="ces", period=period)
            parts.append(_rows(ces, "ces_low_effort", "low_effort_share", "low_effort", "n"))
    if trials is not None:
        conv = csm.trial_conversion(_polars(trials), period=period, as_of=as_of)
        parts.append(_rows(conv, "trial_conversion", "conversion_rate", "converted", "decided"))
    if conversions is not None:
        sales = csm.conversion_rates(_polars(conversions), period=period)
        parts += [
            _rows(sales, "upsell_rate", "upsell_rate", "upsells", "conversions"),
            _rows(sales, "cross_sell_rate", "cross_sell_rate", "cross_sells", "conversions"),
        ]
    if tickets is not None:
        ticket_frame = _polars(tickets)
        answered = "first_response_at" in ticket_frame.columns
        # A table of response times only has no FCR; without either, FCR names what is missing.
        if "contacts" in ticket_frame.columns or not answered:
            fcr = csm.first_contact_resolution(ticket_frame, period=period)
            parts += [
                _rows(fcr, "fcr_gross", "fcr_gross", "first_contact_resolved", "resolved"),
                _rows(fcr, "fcr_net", "fcr_net", "resolvable_first_contact_resolved", "resolvable"),
            ]
        if answered:
            parts += _response_rows(ticket_frame, period, as_of, sla_hours)
    if usage is not None:
        eng = csm.engagement(_polars(usage), period=period, as_of=as_of)
        parts += [
            _rows(eng, "dau", "dau"),
            _rows(eng, "wau", "wau"),
            _rows(eng, "mau", "active"),
            _rows(eng, "stickiness", "stickiness", "dau", "active"),
        ]
    if transactions is not None:
        parts += _purchase_rows(transactions, period, as_of)
    long = pl.concat(parts) if parts else pl.DataFrame(schema=_SCHEMA)
    long = long.sort("period", "metric")
    return from_polars(long, family)


def _response_rows(
    tickets: pl.DataFrame,
    period: Period,
    as_of: Instant | None,
    sla_hours: float | Mapping[str, float] | None,
) -> list[pl.DataFrame]:
    """Support response times per period (:func:`csmetrics.response_times`)."""
    import csmetrics as csm

    resolved = "resolved_at" if "resolved_at" in tickets.columns else None
    times = csm.response_times(
        tickets, period=period, as_of=as_of, resolved_at=resolved, sla_hours=sla_hours
    )
    # Levels (hours, counts): no numerator or denominator.
    rows = [
        _rows(times, "first_response_median_hours", "first_response_median_hours"),
        _rows(times, "first_response_p90_hours", "first_response_p90_hours"),
    ]
    if resolved is not None:
        rows += [
            _rows(times, "resolution_median_hours", "resolution_median_hours"),
            _rows(times, "ticket_backlog", "backlog"),
        ]
    if sla_hours is not None:
        rows.append(
            _rows(
                times,
                "sla_attainment",
                "sla_attainment",
                "sla_met",
                pl.col("sla_met") + pl.col("sla_breached"),
            )
        )
    return rows


def _purchase_rows(log: IntoFrame, period: Period, as_of: Instant | None) -> list[pl.DataFrame]:
    """Purchase KPIs per period from a transaction log (customer_id, timestamp, amount)."""
    from csmetrics import _internal

    frame, _ = to_polars(log, ["customer_id", "timestamp", "amount"])
    table = _internal.purchase_kpis(
        frame, "customer_id", "timestamp", "amount", [], period, micros(as_of, "as_of")
    )
    return [
        _rows(table, "buyers", "buyers"),
        _rows(table, "purchases", "purchases"),
        _rows(table, "purchase_revenue", "revenue"),
        _rows(table, "average_order_value", "average_order_value", "revenue", "purchases"),
        _rows(table, "repeat_buyer_share", "repeat_buyer_share", "repeat_buyers", "buyers"),
    ]


def one_currency(
    subscriptions: pl.DataFrame, discounts: pl.DataFrame | None, fx: Rates | None
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``subscriptions`` (and the ``amount_off`` of ``discounts``, in the currency of their
    customer's subscriptions) converted at the ``fx`` rates into one currency, without the
    ``currency`` column, for the functions that take no rates (churn, cohorts, survival,
    retention cost); unchanged without rates or a ``currency`` column. Returns the table and
    the ``discounts=`` keyword (empty without discounts)."""
    money: dict[str, Any] = {} if discounts is None else {"discounts": discounts}
    if fx is None or "currency" not in subscriptions.columns:
        return subscriptions, money
    if isinstance(fx, pl.DataFrame):
        pairs = zip(fx["currency"].to_list(), fx["rate"].cast(pl.Float64).to_list(), strict=True)
        rates = {str(k): float(v) for k, v in pairs}
    else:
        rates = {str(k): float(v) for k, v in fx.items()}
    missing = subscriptions.filter(~pl.col("currency").is_in(list(rates)))["currency"]
    if missing.len():
        raise InvalidInputError(
            f"column 'currency': no fx rate for {missing[0]!r}; the rates given are for "
            + ", ".join(sorted(rates))
        )
    rate = pl.col("currency").replace_strict(rates, return_dtype=pl.Float64)
    converted = subscriptions.with_columns(pl.col("amount").cast(pl.Float64) * rate).drop(
        "currency"
    )
    if discounts is not None and "amount_off" in discounts.columns and discounts.height:
        by_customer = subscriptions.group_by("customer_id").agg(
            pl.col("currency").first().replace_strict(rates, return_dtype=pl.Float64).alias("_rate")
        )
        money["discounts"] = (
            discounts.join(by_customer, on="customer_id", how="left")
            .with_columns(pl.col("amount_off").cast(pl.Float64) * pl.col("_rate"))
            .drop("_rate")
        )
    return converted, money


@frame_function
def wide(long: Any) -> Any:
    """The scorecard with one row per period and one column per metric (values only).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> sales = pl.DataFrame({"timestamp": [dt.date(2024, 3, 1)] * 4,
    ...                       "kind": ["upsell", "new", "new", "new"]})
    >>> csm.scorecard_wide(csm.scorecard(conversions=sales)).columns
    ['period', 'cross_sell_rate', 'upsell_rate']
    """
    frame, kind = to_polars(long, ["period", "metric", "value"])
    out = frame.pivot(on="metric", index="period", values="value", sort_columns=True).sort("period")
    return from_polars(out, kind)


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
