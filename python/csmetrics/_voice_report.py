"""The report's "Voice of the customer" section: themes by NPS impact, the terms that set
detractors apart from promoters, sentiment over time and a few quotes, from responses with a
comment column."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl


def _impact_chart(ranked: pl.DataFrame, axes: Callable[..., Any]) -> Any:
    ax = axes(10, max(2.5, 0.45 * ranked.height + 1))
    impacts = ranked["nps_impact"].fill_null(0.0).to_list()
    colours = ["#c0392b" if v < 0 else "#27ae60" for v in impacts]
    labels = [f"{t} ({m:,})" for t, m in zip(ranked["theme"], ranked["mentions"], strict=True)]
    ax.barh(range(len(impacts)), impacts, color=colours)
    ax.set_yticks(range(len(impacts)), labels)
    ax.invert_yaxis()
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("NPS impact (points): NPS of all minus NPS without the theme's responses")
    ax.set_title("Themes by NPS impact (mentions in brackets)")
    return ax


def _sentiment_chart(over_time: pl.DataFrame, axes: Callable[..., Any]) -> Any:
    ax = axes(10, 3.5)
    periods = over_time["period"].to_list()
    ax.plot(periods, over_time["mean_compound"].to_list(), marker="o", label="mean compound")
    ax.plot(
        periods,
        over_time["negative_share"].to_list(),
        marker="s",
        color="#c0392b",
        label="share negative",
    )
    ax.axhline(0, color="grey", lw=0.8, ls=":")
    ax.set_ylabel("compound (-1 to 1) / share")
    ax.set_xlabel("period")
    ax.set_title("Comment sentiment per period (VADER)")
    ax.legend(fontsize=8)
    return ax


def _terms_table(terms: pl.DataFrame, count: int) -> str:
    sides = {
        side: terms.filter(pl.col("side") == side).head(count)["term"].to_list()
        for side in ("detractor", "promoter")
    }
    rows = []
    for i in range(max(len(sides["detractor"]), len(sides["promoter"]))):
        cells = [
            html.escape(sides[s][i]) if i < len(sides[s]) else "&ndash;"
            for s in ("detractor", "promoter")
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        '<div class="scroll"><table id="voice-terms"><thead><tr><th>detractors write</th>'
        f"<th>promoters write</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _quotes_list(quotes: pl.DataFrame, themes: Sequence[str]) -> str:
    items = []
    for theme in themes:
        chosen = quotes.filter(
            (pl.col("theme") == theme) & (pl.col("nps_category") == "detractor")
        ).head(2)
        for comment in chosen["comment"]:
            items.append(
                f"<li><b>{html.escape(theme)}</b>: &ldquo;{html.escape(comment)}&rdquo;</li>"
            )
    return f'<ul id="voice-quotes">{"".join(items)}</ul>' if items else ""


def voice_section(
    answers: pl.DataFrame,
    score: str,
    dictionary: Mapping[str, Any] | None,
    period: str,
    last_day: Any,
    png: Callable[[Any], str],
    axes: Callable[..., Any],
    table: Callable[..., str],
) -> str | None:
    """The section's HTML body, or None when no response up to ``last_day`` (the report's
    cut-off day) has a comment."""
    import csmetrics as csm

    if last_day is not None and "timestamp" in answers.columns:
        answers = answers.filter(pl.col("timestamp").cast(pl.Date) <= last_day)
    commented = answers.filter(pl.col("comment").is_not_null())
    if commented.height == 0:
        return None
    parts: list[str] = []
    top_themes: list[str] = []
    if dictionary:
        ranked = csm.themes(answers, dictionary, score=score, invalid="drop")
        parts.append(png(_impact_chart(ranked, axes)))
        shown = ranked.select(
            "theme",
            "mentions",
            "share",
            pl.col("nps").round(1),
            pl.col("nps_impact").round(2),
        )
        parts.append(table(shown, percent={"share"}, table_id="voice-themes"))
        top_themes = ranked.filter(pl.col("nps_impact") < 0)["theme"].head(3).to_list()
    terms = csm.distinctive_terms(answers, score=score, top=10, invalid="drop")
    parts.append("<h3>What detractors and promoters write</h3>" + _terms_table(terms, 10))
    if "timestamp" in answers.columns:
        scored = csm.sentiment(answers.select("timestamp", "comment"), score=None)
        over_time = (
            scored.filter(pl.col("compound").is_not_null())
            .group_by(pl.col("timestamp").dt.truncate(_every(period)).cast(pl.Date).alias("period"))
            .agg(
                pl.col("compound").mean().alias("mean_compound"),
                (pl.col("sentiment") == "negative").mean().alias("negative_share"),
            )
            .sort("period")
        )
        if over_time.height:
            parts.append(png(_sentiment_chart(over_time, axes)))
    if dictionary and top_themes:
        quotes = csm.quotes(answers, dictionary, score=score, k=2, invalid="drop")
        listed = _quotes_list(quotes, top_themes)
        if listed:
            parts.append("<h3>Detractors in their own words</h3>" + listed)
    return "".join(parts)


def _every(period: str) -> str:
    return {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}[period]
