"""What every chart shares: colours, the frame and column checks, axes and formatters."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any, cast

import polars as pl

from csmetrics.exceptions import MissingColumnError

# Colours: one hue per meaning, readable in print and for the common colour-vision deficiencies.
_UP = "#2a9d8f"
_UP2 = "#57cc99"
_UP3 = "#80b1d3"
_DOWN = "#e76f51"
_DOWN2 = "#f4a261"
_TOTAL = "#264653"

_BRIDGE_MOVES = ("new", "expansion", "reactivation", "contraction", "churned")

# Value columns the billing detail adds to the period results (docs/metrics/billing.md): never
# ``by`` keys.
_BILLING_VALUES = (
    "paused_customers",
    "cancellations",
    "cancellation_mrr",
    "committed_mrr",
    "net_mrr",
    "contract_mrr",
    "churned_voluntary",
    "churned_involuntary",
    "churned_unknown",
    "churned_voluntary_customers",
    "churned_involuntary_customers",
    "churned_unknown_customers",
)


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
