"""The MRR bridge over 5 years of monthly history: csmetrics against idiomatic Polars and pandas.

The subscriptions come from csmetrics' own generator, written once per size to Parquet; each
peer runs in its own process on that file, so timings and peak memory do not leak between
peers. The Polars and pandas peers are the usual hand-written pipeline: normalise amounts to
monthly, explode each subscription over the months it is active at month end (a date spine),
sum per customer and month, fill the gaps of each customer's spine with zero, shift to compare
with the previous month, classify, and sum per month. Their bridge is checked against
csmetrics' (every column of every month, within 1e-9 relative plus 1e-6 per customer of
the month: csmetrics rounds monthly amounts to 6 decimals) before any figure is printed,
on every kind of customer key (String, Categorical, integer) and of start and end (Date,
Datetime); pandas runs on String keys and Date instants only. The script exits non-zero if a
peer fails or differs. Nothing here asserts a time.

    python bench/bench_revenue.py                      # 1M and 10M customers
    python bench/bench_revenue.py --sizes 100000       # a quick run
"""

from __future__ import annotations

from pathlib import Path

import harness

PEERS = ["csmetrics", "polars", "pandas"]
MONTHS = 60


def polars_bridge(subs, as_of):  # type: ignore[no-untyped-def]
    import polars as pl

    monthly = (
        pl.col("amount")
        * pl.when(pl.col("interval") == "year").then(1 / 12).otherwise(1.0)
        / pl.col("interval_count").fill_null(1)
    )
    last_month = pl.lit(as_of).dt.month_start()
    active = (
        subs.lazy()
        .filter(pl.col("start") <= as_of)
        .with_columns(
            mrr=monthly,
            first=pl.col("start").dt.month_start(),
            last=pl.when(pl.col("end").is_null() | (pl.col("end") > as_of))
            .then(last_month)
            .otherwise(pl.col("end").dt.month_start().dt.offset_by("-1mo")),
        )
        .filter(pl.col("last") >= pl.col("first"))
        .with_columns(month=pl.date_ranges("first", "last", interval="1mo"))
        .explode("month")
        .group_by("customer_id", "month")
        .agg(pl.col("mrr").sum())
    )
    spine = harness.month_spine(active, last_month)
    panel = (
        spine.join(active, on=["customer_id", "month"], how="left")
        .with_columns(pl.col("mrr").fill_null(0.0))
        .sort("customer_id", "month")
        .with_columns(
            previous=pl.col("mrr").shift(1, fill_value=0.0).over("customer_id"),
            seen=(pl.col("mrr") > 0).cum_sum().shift(1, fill_value=0).over("customer_id") > 0,
        )
    )
    up = pl.col("mrr") - pl.col("previous")
    return (
        panel.group_by("month")
        .agg(
            starting_mrr=pl.col("previous").sum(),
            new=up.filter((pl.col("previous") == 0) & (pl.col("mrr") > 0) & ~pl.col("seen")).sum(),
            reactivation=up.filter(
                (pl.col("previous") == 0) & (pl.col("mrr") > 0) & pl.col("seen")
            ).sum(),
            expansion=up.filter((pl.col("previous") > 0) & (up > 0)).sum(),
            contraction=(-up).filter((pl.col("mrr") > 0) & (up < 0)).sum(),
            churned=pl.col("previous")
            .filter((pl.col("previous") > 0) & (pl.col("mrr") == 0))
            .sum(),
            ending_mrr=pl.col("mrr").sum(),
        )
        .sort("month")
        .collect()
    )


def pandas_bridge(subs, as_of):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    subs = subs[subs["start"] <= as_of].copy()
    factor = np.where(subs["interval"] == "year", 1 / 12, 1.0)
    subs["mrr"] = subs["amount"] * factor / subs["interval_count"].fillna(1)
    last_month = as_of.to_period("M")
    subs["first"] = subs["start"].dt.to_period("M")
    ended = subs["end"].notna() & (subs["end"] <= as_of)
    subs["last"] = last_month
    subs.loc[ended, "last"] = subs.loc[ended, "end"].dt.to_period("M") - 1
    subs = subs[subs["last"] >= subs["first"]]
    subs["month"] = [
        pd.period_range(first, last, freq="M")
        for first, last in zip(subs["first"], subs["last"], strict=True)
    ]
    active = subs.explode("month").groupby(["customer_id", "month"])["mrr"].sum().reset_index()
    bounds = active.groupby("customer_id")["month"].agg(["min", "max"])
    bounds["max"] = [m + 1 if m < last_month else m for m in bounds["max"]]
    bounds["month"] = [
        pd.period_range(a, b, freq="M") for a, b in zip(bounds["min"], bounds["max"], strict=True)
    ]
    spine = bounds["month"].explode().reset_index()
    panel = spine.merge(active, on=["customer_id", "month"], how="left").fillna({"mrr": 0.0})
    panel = panel.sort_values(["customer_id", "month"])
    grouped = panel.groupby("customer_id")["mrr"]
    panel["previous"] = grouped.shift(1).fillna(0.0)
    panel["seen"] = (panel["mrr"] > 0).groupby(panel["customer_id"]).cumsum().groupby(
        panel["customer_id"]
    ).shift(1).fillna(0) > 0
    up = panel["mrr"] - panel["previous"]
    starting = (panel["previous"] == 0) & (panel["mrr"] > 0)
    panel["new"] = up.where(starting & ~panel["seen"], 0.0)
    panel["reactivation"] = up.where(starting & panel["seen"], 0.0)
    panel["expansion"] = up.where((panel["previous"] > 0) & (up > 0), 0.0)
    panel["contraction"] = (-up).where((panel["mrr"] > 0) & (up < 0), 0.0)
    panel["churned"] = panel["previous"].where((panel["previous"] > 0) & (panel["mrr"] == 0), 0.0)
    return panel.groupby("month")[
        ["previous", "new", "expansion", "contraction", "churned", "reactivation", "mrr"]
    ].sum()


COLUMNS = ["starting_mrr", "new", "expansion", "contraction", "churned", "reactivation"]
PANDAS_COLUMNS = ["previous", "new", "expansion", "contraction", "churned", "reactivation"]


def run_peer(peer: str, path: str, repeat: int, result: str) -> dict[str, object]:
    import polars as pl

    subs = pl.read_parquet(path)
    as_of = subs["start"].max()
    if peer == "pandas":
        import pandas as pd

        frame = subs.to_pandas()
        frame["start"] = pd.to_datetime(frame["start"])
        frame["end"] = pd.to_datetime(frame["end"])
        as_of_pd = pd.Timestamp(as_of)
        del subs

        def compute(frame=frame):  # type: ignore[no-untyped-def]
            return pandas_bridge(frame, as_of_pd)

        def bridge(table):  # type: ignore[no-untyped-def]
            columns = {c: table[p] for c, p in zip(COLUMNS, PANDAS_COLUMNS, strict=True)}
            return list(table.index), {**columns, "ending_mrr": table["mrr"]}
    else:
        if peer == "polars":

            def compute(subs=subs):  # type: ignore[no-untyped-def]
                return polars_bridge(subs, as_of)

            month = "month"
        else:
            import csmetrics as csm

            def compute(subs=subs):  # type: ignore[no-untyped-def]
                return csm.mrr_bridge(subs, interval_count="interval_count", as_of=as_of)

            month = "period"

        def bridge(table):  # type: ignore[no-untyped-def]
            return list(table[month]), {c: table[c] for c in [*COLUMNS, "ending_mrr"]}

    sample = (frame if peer == "pandas" else subs).head(harness.SAMPLE)
    table, figures = harness.measure(compute, repeat, sample)
    months, values = bridge(table)
    atol = None
    if peer == "csmetrics":
        # Its monthly amounts are rounded to 6 decimals (precision=6, documented): each
        # customer of the month moves a figure by at most 1e-6 from the unrounded peers'.
        atol = 1e-6 * (table["starting_customers"] + table["ending_customers"]).to_numpy()
    harness.save_result(result, [str(m)[:7] for m in months], values, atol=atol)
    if peer == "csmetrics":
        # Exactness at this size: the identity in integer units, and the movements' sum.
        units = csm.mrr_bridge(subs, interval_count="interval_count", as_of=as_of, money="units")
        gap = harness.identity_gap(units)
        moves = csm.mrr_movements(subs, interval_count="interval_count", as_of=as_of, money="units")
        summed = moves.group_by("period", "movement").agg(pl.col("amount").sum())
        expected = units.unpivot(
            index="period",
            on=["new", "expansion", "contraction", "churned", "reactivation"],
            variable_name="movement",
            value_name="amount",
        ).filter(pl.col("amount") > 0)
        joined = expected.join(
            summed, on=["period", "movement"], how="full", coalesce=True, suffix="_moves"
        )
        figures["identity_max_gap_units"] = gap
        figures["movements_match_bridge"] = bool(
            (joined["amount"].fill_null(0) == joined["amount_moves"].fill_null(0)).all()
        )
    return figures


def exactness(figures: dict[str, dict[str, object]]) -> list[str]:
    """What is not exact in csmetrics' figures: the bridge identity in integer units and the
    movements summing to the bridge."""
    exact = figures.get("csmetrics", {})
    if exact and (exact["identity_max_gap_units"] or not exact["movements_match_bridge"]):
        return [
            f"csmetrics is not exact: identity gap "
            f"{exact['identity_max_gap_units']} units, movements sum to the bridge: "
            f"{exact['movements_match_bridge']}"
        ]
    return []


def generate(size: int, folder: str):  # type: ignore[no-untyped-def]
    import polars as pl

    from csmetrics import datasets

    datasets.write(folder, customers=size, months=MONTHS, seed=11)
    return pl.read_parquet(Path(folder) / "subscriptions.parquet")


def main() -> None:
    parser = harness.parser(
        __doc__,
        [1_000_000, 10_000_000],
        2,
        PEERS,
        size_aliases=["--customers"],
        slow_max="pandas",
    )
    args = harness.parse_args(parser, run_peer)

    harness.print_versions()
    print(f"MRR bridge over {MONTHS} months; best of {args.repeat} runs")
    runs = harness.sweep(
        __file__,
        args,
        generate,
        lambda size, subs, seconds: (
            f"{size:,} customers: {subs.height:,} subscription rows (generated in {seconds:.1f} s)"
        ),
        "subscriptions",
        slow=["pandas"],
        fits=lambda size: size <= args.pandas_max,
        check=exactness,
        ids=["customer_id"],
        instants=["start", "end"],
    )
    runs.finish(
        ["customers", "keys", "instants"],
        args.peers,
        "csmetrics exact on every row: the bridge identity in integer units, movements sum",
    )


if __name__ == "__main__":
    main()
