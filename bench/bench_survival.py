"""Survival curves: csmetrics against lifelines (and Polars for the durations).

Two measurements, each peer in its own process, lifelines in the reference environment
(``.venv-ref``: it needs pandas < 3):

- Kaplan-Meier with confidence intervals and the median from (duration, event) rows: csmetrics'
  ``kaplan_meier`` against lifelines' ``KaplanMeierFitter``;
- end to end from subscriptions (1 to 3 per customer, with gaps): csmetrics' ``survival_table``
  plus ``kaplan_meier`` against durations built with idiomatic Polars (first unbroken run of
  subscriptions per customer) plus lifelines; once with the rows sorted by customer (as
  generated) and once shuffled.

The data are generated once per size with a seeded numpy generator and written to Parquet.
Prints the best of ``--repeat`` runs, peak resident memory above the loaded data, and each
peer's time as a ratio to csmetrics. It asserts nothing about time.

    python bench/bench_survival.py                                     # 1M and 10M
    python bench/bench_survival.py --sizes 1000000 --customers 1000000  # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent


AS_OF = 1461  # days after 2022-01-01: the cut-off of the generated subscriptions


def _polars_lives(subs: object) -> object:
    """Durations the Polars way: each customer's first unbroken run of subscriptions.

    Window expressions (``cum_max().over("customer_id")``) take seconds at 200k customers, so
    this uses whole-frame scans on the sorted rows instead: a running maximum of
    ``customer_id * 10**6 + end day`` is each customer's reach so far.
    """
    import datetime as dt

    import polars as pl

    as_of = dt.date(2022, 1, 1) + dt.timedelta(days=AS_OF)
    scale = 10**6  # larger than any day number
    customer, day = pl.col("customer_id").cast(pl.Int64), pl.col("start").cast(pl.Int64)
    first = (customer != customer.shift(1)).fill_null(True)
    runs = (
        subs.sort("customer_id", "start")  # type: ignore[attr-defined]
        .with_columns(end_at=pl.col("end").fill_null(as_of))
        .with_columns(reach=(customer * scale + pl.col("end_at").cast(pl.Int64)).cum_max())
        .with_columns(
            broken=(~first & (customer * scale + day > pl.col("reach").shift(1))).cum_sum()
        )
        .filter(pl.col("broken") == pl.when(first).then(pl.col("broken")).forward_fill())
        .group_by("customer_id")
        .agg(pl.col("start").min(), pl.col("end_at").max())
    )
    return runs.select(
        duration=(pl.col("end_at") - pl.col("start")).dt.total_days(),
        event=pl.col("end_at") < as_of,  # open subscriptions end at as_of: censored
    )


def run_peer(peer: str, path: str, repeat: int) -> dict[str, float]:
    """Loads the data, runs one peer `repeat` times and returns its figures."""
    import datetime as dt

    import polars as pl

    if peer == "lifelines":
        import pandas as pd
        from lifelines import KaplanMeierFitter

        data = pd.read_parquet(path)

        def compute() -> object:
            kmf = KaplanMeierFitter().fit(data["duration"], data["event"])
            return kmf.survival_function_, kmf.confidence_interval_, kmf.median_survival_time_
    elif peer == "polars+lifelines":
        from lifelines import KaplanMeierFitter

        data = pl.read_parquet(path)

        def compute() -> object:
            lives = _polars_lives(data).to_pandas()  # type: ignore[attr-defined]
            kmf = KaplanMeierFitter().fit(lives["duration"], lives["event"])
            return kmf.survival_function_, kmf.confidence_interval_, kmf.median_survival_time_
    else:
        import csmetrics as csm

        data = pl.read_parquet(path)
        as_of = dt.date(2022, 1, 1) + dt.timedelta(days=AS_OF)

        def compute() -> object:
            # The same as lifelines' fit: the curve with its intervals, and the median.
            lives = data
            if peer == "csmetrics_end_to_end":
                lives = csm.survival_table(data, as_of=as_of)
            curve = csm.kaplan_meier(lives)
            return curve, curve.filter(pl.col("survival") <= 0.5)["time"].first()

    harness.reset_peak()
    loaded = harness.rss_mb()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = compute()
        times.append(time.perf_counter() - started)
        del result
    return {"seconds": min(times), "peak_extra_mb": max(0.0, harness.peak_mb() - loaded)}


def generate(size: int, path: str) -> None:
    """Lives of up to four years: exponential time to churn, censored at a uniform cut-off."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(11)
    churn = np.floor(rng.exponential(420.0, size))
    cutoff = np.floor(rng.uniform(0, 1461, size))
    pl.DataFrame(
        {"duration": np.minimum(churn, cutoff).astype(np.int64), "event": churn <= cutoff}
    ).write_parquet(path)


def generate_subscriptions(customers: int, path: str) -> int:
    """1 to 3 subscriptions per customer, back to back or after a gap, cut at ``AS_OF``."""
    import datetime as dt

    import numpy as np
    import polars as pl

    rng = np.random.default_rng(13)
    count = rng.choice([1, 2, 3], size=customers, p=[0.6, 0.3, 0.1])
    customer = np.repeat(np.arange(1, customers + 1), count)
    length = np.maximum(1.0, np.floor(rng.exponential(300.0, customer.size)))
    gap = np.where(rng.random(customer.size) < 0.7, 0.0, rng.integers(1, 91, customer.size))
    step = length + gap
    total = np.cumsum(step)
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    before = np.repeat(total[first] - step[first], count)  # steps of earlier customers
    signup = np.repeat(np.floor(rng.uniform(0, AS_OF, customers)), count)
    start = signup + (total - step - before)
    end = start + length
    keep = start < AS_OF
    epoch = (dt.date(2022, 1, 1) - dt.date(1970, 1, 1)).days
    subs = pl.DataFrame(
        {
            "customer_id": customer[keep],
            "start": (start[keep] + epoch).astype(np.int32),
            "end": (end[keep] + epoch).astype(np.int32),
            "amount": np.full(int(keep.sum()), 49.0),
            "interval": "month",
        }
    ).with_columns(
        pl.col("start").cast(pl.Date),
        pl.when(pl.col("end") < AS_OF + epoch).then(pl.col("end")).cast(pl.Date),
    )
    subs.write_parquet(path)
    return subs.height


def _run_all(peers: list[str], path: str, repeat: int, reference_python: str) -> None:
    figures = {}
    for peer in peers:
        python = reference_python if "lifelines" in peer else sys.executable
        out = subprocess.run(
            [python, __file__, "--peer", peer, "--file", path, "--repeat", str(repeat)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures[peer] = json.loads(out.stdout.strip().splitlines()[-1])
    base = next(iter(figures.values()))["seconds"]
    print(f"{'peer':<22}{'best s':>10}{'peak MB':>10}{'x csmetrics':>13}")
    for peer, f in figures.items():
        print(
            f"{peer:<22}{f['seconds']:>10.3f}{f['peak_extra_mb']:>10.0f}"
            f"{f['seconds'] / base:>13.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--customers", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--reference-python",
        default=str(ROOT / ".venv-ref" / "bin" / "python"),
        help="interpreter with lifelines installed (make .venv-ref/.ready)",
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
    lifelines = Path(args.reference_python).exists()
    if not lifelines:
        print(f"lifelines skipped: {args.reference_python} not found (make .venv-ref/.ready)")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "lives.parquet")
            started = time.perf_counter()
            generate(size, path)
            print(
                f"\nKaplan-Meier of {size:,} lives, durations in days up to 4 years "
                f"(generated in {time.perf_counter() - started:.1f} s)"
            )
            _run_all(
                ["csmetrics", *(["lifelines"] if lifelines else [])],
                path,
                args.repeat,
                args.reference_python,
            )
    for customers in args.customers:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "subscriptions.parquet")
            started = time.perf_counter()
            rows = generate_subscriptions(customers, path)
            print(
                f"\nSubscriptions to Kaplan-Meier: {customers:,} customers, {rows:,} "
                f"subscriptions (generated in {time.perf_counter() - started:.1f} s)"
            )
            peers = ["csmetrics_end_to_end", *(["polars+lifelines"] if lifelines else [])]
            _run_all(peers, path, args.repeat, args.reference_python)
            # The same rows in random order: the general path of survival_table, and a sort
            # that is no longer free for Polars.
            shuffled = str(Path(tmp) / "shuffled.parquet")
            pl.read_parquet(path).sample(fraction=1.0, shuffle=True, seed=5).write_parquet(shuffled)
            print("The same subscriptions, rows shuffled")
            _run_all(peers, shuffled, args.repeat, args.reference_python)


if __name__ == "__main__":
    main()
