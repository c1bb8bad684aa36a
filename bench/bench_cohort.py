"""Monthly cohort retention from an activity log: csmetrics against idiomatic Polars and pandas.

The log is generated once per size (seeded): each customer starts in one of 36 months, stays a
geometric number of months, and has 8 events spread over its active months. Each peer runs in
its own process on the same Parquet file; the Polars and pandas peers are the usual pipeline
(month of each event, cohort = first month per customer, age, group_by with n_unique, divide
by cohort size). Their tables are checked against csmetrics' before figures are printed.
Nothing here asserts a time.

    python bench/bench_cohort.py                       # 1M and 10M customers
    python bench/bench_cohort.py --customers 100000    # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

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


def run_peer(peer: str, path: str, repeat: int) -> dict[str, object]:
    import polars as pl

    events = pl.read_parquet(path)
    if peer == "pandas":
        frame = events.to_pandas()
        del events

        def compute():  # type: ignore[no-untyped-def]
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

        def cells(result):  # type: ignore[no-untyped-def]
            return sorted(
                (str(c), int(a), int(n))
                for c, a, n in zip(result["cohort"], result["age"], result["active"], strict=True)
            )
    elif peer == "polars":

        def compute():  # type: ignore[no-untyped-def]
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

        def cells(result):  # type: ignore[no-untyped-def]
            return sorted(
                (str(c)[:7], a, n)
                for c, a, n in zip(result["cohort"], result["age"], result["active"], strict=True)
            )
    else:
        import csmetrics as csm

        def compute():  # type: ignore[no-untyped-def]
            return csm.cohort_retention(events, table="activity")

        def cells(result):  # type: ignore[no-untyped-def]
            observed = result.filter(pl.col("active") > 0)
            return sorted(
                (str(c)[:7], a, n)
                for c, a, n in zip(
                    observed["cohort"], observed["age"], observed["active"], strict=True
                )
            )

    result, measured = harness.measure(compute, repeat)
    found = cells(result)
    if peer == "pandas":
        found = [(c[:7], a, n) for c, a, n in found]
    return {**measured, "cells": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--peers", nargs="+", default=PEERS, choices=PEERS)
    parser.add_argument(
        "--pandas-max", type=int, default=1_000_000, help="largest size pandas runs at"
    )
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        print(json.dumps(run_peer(args.peer, args.file, args.repeat)))
        return

    import polars as pl

    import csmetrics as csm

    print(f"csmetrics {csm.__version__}, polars {pl.__version__}, {os.cpu_count()} cores")
    for size in args.customers:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "events.parquet")
            started = time.perf_counter()
            events = generate(size)
            events.write_parquet(path)
            print(
                f"\n{size:,} customers, {events.height:,} events over 36 months "
                f"(generated in {time.perf_counter() - started:.1f} s)"
            )
            del events
            figures: dict[str, dict[str, object]] = {}
            for peer in args.peers:
                if peer == "pandas" and size > args.pandas_max:
                    continue
                result = harness.run_peer(__file__, peer, path, args.repeat)
                if isinstance(result, str):
                    print(f"{peer}: failed ({result})")
                    continue
                figures[peer] = result
            reference = figures.get("csmetrics", {}).get("cells")
            print(f"{'peer':<12}{'best s':>10}{'peak MB':>10}{'x csmetrics':>13}  same table")
            base = figures["csmetrics"]["seconds"] if "csmetrics" in figures else 1.0
            for peer, f in figures.items():
                same = [list(c) for c in f.pop("cells")] == [list(c) for c in reference or []]  # type: ignore[union-attr]
                print(
                    f"{peer:<12}{f['seconds']:>10.3f}{f['peak_extra_mb']:>10.0f}"
                    f"{f['seconds'] / base:>13.1f}  {same}"  # type: ignore[operator]
                )


if __name__ == "__main__":
    main()
