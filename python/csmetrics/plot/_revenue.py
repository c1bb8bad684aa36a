"""MRR bridge charts, the NRR/GRR trend and the billing detail of the bridge (net against
contract MRR, churn by reason against cancellation requests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from csmetrics.exceptions import InvalidInputError
from csmetrics.plot._common import (
    _BILLING_VALUES,
    _BRIDGE_MOVES,
    _DOWN,
    _DOWN2,
    _TOTAL,
    _UP,
    _UP2,
    _UP3,
    _as_float,
    _axes,
    _date_axis,
    _frame,
    _groups,
    _money,
    _money_axis,
    _percent_axis,
    _period_label,
    _require,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "churn_split_bars",
    "mrr_bridge_bars",
    "mrr_waterfall",
    "net_contract_trend",
    "nrr_trend",
]


def _bridge_totals(bridge: Any, what: str) -> pl.DataFrame:
    """The bridge's amounts per period, summed over its ``by`` groups."""
    frame = _frame(bridge, what)
    amounts = ["starting_mrr", *_BRIDGE_MOVES, "ending_mrr"]
    _require(frame, ["period", *amounts], what, "csmetrics.mrr_bridge")
    return (
        frame.with_columns(pl.col(amounts).cast(pl.Float64))
        .group_by("period", maintain_order=True)
        .agg(pl.col(amounts).sum())
        .sort("period")
    )


def mrr_waterfall(
    bridge: Any, period: Any = None, *, title: str | None = None, ax: Any = None
) -> Axes:
    """One period of an MRR bridge as a waterfall.

    Bars: starting MRR, + new, + expansion, + reactivation, - contraction, - churned, ending
    MRR. ``period`` is a date in the period to show (default the last period); a bridge with
    ``by=`` groups is summed over its groups.
    """
    totals = _bridge_totals(bridge, "mrr_waterfall")
    if totals.height == 0:
        raise InvalidInputError("mrr_waterfall: the bridge has no rows")
    if period is None:
        row = totals.row(totals.height - 1, named=True)
    else:
        wanted = dt.date.fromisoformat(period) if isinstance(period, str) else period
        if isinstance(wanted, dt.datetime):
            wanted = wanted.date()
        match = [
            r for r in totals.iter_rows(named=True) if _same_period(r["period"], wanted, totals)
        ]
        if not match:
            raise InvalidInputError(
                f"mrr_waterfall: no period of the bridge contains {period!r}; periods run from "
                f"{totals['period'][0]} to {totals['period'][-1]}"
            )
        row = match[0]
    steps = [
        ("starting\nMRR", row["starting_mrr"], "total"),
        ("+ new", row["new"], "up"),
        ("+ expansion", row["expansion"], "up"),
        ("+ reacti-\nvation", row["reactivation"], "up"),
        ("- contrac-\ntion", -row["contraction"], "down"),
        ("- churned", -row["churned"], "down"),
        ("ending\nMRR", row["ending_mrr"], "total"),
    ]
    ax = _axes(ax)
    level = 0.0
    levels = []
    for i, (_label, value, kind) in enumerate(steps):
        if kind == "total":
            bottom, height, colour = 0.0, value, _TOTAL
            level = value
        else:
            bottom, height = level, value
            colour = _UP if kind == "up" else _DOWN
            level += value
        levels.append(level)
        ax.bar(i, height, bottom=bottom, color=colour, width=0.65, edgecolor="white")
        top = max(bottom, bottom + height)
        text = (
            _money(value) if kind == "total" else ("+" if value >= 0 else "-") + _money(abs(value))
        )
        ax.annotate(
            text,
            (i, top),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
        if i < len(steps) - 1:
            ax.plot([i + 0.33, i + 0.67], [level, level], color="grey", lw=0.8)
    ax.set_xticks(range(len(steps)))
    ax.set_xticklabels([s[0] for s in steps], fontsize=9)
    # Movements are small next to the MRR base: start the axis near the lowest level so they
    # show, and say so on the axis.
    lowest, highest = min(levels), max(levels)
    spread = max(highest - lowest, 0.02 * max(abs(highest), 1.0))
    floor = max(0.0, lowest - 1.5 * spread) if lowest > 0 else min(0.0, lowest - 0.2 * spread)
    ax.set_ylim(floor, highest + 0.6 * spread)
    ax.set_ylabel("MRR" + (f" (axis starts at {_money(floor)})" if floor > 0 else ""))
    ax.set_xlabel("movement during the period")
    _money_axis(ax)
    ax.set_title(title or f"MRR bridge, {_period_label(row['period'])}")
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(color=_TOTAL, label="MRR at the period's start / end"),
            Patch(color=_UP, label="added"),
            Patch(color=_DOWN, label="lost"),
        ],
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        ncol=3,
        frameon=False,
    )
    return cast("Axes", ax)


def _same_period(label: Any, wanted: Any, totals: pl.DataFrame) -> bool:
    periods = totals["period"].to_list()
    index = periods.index(label)
    nxt = periods[index + 1] if index + 1 < len(periods) else None
    lab = label.date() if isinstance(label, dt.datetime) else label
    nx = nxt.date() if isinstance(nxt, dt.datetime) else nxt
    return bool(lab <= wanted and (nx is None or wanted < nx))


def mrr_bridge_bars(bridge: Any, *, title: str | None = None, ax: Any = None) -> Axes:
    """MRR movements per period as stacked bars (gains up, losses down) with the net line.

    A bridge with ``by=`` groups is summed over its groups.
    """
    totals = _bridge_totals(bridge, "mrr_bridge_bars")
    x = list(range(totals.height))
    ax = _axes(ax, figsize=(max(8.0, 0.35 * len(x) + 3), 4.5))
    up = [0.0] * len(x)
    for name, colour in (("new", _UP), ("expansion", _UP2), ("reactivation", _UP3)):
        values = _as_float(totals[name])
        ax.bar(x, values, bottom=up, color=colour, label=name, width=0.8)
        up = [a + b for a, b in zip(up, values, strict=True)]
    down = [0.0] * len(x)
    for name, colour in (("contraction", _DOWN2), ("churned", _DOWN)):
        values = [-v for v in _as_float(totals[name])]
        ax.bar(x, values, bottom=down, color=colour, label=name, width=0.8)
        down = [a + b for a, b in zip(down, values, strict=True)]
    net = [a + b for a, b in zip(up, down, strict=True)]
    ax.plot(x, net, color=_TOTAL, marker="o", ms=3, lw=1.2, label="net new MRR")
    ax.axhline(0, color="black", lw=0.6)
    labels = [_period_label(p) for p in totals["period"].to_list()]
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step])
    ax.set_xticklabels(labels[::step], rotation=45, ha="right", fontsize=8)
    ax.set_xlabel("period")
    ax.set_ylabel("MRR movement (gains up, losses down)")
    _money_axis(ax)
    ax.set_title(title or "MRR movements per period")
    ax.legend(fontsize=8, ncol=6, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
    return cast("Axes", ax)


_KPI_KNOWN = (
    "period",
    "complete",
    "mrr",
    "arr",
    "paying_customers",
    "arpa",
    "starting_mrr",
    "new",
    "expansion",
    "contraction",
    "churned",
    "reactivation",
    "expansion_rate",
    "retained_mrr",
    "retained_mrr_gross",
    "nrr",
    "grr",
    "net_mrr_churn_rate",
    "gross_mrr_churn_rate",
    "quick_ratio",
    "quick_ratio_excl_reactivation",
    "window_base_mrr",
    "nrr_window",
    "grr_window",
    *_BILLING_VALUES,
)


def nrr_trend(
    revenue_kpis: Any,
    *,
    metrics: Sequence[str] | None = None,
    title: str | None = None,
    ax: Any = None,
) -> Axes:
    """Net and gross revenue retention per period with the 100% line.

    ``metrics`` defaults to ``nrr`` and ``grr``, plus ``nrr_window`` and ``grr_window`` when
    :func:`csmetrics.revenue_kpis` was called with ``window=``. One line per metric and group.
    """
    frame = _frame(revenue_kpis, "nrr_trend")
    if metrics is None:
        metrics = ["nrr", "grr"] + [
            m
            for m in ("nrr_window", "grr_window")
            if m in frame.columns and frame[m].null_count() < frame.height
        ]
    _require(frame, ["period", *metrics], "nrr_trend", "csmetrics.revenue_kpis")
    ax = _axes(ax)
    names = {
        "nrr": "NRR (month)",
        "grr": "GRR (month)",
        "nrr_window": "NRR (trailing window)",
        "grr_window": "GRR (trailing window)",
    }
    keys = [c for c in frame.columns if c not in _KPI_KNOWN]
    # NRR and GRR of the same horizon share a colour; GRR is dashed.
    colours = {"nrr": "#1f77b4", "grr": "#1f77b4", "nrr_window": "#2ca02c", "grr_window": "#2ca02c"}
    grouped = bool(keys) and frame.select(keys).unique().height > 1
    for metric in metrics:
        sub = frame.select([*keys, "period", metric])
        for label, part in _groups(sub, ["period", metric]):
            part = part.sort("period")
            name = names.get(metric, metric) + (f" · {label}" if label else "")
            style = "--" if metric.startswith("grr") else "-"
            colour = None if grouped else colours.get(metric)
            ax.plot(
                part["period"].to_list(),
                _as_float(part[metric]),
                style,
                marker="o",
                ms=3,
                lw=1.4,
                label=name,
                color=colour,
            )
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    _percent_axis(ax)  # NRR and GRR often sit within a point of 100%
    _date_axis(ax)
    ax.set_xlabel("period")
    ax.set_ylabel("share of the starting MRR kept")
    ax.set_title(title or "Net and gross revenue retention")
    ax.legend(fontsize=8)
    return cast("Axes", ax)


def _period_sums(data: Any, columns: Sequence[str], what: str) -> pl.DataFrame:
    """``columns`` of a frame that already has them, per period, summed over its ``by`` groups."""
    frame = _frame(data, what)
    return (
        frame.with_columns(pl.col(list(columns)).cast(pl.Float64))
        .group_by("period", maintain_order=True)
        .agg(pl.col(list(columns)).sum())
        .sort("period")
    )


_CONTRACT = "#6c8ebf"
_UNKNOWN = "#b8bec6"
_REASONS = (
    ("voluntary", "voluntary (asked to cancel)", _DOWN, None),
    ("involuntary", "involuntary (failed payment)", _DOWN2, "//"),
    ("unknown", "reason unknown", _UNKNOWN, None),
)


def net_contract_trend(bridge: Any, *, title: str | None = None, ax: Any = None) -> Axes:
    """Net MRR against contract MRR per period; the gap between them is what discounts take.

    Parameters
    ----------
    bridge
        The result of ``csmetrics.mrr_bridge(subscriptions, with_contract=True)`` (or of
        ``csmetrics.revenue_kpis(..., with_contract=True)``), Polars or pandas, with the columns
        ``period``, ``net_mrr`` (ending MRR net of the discounts running at the period's end) and
        ``contract_mrr`` (ending MRR before discounts). When it has ``committed_mrr`` (the
        subscriptions had a ``canceled_at`` column) that is drawn too: the ending MRR without the
        subscriptions already canceled but still running, on the bridge's ``mrr_basis``. A
        frame with ``by=`` groups is summed over its groups.
    title
        Title of the chart; default "Net and contract MRR" (", committed" when drawn).
    ax
        The matplotlib ``Axes`` to draw on; default a new figure.

    Returns
    -------
    Axes
        Lines in order: contract, net, then committed MRR when present; the discount gap is
        shaded between contract and net.

    Raises
    ------
    MissingColumnError
        When ``period``, ``net_mrr`` or ``contract_mrr`` is missing (a bridge computed without
        ``with_contract=True``).
    """
    what = "net_contract_trend"
    frame = _frame(bridge, what)
    _require(
        frame,
        ["period", "net_mrr", "contract_mrr"],
        what,
        "csmetrics.mrr_bridge(..., with_contract=True)",
    )
    columns = ["contract_mrr", "net_mrr"]
    committed = "committed_mrr" in frame.columns
    if committed:
        columns.append("committed_mrr")
    totals = _period_sums(frame, columns, what)
    ax = _axes(ax)
    x = totals["period"].to_list()
    contract = _as_float(totals["contract_mrr"])
    net = _as_float(totals["net_mrr"])
    ax.plot(x, contract, "--", color=_CONTRACT, marker="o", ms=3, lw=1.4, label="contract MRR")
    ax.plot(x, net, color=_TOTAL, marker="o", ms=3, lw=1.6, label="net MRR")
    if committed:
        ax.plot(
            x,
            _as_float(totals["committed_mrr"]),
            ":",
            color=_DOWN,
            marker="o",
            ms=3,
            lw=1.4,
            label="committed MRR (canceled subscriptions left out)",
        )
    ax.fill_between(x, net, contract, color=_CONTRACT, alpha=0.18, lw=0, label="discounts")
    ax.set_ylim(bottom=0)
    _money_axis(ax)
    _date_axis(ax)
    ax.set_xlabel("period")
    ax.set_ylabel("MRR at the period's end")
    ax.set_title(
        title or ("Net, contract and committed MRR" if committed else "Net and contract MRR")
    )
    ax.legend(fontsize=8)
    return cast("Axes", ax)


def churn_split_bars(bridge: Any, *, title: str | None = None, ax: Any = None) -> Axes:
    """Churned customers per period as bars stacked by reason (voluntary, involuntary,
    unknown), with the cancellation requests of each period as a line.

    Parameters
    ----------
    bridge
        The result of ``csmetrics.mrr_bridge`` on subscriptions with billing detail, Polars or
        pandas, with the columns ``period`` and ``churned_customers`` and at least one of:

        - ``churned_voluntary_customers``, ``churned_involuntary_customers`` and
          ``churned_unknown_customers`` (the subscriptions had a ``churn_reason`` column, or
          ``past_due="churn_after"``): the bars are split by reason; without them one bar of
          churned customers per period;
        - ``cancellations`` (the subscriptions had a ``canceled_at`` column): the requests to
          cancel dated in the period, drawn as a line. A request usually churns later, when the
          paid term runs out, so the line leads the bars.

        A bridge with ``by=`` groups is summed over its groups.
    title
        Title of the chart; default "Churned customers by reason" ("and cancellation
        requests" when drawn).
    ax
        The matplotlib ``Axes`` to draw on; default a new figure.

    Returns
    -------
    Axes
        One bar container per reason (voluntary, involuntary, unknown; or one for all churned
        customers), then the cancellations line when present.

    Raises
    ------
    MissingColumnError
        When ``period`` or ``churned_customers`` is missing, when only some of the three reason
        columns are there, or when the bridge has neither the reason columns nor
        ``cancellations`` (it was computed on subscriptions without ``churn_reason`` and
        ``canceled_at``).
    """
    what = "churn_split_bars"
    frame = _frame(bridge, what)
    source = "csmetrics.mrr_bridge"
    _require(frame, ["period", "churned_customers"], what, source)
    reasons = [f"churned_{reason}_customers" for reason, *_ in _REASONS]
    split = any(c in frame.columns for c in reasons)
    cancellations = "cancellations" in frame.columns
    if split or not cancellations:
        _require(
            frame,
            reasons,
            what,
            "csmetrics.mrr_bridge on subscriptions with a churn_reason column (or a canceled_at "
            "column, for the cancellation requests alone)",
        )
    columns = ["churned_customers", *(reasons if split else [])]
    if cancellations:
        columns.append("cancellations")
    totals = _period_sums(frame, columns, what)
    x = list(range(totals.height))
    ax = _axes(ax, figsize=(max(8.0, 0.35 * len(x) + 3), 4.5))
    if split:
        bottom = [0.0] * len(x)
        for (_reason, label, colour, hatch), column in zip(_REASONS, reasons, strict=True):
            values = _as_float(totals[column])
            ax.bar(
                x,
                values,
                bottom=bottom,
                color=colour,
                hatch=hatch,
                edgecolor="white",
                lw=0.4,
                width=0.8,
                label=label,
            )
            bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    else:
        ax.bar(x, _as_float(totals["churned_customers"]), color=_DOWN, width=0.8, label="churned")
    if cancellations:
        ax.plot(
            x,
            _as_float(totals["cancellations"]),
            color=_TOTAL,
            marker="o",
            ms=4,
            lw=1.4,
            label="cancellation requests",
        )
    labels = [_period_label(p) for p in totals["period"].to_list()]
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step])
    ax.set_xticklabels(labels[::step], rotation=45, ha="right", fontsize=8)
    # A bar of height 0 on top of the stack (no churn of unknown reason, say) would pin the
    # top of the axis to the tallest stack: headroom above it, 0 at the bottom.
    ax.use_sticky_edges = False
    ax.autoscale_view()
    ax.set_ylim(bottom=0)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("period")
    ax.set_ylabel("churned customers" + (" / requests" if cancellations else ""))
    default = "Churned customers" + (" by reason" if split else "")
    if cancellations:
        default += " and cancellation requests"
    ax.set_title(title or default)
    # The bars first in the legend, in their stacking order, then the line.
    handles, names = ax.get_legend_handles_labels()
    order = sorted(range(len(names)), key=lambda i: names[i] == "cancellation requests")
    ax.legend(
        [handles[i] for i in order],
        [names[i] for i in order],
        fontsize=8,
        ncol=4,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.22),
        frameon=False,
    )
    return cast("Axes", ax)
