"""Survival curves: csmetrics against idiomatic Polars and lifelines.

Two jobs, each peer in its own process, lifelines in the reference environment (``.venv-ref``:
it needs pandas < 3):

- ``lives``: Kaplan-Meier with confidence intervals and the median from (duration, event) rows
  (no key, no instant): csmetrics' ``kaplan_meier`` against the curve in Polars (group by
  duration, cumulative sums and products) and lifelines' ``KaplanMeierFitter``;
- ``subscriptions``: end to end from subscriptions (1 to 3 per customer, with gaps): csmetrics'
  ``survival_table`` plus ``kaplan_meier`` against durations built with idiomatic Polars (first
  unbroken run of subscriptions per customer) plus the Polars curve, and the same durations plus
  lifelines; on every kind of customer key (String, Categorical, integer) and of start and end
  (Date, Datetime), with the rows sorted by customer (as generated) and shuffled. lifelines runs
  on String keys and Date instants only.

The data are generated once per size with a seeded numpy generator and written to Parquet.
Every peer's curve (survival and interval at each time) and median are checked against
csmetrics' (within 1e-9 relative) before any time is printed; the script exits non-zero if one
differs. Prints the best of ``--repeat`` runs, peak resident memory above the loaded data, and
each peer's time as a ratio to csmetrics. It asserts nothing about time.

    python bench/bench_survival.py                                     # 1M and 10M
    python bench/bench_survival.py --sizes 1000000                     # a quick run
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import harness

ROOT = Path(__file__).resolve().parent.parent
PEERS = ["csmetrics", "polars", "lifelines"]
ORDERS = ["sorted", "shuffled"]
JOBS = ["lives", "subscriptions"]
AS_OF = 1461  # days after 2022-01-01: the cut-off of the generated subscriptions
Z = 1.959963984540054  # the normal quantile of a 95% interval


def _polars_lives(subs: object, as_of: object) -> object:
    """Durations the Polars way: each customer's first unbroken run of subscriptions.

    Window expressions (``cum_max().over("customer_id")``) take seconds at 200k customers, so
    this uses whole-frame scans on the sorted rows instead: with ``index`` the customer's rank
    (whatever the key's kind), a running maximum of ``index * 10**6 + end day`` is each
    customer's reach so far.
    """
    import polars as pl

    scale = 10**6  # larger than any day number
    first = (pl.col("customer_id") != pl.col("customer_id").shift(1)).fill_null(True)
    index = pl.col("first").cum_sum().cast(pl.Int64) * scale
    runs = (
        subs.lazy()  # type: ignore[attr-defined]
        .sort("customer_id", "start")
        .with_columns(end_at=pl.col("end").fill_null(as_of), first=first)
        .with_columns(reach=(index + pl.col("end_at").dt.epoch("d")).cum_max())
        .with_columns(
            broken=(
                ~pl.col("first")
                & (index + pl.col("start").dt.epoch("d") > pl.col("reach").shift(1))
            ).cum_sum()
        )
        .filter(pl.col("broken") == pl.when("first").then(pl.col("broken")).forward_fill())
        .group_by("customer_id")
        .agg(pl.col("start").min(), pl.col("end_at").max())
    )
    return runs.select(
        duration=(pl.col("end_at") - pl.col("start")).dt.total_days(),
        event=pl.col("end_at") < as_of,  # open subscriptions end at as_of: censored
    )


def _polars_curve(lives: object) -> object:
    """Kaplan-Meier in Polars: at risk, survival, Greenwood's sum and log(-log) interval."""
    import polars as pl

    at_risk, events = pl.col("at_risk"), pl.col("events")
    log_s = pl.col("survival").log()
    spread = Z * pl.col("greenwood").sqrt() / log_s
    inside = (pl.col("survival") > 0) & (pl.col("survival") < 1)
    return (
        lives.lazy()  # type: ignore[attr-defined]
        .group_by(time=pl.col("duration").cast(pl.Float64))
        .agg(events=pl.col("event").sum().cast(pl.Float64), removed=pl.len().cast(pl.Float64))
        .sort("time")
        .with_columns(
            at_risk=pl.col("removed").sum() - pl.col("removed").cum_sum() + pl.col("removed")
        )
        .with_columns(
            survival=(1 - events / at_risk).cum_prod(),
            # A time when every life at risk ends counts 0 in the sum (as in lifelines).
            greenwood=pl.when(events < at_risk)
            .then(events / (at_risk * (at_risk - events)))
            .otherwise(0.0)
            .cum_sum(),
        )
        .with_columns(
            lower=pl.when(inside)
            .then((-((-log_s).log() - spread).exp()).exp())
            .otherwise(pl.col("survival")),
            upper=pl.when(inside)
            .then((-((-log_s).log() + spread).exp()).exp())
            .otherwise(pl.col("survival")),
        )
        .select("time", "survival", "lower", "upper")
        .collect()
    )


def _save_curve(
    result: str, time: object, survival: object, lower: object, upper: object, median: float
) -> None:
    """The curve keyed by time; the origin row (time 0, nothing ended) that csmetrics and
    lifelines add is left out, as the Polars curve has no row there."""
    import numpy as np

    t, s, lo, up = (np.asarray(v, dtype=np.float64) for v in (time, survival, lower, upper))
    keep = ~((t == 0) & (s == 1) & (lo == 1) & (up == 1))
    median = np.inf if median is None or np.isnan(median) else median
    harness.save_result(
        result,
        [repr(float(x)) for x in t[keep]],
        {"survival": s[keep], "lower": lo[keep], "upper": up[keep]},
        {"median": median},
    )


def _as_of(data: object) -> object:
    import datetime as dt

    import polars as pl

    as_of = dt.datetime(2022, 1, 1) + dt.timedelta(days=AS_OF)
    return as_of if data.schema["start"] == pl.Datetime("us") else as_of.date()  # type: ignore[attr-defined]


def run_peer(peer: str, path: str, repeat: int, result: str) -> dict[str, float]:
    """Loads the data, runs one peer `repeat` times, writes its curve and returns its figures.
    A file with a ``duration`` column holds lives, else subscriptions."""
    import polars as pl

    data = pl.read_parquet(path)
    lives = "duration" in data.columns
    if peer == "lifelines":
        from lifelines import KaplanMeierFitter

        if lives:
            frame = data.to_pandas()
            del data

        def compute() -> object:
            durations = frame if lives else _polars_lives(data, _as_of(data)).collect().to_pandas()  # type: ignore[attr-defined]
            return KaplanMeierFitter().fit(durations["duration"], durations["event"])

        def curve(kmf):  # type: ignore[no-untyped-def]
            ci = kmf.confidence_interval_
            return (
                kmf.survival_function_.index,
                kmf.survival_function_.iloc[:, 0],
                ci.iloc[:, 0],
                ci.iloc[:, 1],
                float(kmf.median_survival_time_),
            )
    elif peer == "polars":

        def compute(data: Any = data) -> object:
            return _polars_curve(data if lives else _polars_lives(data, _as_of(data)))

        def curve(c):  # type: ignore[no-untyped-def]
            median = c.filter(pl.col("survival") <= 0.5)["time"].first()
            return c["time"], c["survival"], c["lower"], c["upper"], median
    else:
        import csmetrics as csm

        def compute(data: Any = data) -> object:
            table = data if lives else csm.survival_table(data, as_of=_as_of(data))
            return csm.kaplan_meier(table)

        def curve(c):  # type: ignore[no-untyped-def]
            median = c.filter(pl.col("survival") <= 0.5)["time"].first()
            return c["time"], c["survival"], c["lower"], c["upper"], median

    fitted, figures = harness.measure(
        compute, repeat, None if peer == "lifelines" else data.head(harness.SAMPLE)
    )
    _save_curve(result, *curve(fitted))
    return figures


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


def main() -> None:
    parser = harness.parser(__doc__, [1_000_000, 10_000_000], 3, PEERS)
    parser.add_argument(
        "--customers", type=int, nargs="+", help="customers of the subscriptions (default: --sizes)"
    )
    parser.add_argument(
        "--jobs", nargs="+", default=JOBS, choices=JOBS, help="lives, subscriptions or both"
    )
    parser.add_argument("--orders", nargs="+", default=ORDERS, choices=ORDERS)
    parser.add_argument(
        "--reference-python",
        default=str(ROOT / ".venv-ref" / "bin" / "python"),
        help="interpreter with lifelines installed (make .venv-ref/.ready)",
    )
    args = harness.parse_args(parser, run_peer)

    import polars as pl

    harness.print_versions()
    print(f"Kaplan-Meier with 95% intervals and the median; best of {args.repeat} runs")
    peers = list(args.peers)
    if "lifelines" in peers and not Path(args.reference_python).exists():
        print(f"lifelines skipped: {args.reference_python} not found (make .venv-ref/.ready)")
        peers.remove("lifelines")
    pythons = {"lifelines": args.reference_python}
    runs = harness.Runs()
    if "lives" in args.jobs:
        for size in args.sizes:
            with tempfile.TemporaryDirectory() as tmp:
                path = str(Path(tmp) / "lives.parquet")
                started = time.perf_counter()
                generate(size, path)
                print(f"{size:,} lives generated in {time.perf_counter() - started:.1f} s")
                label = ("lives", f"{size:,}", "-", "-", "-")
                runs.run(
                    __file__,
                    label,
                    peers,
                    path,
                    args.repeat,
                    where=f"lives {size:,}",
                    pythons=pythons,
                )
    for customers in args.customers or args.sizes if "subscriptions" in args.jobs else []:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "subscriptions.parquet")
            started = time.perf_counter()
            count = generate_subscriptions(customers, path)
            subs = pl.read_parquet(path)
            print(
                f"{customers:,} customers, {count:,} subscriptions "
                f"(generated in {time.perf_counter() - started:.1f} s)"
            )
            for keys, instants in harness.combinations(args):
                for order in args.orders:
                    frame = harness.convert(
                        subs, keys, instants, ids=["customer_id"], instants=["start", "end"]
                    )
                    if order == "shuffled":
                        # The general path of survival_table, and a sort no longer free.
                        frame = frame.sample(fraction=1.0, shuffle=True, seed=5)
                    path = str(Path(tmp) / f"subscriptions_{keys}_{instants}_{order}.parquet")
                    frame.write_parquet(path)
                    del frame
                    run = harness.peers_for(peers, keys, instants, ["lifelines"])
                    label = ("subscriptions", f"{customers:,}", keys, instants, order)
                    runs.run(__file__, label, run, path, args.repeat, pythons=pythons)
            del subs
    runs.finish(
        ["job", "size", "keys", "instants", "rows"],
        peers,
        "lifelines on subscriptions: Polars durations, then lifelines' fit",
    )


if __name__ == "__main__":
    main()
