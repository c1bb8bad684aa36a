"""Plots of csmetrics results (matplotlib, an optional extra: ``pip install csmetrics[plot]``).

Every function takes the frame a csmetrics function returned (Polars or pandas), draws on ``ax``
(a new figure when ``ax`` is None) and returns the matplotlib ``Axes``. matplotlib is imported
only when a function is called, so ``import csmetrics`` never needs it.

Examples
--------
::

    import csmetrics as csm
    from csmetrics import plot

    curve = csm.kaplan_meier(lives, by="segment")
    ax = plot.survival_curve(curve, time_label="months since the first start")
    ax.figure.savefig("survival.png", dpi=100, bbox_inches="tight")
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from csmetrics.exceptions import InvalidInputError, MissingColumnError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "calibration_holdout",
    "churn_trend",
    "clv_distribution",
    "cohort_heatmap",
    "mrr_bridge_bars",
    "mrr_waterfall",
    "nps_trend",
    "nrr_trend",
    "p_alive_matrix",
    "survival_curve",
]

# Colours: one hue per meaning, readable in print and for the common colour-vision deficiencies.
_UP = "#2a9d8f"
_UP2 = "#57cc99"
_UP3 = "#80b1d3"
_DOWN = "#e76f51"
_DOWN2 = "#f4a261"
_TOTAL = "#264653"

_BRIDGE_MOVES = ("new", "expansion", "reactivation", "contraction", "churned")


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            "csmetrics.plot needs matplotlib: install it with `pip install csmetrics[plot]`"
        ) from err
    return plt


def _axes(ax: Any, figsize: tuple[float, float] = (8.0, 4.5)) -> Any:
    if ax is not None:
        return ax
    _, new = _pyplot().subplots(figsize=figsize)
    return new


def _frame(data: Any, what: str) -> pl.DataFrame:
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if isinstance(data, pl.DataFrame):
        return data
    if type(data).__module__.startswith("pandas"):
        return cast(pl.DataFrame, pl.from_pandas(data))
    raise TypeError(f"{what}: expected a Polars or pandas DataFrame, got {type(data).__name__}")


def _require(frame: pl.DataFrame, columns: Sequence[str], what: str, source: str) -> None:
    for column in columns:
        if column not in frame.columns:
            err = MissingColumnError(
                f"{what}: column '{column}' is missing; expected the result of {source} "
                f"(found columns: {', '.join(frame.columns) or 'none'})"
            )
            err.column = column  # type: ignore[attr-defined]
            raise err


def _groups(frame: pl.DataFrame, known: Sequence[str]) -> list[tuple[str | None, pl.DataFrame]]:
    """Splits ``frame`` by its key columns (those not in ``known``) into labelled parts."""
    keys = [c for c in frame.columns if c not in known]
    if not keys:
        return [(None, frame)]
    parts: list[tuple[str | None, pl.DataFrame]] = []
    for values, part in frame.group_by(keys, maintain_order=True):
        label = " / ".join(str(v) for v in values)
        parts.append((label, part))
    parts.sort(key=lambda item: str(item[0]))
    return parts


def _as_float(series: pl.Series) -> list[float]:
    return [math.nan if v is None else float(v) for v in series.cast(pl.Float64).to_list()]


def _percent_axis(ax: Any, axis: str = "y", decimals: int | None = None) -> None:
    # decimals=None lets matplotlib pick enough digits for the ticks to differ (99.5%, 100.0%).
    from matplotlib.ticker import PercentFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(1.0, decimals=decimals))


def _money(value: float) -> str:
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:.2f}B"
    if size >= 1e6:
        return f"{value / 1e6:.2f}M"
    if size >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}"


def _money_axis(ax: Any, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _pos: _money(v)))


def _period_label(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m") if value.day == 1 else value.isoformat()
    return str(value)


# ------------------------------------------------------------------------------------- cohorts


def cohort_heatmap(
    cohorts: Any,
    *,
    values: str = "rate",
    annotate: bool | None = None,
    title: str | None = None,
    ax: Any = None,
) -> Axes:
    """Heat map of a cohort table: one row per cohort, one column per age.

    ``cohorts`` is the long table of :func:`csmetrics.cohort_retention` (``cohort``, ``age``,
    ``values``) or its :func:`csmetrics.cohort_triangle`. Rates are shown as percentages; cells
    not yet observable stay blank. ``annotate`` writes the value in each cell (default: when the
    table has at most 18 ages). Filter a grouped table (``by=``) to one group first.
    """
    plt = _pyplot()
    frame = _frame(cohorts, "cohort_heatmap")
    _require(frame, ["cohort"], "cohort_heatmap", "csmetrics.cohort_retention")
    if "age" in frame.columns:
        _require(frame, ["cohort_size", values], "cohort_heatmap", "csmetrics.cohort_retention")
        keys = [
            c
            for c in frame.columns
            if c
            not in ("cohort", "age", "cohort_size", "active", "rate", "mrr", "cohort_mrr", values)
        ]
        frame = frame.select([*keys, "cohort", "cohort_size", "age", values]).pivot(
            on="age", index=[*keys, "cohort", "cohort_size"], values=values, sort_columns=True
        )
    ages = sorted((c for c in frame.columns if c.isdigit()), key=int)
    if not ages:
        raise InvalidInputError(
            "cohort_heatmap: no age columns ('0', '1', ...) found; expected the result of "
            "csmetrics.cohort_retention or csmetrics.cohort_triangle"
        )
    keys = [c for c in frame.columns if c not in ("cohort", "cohort_size", *ages)]
    if keys and frame.select(keys).unique().height > 1:
        raise InvalidInputError(
            f"cohort_heatmap: the table holds several groups of {keys}; filter it to one group "
            "(e.g. frame.filter(pl.col('segment') == 'smb')) and draw one heat map per group"
        )
    frame = frame.sort("cohort")
    grid = [[math.nan if v is None else float(v) for v in row] for row in frame.select(ages).rows()]
    ax = _axes(ax, figsize=(max(6.0, 0.42 * len(ages) + 2.5), max(3.5, 0.3 * len(grid) + 1.5)))
    finite = [v for row in grid for v in row if not math.isnan(v)]
    top = max(1.0, max(finite, default=1.0))
    low = min(finite, default=0.0)
    if top > 1.0 + 1e-9:
        # Revenue retention above 100%: a diverging scale centred on 100% (red shrank, blue grew).
        from matplotlib.colors import TwoSlopeNorm

        norm = TwoSlopeNorm(vcenter=1.0, vmin=min(low, 0.99), vmax=top)
        image = ax.imshow(grid, aspect="auto", cmap="RdBu", norm=norm, interpolation="nearest")
    else:
        image = ax.imshow(
            grid, aspect="auto", cmap="YlGnBu", vmin=low, vmax=top, interpolation="nearest"
        )
    cbar = ax.figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    cbar.ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    cbar.set_label(values if values != "rate" else "retained")
    ax.set_xticks(range(len(ages)))
    ax.set_xticklabels(ages, fontsize=8)
    sizes = frame["cohort_size"].to_list() if "cohort_size" in frame.columns else [None] * len(grid)
    labels = [
        _period_label(c) + ("" if n is None else f"  (n={n:,})")
        for c, n in zip(frame["cohort"].to_list(), sizes, strict=True)
    ]
    ax.set_yticks(range(len(grid)))
    ax.set_yticklabels(labels, fontsize=8)
    if annotate is None:
        annotate = len(ages) <= 18
    if annotate:
        middle = (low + top) / 2
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                if not math.isnan(v):
                    ax.text(
                        j,
                        i,
                        f"{100 * v:.0f}",
                        ha="center",
                        va="center",
                        fontsize=6.5,
                        color="white" if v > middle and top <= 1.0 + 1e-9 else "black",
                    )
    ax.set_xlabel("age (periods since the cohort's first period)")
    ax.set_ylabel("cohort (first period)")
    ax.set_title(title or "Cohort retention (%)")
    return cast("Axes", ax)


# ----------------------------------------------------------------------------------------- MRR


def _bridge_totals(frame: pl.DataFrame) -> pl.DataFrame:
    amounts = ["starting_mrr", *_BRIDGE_MOVES, "ending_mrr"]
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
    frame = _frame(bridge, "mrr_waterfall")
    _require(
        frame,
        ["period", "starting_mrr", *_BRIDGE_MOVES, "ending_mrr"],
        "mrr_waterfall",
        "csmetrics.mrr_bridge",
    )
    totals = _bridge_totals(frame)
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
    frame = _frame(bridge, "mrr_bridge_bars")
    _require(
        frame,
        ["period", "starting_mrr", *_BRIDGE_MOVES, "ending_mrr"],
        "mrr_bridge_bars",
        "csmetrics.mrr_bridge",
    )
    totals = _bridge_totals(frame)
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


# -------------------------------------------------------------------------------------- trends


def _trend(
    frame: pl.DataFrame,
    ax: Any,
    value: str,
    lower: str | None,
    upper: str | None,
    known: Sequence[str],
    label_suffix: str = "",
    colours: Any = None,
) -> int:
    lines = 0
    parts = _groups(frame, known)
    for index, (label, part) in enumerate(parts):
        part = part.sort("period")
        x = part["period"].to_list()
        y = _as_float(part[value])
        colour = None if colours is None else colours[index % len(colours)]
        name = (label or value) + label_suffix if label else value + label_suffix
        (line,) = ax.plot(x, y, marker="o", ms=3, lw=1.4, label=name, color=colour)
        lines += 1
        if lower and upper and lower in part.columns and upper in part.columns:
            ax.fill_between(
                x,
                _as_float(part[lower]),
                _as_float(part[upper]),
                alpha=0.18,
                color=line.get_color(),
                lw=0,
            )
    return lines


def _date_axis(ax: Any) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


_CHURN_KNOWN = (
    "period",
    "complete",
    "customers_start",
    "customers_end",
    "churned",
    "new",
    "reactivated",
    "joined_and_left",
    "churn_denominator",
    "churn_rate",
    "churn_lower",
    "churn_upper",
    "retention_rate",
    "growth_rate",
)


def churn_trend(
    churn_rates: Any, *, rate: str = "churn_rate", title: str | None = None, ax: Any = None
) -> Axes:
    """Logo churn (or ``rate="retention_rate"``) per period, one line per ``by`` group, with the
    Wilson band when ``churn_rates`` was computed with ``ci="wilson"``."""
    frame = _frame(churn_rates, "churn_trend")
    _require(frame, ["period", rate], "churn_trend", "csmetrics.churn_rates")
    ax = _axes(ax)
    shaded = "churn_lower" in frame.columns and "churn_upper" in frame.columns
    band: tuple[str | None, str | None] = (None, None)
    if shaded and rate == "churn_rate":
        band = ("churn_lower", "churn_upper")
    elif shaded and rate == "retention_rate":
        # Retention is 1 - churn on the start denominator: the same interval, mirrored.
        frame = frame.with_columns(
            (1 - pl.col("churn_upper")).alias("_lower"), (1 - pl.col("churn_lower")).alias("_upper")
        )
        band = ("_lower", "_upper")
    else:
        shaded = False
    _trend(frame, ax, rate, band[0], band[1], [*_CHURN_KNOWN, "_lower", "_upper"])
    _percent_axis(ax, decimals=1)
    _date_axis(ax)
    ax.set_xlabel("period")
    ax.set_ylabel(rate.replace("_", " "))
    if rate == "churn_rate":
        ax.set_ylim(bottom=0)
    ax.set_title(
        title
        or (
            ("Logo churn" if rate == "churn_rate" else rate.replace("_", " ").capitalize())
            + " per period"
            + (" (band: Wilson interval)" if shaded else "")
        )
    )
    ax.legend(fontsize=8)
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


_NPS_KNOWN = (
    "period",
    "n",
    "promoters",
    "passives",
    "detractors",
    "promoter_share",
    "passive_share",
    "detractor_share",
    "nps",
    "nps_lower",
    "nps_upper",
    "missing",
    "invalid",
)


def nps_trend(nps_by_period: Any, *, title: str | None = None, ax: Any = None) -> Axes:
    """NPS per period (``csmetrics.nps(..., period=...)``), one line per ``by`` group, with the
    confidence band when the result has ``nps_lower`` / ``nps_upper``."""
    frame = _frame(nps_by_period, "nps_trend")
    _require(frame, ["period", "nps"], "nps_trend", "csmetrics.nps(..., period='month')")
    ax = _axes(ax)
    _trend(frame, ax, "nps", "nps_lower", "nps_upper", _NPS_KNOWN)
    ax.axhline(0, color="grey", lw=0.8, ls=":")
    _date_axis(ax)
    ax.set_xlabel("period")
    ax.set_ylabel("NPS (-100 to 100)")
    shaded = "nps_lower" in frame.columns
    ax.set_title(
        title
        or ("Net Promoter Score per period" + (" (band: confidence interval)" if shaded else ""))
    )
    ax.legend(fontsize=8)
    return cast("Axes", ax)


# ------------------------------------------------------------------------------------ survival

_KM_KNOWN = (
    "time",
    "at_risk",
    "events",
    "censored",
    "entered",
    "survival",
    "variance",
    "lower",
    "upper",
)


def survival_curve(
    kaplan_meier: Any,
    *,
    at_risk: bool = True,
    at_risk_ticks: int = 6,
    time_label: str = "time",
    title: str | None = None,
    ax: Any = None,
) -> Axes:
    """Kaplan-Meier curves (steps) per group with their confidence bands, and the number still
    at risk printed under the time axis at ``at_risk_ticks`` evenly spaced times.

    ``time_label`` names the unit of the durations (e.g. ``"months since the first start"``).
    """
    frame = _frame(kaplan_meier, "survival_curve")
    _require(frame, ["time", "survival"], "survival_curve", "csmetrics.kaplan_meier")
    if at_risk:
        _require(frame, ["at_risk"], "survival_curve", "csmetrics.kaplan_meier")
    parts = _groups(frame, _KM_KNOWN)
    ax = _axes(ax, figsize=(8.0, 5.0 + (0.25 * len(parts) if at_risk else 0)))
    colours = []
    for label, part in parts:
        part = part.sort("time")
        times = [0.0, *_as_float(part["time"])]
        surv = [1.0, *_as_float(part["survival"])]
        (line,) = ax.step(times, surv, where="post", lw=1.6, label=label or "all customers")
        colours.append(line.get_color())
        if "lower" in part.columns and "upper" in part.columns:
            ax.fill_between(
                times,
                [1.0, *_as_float(part["lower"])],
                [1.0, *_as_float(part["upper"])],
                step="post",
                alpha=0.2,
                color=line.get_color(),
                lw=0,
            )
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    _percent_axis(ax, decimals=0)
    ax.set_xlabel(time_label)
    ax.set_ylabel("share still a customer")
    ax.set_title(
        title
        or "Kaplan-Meier survival"
        + (" (bands: confidence intervals)" if "lower" in frame.columns else "")
    )
    ax.grid(alpha=0.3)
    if len(parts) > 1 or parts[0][0] is not None:
        ax.legend(fontsize=8, loc="lower left")
    if at_risk:
        end = max(float(frame["time"].max() or 0.0), 1e-9)  # type: ignore[arg-type]
        from matplotlib.ticker import MaxNLocator

        ticks = [
            float(t)
            for t in MaxNLocator(nbins=at_risk_ticks - 1).tick_values(0, end)
            if 0 <= t <= end * 1.0001
        ]
        ax.set_xticks(ticks)
        ax.set_xlim(0, end * 1.02)
        ax.annotate(
            "number at risk",
            (0, 0),
            xycoords="axes fraction",
            xytext=(-24, -40),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            fontweight="bold",
        )
        for row, ((label, part), colour) in enumerate(zip(parts, colours, strict=True)):
            part = part.sort("time")
            times = _as_float(part["time"])
            risk = part["at_risk"].to_list()
            offset = -40 - 12 * (row + 1)
            ax.annotate(
                label or "all",
                (0, 0),
                xycoords="axes fraction",
                xytext=(-24, offset),
                textcoords="offset points",
                ha="right",
                fontsize=8,
                color=colour,
            )
            for tick in ticks:
                count = next((r for t, r in zip(times, risk, strict=True) if t >= tick), 0)
                ax.annotate(
                    f"{count:,}",
                    (tick, 0),
                    xycoords=("data", "axes fraction"),
                    xytext=(0, offset),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                    color=colour,
                )
    return cast("Axes", ax)


# ----------------------------------------------------------------------------------------- CLV


def p_alive_matrix(
    model: Any,
    max_frequency: int | None = None,
    max_recency: float | None = None,
    *,
    T: float | None = None,
    title: str | None = None,
    ax: Any = None,
) -> Axes:
    """P(alive) of a fitted BG/NBD-type model over a grid of frequency and recency.

    Each cell is a customer with that many repeat purchases, the last one at that recency, seen
    for ``T`` time units (default ``max_recency``): the bottom right (many purchases, recent) is
    near 1; the top right (many purchases, long ago) is the customer you have lost.
    ``max_frequency`` and ``max_recency`` default to 20 and 40.
    """
    plt = _pyplot()
    if not hasattr(model, "p_alive"):
        raise InvalidInputError(
            f"p_alive_matrix: expected a fitted BetaGeo / ParetoNBD / ModifiedBetaGeo model, got "
            f"{type(model).__name__}"
        )
    max_frequency = 20 if max_frequency is None else int(max_frequency)
    max_recency = 40.0 if max_recency is None else float(max_recency)
    horizon = max_recency if T is None else float(T)
    if max_frequency < 1 or max_recency <= 0 or horizon < max_recency:
        raise InvalidInputError(
            "p_alive_matrix: need max_frequency >= 1, max_recency > 0 and T >= max_recency"
        )
    steps = min(60, max(10, int(max_recency)))
    recencies = [max_recency * j / steps for j in range(steps + 1)]
    grid = pl.DataFrame(
        {
            "frequency": [f for f in range(max_frequency + 1) for _ in recencies],
            # With no repeat purchase the recency is 0 by definition: that row is one value.
            "recency": [r if f > 0 else 0.0 for f in range(max_frequency + 1) for r in recencies],
            "T": [horizon] * ((max_frequency + 1) * len(recencies)),
        }
    )
    scored = _frame(model.p_alive(grid), "p_alive_matrix")
    values = _as_float(scored["p_alive"])
    width = len(recencies)
    matrix = [values[i * width : (i + 1) * width] for i in range(max_frequency + 1)]
    ax = _axes(ax, figsize=(7.0, 5.5))
    image = ax.imshow(
        matrix,
        origin="lower",
        aspect="auto",
        cmap="viridis",
        vmin=0,
        vmax=1,
        extent=(0, max_recency, -0.5, max_frequency + 0.5),
    )
    cbar = ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    cbar.ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    cbar.set_label("P(alive)")
    ax.set_xlabel(f"recency (time of the last purchase; customers observed for T = {horizon:g})")
    ax.set_ylabel("frequency (repeat purchases)")
    ax.yaxis.set_major_locator(plt.matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_title(title or "Probability that a customer is still alive")
    return cast("Axes", ax)


def calibration_holdout(
    summary: Any,
    model: Any,
    *,
    max_frequency: int = 7,
    title: str | None = None,
    ax: Any = None,
) -> Axes:
    """Mean holdout purchases by calibration frequency: actual against the model's prediction.

    ``summary`` is a :func:`csmetrics.clv.rfm_summary` with ``calibration_end`` (it has
    ``frequency_holdout`` and ``duration_holdout``); ``model`` a transaction model fitted on its
    calibration columns. Frequencies above ``max_frequency`` are pooled into the last bar.
    """
    frame = _frame(summary, "calibration_holdout")
    _require(
        frame,
        ["frequency", "recency", "T", "frequency_holdout", "duration_holdout"],
        "calibration_holdout",
        "csmetrics.clv.rfm_summary(..., calibration_end=...)",
    )
    if not hasattr(model, "conditional_expected_purchases"):
        raise InvalidInputError(
            f"calibration_holdout: expected a fitted transaction model, got {type(model).__name__}"
        )
    parts = []
    for (duration,), part in frame.group_by(["duration_holdout"]):
        scored = _frame(
            model.conditional_expected_purchases(part, t=float(duration)),
            "calibration_holdout",
        )
        parts.append(scored)
    scored = pl.concat(parts, how="vertical_relaxed")
    table = (
        scored.with_columns(bucket=pl.min_horizontal(pl.col("frequency"), pl.lit(max_frequency)))
        .group_by("bucket")
        .agg(
            actual=pl.col("frequency_holdout").cast(pl.Float64).mean(),
            predicted=pl.col("expected_purchases").mean(),
            customers=pl.len(),
        )
        .sort("bucket")
    )
    ax = _axes(ax)
    x = table["bucket"].to_list()
    ax.plot(
        x, table["actual"].to_list(), marker="o", lw=1.6, color=_TOTAL, label="actual (holdout)"
    )
    ax.plot(
        x,
        table["predicted"].to_list(),
        marker="s",
        lw=1.6,
        ls="--",
        color=_DOWN,
        label="predicted by the model",
    )
    labels = [f"{b}+" if b == max_frequency else str(b) for b in x]
    ax.set_xticks(x)
    ax.set_xticklabels(
        [f"{lab}\n(n={n:,})" for lab, n in zip(labels, table["customers"].to_list(), strict=True)],
        fontsize=8,
    )
    ax.set_xlabel("repeat purchases in the calibration period (customers in each group)")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.set_title(title or "Calibration vs holdout: actual and predicted purchases")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return cast("Axes", ax)


def clv_distribution(
    clv_frame: Any,
    *,
    column: str = "clv",
    by: str | None = None,
    bins: int = 50,
    clip_quantile: float = 0.99,
    title: str | None = None,
    ax: Any = None,
) -> Axes:
    """Histogram of customer lifetime values, with the mean and median marked.

    The x axis stops at the ``clip_quantile`` of the values (CLV is heavily skewed; the few
    values above it are counted in the last bin). ``by`` draws one outline per group.
    """
    frame = _frame(clv_frame, "clv_distribution")
    _require(
        frame,
        [column] + ([by] if by else []),
        "clv_distribution",
        "csmetrics.clv.clv (or another frame with a CLV column)",
    )
    values = frame[column].cast(pl.Float64).drop_nulls()
    if values.len() == 0:
        raise InvalidInputError(f"clv_distribution: column '{column}' has no values")
    cap = float(values.quantile(clip_quantile) or values.max())
    low = min(0.0, float(values.min()))
    edges = [low + (cap - low) * i / bins for i in range(bins + 1)]
    ax = _axes(ax)
    if by is None:
        clipped = [min(v, cap) for v in values.to_list()]
        ax.hist(clipped, bins=edges, color=_UP, alpha=0.85, label="customers")
        mean, median = float(values.mean()), float(values.median())
        ax.axvline(mean, color=_DOWN, lw=1.5, label=f"mean {_money(mean)}")
        ax.axvline(median, color=_TOTAL, lw=1.5, ls="--", label=f"median {_money(median)}")
    else:
        for (key,), part in sorted(frame.group_by([by]), key=lambda item: str(item[0][0])):
            vals = part[column].cast(pl.Float64).drop_nulls().to_list()
            mean = sum(vals) / len(vals) if vals else math.nan
            ax.hist(
                [min(v, cap) for v in vals],
                bins=edges,
                histtype="step",
                lw=1.6,
                label=f"{key} (mean {_money(mean)})",
            )
    _money_axis(ax, "x")
    ax.set_xlabel(
        f"{column} (values above the {100 * clip_quantile:g}th percentile in the last bin)"
    )
    ax.set_ylabel("customers")
    ax.set_title(title or "Distribution of customer lifetime value")
    ax.legend(fontsize=8)
    return cast("Axes", ax)
