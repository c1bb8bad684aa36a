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
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, cast

import polars as pl

from csmetrics._options import guard_module

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
}


def _plan(tables: dict[str, Any]) -> list[str]:
    steps = ["scorecard"]
    if "subscriptions" in tables:
        steps += ["revenue", "churn", "cohorts", "survival", "health"]
    if "responses" in tables:
        steps.append("nps")
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


def _table(frame: pl.DataFrame, *, percent: set[str] | None = None, max_rows: int = 60) -> str:
    percent = percent or set()
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.head(max_rows).iter_rows(named=True):
        cells = []
        for name, value in row.items():
            if isinstance(value, float):
                text = _fmt(value, "percent" if name in percent else "number")
            elif value is None:
                text = "&ndash;"
            else:
                text = html.escape(str(value))
            css = f' class="band-{value}"' if name == "band" and value else ""
            cells.append(f"<td{css}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _scorecard_table(wide: pl.DataFrame, periods: int = 6) -> str:
    recent = wide.sort("period", descending=True).head(periods)
    labels = [str(p) for p in recent["period"].to_list()]
    head = "<th>metric</th>" + "".join(f"<th>{html.escape(x)}</th>" for x in labels)
    rows = []
    for metric in [c for c in recent.columns if c != "period"]:
        values = recent[metric].to_list()
        if all(v is None for v in values):
            continue
        kind = "percent" if metric in PERCENT_METRICS else "number"
        cells = "".join(f"<td>{_fmt(v, kind)}</td>" for v in values)
        rows.append(f"<tr><td>{html.escape(metric)}</td>{cells}</tr>")
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


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _reference_date(subs: pl.DataFrame, as_of: Any) -> dt.date:
    if as_of is not None:
        return _as_date(as_of)
    dates = [subs["start"].max()]
    if "end" in subs.columns:
        dates.append(subs["end"].max())
    present = [_as_date(d) for d in dates if d is not None]
    return max(present) if present else dt.date.today()


def _date(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Date)


def _health(
    subs: pl.DataFrame,
    responses: pl.DataFrame | None,
    tickets: pl.DataFrame | None,
    usage: pl.DataFrame | None,
    customers: pl.DataFrame | None,
    reference: dt.date,
) -> pl.DataFrame:
    """Health score of the customers paying at ``reference`` from the last 90 days' activity."""
    import csmetrics as csm

    since = reference - dt.timedelta(days=90)
    end = pl.col("end") if "end" in subs.columns else pl.lit(None, dtype=pl.Date)
    months = pl.lit(1.0)
    if "interval" in subs.columns:
        months = pl.col("interval").replace_strict(
            {"day": 1 / 30.4375, "week": 7 / 30.4375, "month": 1.0, "quarter": 3.0, "year": 12.0},
            default=1.0,
            return_dtype=pl.Float64,
        )
    if "interval_count" in subs.columns:
        months = months * pl.col("interval_count").fill_null(1)
    paying = (
        subs.filter(
            (_date("start") <= reference)
            & (end.is_null() | (end.cast(pl.Date) > reference))
            & (pl.col("amount") > 0)
        )
        .group_by("customer_id")
        .agg(mrr=(pl.col("amount") / months).sum().round(2))
    )
    factors: list[Any] = []
    panel = paying
    if responses is not None and "nps" in responses.columns and "timestamp" in responses.columns:
        recent = (
            responses.filter(_date("timestamp") <= reference)
            .sort("timestamp")
            .group_by("customer_id")
            .agg(last_nps=pl.col("nps").drop_nulls().last().cast(pl.Float64))
        )
        panel = panel.join(recent, on="customer_id", how="left")
        factors.append(csm.Factor("last_nps"))
    if tickets is not None and "opened_at" in tickets.columns:
        counts = (
            tickets.filter(_date("opened_at").is_between(since, reference))
            .group_by("customer_id")
            .agg(tickets_90d=pl.len())
        )
        panel = panel.join(counts, on="customer_id", how="left").with_columns(
            pl.col("tickets_90d").fill_null(0)
        )
        factors.append(csm.Factor("tickets_90d", direction="lower"))
    if usage is not None and "date" in usage.columns:
        active = (
            usage.filter(_date("date").is_between(since, reference))
            .group_by("customer_id")
            .agg(active_days_90d=pl.col("date").n_unique())
        )
        panel = panel.join(active, on="customer_id", how="left").with_columns(
            pl.col("active_days_90d").fill_null(0)
        )
        factors.append(csm.Factor("active_days_90d", weight=2))
    if not factors or panel.height == 0:
        return pl.DataFrame()
    scored = csm.health_score(panel, factors).join(
        panel.select("customer_id", "mrr", *(f.column for f in factors)), on="customer_id"
    )
    if customers is not None and "segment" in customers.columns:
        scored = scored.join(
            customers.select("customer_id", "segment").unique("customer_id"),
            on="customer_id",
            how="left",
        )
    return cast(pl.DataFrame, scored)


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
) -> Path:
    """Writes the customer-success report as one self-contained HTML file and returns its path.

    Parameters
    ----------
    subscriptions, responses, tickets, usage, costs, trials, conversions
        The input tables of :func:`csmetrics.scorecard` (Polars or pandas); each may be None, and
        the sections that need a missing table are left out.
    customers
        Optional ``customer_id`` and ``segment`` table, used to label customers who need attention.
    period
        Reporting period of the scorecard and the trend charts.
    as_of
        Cut-off date; default the last date in the subscriptions.
    out
        Path of the HTML file.
    title
        Title of the report.
    progress
        Called as ``progress(step, steps, name)`` before each long step.
    headline
        A dict that, when given, receives the headline KPIs as formatted text (label -> value,
        and ``period`` -> the period they describe).

    Returns
    -------
    Path
        The written file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import csmetrics as csm
    from csmetrics import plot

    tables: dict[str, pl.DataFrame] = {}
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
    ]:
        if frame is not None:
            given.append(name)
            converted = _to_polars_frame(frame)
            # An empty table is as good as none: its sections are left out.
            if converted.height:
                tables[name] = converted
    subscriptions_in = tables.get("subscriptions")
    if subscriptions_in is not None and as_of is not None and "start" in subscriptions_in.columns:
        # Subscriptions starting after the cut-off are not there yet; none left, no sections.
        cutoff = as_of.date() if isinstance(as_of, dt.datetime) else as_of
        if isinstance(cutoff, str):
            cutoff = dt.date.fromisoformat(cutoff[:10])
        started = subscriptions_in.filter(pl.col("start").cast(pl.Date) <= cutoff)
        if started.height == 0:
            del tables["subscriptions"]
    if not given:
        raise csm.InvalidInputError("report needs at least one input table")
    steps = _plan(tables)
    counter = iter(range(1, len(steps) + 1))

    def step(name: str) -> None:
        number = next(counter)
        if progress is not None:
            progress(number, len(steps), name)

    subs = tables.get("subscriptions")
    sections: list[str] = []
    step("scorecard")
    scorecard_inputs = {
        k: v for k, v in tables.items() if k not in ("customers",) and v is not None
    }
    long = (
        csm.scorecard(**scorecard_inputs, period=period, as_of=as_of)
        if scorecard_inputs
        else pl.DataFrame()
    )
    wide = csm.scorecard_wide(long) if long.height else pl.DataFrame()

    kpis = []
    complete = wide
    if wide.height and subs is not None and "mrr" in wide.columns:
        complete = wide.filter(pl.col("mrr").is_not_null())
    latest = complete.row(complete.height - 1, named=True) if complete.height else {}
    for metric, label, kind in HEADLINE:
        value = latest.get(metric)
        if value is None and metric in latest:
            # The last period may not have this metric yet: the latest known value.
            known = wide[metric].drop_nulls()
            value = known[-1] if len(known) else None
        if metric in wide.columns:
            kpis.append((label, _fmt(value, kind)))
    latest_period = latest.get("period")
    if headline is not None:
        if latest_period is not None:
            headline["period"] = str(latest_period)
        headline.update((label, value.replace("&ndash;", "-")) for label, value in kpis)
    cards = "".join(
        f'<div class="kpi"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{value}</div></div>'
        for label, value in kpis
    )

    if subs is not None:
        options = _subscription_options(subs)
        step("revenue")
        bridge = csm.mrr_bridge(subs, period=period, as_of=as_of, **options)
        revenue = csm.revenue_kpis(subs, period=period, as_of=as_of, **options)
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
        step("churn")
        churn = csm.churn_rates(subs, period=period, as_of=as_of, **options)
        body = _png(plot.churn_trend(churn, title="Logo churn rate", ax=_axes(10, 3.5)))
        body += _png(
            plot.nrr_trend(revenue, title="Net and gross revenue retention", ax=_axes(10, 3.5))
        )
        sections.append(_section("churn-nrr", "Churn and revenue retention", body))
        step("cohorts")
        cohorts = csm.cohort_retention(subs, period=period, as_of=as_of, **options)
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
        lives = csm.survival_table(subs, as_of=as_of, unit="month", **options)
        body = _png(
            plot.survival_curve(
                csm.kaplan_meier(lives),
                time_label="months",
                title="Customer survival (Kaplan-Meier)",
                ax=_axes(10, 4),
            )
        )
        sections.append(_section("survival", "Customer survival", body))

    if "responses" in tables:
        step("nps")
        answers = tables["responses"]
        score = "nps" if "nps" in answers.columns else "score"
        trend = csm.nps(answers, score=score, period=period, invalid="drop")
        body = _png(plot.nps_trend(trend, title=f"NPS by {period} (95% interval)", ax=_axes(10, 4)))
        sections.append(_section("nps", "Net Promoter Score", body))

    if subs is not None:
        step("health")
        reference = _reference_date(subs, as_of)
        scored = _health(
            subs,
            tables.get("responses"),
            tables.get("tickets"),
            tables.get("usage"),
            tables.get("customers"),
            reference,
        )
        if scored.height:
            sections.append(_health_section(scored, reference))

    step("writing")
    if long.height:
        sections.append(
            _section(
                "scorecard",
                "Scorecard",
                _scorecard_table(wide),
                f"Every KPI the input tables allow, one column per {period} (the last six, "
                "newest first); the full table comes from csmetrics.scorecard.",
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
        subtitle += f" &middot; headline figures for {html.escape(str(latest_period))}"
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


def _health_section(scored: pl.DataFrame, reference: dt.date) -> str:
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
    factor_columns = [
        c for c in ("last_nps", "tickets_90d", "active_days_90d") if c in scored.columns
    ]
    shown = ["customer_id"] + (["segment"] if "segment" in scored.columns else [])
    attention = (
        scored.filter(pl.col("score").is_not_null())
        .sort(["score", "mrr"], descending=[False, True])
        .head(15)
        .select(*shown, "mrr", *factor_columns, pl.col("score").round(1), "band")
    )
    body += "<h3>Customers who need attention</h3>"
    body += _table(attention)
    return _section(
        "health",
        "Customer health",
        body,
        "Score 0-100 from the last NPS answer, support tickets and active days in the 90 days "
        "before the cut-off (active days count double); red below 40, green from 70. The table "
        "lists the paying customers with the lowest scores.",
    )


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
