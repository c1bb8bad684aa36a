"""Monthly cohort retention from an activity log: csmetrics against idiomatic Polars and pandas.

The log is generated once per size (seeded): each customer starts in one of 36 months, stays a
geometric number of months, and has 8 events spread over its active months. Each peer runs in
its own process on the same Parquet file; the Polars and pandas peers are the usual pipeline
(month of each event, cohort = first month per customer, age, group_by with n_unique, divide
by cohort size). They run on every kind of customer key (String, Categorical, integer) and of
timestamp (Date, Datetime); pandas on String keys and Date timestamps only. Their tables
(active customers and rate of every observed cohort and age) are checked against csmetrics'
before figures are printed; the script exits non-zero if one differs. Nothing here asserts a
time.

    python bench/bench_cohort.py                       # 1M and 10M customers
    python bench/bench_cohort.py --sizes 100000        # a quick run
"""

from __future__ import annotations

import harness

PEERS = ["csmetrics", "polars", "pandas"]
EVENTS_PER_CUSTOMER = 8


def generate(customers: int, seed: int = 5):  # type: ignore[no-untyped-def]
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    first = rng.integers(0, 36, customers)
    life = rng.geometric(0.15, customers)
    customer = np.repeat(np.arange(customers, dtype=np.int64), EVENTS_PER_CUSTOMER)
    span = np.minimum(life, 36 - first)[customer]
    month = first[customer] + (rng.random(customer.size) * span).astype(np.int64)
    # The first event of each customer is in its first month, so cohorts are as drawn.
    month[::EVENTS_PER_CUSTOMER] = first
    day = rng.integers(1, 29, customer.size)
    return pl.DataFrame({"customer_id": customer, "month": month, "day": day}).select(
        "customer_id",
        timestamp=pl.date(2022 + pl.col("month") // 12, pl.col("month") % 12 + 1, pl.col("day")),
    )


def run_peer(peer: str, path: str, repeat: int, result: str) -> dict[str, object]:
    import polars as pl

    events = pl.read_parquet(path)
    if peer == "pandas":
        frame = events.to_pandas()
        del events

        def compute(frame=frame):  # type: ignore[no-untyped-def]
            month = frame["timestamp"].dt.to_period("M")
            cohort = month.groupby(frame["customer_id"]).transform("min")
            age = (month - cohort).apply(lambda offset: offset.n)
            table = (
                frame.assign(cohort=cohort, age=age)
                .groupby(["cohort", "age"])["customer_id"]
                .nunique()
                .rename("active")
                .reset_index()
            )
            sizes = table[table["age"] == 0].set_index("cohort")["active"]
            table["rate"] = table["active"] / table["cohort"].map(sizes)
            return table
    elif peer == "polars":

        def compute(events=events):  # type: ignore[no-untyped-def]
            month = pl.col("timestamp").dt.truncate("1mo")
            table = (
                events.lazy()
                .with_columns(month=month)
                .with_columns(cohort=pl.col("month").min().over("customer_id"))
                .with_columns(
                    age=(pl.col("month").dt.year() - pl.col("cohort").dt.year()) * 12
                    + pl.col("month").dt.month()
                    - pl.col("cohort").dt.month()
                )
                .group_by("cohort", "age")
                .agg(active=pl.col("customer_id").n_unique())
            )
            sizes = table.filter(pl.col("age") == 0).select("cohort", size="active")
            return (
                table.join(sizes, on="cohort")
                .with_columns(rate=pl.col("active") / pl.col("size"))
                .collect()
            )
    else:
        import csmetrics as csm

        def compute(events=events):  # type: ignore[no-untyped-def]
            return csm.cohort_retention(events, table="activity")

    sample = (frame if peer == "pandas" else events).head(harness.SAMPLE)
    table, measured = harness.measure(compute, repeat, sample)
    if peer == "csmetrics":
        table = table.filter(pl.col("active") > 0)  # the peers have no row for an empty cell
    # Cells keyed by cohort month (a Date, Datetime or pandas Period) and age.
    keys = [
        f"{str(c)[:7]}|{int(a)}" for c, a in zip(list(table["cohort"]), table["age"], strict=True)
    ]
    harness.save_result(result, keys, {"active": table["active"], "rate": table["rate"]})
    return measured


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
    print(f"Monthly cohort retention from activity; best of {args.repeat} runs")
    runs = harness.sweep(
        __file__,
        args,
        lambda size, folder: generate(size),
        lambda size, events, seconds: (
            f"{size:,} customers, {events.height:,} events over 36 months "
            f"(generated in {seconds:.1f} s)"
        ),
        "events",
        slow=["pandas"],
        fits=lambda size: size <= args.pandas_max,
        ids=["customer_id"],
        instants=["timestamp"],
    )
    runs.finish(["customers", "keys", "instants"], args.peers)


if __name__ == "__main__":
    main()
