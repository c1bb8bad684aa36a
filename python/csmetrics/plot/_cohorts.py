"""Cohort heat maps."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

from csmetrics.exceptions import InvalidInputError
from csmetrics.plot._common import _axes, _frame, _period_label, _pyplot, _require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["cohort_heatmap"]


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
