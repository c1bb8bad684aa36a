"""The onboarding funnel and the time to value: csmetrics against idiomatic lazy Polars.

One job on two tables: customers (``customer_id``, ``signup_date``) and their milestones
(``customer_id``, ``milestone``, ``timestamp`` as Datetime with the time of day) along a journey
of five stages, each reached with a probability once the previous one is, after an exponential
wait; one customer in ten also has a stray event (a repeat, or a milestone out of order), so that
the strict order matters. Per size and kind of key (String, Categorical, integer) and of start
(Date, Datetime), with the milestone rows in time order per customer (as logged per customer)
and shuffled:

- csmetrics: ``milestone_funnel`` (windows of 7, 30 and 90 days, strict order, no cohort) and
  ``time_to_milestone`` (Kaplan-Meier per stage);
- Polars: the lazy query a Polars user would write: per stage, a join of the stage's rows with
  the previous stage's reach (kept when at or after it), the first time per customer, then the
  window counts; the Kaplan-Meier curve per stage by group-by, cumulative sums and products.

Every peer's counts (customers, pending, reached per window and stage) and median days per stage
are checked against csmetrics' before any time is printed; the script exits non-zero if one
differs. Prints the best of ``--repeat`` runs, peak memory above the loaded data, and the ratio.

    python bench/bench_journey.py                         # 1M and 10M customers
    python bench/bench_journey.py --sizes 1000000 --keys string --instants date
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import harness

PEERS = ["csmetrics", "polars"]
ORDERS = ["sorted", "shuffled"]
JOURNEY = ["signed_in", "data_connected", "first_report", "team_invited", "integration_added"]
WINDOWS = [7, 30, 90]
REACH = [0.9, 0.7, 0.75, 0.6, 0.5]
WAIT_DAYS = [1.0, 5.0, 8.0, 15.0, 25.0]
HISTORY_DAYS = 3 * 365
START = dt.date(2022, 1, 1)
AS_OF = dt.datetime(2025, 1, 1)


def generate(customers: int, folder: str) -> int:
    """customers.parquet and milestones.parquet (Date starts, integer ids) in ``folder``."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(17)
    epoch = (START - dt.date(1970, 1, 1)).days
    signup = rng.integers(0, HISTORY_DAYS, customers) + epoch
    pl.DataFrame(
        {"customer_id": np.arange(1, customers + 1), "signup_date": signup.astype(np.int32)}
    ).with_columns(pl.col("signup_date").cast(pl.Date)).write_parquet(f"{folder}/customers.parquet")
    day = 86_400_000_000
    at = signup.astype(np.int64) * day + rng.integers(8 * 3600, 18 * 3600, customers) * 1_000_000
    alive = np.ones(customers, dtype=bool)
    ids, stages, times = [], [], []
    for k, (p, wait) in enumerate(zip(REACH, WAIT_DAYS, strict=True)):
        alive &= rng.random(customers) < p
        at = at + (rng.exponential(wait, customers) * day).astype(np.int64)
        keep = np.flatnonzero(alive)
        ids.append(keep + 1)
        stages.append(np.full(keep.size, k, dtype=np.int8))
        times.append(at[keep])
    stray = np.flatnonzero(rng.random(customers) < 0.1)
    ids.append(stray + 1)
    stages.append(rng.integers(0, len(JOURNEY), stray.size).astype(np.int8))
    times.append(
        signup[stray].astype(np.int64) * day
        + (rng.exponential(20.0, stray.size) * day).astype(np.int64)
    )
    frame = pl.DataFrame(
        {
            "customer_id": np.concatenate(ids),
            "stage": np.concatenate(stages),
            "timestamp": np.concatenate(times),
        }
    )
    frame = frame.sort("customer_id", "timestamp").select(
        "customer_id",
        pl.col("stage").replace_strict(list(range(len(JOURNEY))), JOURNEY).alias("milestone"),
        pl.col("timestamp").cast(pl.Datetime("us")),
    )
    frame.write_parquet(f"{folder}/milestones.parquet")
    return frame.height


def _as_of(customers: Any) -> Any:
    return AS_OF


def _polars_reach(milestones: Any, customers: Any) -> Any:
    """Per customer, its start and when it reached each stage in strict order (null if not)."""
    import polars as pl

    m = milestones.lazy().filter(pl.col("timestamp") <= AS_OF)
    reach = customers.lazy().select(
        "customer_id", start=pl.col("signup_date").cast(pl.Datetime("us"))
    )
    previous = "start"
    for k, name in enumerate(JOURNEY):
        stage = m.filter(pl.col("milestone") == name).select("customer_id", "timestamp")
        first = (
            stage.join(reach.select("customer_id", previous), on="customer_id")
            .filter(pl.col("timestamp") >= pl.col(previous))
            .group_by("customer_id")
            .agg(pl.col("timestamp").min().alias(f"r{k}"))
        )
        reach = reach.join(first, on="customer_id", how="left")
        previous = f"r{k}"
    return reach


def _polars(milestones: Any, customers: Any) -> tuple[Any, Any]:
    import polars as pl

    day = 86_400_000_000
    reach = _polars_reach(milestones, customers).with_columns(
        [
            ((pl.col(f"r{k}") - pl.col("start")).dt.total_microseconds()).alias(f"e{k}")
            for k in range(len(JOURNEY))
        ]
    )
    as_of_us = int((AS_OF - dt.datetime(1970, 1, 1)).total_seconds()) * 1_000_000
    open_until = pl.lit(as_of_us) - pl.col("start").dt.epoch("us")
    counts = []
    for w in WINDOWS:
        closed = open_until >= w * day
        counts.append(
            reach.select(
                pl.lit(w).alias("window_days"),
                pl.len().alias("customers"),
                (~closed).sum().alias("pending"),
                *[
                    (closed & (pl.col(f"e{k}") <= w * day)).sum().alias(f"reached{k}")
                    for k in range(len(JOURNEY))
                ],
            )
        )
    funnel = pl.concat(counts)
    lives = pl.concat(
        [
            reach.select(
                pl.lit(k).alias("stage"),
                (pl.col(f"e{k}").fill_null(open_until) / day).alias("duration"),
                pl.col(f"e{k}").is_not_null().alias("event"),
            )
            for k in range(len(JOURNEY))
        ]
    )
    medians = (
        lives.group_by("stage", "duration")
        .agg(events=pl.col("event").sum(), removed=pl.len())
        .sort("stage", "duration")
        .with_columns(
            at_risk=pl.col("removed").sum().over("stage")
            - pl.col("removed").cum_sum().over("stage")
            + pl.col("removed")
        )
        # Summed on the log scale, as lifelines does, so that a curve reaching exactly one half
        # rounds the same way.
        .with_columns(
            survival=((pl.col("at_risk") - pl.col("events")).log() - pl.col("at_risk").log())
            .cum_sum()
            .over("stage")
            .exp()
        )
        .group_by("stage")
        .agg(median=pl.col("duration").filter(pl.col("survival") <= 0.5).first())
        .sort("stage")
    )
    return pl.collect_all([funnel, medians])


def _save(result: str, funnel: Any, medians: list[Any]) -> None:
    """Counts per window and stage, and the median days per stage."""
    import numpy as np

    keys, values = [], {"customers": [], "pending": [], "reached": []}
    for row in funnel:
        for k in range(len(JOURNEY)):
            keys.append(f"{row['window_days']}/{k}")
            values["customers"].append(row["customers"])
            values["pending"].append(row["pending"])
            values["reached"].append(row[f"reached{k}"])
    for k, median in enumerate(medians):
        keys.append(f"median/{k}")
        for name in values:
            values[name].append(np.inf if median is None else median if name == "reached" else 0)
    harness.save_result(result, keys, values)


def run_peer(peer: str, path: str, repeat: int, result: str) -> dict[str, float]:
    import polars as pl

    customers = pl.read_parquet(f"{path}/customers.parquet")
    milestones = pl.read_parquet(f"{path}/milestones.parquet")
    sample_ids = customers["customer_id"].head(harness.SAMPLE)
    sample = (
        milestones.filter(pl.col("customer_id").is_in(sample_ids.implode())),
        customers.head(harness.SAMPLE),
    )
    if peer == "polars":

        def compute(data: Any = (milestones, customers)) -> Any:
            return _polars(*data)

        (funnel, medians), figures = harness.measure(compute, repeat, sample)
        rows = funnel.to_dicts()
        _save(result, rows, medians["median"].to_list())
        return figures
    import csmetrics as csm

    def compute(data: Any = (milestones, customers)) -> Any:
        m, c = data
        f = csm.milestone_funnel(
            m, c, journey=JOURNEY, window_days=WINDOWS, cohort=None, as_of=AS_OF
        )
        t = csm.time_to_milestone(m, c, journey=JOURNEY, as_of=AS_OF)
        return f, t

    (funnel, times), figures = harness.measure(compute, repeat, sample)
    rows = []
    for w in WINDOWS:
        part = funnel.filter(pl.col("window_days") == w)
        row: dict[str, Any] = {
            "window_days": w,
            "customers": part["customers"][0],
            "pending": part["pending"][0],
        }
        row |= {f"reached{k}": part["reached"][k] for k in range(len(JOURNEY))}
        rows.append(row)
    _save(result, rows, times["median"].to_list())
    return figures


def main() -> None:
    parser = harness.parser(__doc__, [1_000_000, 10_000_000], 3, PEERS)
    parser.add_argument("--orders", nargs="+", default=ORDERS, choices=ORDERS)
    args = harness.parse_args(parser, run_peer)

    import polars as pl

    harness.print_versions()
    print(
        f"Onboarding funnel (windows {WINDOWS}, strict order) and time to value "
        f"(Kaplan-Meier per stage), {len(JOURNEY)} milestones; best of {args.repeat} runs"
    )
    runs = harness.Runs()
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            rows = generate(size, tmp)
            print(
                f"{size:,} customers, {rows:,} milestones (generated in {time.perf_counter() - started:.1f} s)"
            )
            customers = pl.read_parquet(f"{tmp}/customers.parquet")
            milestones = pl.read_parquet(f"{tmp}/milestones.parquet")
            for keys, instants in harness.combinations(args):
                c = harness.convert(
                    customers, keys, instants, ids=["customer_id"], instants=["signup_date"]
                )
                m = harness.convert(milestones, keys, "date", ids=["customer_id"])
                if keys == "categorical":
                    m = m.with_columns(pl.col("milestone").cast(pl.Categorical))
                for order in args.orders:
                    folder = Path(tmp) / f"{keys}_{instants}_{order}"
                    folder.mkdir()
                    c.write_parquet(folder / "customers.parquet")
                    shown = (
                        m.sample(fraction=1.0, shuffle=True, seed=3) if order == "shuffled" else m
                    )
                    shown.write_parquet(folder / "milestones.parquet")
                    label = (f"{size:,}", keys, instants, order)
                    runs.run(__file__, label, args.peers, str(folder), args.repeat)
            del customers, milestones
    runs.finish(["customers", "keys", "starts", "milestones"], args.peers)


if __name__ == "__main__":
    main()
