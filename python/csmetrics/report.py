"""The customer-success report: one self-contained HTML file.

:func:`report` computes the scorecard, the revenue, churn, survey and retention charts and a health
score of the paying customers from whichever input tables are given, draws the charts with
:mod:`csmetrics.plot` (matplotlib, Agg backend) and writes them into one HTML file with the images
embedded as base64 PNG: no external resource. Needs matplotlib (the ``plot`` extra); it is imported
only when a report is made.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import polars as pl

from csmetrics import _internal
from csmetrics._options import choice, guard_module, micros
from csmetrics.exceptions import CsMetricsError, InvalidInputError
from csmetrics.scorecard import LABELS, Rates

__all__ = ["report"]

Period = Literal["day", "week", "month", "quarter", "year"]

#: Headline metrics (scorecard name, label, format) shown at the top when present.
HEADLINE: list[tuple[str, str, str]] = [
    ("mrr", "MRR", "money"),
    ("arr", "ARR", "money"),
    ("paying_customers", "Paying customers", "count"),
    ("nrr", "NRR", "percent"),
    ("grr", "GRR", "percent"),
    ("churn_rate", "Logo churn", "percent"),
    ("nps", "NPS", "number"),
    ("csat", "CSAT", "percent"),
    ("trial_conversion", "Trial conversion", "percent"),
    ("fcr_net", "FCR (net)", "percent"),
]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;
background:#f4f5f7;color:#1f2933}
header{background:#1f3a5f;color:#fff;padding:24px 40px}
header h1{margin:0 0 4px 0;font-size:26px}
header p{margin:0;opacity:.85}
main{padding:24px 40px;max-width:1200px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:24px}
.kpi{background:#fff;border-radius:8px;padding:12px 18px;min-width:140px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
.kpi .label{font-size:13px;color:#52606d}
.kpi .value{font-size:24px;font-weight:600}
section{background:#fff;border-radius:8px;padding:16px 24px;margin-bottom:20px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
section h2{margin-top:0;font-size:20px}
section p.note{color:#52606d;font-size:14px}
img{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{padding:4px 8px;border-bottom:1px solid #e4e7eb;text-align:right;white-space:nowrap}
th{background:#f0f2f5}
td:first-child,th:first-child{text-align:left}
.scroll{overflow-x:auto}
.band-red{color:#b42318;font-weight:600}.band-yellow{color:#b54708;font-weight:600}
.band-green{color:#067647;font-weight:600}
.kpi .when{font-size:12px;color:#7b8794}
.partial{color:#7b8794;font-style:italic}
header .partial{color:#f5d88a}
"""

PERCENT_METRICS = {
    "nrr",
    "grr",
    "churn_rate",
    "retention_rate",
    "csat",
    "ces_low_effort",
    "trial_conversion",
    "fcr_gross",
    "fcr_net",
    "upsell_rate",
    "cross_sell_rate",
    "expansion_rate",
    "growth_rate",
    "stickiness",
    "involuntary_churn_share",
}


def _plan(tables: dict[str, Any]) -> list[str]:
    steps = ["scorecard"]
    if "subscriptions" in tables or "invoices" in tables:
        steps += ["revenue", "churn", "cohorts", "survival", "health"]
    if "responses" in tables:
        steps.append("nps")
    if "milestones" in tables:
        steps.append("journey")
    if "tickets" in tables and "first_response_at" in tables["tickets"].columns:
        steps.append("support")
    steps.append("writing")
    return steps


def _fmt(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "&ndash;"
    if kind == "money":
        return f"{value:,.0f}"
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "percent":
        return f"{100 * value:.1f}%"
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"


def _png(ax: Any) -> str:
    import matplotlib.pyplot as plt

    fig = ax.figure
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    title = html.escape(ax.get_title() or "chart")
    return f'<img alt="{title}" src="data:image/png;base64,{data}">'


def _axes(width: float = 10.0, height: float = 4.0) -> Any:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(width, height))
    return ax


def _table(
    frame: pl.DataFrame,
    *,
    percent: set[str] | None = None,
    money: set[str] | None = None,
    max_rows: int = 60,
    table_id: str | None = None,
) -> str:
    percent = percent or set()
    money = money or set()
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.head(max_rows).iter_rows(named=True):
        cells = []
        for name, value in row.items():
            if isinstance(value, float) and name in money:
                text = f"{value:,.2f}"
            elif isinstance(value, float):
                text = _fmt(value, "percent" if name in percent else "number")
            elif value is None:
                text = "&ndash;"
            else:
                text = html.escape(str(value))
            css = f' class="band-{value}"' if name == "band" and value else ""
            cells.append(f"<td{css}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ident = f' id="{table_id}"' if table_id else ""
    return (
        f'<div class="scroll"><table{ident}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _scorecard_table(
    wide: pl.DataFrame, period: Period, partial: dt.date | None, periods: int = 6
) -> str:
    """The last ``periods`` periods, newest first, one row per metric labelled in words (the
    machine name as the cell's title); the ``partial`` period's column is marked."""
    recent = wide.sort("period", descending=True).head(periods)
    starts = recent["period"].to_list()
    marks = [' class="partial"' if p == partial else "" for p in starts]
    head = "<th>metric</th>" + "".join(
        f"<th{mark}>{html.escape(_period_label(p, period))}"
        + (" (partial)" if mark else "")
        + "</th>"
        for p, mark in zip(starts, marks, strict=True)
    )
    rows = []
    order = {name: i for i, name in enumerate(LABELS)}  # revenue, churn, surveys, ...
    metrics = sorted((c for c in recent.columns if c != "period"), key=lambda c: order.get(c, 99))
    for metric in metrics:
        values = recent[metric].to_list()
        if all(v is None for v in values):
            continue
        kind = "percent" if metric in PERCENT_METRICS else "number"
        cells = "".join(
            f"<td{mark}>{_fmt(v, kind)}</td>" for v, mark in zip(values, marks, strict=True)
        )
        label = LABELS.get(metric, metric)
        rows.append(f'<tr><td title="{html.escape(metric)}">{html.escape(label)}</td>{cells}</tr>')
    return (
        f'<div class="scroll"><table id="scorecard-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _section(anchor: str, title: str, body: str, note: str = "") -> str:
    text = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{text}{body}</section>'


def _to_polars_frame(data: Any) -> pl.DataFrame:
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if type(data).__module__.startswith("pandas"):
        return cast(pl.DataFrame, pl.from_pandas(data))
    return pl.DataFrame(data)


def _subscription_options(subs: pl.DataFrame) -> dict[str, Any]:
    return {"interval_count": "interval_count"} if "interval_count" in subs.columns else {}


#: Subscription columns of billing detail (docs/metrics/billing.md): a table with any of them
#: gets the "Billing detail" section.
BILLING_COLUMNS = ("quantity", "status", "canceled_at", "churn_reason", "percent_off", "amount_off")

#: The billing table's columns: bridge column -> heading, in order (each shown when the bridge has
#: it; the churn split counts customers).
_BILLING_TABLE: dict[str, str] = {
    "net_mrr": "net MRR",
    "contract_mrr": "contract MRR",
    "committed_mrr": "committed MRR",
    "cancellations": "cancellations",
    "churned_customers": "churned customers",
    "churned_voluntary_customers": "voluntary",
    "churned_involuntary_customers": "involuntary",
    "churned_unknown_customers": "unknown",
    "paused_customers": "paused",
}
_BILLING_MONEY = {"net MRR", "contract MRR", "committed MRR"}


def _has_billing(subs: pl.DataFrame) -> bool:
    return any(column in subs.columns for column in BILLING_COLUMNS)


def _billing_section(
    bridge: pl.DataFrame, period: Period, partial: dt.date | None, periods: int = 6
) -> str:
    """Net against contract MRR, churn by reason against cancellation requests, and a table of
    the last ``periods`` periods, newest first, from a bridge computed with
    ``with_contract=True``."""
    from csmetrics import plot

    body = _png(plot.net_contract_trend(bridge, ax=_axes(10, 3.5)))
    split = "churned_voluntary_customers" in bridge.columns
    requests = "cancellations" in bridge.columns
    if split or requests:
        bars = plot.churn_split_bars(bridge, ax=_axes(10, 3.5))
        bars.set_xlabel("")  # the dates say it; the legend sits below the axis
        body += _png(bars)
    shown = [c for c in _BILLING_TABLE if c in bridge.columns]
    recent = bridge.sort("period", descending=True).head(periods)
    labels = [
        _period_label(p, period) + (" (partial)" if p == partial else "")
        for p in recent["period"].to_list()
    ]
    table = recent.select(pl.Series("period", labels, dtype=pl.String), *shown).rename(
        _BILLING_TABLE, strict=False
    )
    body += _table(table, money=_BILLING_MONEY, table_id="billing-table")
    note = [
        "Net MRR is what customers pay after their discounts; contract MRR is the same "
        "subscriptions at their undiscounted price: the gap is what discounts cost each month."
    ]
    if "committed_mrr" in bridge.columns:
        note.append(
            "Committed MRR leaves out the subscriptions whose customers have asked to cancel but "
            "keep access to the end of their paid term."
        )
    if requests:
        note.append(
            "Cancellations are the requests to cancel made in the period; the customer churns "
            "when access ends, often a period or more later."
        )
    if split:
        note.append(
            "Churned customers are split by reason: voluntary (they asked to cancel), "
            "involuntary (a failed or disputed payment) and unknown "
            "(no reason recorded)."
        )
    note.append(f"The table shows the last {periods} {period}s, newest first.")
    return _section("billing", "Billing detail", body, " ".join(note))


def stripe_tables(stripe: Any) -> Any:
    """The :class:`~csmetrics.io.stripe.StripeTables` of ``report(stripe=...)``: given as
    they are, or read from a mapping of paths (``subscriptions``, ``invoices``,
    ``dashboard_csv``; the Dashboard's subscriptions that the JSON lacks are added)."""
    from csmetrics.io import stripe as reader

    if isinstance(stripe, reader.StripeTables):
        return stripe
    keys = ("subscriptions", "invoices", "dashboard_csv")
    if not isinstance(stripe, Mapping) or not stripe or any(k not in keys for k in stripe):
        raise InvalidInputError(
            "stripe= takes the StripeTables of csmetrics.io.stripe.read or a mapping of paths "
            f"with the keys {', '.join(keys)}; got {stripe!r}"
        )
    tables = reader.read(subscriptions=stripe.get("subscriptions"), invoices=stripe.get("invoices"))
    if stripe.get("dashboard_csv") is None:
        return tables
    dashboard = reader.read_dashboard_csv(stripe["dashboard_csv"])
    known = tables.subscriptions["subscription_id"].unique()
    added = dashboard.subscriptions.filter(~pl.col("subscription_id").is_in(known.implode()))
    skipped = dict(tables.skipped)
    duplicates = (
        dashboard.subscriptions["subscription_id"].n_unique() - added["subscription_id"].n_unique()
    )
    if duplicates:
        skipped["Dashboard CSV subscriptions also in the JSON"] = duplicates
    return reader.StripeTables(
        subscriptions=pl.concat([tables.subscriptions, added], how="vertical_relaxed"),
        discounts=tables.discounts,
        invoice_lines=tables.invoice_lines,
        skipped=dict(sorted(skipped.items())),
    )


def _stripe_section(
    export: Any,
    cutoff: Any,
    period: Period,
    fx: Rates | None,
    discounts: pl.DataFrame | None,
    known: Mapping[str, float],
) -> str:
    """What a Stripe export gave: the rows of each normalised table (invoice lines by kind),
    the objects left out and, with invoice lines, the MRR at the cut-off from them against the
    subscription objects' (today's prices and seats). ``known`` holds what the revenue sections
    already found (``invoices``, ``subscriptions``: the MRR at the cut-off of the export's
    tables); the rest is computed here."""
    import csmetrics as csm

    subs, lines = export.subscriptions, export.invoice_lines
    rows: list[tuple[str, str]] = [
        ("subscriptions", f"{subs['subscription_id'].n_unique():,}"),
        ("subscription rows (status spells)", f"{subs.height:,}"),
        ("customers", f"{subs['customer_id'].n_unique():,}"),
        ("discounts", f"{export.discounts.height:,}"),
        ("invoice lines", f"{lines.height:,}"),
    ]
    by_kind = lines.group_by("kind").len().sort("kind")
    rows += [(f"invoice lines: {k}", f"{n:,}") for k, n in by_kind.iter_rows()]
    rows += [(f"left out: {what}", f"{n:,}") for what, n in export.skipped.items()]
    recurring = lines.filter(pl.col("kind").is_in(["subscription", "proration"]))
    compared = ""
    if recurring.height and subs.height:
        at: dict[str, Any] = {"period": period, "as_of": cutoff, "fx": fx}
        billed, listed = known.get("invoices"), known.get("subscriptions")
        if billed is None:
            mrr = csm.revenue_kpis(lines, table="invoices", **at)["mrr"]
            billed = mrr[-1] if mrr.len() else None
        if listed is None:
            options = _subscription_options(subs) | at
            if discounts is not None:
                options["discounts"] = discounts
            mrr = csm.revenue_kpis(subs, **options)["mrr"]
            listed = mrr[-1] if mrr.len() else None
        if billed is not None and listed is not None:
            rows += [
                ("MRR at the cut-off from the invoice lines", f"{billed:,.2f}"),
                ("MRR at the cut-off from the subscriptions", f"{listed:,.2f}"),
            ]
            compared = (
                " The revenue sections read the invoice lines, the history of what was billed; "
                "the subscription objects hold today's prices and seats only, so their MRR at "
                "the cut-off differs from the invoices' by what is not yet billed (a change "
                "since the last invoice) or was billed otherwise (prorations, discounts)."
            )
            if abs(billed - listed) > 0.1 * max(abs(billed), abs(listed)):
                compared += (
                    " Here they differ by more than 10%: an export holding only some of the "
                    "invoices (recent ones, say) gives a partial history, and "
                    "revenue_from='subscriptions' (--revenue-from subscriptions) reads the "
                    "subscriptions instead."
                )
    frame = pl.DataFrame(rows, schema=["read", "count"], orient="row")
    currencies = ", ".join(sorted(subs["currency"].unique().drop_nulls().to_list()))
    note = (
        "What csmetrics.io.stripe read from the Stripe export: the subscriptions (one row per "
        "status spell, at today's prices and seats), their discounts and the invoice lines. "
        "Objects that never move MRR (credit notes, refunds, draft and void invoices, metered "
        f"items) are counted and left out. Currencies: {currencies or 'none'}.{compared}"
    )
    return _section("stripe", "Stripe export", _table(frame, table_id="stripe-table"), note)


#: Per input table, the event columns whose latest instant is the data's end: the contract's
#: default cut-off (the latest start or event timestamp, never an end).
_EVENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "subscriptions": ("start",),
    "invoices": ("period_start",),
    "responses": ("timestamp",),
    "tickets": ("opened_at",),
    "usage": ("date",),
    "trials": ("trial_start", "converted_at"),
    "conversions": ("timestamp",),
    "milestones": ("timestamp",),
}


def _data_end(tables: Mapping[str, pl.DataFrame]) -> dt.date | dt.datetime | None:
    """The latest event instant of the input tables; None when no table has one."""
    latest: tuple[int, dt.date | dt.datetime] | None = None
    for name, columns in _EVENT_COLUMNS.items():
        frame = tables.get(name)
        if frame is None:
            continue
        for column in columns:
            if column not in frame.columns:
                continue
            dtype = frame.schema[column]
            if dtype != pl.Date and not isinstance(dtype, pl.Datetime):
                continue  # the table's own function names what is wrong with the column
            try:
                value: Any = frame[column].max()
                at = micros(value, "as_of") if value is not None else None
            except (CsMetricsError, ValueError, OverflowError, pl.exceptions.PolarsError):
                continue
            if at is not None and (latest is None or at > latest[0]):
                latest = (at, value)
    return None if latest is None else latest[1]


def _utc_day(value: Any) -> dt.date:
    """The UTC calendar day of an instant (date, datetime or ISO string)."""
    at = micros(value, "as_of") or 0
    return dt.date(1970, 1, 1) + dt.timedelta(days=at // 86_400_000_000)


def _instant_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _period_start(day: dt.date, period: Period) -> dt.date:
    """The first day of the UTC calendar period holding ``day`` (weeks start on Monday)."""
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def _period_label(start: dt.date, period: Period) -> str:
    """A period in words: "November 2026", "2026 Q4", "week of 2026-11-23"."""
    if period == "month":
        return f"{_MONTHS[start.month - 1]} {start.year}"
    if period == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    if period == "year":
        return str(start.year)
    if period == "week":
        return f"week of {start.isoformat()}"
    return start.isoformat()


#: The components of the report's health score: name -> (what it measures, direction).
HEALTH_COMPONENTS: dict[str, tuple[str, Literal["higher", "lower"]]] = {
    "nps": ("the last NPS answer", "higher"),
    "tickets": ("support tickets opened", "lower"),
    "active_days": ("active days", "higher"),
}
_RECIPE_KEYS = ("weights", "window_days", "bands", "normalisation")


@dataclass(frozen=True)
class _Recipe:
    """The report's health recipe, checked."""

    weights: dict[str, float]
    window_days: int = 90
    bands: tuple[float, float] = (40.0, 70.0)
    normalisation: Literal["minmax", "percentile"] = "minmax"


#: The default recipe: the last NPS answer, tickets and active days (counting double) over the
#: 90 days up to the cut-off, each min-max scaled; red below 40, green from 70.
DEFAULT_HEALTH: dict[str, Any] = {
    "weights": {"nps": 1.0, "tickets": 1.0, "active_days": 2.0},
    "window_days": 90,
    "bands": (40.0, 70.0),
    "normalisation": "minmax",
}


def _recipe_error(source: str, rule: str, value: Any) -> InvalidInputError:
    err = InvalidInputError(f"{source}: {rule}; got {value!r}")
    vars(err).update(option=source, rule=rule, value=repr(value))
    return err


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def health_recipe(recipe: Mapping[str, Any] | None, source: str = "health") -> _Recipe:
    """The checked health recipe of ``recipe`` (None: :data:`DEFAULT_HEALTH`).

    ``recipe`` maps ``weights`` (component -> weight >= 0; components left out or weighted 0 are
    not used; at least one weight > 0), ``window_days`` (whole number >= 1), ``bands``
    (``[lower, upper]`` with 0 <= lower <= upper <= 100) and ``normalisation`` (``"minmax"`` or
    ``"percentile"``); a key left out keeps its default. Errors name ``source``.
    """
    if recipe is None:
        recipe = DEFAULT_HEALTH
    if not isinstance(recipe, Mapping):
        raise _recipe_error(source, "expected a mapping of " + ", ".join(_RECIPE_KEYS), recipe)
    unknown = [k for k in recipe if k not in _RECIPE_KEYS]
    if unknown:
        raise _recipe_error(
            source, "unknown key; the recipe's keys are " + ", ".join(_RECIPE_KEYS), unknown[0]
        )
    weights = recipe.get("weights", DEFAULT_HEALTH["weights"])
    if not isinstance(weights, Mapping) or not weights:
        raise _recipe_error(
            source,
            "weights must map components (" + ", ".join(HEALTH_COMPONENTS) + ") to numbers",
            weights,
        )
    checked: dict[str, float] = {}
    for name, weight in weights.items():
        if name not in HEALTH_COMPONENTS:
            raise _recipe_error(
                source,
                "unknown health component; the components are " + ", ".join(HEALTH_COMPONENTS),
                name,
            )
        number = _number(weight)
        if number is None or number < 0:
            raise _recipe_error(source, f"the weight of {name} must be a number >= 0", weight)
        if number > 0:
            checked[name] = number
    if not checked:
        raise _recipe_error(source, "at least one component needs a weight > 0", dict(weights))
    window = recipe.get("window_days", DEFAULT_HEALTH["window_days"])
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise _recipe_error(source, "window_days must be a whole number of days >= 1", window)
    bands = recipe.get("bands", DEFAULT_HEALTH["bands"])
    pair = [_number(b) for b in bands] if isinstance(bands, list | tuple) else []
    if (
        len(pair) != 2
        or None in pair
        or not 0 <= cast(float, pair[0]) <= cast(float, pair[1]) <= 100
    ):
        raise _recipe_error(
            source, "bands must be [lower, upper] with 0 <= lower <= upper <= 100", bands
        )
    normalisation = recipe.get("normalisation", DEFAULT_HEALTH["normalisation"])
    if normalisation not in ("minmax", "percentile"):
        raise _recipe_error(source, "normalisation must be 'minmax' or 'percentile'", normalisation)
    return _Recipe(checked, window, (cast(float, pair[0]), cast(float, pair[1])), normalisation)


def _health(
    subs: pl.DataFrame,
    options: dict[str, Any],
    responses: pl.DataFrame | None,
    tickets: pl.DataFrame | None,
    usage: pl.DataFrame | None,
    customers: pl.DataFrame | None,
    *,
    cutoff: Any,
    snapshot: dt.date,
    period: Period,
    recipe: _Recipe,
) -> tuple[pl.DataFrame, list[tuple[str, Any]]]:
    """Health score of the customers paying at the cut-off, by ``recipe``, and its factors.

    A customer's ``mrr`` is :func:`csmetrics.mrr` in the ``snapshot`` period (the one holding
    the cut-off, whose snapshot is taken at the cut-off); the activity factors count the
    ``recipe.window_days`` days up to and including the cut-off's day.
    """
    import csmetrics as csm

    window = recipe.window_days
    panel_mrr = pl.DataFrame(csm.mrr(subs, period=period, as_of=cutoff, **options))
    paying = panel_mrr.filter((pl.col("period") == snapshot) & (pl.col("mrr") > 0)).select(
        "customer_id", "mrr"
    )
    weights = recipe.weights

    def factor(column: str, component: str) -> tuple[str, Any]:
        made = csm.Factor(
            column,
            weight=weights[component],
            direction=HEALTH_COMPONENTS[component][1],
            normalisation=recipe.normalisation,
        )
        return component, made

    factors: list[tuple[str, Any]] = []
    panel = paying
    ids = paying.select("customer_id")
    at = micros(cutoff, "as_of") or 0

    def signal(
        events: pl.DataFrame, timestamp: str, name: str, value: str | None, distinct: bool
    ) -> pl.Series:
        """The core's per-customer signal of ``events`` (None: every event up to the cut-off's
        day, else the recipe's window), aligned with the paying customers."""
        window = None if value is not None else recipe.window_days
        return _internal.customer_signal(
            ids, events, "customer_id", timestamp, value, distinct, at, window, name
        ).to_series()

    if (
        "nps" in weights
        and responses is not None
        and "nps" in responses.columns
        and "timestamp" in responses.columns
    ):
        panel = panel.with_columns(signal(responses, "timestamp", "last_nps", "nps", False))
        factors.append(factor("last_nps", "nps"))
    if "tickets" in weights and tickets is not None and "opened_at" in tickets.columns:
        column = f"tickets_{window}d"
        panel = panel.with_columns(signal(tickets, "opened_at", column, None, False))
        factors.append(factor(column, "tickets"))
    if "active_days" in weights and usage is not None and "date" in usage.columns:
        column = f"active_days_{window}d"
        panel = panel.with_columns(signal(usage, "date", column, None, True))
        factors.append(factor(column, "active_days"))
    if not factors or panel.height == 0:
        return pl.DataFrame(), factors
    chosen = [f for _, f in factors]
    scored = csm.health_score(panel, chosen, bands=recipe.bands).join(
        panel.select("customer_id", "mrr", *(f.column for f in chosen)), on="customer_id"
    )
    if customers is not None and "segment" in customers.columns:
        scored = scored.join(
            customers.select("customer_id", "segment").unique("customer_id"),
            on="customer_id",
            how="left",
        )
    return scored, factors


def report(
    *,
    subscriptions: Any = None,
    responses: Any = None,
    tickets: Any = None,
    usage: Any = None,
    costs: Any = None,
    trials: Any = None,
    conversions: Any = None,
    customers: Any = None,
    period: Period = "month",
    as_of: Any = None,
    out: str | Path = "report.html",
    title: str = "Customer-success report",
    progress: Callable[[int, int, str], None] | None = None,
    headline: dict[str, str] | None = None,
    health: Mapping[str, Any] | None = None,
    discounts: Any = None,
    fx: Rates | None = None,
    stripe: Any = None,
    invoices: Any = None,
    revenue_from: Literal["auto", "invoices", "subscriptions"] = "auto",
    milestones: Any = None,
    journey: Sequence[str] | None = None,
    activation: str | None = None,
    sla_hours: float | Mapping[str, float] | None = None,
    themes: Mapping[str, Any] | None = None,
) -> Path:
    """Writes the customer-success report as one self-contained HTML file and returns its path.

    Parameters
    ----------
    subscriptions, responses, tickets, usage, costs, trials, conversions
        The input tables of :func:`csmetrics.scorecard` (Polars or pandas); each may be None, and
        the sections that need a missing table are left out. Subscriptions with any billing
        column (:data:`BILLING_COLUMNS`: ``quantity``, ``status``, ``canceled_at``,
        ``churn_reason``, ``percent_off``, ``amount_off``) add a "Billing detail" section after
        the MRR bridge: net against contract MRR (and committed MRR with ``canceled_at``),
        churned customers by reason against cancellation requests, and a table of the last six
        periods.
    customers
        Optional ``customer_id`` and ``segment`` table, used to label customers who need attention
        (and, with a ``signup_date`` column, the customers' starts of the onboarding section).
    themes
        Theme dictionary (theme -> pattern or patterns, as in :func:`csmetrics.themes`) of the
        "Voice of the customer" section, which responses with a ``comment`` column add after the
        NPS: themes by NPS impact and a few detractor quotes (with a dictionary), the terms that
        set detractors apart from promoters and the sentiment per period (always). Default
        ``None``: no themes.
    period
        Reporting period of the scorecard and the trend charts.
    as_of
        Cut-off instant of every section; default the data's end: the latest start or event
        timestamp of the input tables (subscription ``start``, response ``timestamp``, ticket
        ``opened_at``, usage ``date``, ``trial_start`` or ``converted_at``, conversion
        ``timestamp``; never an end). The period holding it is partial: the scorecard marks it
        "partial" and the headline KPIs are those of the last complete period before it.
    out
        Path of the HTML file.
    title
        Title of the report.
    progress
        Called as ``progress(step, steps, name)`` before each long step.
    headline
        A dict that, when given, receives the headline KPIs as formatted text (label -> value,
        ``period`` -> the last complete period they describe, such as "November 2026", and
        ``partial`` -> the partial period left out of them, when the scorecard shows one). A
        KPI without a value in that period shows its latest complete period's, labelled with it.
    health
        The health recipe: a mapping with ``weights`` (component -> weight >= 0 over the
        components ``nps``, the last NPS answer; ``tickets``, support tickets opened in the
        window, fewer is healthier; ``active_days``, days with usage in the window; a component
        left out or weighted 0 is not used), ``window_days`` (default 90, up to and including
        the cut-off's day), ``bands`` (default ``(40, 70)``) and ``normalisation``
        (``"minmax"``, default, or ``"percentile"``). Default
        ``{"weights": {"nps": 1, "tickets": 1, "active_days": 2}}``. A component whose table is
        not given is left out. ``csmetrics report`` takes it as ``--health-weights`` and
        ``--health-recipe``.
    discounts
        The subscriptions' discounts table (``discounts=`` of :func:`csmetrics.mrr_bridge`),
        used by every revenue and churn section.
    fx
        Rates into the reporting currency for subscriptions in several currencies:
        ``{"EUR": 1.08, "JPY": 0.0065}`` or a frame with ``currency`` and ``rate``
        (``csmetrics report --fx``).
    stripe
        A Stripe export instead of ``subscriptions``: the
        :class:`~csmetrics.io.stripe.StripeTables` of :func:`csmetrics.io.stripe.read`, or a
        mapping of paths with the keys ``subscriptions``, ``invoices`` (JSON or JSON lines, as
        :func:`~csmetrics.io.stripe.read` takes them) and ``dashboard_csv`` (the Dashboard's
        subscriptions CSV: its subscriptions that the JSON lacks are added). The normalised
        subscriptions and discounts feed every section (and its invoice lines the revenue and
        retention sections, as ``invoices=``, by ``revenue_from``), and a "Stripe export"
        section says what was read and what was left out, with the MRR at the cut-off from the
        invoices against the subscriptions' (``csmetrics report --stripe-subscriptions``).
    invoices
        Invoice lines (``table="invoices"`` of :func:`csmetrics.mrr_bridge`: ``customer_id``,
        ``amount``, ``period_start``, ``period_end``, ``kind``, ``subscription_id``,
        ``currency``): the history of what customers were billed. Given, the MRR bridge,
        churn, cohorts, survival, health and the revenue KPIs read them instead of the
        subscriptions, whose billing columns still give the "Billing detail" section.
    revenue_from
        What the revenue and retention sections read: ``"auto"`` (default) the invoice lines
        when there are recurring ones (``invoices=``, or the Stripe export's), else the
        subscriptions; ``"invoices"`` the invoice lines (an error without them);
        ``"subscriptions"`` the subscriptions, the invoice lines left out (a Stripe export's
        subscription objects hold today's prices and seats, so its history of upgrades and
        price changes is in the invoices only).
    milestones
        Onboarding milestones (``customer_id``, ``milestone``, ``timestamp``): an "Onboarding"
        section with the funnel at 7, 30 and 90 days (:func:`csmetrics.milestone_funnel`), the
        time to each milestone (:func:`csmetrics.time_to_milestone`) and, with ``activation``,
        the retention of activated against other customers. The customers' starts are the
        ``signup_date`` of ``customers``, else the first subscription (or invoice line);
        milestones before a start are left out and counted in the section's note.
    journey
        The milestones in order; default: by the number of customers reaching them, most first.
    activation
        The activation milestone (reached within 14 days of the start), such as
        ``"data_connected"``; None (default): no activation chart.
    sla_hours
        The first-response SLA of the tickets (:func:`csmetrics.response_times`). Tickets with a
        ``first_response_at`` column add a "Support response times" section.

    Returns
    -------
    Path
        The written file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import csmetrics as csm
    from csmetrics import plot

    export = stripe_tables(stripe) if stripe is not None else None
    lines_of_export = False  # the revenue sections read the export's own invoice lines
    if export is not None:
        if subscriptions is not None:
            raise InvalidInputError("report takes subscriptions= or stripe=, not both")
        subscriptions = export.subscriptions
        if discounts is None and export.discounts.height:
            discounts = export.discounts
        if invoices is None and export.invoice_lines.height:
            invoices = export.invoice_lines
            lines_of_export = True
    choice(revenue_from, "revenue_from", ("auto", "invoices", "subscriptions"))
    if revenue_from == "subscriptions":
        invoices, lines_of_export = None, False
    elif invoices is not None and revenue_from == "auto":
        lines_in = _to_polars_frame(invoices)
        kinds = lines_in["kind"] if "kind" in lines_in.columns else None
        recurring = kinds is None or kinds.is_in(["subscription", "proration"]).any()
        invoices = lines_in if recurring else None
        lines_of_export = lines_of_export and recurring
    elif invoices is None and revenue_from == "invoices":
        raise InvalidInputError(
            "revenue_from='invoices' needs invoice lines: invoices= or a Stripe export with them"
        )
    discounts_in = None if discounts is None else _to_polars_frame(discounts)
    tables: dict[str, pl.DataFrame] = {}
    converted_tables: dict[str, pl.DataFrame] = {}
    given: list[str] = []
    for name, frame in [
        ("subscriptions", subscriptions),
        ("responses", responses),
        ("tickets", tickets),
        ("usage", usage),
        ("costs", costs),
        ("trials", trials),
        ("conversions", conversions),
        ("customers", customers),
        ("invoices", invoices),
        ("milestones", milestones),
    ]:
        if frame is not None:
            given.append(name)
            converted = converted_tables[name] = _to_polars_frame(frame)
            # An empty table is as good as none: its sections are left out.
            if converted.height:
                tables[name] = converted
    micros(as_of, "as_of")  # a bad cut-off is an error naming the option, before any work
    recipe = health_recipe(health)
    subscriptions_in = tables.get("subscriptions")
    if subscriptions_in is not None and as_of is not None and "start" in subscriptions_in.columns:
        # Subscriptions starting after the cut-off are not there yet; none left, no sections.
        started = subscriptions_in.filter(pl.col("start").cast(pl.Date) <= _utc_day(as_of))
        if started.height == 0:
            del tables["subscriptions"]
    if not given:
        raise csm.InvalidInputError("report needs at least one input table")
    # One cut-off for every section; the period holding it is partial.
    cutoff = as_of if as_of is not None else _data_end(tables)
    partial = _period_start(_utc_day(cutoff), period) if cutoff is not None else None
    steps = _plan(tables)
    counter = iter(range(1, len(steps) + 1))

    def step(name: str) -> None:
        number = next(counter)
        if progress is not None:
            progress(number, len(steps), name)

    subs = tables.get("subscriptions")
    sections: list[str] = []
    step("scorecard")
    # Every table given, empty ones too: the scorecard checks their columns (and gives no rows
    # for an empty one).
    scorecard_inputs = {
        k: v for k, v in converted_tables.items() if k not in ("customers", "milestones")
    }
    money: dict[str, Any] = {"fx": fx}
    if discounts_in is not None:
        money["discounts"] = discounts_in
    long = (
        csm.scorecard(**scorecard_inputs, period=period, as_of=cutoff, sla_hours=sla_hours, **money)
        if scorecard_inputs
        else pl.DataFrame()
    )
    wide = csm.scorecard_wide(long) if long.height else pl.DataFrame()
    complete = wide
    if wide.height and partial is not None:
        # Tables the scorecard does not cut (answers, tickets, conversions) may run past the
        # cut-off: those periods are not shown.
        wide = wide.filter(pl.col("period") <= partial)
        complete = wide.filter(pl.col("period") < partial)
    shown_partial = partial if wide.height and wide["period"].max() == partial else None

    # Headline KPIs: the last complete period's, never the partial one's.
    latest = complete.row(complete.height - 1, named=True) if complete.height else {}
    latest_period: dt.date | None = latest.get("period")
    kpis: list[tuple[str, str, dt.date | None]] = []
    for metric, label, kind in HEADLINE:
        if metric not in wide.columns:
            continue
        value, when = latest.get(metric), latest_period
        if value is None:
            # No value in the last complete period: the latest complete period that has one.
            known = complete.filter(pl.col(metric).is_not_null())
            value, when = (known[metric][-1], known["period"][-1]) if known.height else (None, None)
        kpis.append((label, _fmt(value, kind), when))
    if headline is not None:
        if latest_period is not None:
            headline["period"] = _period_label(latest_period, period)
        if shown_partial is not None:
            headline["partial"] = (
                f"{_period_label(shown_partial, period)} (data to {_instant_text(cutoff)})"
            )
        for label, value, when in kpis:
            text = value.replace("&ndash;", "-")
            if when is not None and when != latest_period:
                text += f" ({_period_label(when, period)})"
            headline[label] = text
    cards = "".join(
        f'<div class="kpi"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{value}</div>'
        + (
            f'<div class="when">{html.escape(_period_label(when, period))}</div>'
            if when is not None and when != latest_period
            else ""
        )
        + "</div>"
        for label, value, when in kpis
    )

    lines = tables.get("invoices")
    # The revenue and retention sections read the invoice lines when given, else the
    # subscriptions; the billing detail is the subscriptions' own.
    source = lines if lines is not None else subs
    options: dict[str, Any] = {}
    if lines is not None:
        options = {"table": "invoices"}
    elif subs is not None:
        options = _subscription_options(subs)
        if discounts_in is not None:
            options["discounts"] = discounts_in
    billing = subs is not None and _has_billing(subs)
    # The MRR at the cut-off of the export's tables, as the revenue sections find it.
    export_mrr: dict[str, float] = {}
    if source is not None:
        step("revenue")
        contract = billing and lines is None
        bridge = csm.mrr_bridge(
            source, period=period, as_of=cutoff, with_contract=contract, fx=fx, **options
        )
        revenue = csm.revenue_kpis(source, period=period, as_of=cutoff, fx=fx, **options)
        if export is not None and revenue.height:
            if lines is None:
                export_mrr["subscriptions"] = revenue["mrr"][-1]
            elif lines_of_export:
                export_mrr["invoices"] = revenue["mrr"][-1]
        bars = plot.mrr_bridge_bars(bridge, title="MRR bridge", ax=_axes())
        bars.set_xlabel("")  # the dates say it; the legend sits below the axis
        charts = _png(bars)
        sections.append(
            _section(
                "mrr-bridge",
                "MRR bridge",
                charts,
                "Monthly recurring revenue by movement: new, expansion, reactivation, "
                "contraction and churn.",
            )
        )
        if billing and subs is not None:
            detail = bridge
            if lines is not None:
                detail = csm.mrr_bridge(
                    subs,
                    period=period,
                    as_of=cutoff,
                    with_contract=True,
                    **_subscription_options(subs),
                    **money,
                )
                if export is not None and detail.height:
                    export_mrr["subscriptions"] = detail["ending_mrr"][-1]
            sections.append(_billing_section(detail, period, partial))
        step("churn")
        churn = csm.churn_rates(source, period=period, as_of=cutoff, fx=fx, **options)
        body = _png(plot.churn_trend(churn, title="Logo churn rate", ax=_axes(10, 3.5)))
        body += _png(
            plot.nrr_trend(revenue, title="Net and gross revenue retention", ax=_axes(10, 3.5))
        )
        sections.append(_section("churn-nrr", "Churn and revenue retention", body))
        step("cohorts")
        cohorts = csm.cohort_retention(source, period=period, as_of=cutoff, fx=fx, **options)
        body = _png(plot.cohort_heatmap(cohorts, title="Logo retention by cohort", ax=_axes(10, 6)))
        sections.append(
            _section(
                "cohorts",
                "Cohort retention",
                body,
                "Share of each signup cohort still paying, by periods since start.",
            )
        )
        step("survival")
        lives = csm.survival_table(source, as_of=cutoff, time_unit="month", fx=fx, **options)
        body = _png(
            plot.survival_curve(
                csm.kaplan_meier(lives),
                time_label="months",
                title="Customer survival (Kaplan-Meier)",
                ax=_axes(10, 4),
            )
        )
        sections.append(_section("survival", "Customer survival", body))

    if export is not None:
        sections.append(_stripe_section(export, cutoff, period, fx, discounts_in, export_mrr))

    if "responses" in tables:
        step("nps")
        answers = tables["responses"]
        score = "nps" if "nps" in answers.columns else "score"
        trend = csm.nps(answers, score=score, period=period, invalid="drop")
        if partial is not None:
            trend = trend.filter(pl.col("period") <= partial)  # nothing after the cut-off
        if trend.height:
            heading = f"NPS by {period} (95% interval)"
            body = _png(plot.nps_trend(trend, title=heading, ax=_axes(10, 4)))
            sections.append(_section("nps", "Net Promoter Score", body))
        if "comment" in answers.columns:
            from csmetrics._voice_report import voice_section

            day = _utc_day(cutoff) if cutoff is not None else None
            voice = voice_section(answers, score, themes, period, day, _png, _axes, _table)
            if voice is not None:
                note = (
                    "Themes from the dictionary given (impact: the NPS of all responses minus "
                    "the NPS without those mentioning the theme); terms by weighted log-odds "
                    "(detractors against promoters); sentiment by VADER."
                )
                sections.append(_section("voice", "Voice of the customer", voice, note))

    if "milestones" in tables:
        step("journey")
        starts = tables.get("customers")
        start = "signup_date"
        if starts is None or start not in starts.columns:
            starts, start = source, "period_start" if lines is not None else "start"
        if starts is not None:
            survival = options if source is not None else {}
            sections.append(
                _journey_section(
                    tables["milestones"],
                    starts,
                    start,
                    journey,
                    activation,
                    source,
                    survival,
                    cutoff,
                )
            )

    tickets_in = tables.get("tickets")
    if tickets_in is not None and "first_response_at" in tickets_in.columns:
        step("support")
        sections.append(_support_section(tickets_in, period, cutoff, partial, sla_hours))

    if source is not None:
        step("health")
        scored, factors = _health(
            source,
            {**options, "fx": fx},
            tables.get("responses"),
            tables.get("tickets"),
            tables.get("usage"),
            tables.get("customers"),
            cutoff=cutoff,
            snapshot=revenue["period"].max(),
            period=period,
            recipe=recipe,
        )
        if scored.height:
            sections.append(_health_section(scored, factors, _utc_day(cutoff), recipe))

    step("writing")
    if wide.height:
        sections.append(
            _section(
                "scorecard",
                "Scorecard",
                _scorecard_table(wide, period, shown_partial),
                f"Every KPI the input tables allow, one column per {period} (the last six, "
                f"newest first; the {period} holding the cut-off is marked partial and is never "
                "a headline figure); the full table comes from csmetrics.scorecard.",
            )
        )
    if not sections:
        cut = f" up to {as_of}" if as_of is not None else ""
        sections.append(
            _section(
                "no-data",
                "No data",
                "",
                f"The tables given ({', '.join(given)}) have no rows{cut}: every section is "
                "left out.",
            )
        )
    subtitle = f"Period: {period}"
    if latest_period is not None:
        subtitle += (
            f" &middot; headline figures for {html.escape(_period_label(latest_period, period))}"
            f", the last complete {period}"
        )
    elif wide.height:
        subtitle += f" &middot; no complete {period} yet: the headline figures wait for one"
    if shown_partial is not None:
        subtitle += (
            f' &middot; <span class="partial">{html.escape(_period_label(shown_partial, period))}'
            f" is partial (data to {html.escape(_instant_text(cutoff))})</span>"
        )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{subtitle}</p></header><main>"
        f'<div class="kpis" id="kpis">{cards}</div>{"".join(sections)}'
        f"<p class='note'>Generated by csmetrics {html.escape(csm.__version__)} on "
        f"{dt.date.today().isoformat()}.</p></main></body></html>"
    )
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def _journey_order(milestones: pl.DataFrame) -> list[str]:
    """The milestones by the number of customers reaching them, most first (a funnel's order)."""
    counts = (
        milestones.group_by(pl.col("milestone").cast(pl.String))
        .agg(pl.col("customer_id").n_unique().alias("customers"))
        .sort(["customers", "milestone"], descending=[True, False])
    )
    return [m for m in counts["milestone"].to_list() if m is not None]


def _journey_section(
    milestones: pl.DataFrame,
    starts: pl.DataFrame,
    start: str,
    journey: Sequence[str] | None,
    activation: str | None,
    source: pl.DataFrame | None,
    survival: Mapping[str, Any],
    cutoff: Any,
) -> str:
    """Onboarding: the funnel at 7, 30 and 90 days, the time to each milestone, and activated
    against other customers' retention."""
    import csmetrics as csm
    from csmetrics import plot

    stages = list(journey) if journey is not None else _journey_order(milestones)
    common: dict[str, Any] = {"as_of": cutoff, "start": start, "before_start": "drop"}
    funnel = csm.milestone_funnel(
        milestones, starts, journey=stages, window_days=[7, 30, 90], cohort=None, **common
    )
    body = _png(plot.milestone_funnel(funnel, title="Onboarding funnel", ax=_axes(10, 4)))
    times = csm.time_to_milestone(milestones, starts, journey=stages, **common)
    shown = times.select(
        "milestone",
        "customers",
        "reached",
        pl.col("p25").alias("days to 25%"),
        pl.col("median").alias("median days"),
        pl.when(pl.col("median_lower").is_not_null() | pl.col("median_upper").is_not_null())
        .then(
            pl.concat_str(
                pl.col("median_lower").round(1).cast(pl.String).fill_null("\u2013"),
                pl.lit(" \u2013 "),
                pl.col("median_upper").round(1).cast(pl.String).fill_null("\u2013"),
            )
        )
        .alias("95% interval"),
        pl.col("p75").alias("days to 75%"),
    )
    body += "<h3>Time to value</h3>" + _table(shown, table_id="time-to-milestone")
    early = int(funnel["before_start"].sum())
    note = (
        "Share of customers reaching each milestone within 7, 30 and 90 days of their start "
        "(customers whose window is still open are left out, never counted as not reached); "
        "the days to each milestone by Kaplan-Meier, censored at the cut-off."
    )
    if early:
        note += f" {early:,} milestone rows dated before their customer's start are left out."
    if activation is not None and source is not None:
        result = csm.activation(
            starts,
            milestones=milestones,
            milestone=activation,
            subscriptions=source,
            survival_options=dict(survival),
            as_of=cutoff,
            start=start,
            cohort=None,
        )
        rates = result.rates.row(0, named=True)
        test = result.logrank.row(0, named=True)
        named = result.curves.with_columns(
            pl.when(pl.col("activated"))
            .then(pl.lit("activated"))
            .otherwise(pl.lit("not activated"))
            .alias("activated")
        )
        curve = plot.survival_curve(
            named,
            time_label="months",
            title=f"Retention by activation ({activation} within 14 days)",
            ax=_axes(10, 4),
        )
        body += f"<h3>Activation: {html.escape(activation)}</h3>" + _png(curve)
        p = test["p_value"]
        body += (
            f'<p class="note" id="activation-note">Activation rate '
            f"{_fmt(rates['activation_rate'], 'percent')} of {rates['eligible']:,} customers "
            f"whose 14-day window has closed; log-rank test of activated against other "
            f"customers: p = {'&ndash;' if p is None else f'{p:.2g}'}.</p>"
        )
    return _section("onboarding", "Onboarding", body, note)


def _support_section(
    tickets: pl.DataFrame,
    period: Period,
    cutoff: Any,
    partial: dt.date | None,
    sla_hours: float | Mapping[str, float] | None,
) -> str:
    """Support times: first response per period (median, 90th percentile), and the last
    complete period by priority with the backlog and SLA attainment."""
    import csmetrics as csm
    from csmetrics import plot

    resolved = "resolved_at" if "resolved_at" in tickets.columns else None
    common: dict[str, Any] = {"period": period, "as_of": cutoff, "resolved_at": resolved}
    if isinstance(sla_hours, Mapping) and "priority" not in tickets.columns:
        sla_hours = None
    times = csm.response_times(tickets, sla_hours=sla_hours, **common)
    if partial is not None:
        times = times.filter(pl.col("period") <= partial)
    body = _png(plot.response_times(times, title="First response time", ax=_axes(10, 3.5)))
    complete = times.filter(pl.col("period") < partial) if partial is not None else times
    if complete.height:
        last = complete["period"].max()
        by = ["priority"] if "priority" in tickets.columns else []
        per = csm.response_times(tickets, sla_hours=sla_hours, by=by, **common).filter(
            pl.col("period") == last
        )
        wanted = [
            *by,
            "tickets",
            "answered",
            "unanswered",
            "first_response_median_hours",
            "first_response_p90_hours",
            *(["resolution_median_hours", "backlog"] if resolved else []),
            *(["sla_attainment"] if sla_hours is not None else []),
        ]
        shown = per.select(wanted).rename(
            {
                "first_response_median_hours": "first response, median (h)",
                "first_response_p90_hours": "first response, p90 (h)",
                "resolution_median_hours": "resolution, median (h)",
                "sla_attainment": "within SLA",
            },
            strict=False,
        )
        body += f"<h3>{html.escape(_period_label(last, period))}</h3>" + _table(
            shown, percent={"within SLA"}, table_id="support-times"
        )
    return _section(
        "support-times",
        "Support response times",
        body,
        "Hours from opening to the first response, per period of the opening (tickets not yet "
        "answered are counted as unanswered, never dropped); the backlog is the tickets still "
        "open at the period's end.",
    )


def _health_section(
    scored: pl.DataFrame, factors: list[tuple[str, Any]], reference: dt.date, recipe: _Recipe
) -> str:
    bands = ["red", "yellow", "green"]
    counts = scored.group_by("band").len()
    lookup = dict(zip(counts["band"].to_list(), counts["len"].to_list(), strict=True))
    ax = _axes(10, 3)
    colours = ["#d64545", "#e8a33d", "#3e9e5c"]
    values = [lookup.get(b, 0) for b in bands]
    ax.barh(bands, values, color=colours)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:,}", va="center")
    ax.set_xlabel("paying customers")
    ax.set_ylabel("health band")
    ax.set_title(f"Health bands of paying customers on {reference.isoformat()}")
    body = _png(ax)
    factor_columns = [f.column for _, f in factors]
    shown = ["customer_id"] + (["segment"] if "segment" in scored.columns else [])
    attention = (
        scored.filter(pl.col("score").is_not_null())
        .sort(["score", "mrr"], descending=[False, True])
        .head(15)
        .select(*shown, "mrr", *factor_columns, pl.col("score").round(1), "band")
    )
    body += "<h3>Customers who need attention</h3>"
    body += _table(attention, money={"mrr"}, table_id="attention-table")
    parts = []
    for name, f in factors:
        what, direction = HEALTH_COMPONENTS[name]
        text = what if name == "nps" else f"{what} in the {recipe.window_days} days to the cut-off"
        if direction == "lower":
            text += " (fewer is healthier)"
        parts.append(f"{text}, weight {f.weight:g}")
    scaling = "min-max" if recipe.normalisation == "minmax" else "percentile"
    lower, upper = recipe.bands
    return _section(
        "health",
        "Customer health",
        body,
        f"Score 0-100 from {'; '.join(parts)}; each scaled {scaling} over the paying customers; "
        f"red below {lower:g}, green from {upper:g} (csmetrics report --health-weights or "
        "--health-recipe sets the recipe). The table lists the paying customers with the lowest "
        "scores; their MRR is csmetrics.mrr at the cut-off.",
    )


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
