"""The MRR bridge from invoice lines: csmetrics (``table="invoices"``) against idiomatic Polars
that spreads each line over the months it covers (explode and group_by).

The invoice lines are generated with numpy (seeded) the way a billing system writes them: each
customer has one subscription (or two, for one in five), billed every month (80%), every
three months (5%) or every year (15%) from an anchor day (any day of the month: the 29th to
the 31st are clamped to short months, as billing systems do), at a price per seat times seats.
A subscription runs until it churns (1.5% a month, 20% a year for yearly plans) or the window
ends; one churned customer in five comes back on a new subscription one to six months later
(a reactivation). One subscription in ten is upgraded once in the middle of a billing period:
a credit for the unused time of the old price and a charge for the new price over the rest of
the period (two proration lines, rounded to the cent), the new price from the next period on.
One subscription in six bills monthly metered usage (``usage`` lines) and one customer in
twenty buys something once (a ``one_time`` line). Amounts are ``Decimal(18, 2)``; 1M
customers give about 24M lines over the 24 reported months.

Two peers run, each in its own process on the same Parquet file:

- ``csmetrics``: ``mrr_bridge(lines, table="invoices", ...)`` with prorations spread over
  their billing period (the default);
- ``polars``: the same rules written by hand the way a data scientist would (lazy): each
  line's monthly value in integer units of 10^-6 (whole calendar months counted as months, any
  other period by days, 365/12 days a month; a proration scaled to the period of the line it
  belongs to, found by a join on subscription and period end; half-even rounding), each line
  exploded over the month-end snapshots it covers, summed per customer and month, a customer
  spine with shifts and the bridge with group_by; one-time and usage revenue summed by the
  month their service starts. Its bridge (every amount and count, non-recurring and usage
  revenue included) is checked against csmetrics' before any figure is printed: csmetrics at
  least 10x faster with less memory is the target.

It runs on String and Categorical customer and subscription ids (``--keys integer`` too),
Date and Datetime periods, lines as a billing export holds them (by invoice date) and
shuffled. The script exits non-zero if a peer fails or differs; it asserts nothing about
time. ``--self-test`` checks both peers on small hand-computed cases.

    python bench/bench_invoices.py                      # 1M customers
    python bench/bench_invoices.py --sizes 100000       # a quick run
    python bench/bench_invoices.py --self-test          # the hand-computed cases only
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import harness

PEERS = ["csmetrics", "polars"]
ORDERS = ["billed", "shuffled"]
FIRST_DAY = dt.date(2023, 7, 1)  # the oldest customers' first invoices
WINDOW = dt.date(2024, 1, 1)  # the 24 reported months start here
LAST_DAY = dt.date(2026, 1, 1)  # nothing is billed from here on
CHUNK = 500_000  # customers generated at a time
PRICES = [9.0, 19.0, 49.0, 99.0, 249.0, 499.0]  # per seat and month
MONEY = ["starting_mrr", "new", "expansion", "contraction", "churned", "reactivation", "ending_mrr"]
OTHER = ["non_recurring", "usage"]
COUNTS = [
    "starting_customers",
    "new_customers",
    "expansion_customers",
    "contraction_customers",
    "churned_customers",
    "reactivated_customers",
    "ending_customers",
]
UNITS = 1_000_000  # precision=6
OPTIONS = {
    "table": "invoices",
    "period_start": "period_start",
    "period_end": "period_end",
    "line_kind": "kind",
    "subscription_id": "subscription_id",
}


# --- The data -------------------------------------------------------------------------------


def _add_months(days: Any, anchor_day: Any, months: Any) -> Any:
    """Days since the epoch of ``months`` calendar months after the month of ``days``, on
    ``anchor_day`` clamped to that month's length (numpy, vectorised)."""
    import numpy as np

    month = days.astype("datetime64[D]").astype("datetime64[M]") + months
    length = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
    return month.astype("datetime64[D]").astype(np.int64) + np.minimum(anchor_day, length) - 1


def _runs(rng: Any, customer: Any, start: Any, step: Any) -> dict[str, Any]:
    """One run of billing periods per subscription: its customer, anchor day, first period
    start (days since the epoch), months per period, the number of periods billed before the
    window ends and whether it churned before then."""
    import numpy as np

    churn = np.where(step == 12, 0.2, 1 - (1 - 0.015) ** step)
    periods = rng.geometric(churn)  # billed periods until it churns
    day = start.astype("datetime64[D]")
    anchor = (day - day.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    # The periods that start before the end of the window.
    first_month = day.astype("datetime64[M]").astype(np.int64)
    last_month = np.datetime64(LAST_DAY, "M").astype(np.int64) - 1
    room = np.maximum((last_month - first_month) // step + 1, 0)
    return {
        "customer": customer,
        "anchor": anchor,
        "start": start,
        "step": step,
        "periods": np.minimum(periods, room),
        "churned": periods < room,
    }


def _chunk(rng: Any, first: int, count: int) -> Any:
    """The invoice lines of customers ``first`` to ``first + count - 1``."""
    import numpy as np
    import polars as pl

    epoch = np.datetime64("1970-01-01", "D")
    lo = int((np.datetime64(FIRST_DAY, "D") - epoch).astype(np.int64))
    window = int((np.datetime64(WINDOW, "D") - epoch).astype(np.int64))
    horizon = int((np.datetime64(LAST_DAY, "D") - epoch).astype(np.int64))
    customers = np.arange(first, first + count, dtype=np.int64)
    signup = np.where(
        rng.random(count) < 0.65,
        rng.integers(lo, window, count),  # customers before the window
        rng.integers(window, horizon - 31, count),  # and new ones within it
    )
    if first == 1:  # the first day has a paying customer: both peers start their months there
        signup[0] = lo
    two = rng.random(count) < 0.2
    customer = np.concatenate([customers, customers[two]])
    start = np.concatenate([signup, signup[two] + rng.integers(0, 200, int(two.sum()))])
    keep = start < horizon - 31
    customer, start = customer[keep], start[keep]
    plan = rng.random(customer.size)
    step = np.where(plan < 0.8, 1, np.where(plan < 0.85, 3, 12))
    runs = _runs(rng, customer, start, step)
    # One churned customer in five returns on a new subscription 1 to 6 months later.
    back = runs["churned"] & (rng.random(customer.size) < 0.2) & (runs["periods"] > 0)
    ended = _add_months(runs["start"], runs["anchor"], runs["periods"] * runs["step"])
    again = ended[back] + rng.integers(30, 183, int(back.sum()))
    ok = again < horizon - 31
    later = _runs(rng, customer[back][ok], again[ok], step[back][ok])
    first_runs = customer.size
    run = {k: np.concatenate([runs[k], later[k]]) for k in runs}
    n = run["customer"].size
    sub_id = first * 4 + np.arange(n, dtype=np.int64)  # unique across chunks
    tier = rng.integers(0, len(PRICES) - 1, n)
    seats = np.where(rng.random(n) < 0.6, 1, 1 + rng.geometric(0.15, n))
    months_billed = np.where(run["step"] == 12, 10, run["step"])  # a year costs 10 months
    old_cents = np.round(np.asarray(PRICES)[tier] * seats * months_billed * 100).astype(np.int64)
    new_cents = np.round(np.asarray(PRICES)[tier + 1] * seats * months_billed * 100).astype(
        np.int64
    )
    upgraded = (rng.random(n) < 0.1) & (run["periods"] >= 2)
    at = np.where(upgraded, rng.integers(0, np.maximum(run["periods"] - 1, 1)), -1)

    # The subscription lines: one per billed period, the new price after an upgrade.
    line_sub = np.repeat(np.arange(n), run["periods"])
    k = np.arange(line_sub.size) - np.repeat(
        np.cumsum(run["periods"]) - run["periods"], run["periods"]
    )
    anchor, origin, every = run["anchor"][line_sub], run["start"][line_sub], run["step"][line_sub]
    a = _add_months(origin, anchor, k * every)
    b = _add_months(origin, anchor, (k + 1) * every)
    after = (at[line_sub] >= 0) & (k > at[line_sub])
    subs_of, kinds = [line_sub], [np.zeros(line_sub.size, dtype=np.int8)]
    starts, ends = [a], [b]
    amounts = [np.where(after, new_cents[line_sub], old_cents[line_sub])]
    # Upgrades: a credit for the old price and a charge for the new one, the rest of period at.
    held = np.flatnonzero(k == at[line_sub])
    hs = line_sub[held]
    length = b[held] - a[held]
    t = a[held] + 1 + (rng.random(held.size) * (length - 1)).astype(np.int64)
    for sign, base in ((-1, old_cents[hs]), (1, new_cents[hs])):
        subs_of.append(hs)
        starts.append(t)
        ends.append(b[held])
        amounts.append(sign * np.round(base * (b[held] - t) / length).astype(np.int64))
        kinds.append(np.ones(held.size, dtype=np.int8))
    # Metered usage on one monthly subscription in six, billed with each period.
    metered = np.flatnonzero((rng.random(n) < 1 / 6)[line_sub] & (every == 1))
    subs_of.append(line_sub[metered])
    starts.append(a[metered])
    ends.append(b[metered])
    amounts.append(rng.integers(100, 20_000, metered.size))
    kinds.append(np.full(metered.size, 3, dtype=np.int8))
    # A one-time purchase by one customer in twenty, within two months of signing up.
    once = np.flatnonzero(
        (rng.random(n) < 0.05) & (run["periods"] > 0) & (np.arange(n) < first_runs)
    )
    day = run["start"][once] + rng.integers(0, 60, once.size)
    subs_of.append(once)
    starts.append(day)
    ends.append(day)
    amounts.append(rng.integers(5_000, 500_000, once.size))
    kinds.append(np.full(once.size, 2, dtype=np.int8))

    which = np.concatenate(subs_of)
    kind = np.concatenate(kinds)
    frame = pl.DataFrame(
        {
            "customer_id": run["customer"][which],
            "subscription_id": np.where(kind == 2, -1, sub_id[which]),
            "kind": np.asarray(["subscription", "proration", "one_time", "usage"])[kind],
            "cents": np.concatenate(amounts),
            "period_start": np.concatenate(starts).astype(np.int32),
            "period_end": np.concatenate(ends).astype(np.int32),
        }
    )
    return (
        frame.filter(pl.col("period_start") < horizon)
        .with_columns(
            pl.col("period_start").cast(pl.Date),
            pl.col("period_end").cast(pl.Date),
            pl.when(pl.col("subscription_id") >= 0).then(pl.col("subscription_id")),
            amount=(pl.col("cents").cast(pl.Decimal(18, 2)) * pl.lit(Decimal("0.01"))).cast(
                pl.Decimal(18, 2)
            ),
        )
        .drop("cents")
    )


def generate(customers: int, seed: int = 23) -> Any:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    lines = pl.concat(
        [
            _chunk(rng, first, min(CHUNK, customers + 1 - first))
            for first in range(1, customers + 1, CHUNK)
        ]
    )
    # As a billing export holds them: by invoice date (the service start), then customer.
    return lines.sort("period_start", "customer_id", "subscription_id", "kind")


# --- The Polars peer ------------------------------------------------------------------------


def _half_even(numerator: Any, denominator: Any) -> Any:
    """numerator / denominator rounded half to even, in integers, symmetric about 0."""
    import polars as pl

    magnitude = numerator.abs()
    quotient, remainder = magnitude // denominator, magnitude % denominator
    twice = remainder * 2
    up = (twice > denominator) | ((twice == denominator) & (quotient % 2 == 1))
    rounded = quotient + up.cast(pl.Int64)
    return pl.when(numerator < 0).then(-rounded).otherwise(rounded)


def _monthly(start: Any, end: Any) -> tuple[Any, Any]:
    """(multiplier, divisor) of a service period ``[start, end)`` (Datetime columns at
    midnight): whole calendar months count months (the same day of the month, clamped to short
    months), any other period days, at 365/12 days a month."""
    import polars as pl

    months = (end.dt.year() - start.dt.year()).cast(pl.Int64) * 12 + (
        end.dt.month().cast(pl.Int64) - start.dt.month().cast(pl.Int64)
    )
    d0, d1 = start.dt.day(), end.dt.day()
    last0, last1 = start.dt.days_in_month(), end.dt.days_in_month()
    whole = (months >= 1) & (
        (d1 == d0) | ((d0 > last1) & (d1 == last1)) | ((d0 == last0) & (d1 > d0))
    )
    days = (end - start).dt.total_days()
    return (
        pl.when(whole).then(1).otherwise(365).cast(pl.Int64),
        pl.when(whole).then(months).otherwise(12 * days).cast(pl.Int64),
    )


def polars_bridge(lines: Any, as_of: Any) -> Any:
    """The bridge of invoice ``lines`` at the month ends up to ``as_of``, by hand."""
    import polars as pl

    us = pl.Datetime("us")
    cut = pl.lit(as_of).cast(us)
    last_month = pl.lit(as_of).cast(pl.Date).dt.month_start()
    lines = lines.lazy().with_columns(
        pl.col("period_start").cast(us),
        pl.col("period_end").cast(us),
        cents=(pl.col("amount") * 100).cast(pl.Int64),
    )
    m, d = _monthly(pl.col("period_start"), pl.col("period_end"))
    subscription = lines.filter(pl.col("kind") == "subscription").with_columns(m=m, d=d)
    # A proration is scaled to the period of its subscription's line ending with it.
    holders = subscription.select(
        "subscription_id",
        "period_end",
        length=(pl.col("period_end") - pl.col("period_start")).dt.total_days(),
        hm="m",
        hd="d",
    )
    prorations = (
        lines.filter(pl.col("kind") == "proration")
        .join(holders, on=["subscription_id", "period_end"], how="left")
        .with_columns(
            part=(pl.col("period_end") - pl.col("period_start")).dt.total_days(),
        )
        .with_columns(m=pl.col("length") * pl.col("hm"), d=pl.col("part") * pl.col("hd"))
        .drop("length", "hm", "hd", "part")
    )
    recurring = pl.concat([subscription, prorations]).with_columns(
        units=_half_even(pl.col("cents") * (UNITS // 100) * pl.col("m"), pl.col("d"))
    )
    # A line [a, b) is in month m when a <= the last instant of m (as_of for the last) < b.
    active = (
        recurring.filter(pl.col("period_start") <= cut)
        .with_columns(
            first=pl.col("period_start").dt.date().dt.month_start(),
            last=pl.when(pl.col("period_end") > cut)
            .then(last_month)
            .otherwise(pl.col("period_end").dt.date().dt.month_start().dt.offset_by("-1mo")),
        )
        .filter(pl.col("last") >= pl.col("first"))
        .with_columns(month=pl.date_ranges("first", "last", interval="1mo"))
        .explode("month")
        .group_by("customer_id", "month")
        .agg(mrr=pl.col("units").sum())
        .filter(pl.col("mrr") > 0)
    )
    spine = harness.month_spine(active, last_month)
    panel = (
        spine.join(active, on=["customer_id", "month"], how="left")
        .with_columns(pl.col("mrr").fill_null(0))
        .sort("customer_id", "month")
        .with_columns(
            previous=pl.col("mrr").shift(1, fill_value=0).over("customer_id"),
            seen=(pl.col("mrr") > 0).cum_sum().shift(1, fill_value=0).over("customer_id") > 0,
        )
    )
    up = pl.col("mrr") - pl.col("previous")
    was_on, on = pl.col("previous") > 0, pl.col("mrr") > 0
    moves = {
        "new": (~was_on & on & ~pl.col("seen"), up),
        "expansion": (was_on & on & (up > 0), up),
        "contraction": (was_on & on & (up < 0), -up),
        "churned": (was_on & ~on, pl.col("previous")),
        "reactivation": (~was_on & on & pl.col("seen"), up),
    }
    customers = {
        "new": "new_customers",
        "expansion": "expansion_customers",
        "contraction": "contraction_customers",
        "churned": "churned_customers",
        "reactivation": "reactivated_customers",
    }
    bridge = panel.group_by("month").agg(
        starting_mrr=pl.col("previous").sum(),
        **{name: amount.filter(when).sum() for name, (when, amount) in moves.items()},
        ending_mrr=pl.col("mrr").sum(),
        starting_customers=was_on.sum(),
        **{customers[name]: when.sum() for name, (when, _) in moves.items()},
        ending_customers=on.sum(),
    )
    # One-time and usage revenue in the month its service starts.
    other = (
        lines.filter(pl.col("kind").is_in(["one_time", "usage"]) & (pl.col("period_start") <= cut))
        .group_by(month=pl.col("period_start").dt.date().dt.month_start())
        .agg(
            non_recurring=pl.col("cents").filter(pl.col("kind") == "one_time").sum(),
            usage=pl.col("cents").filter(pl.col("kind") == "usage").sum(),
        )
    )
    return (
        bridge.join(other, on="month", how="left")
        .with_columns(pl.col(MONEY) / UNITS, pl.col(OTHER).fill_null(0) / 100)
        .sort("month")
        .collect()
    )


# --- The peers ------------------------------------------------------------------------------


def run_peer(peer: str, path: str, repeat: int, result: str) -> dict[str, object]:
    import numpy as np
    import polars as pl

    import csmetrics as csm

    lines = pl.read_parquet(path)
    as_of = lines["period_start"].max()

    def compute(lines: Any = lines) -> Any:
        if peer == "polars":
            return polars_bridge(lines, as_of)
        return csm.mrr_bridge(lines, as_of=as_of, **OPTIONS)

    # The warm-up sample holds whole customers: a credit without the line it credits is an error.
    first = lines["customer_id"].head(harness.SAMPLE).unique()
    sample = lines.filter(pl.col("customer_id").is_in(first.implode()))
    table, figures = harness.measure(compute, repeat, sample)
    month = "month" if peer == "polars" else "period"
    values = {c: table[c] for c in MONEY + OTHER + COUNTS}
    atol = np.full(table.height, 1e-6)  # one unit of precision=6 on top of 1e-9 relative
    harness.save_result(result, [str(m)[:7] for m in table[month]], values, atol=atol)
    if peer == "csmetrics":
        units = csm.mrr_bridge(lines, as_of=as_of, money="units", **OPTIONS)
        figures["identity_max_gap_units"] = harness.identity_gap(units)
    return figures


# --- Hand-computed cases --------------------------------------------------------------------


def _case(rows: list[tuple[str, str, str, dt.date, dt.date, str]]) -> Any:
    import polars as pl

    return pl.DataFrame(
        rows,
        schema={
            "customer_id": pl.String,
            "subscription_id": pl.String,
            "kind": pl.String,
            "period_start": pl.Date,
            "period_end": pl.Date,
            "amount": pl.String,
        },
        orient="row",
    ).with_columns(pl.col("amount").cast(pl.Decimal(18, 2)))


D = dt.date
# (what it checks, lines, as_of, per month from the first: starting, new, expansion,
# contraction, churned, reactivation, ending MRR, non-recurring, usage)
CASES: list[tuple[str, Any, dt.date, list[tuple[float, ...]]]] = [
    (
        "$30 a month anchored on the 31st: [Feb 29, Mar 31) is a whole month",
        [
            ("a", "a1", "subscription", D(2024, 1, 31), D(2024, 2, 29), "30"),
            ("a", "a1", "subscription", D(2024, 2, 29), D(2024, 3, 31), "30"),
            ("a", "a1", "subscription", D(2024, 3, 31), D(2024, 4, 30), "30"),
        ],
        D(2024, 3, 31),
        [
            (0, 30, 0, 0, 0, 0, 30, 0, 0),
            (30, 0, 0, 0, 0, 0, 30, 0, 0),
            (30, 0, 0, 0, 0, 0, 30, 0, 0),
        ],
    ),
    (
        "$100 to $200 on Feb 15: -51.72 and +103.45 over 15 of 29 days, spread over February",
        [
            ("b", "b1", "subscription", D(2024, 1, 1), D(2024, 2, 1), "100"),
            ("b", "b1", "subscription", D(2024, 2, 1), D(2024, 3, 1), "100"),
            ("b", "b1", "proration", D(2024, 2, 15), D(2024, 3, 1), "-51.72"),
            ("b", "b1", "proration", D(2024, 2, 15), D(2024, 3, 1), "103.45"),
            ("b", "b1", "subscription", D(2024, 3, 1), D(2024, 4, 1), "200"),
        ],
        D(2024, 3, 1),
        # 51.72 * 29 / 15 = 99.992; 103.45 * 29 / 15 = 200.003333 (to 10^-6)
        [
            (0, 100, 0, 0, 0, 0, 100, 0, 0),
            (100, 0, 100.011333, 0, 0, 0, 200.011333, 0, 0),
            (200.011333, 0, 0, 0.011333, 0, 0, 200, 0, 0),
        ],
    ),
    (
        "a year for $1200 is $100 a month; $50 once and $7.50 of usage in February",
        [
            ("c", "c1", "subscription", D(2024, 1, 15), D(2025, 1, 15), "1200"),
            ("c", None, "one_time", D(2024, 2, 3), D(2024, 2, 3), "50"),
            ("c", "c1", "usage", D(2024, 2, 1), D(2024, 3, 1), "7.50"),
        ],
        D(2024, 2, 3),
        [(0, 100, 0, 0, 0, 0, 100, 0, 0), (100, 0, 0, 0, 0, 0, 100, 50, 7.5)],
    ),
    (
        "churn in February and a reactivation in March; 14 days for $14 is 14 * 365/168",
        [
            ("d", "d1", "subscription", D(2024, 1, 1), D(2024, 2, 1), "40"),
            ("d", "d2", "subscription", D(2024, 3, 10), D(2024, 4, 10), "40"),
            ("e", "e1", "subscription", D(2024, 1, 20), D(2024, 2, 3), "14"),
        ],
        D(2024, 3, 10),
        [
            (0, 70.416667, 0, 0, 0, 0, 70.416667, 0, 0),
            (70.416667, 0, 0, 0, 70.416667, 0, 0, 0, 0),
            (0, 0, 0, 0, 0, 40, 40, 0, 0),
        ],
    ),
]


def self_test(run: list[str]) -> None:
    """The Polars peer and csmetrics (``run``: either or both) on :data:`CASES`; exits non-zero
    when a bridge differs from the hand-computed one."""
    import sys

    def csmetrics_bridge(lines: Any, as_of: Any) -> Any:
        import csmetrics as csm

        return csm.mrr_bridge(lines, as_of=as_of, **OPTIONS)

    problems = []
    for what, rows, as_of, expected in CASES:
        lines = _case(rows)
        peers = {
            "polars": lambda lines=lines, as_of=as_of: polars_bridge(lines, as_of),
            "csmetrics": lambda lines=lines, as_of=as_of: csmetrics_bridge(lines, as_of),
        }
        for peer, compute in peers.items():
            if peer not in run:
                continue
            try:
                table = compute()
            except Exception as error:  # reported, not raised
                problems.append(f"{peer}: {what}: {type(error).__name__}: {error}")
                continue
            got = [
                tuple(round(float(v), 9) for v in row)
                for row in table.select(*MONEY, *OTHER).rows()
            ][-len(expected) :]
            want = [tuple(float(v) for v in row) for row in expected]
            if got != want:
                problems.append(f"{peer}: {what}:\n    got  {got}\n    want {want}")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(CASES)} hand-computed cases, {len(problems)} problem(s)")
    if problems:
        sys.exit(1)


# --- The command line -----------------------------------------------------------------------


def _ratios(rows: list[tuple[tuple[str, ...], dict[str, dict[str, Any]]]]) -> None:
    print("\npolars / csmetrics (target: at least 10x faster, with less memory):")
    for label, figures in rows:
        if "csmetrics" in figures and "polars" in figures:
            c, p = figures["csmetrics"], figures["polars"]
            print(
                f"  {' '.join(label)}: time {p['seconds'] / c['seconds']:.1f}x, "
                f"peak memory {p['peak_extra_mb'] / max(c['peak_extra_mb'], 1e-9):.1f}x"
            )


def main() -> None:
    parser = harness.parser(__doc__, [1_000_000], 2, PEERS, size_aliases=["--customers"])
    parser.set_defaults(keys=["string", "categorical"])
    parser.add_argument("--orders", nargs="+", choices=ORDERS, default=ORDERS)
    parser.add_argument("--cache", help="keep the generated Parquet files here (and reuse them)")
    parser.add_argument("--self-test", action="store_true", help="the hand-computed cases only")
    args = harness.parse_args(parser, run_peer)
    if args.self_test:
        self_test(args.peers)
        return
    import polars as pl

    harness.print_versions()
    print(f"MRR bridge from invoice lines, prorations spread; best of {args.repeat} runs")
    runs = harness.Runs()
    with harness.cache_folder(args.cache) as folder:
        for size in args.sizes:
            base = folder / f"invoices_{size}.parquet"
            started = time.perf_counter()
            if not base.exists():
                generate(size).write_parquet(base)
            lines = pl.read_parquet(base)
            kinds = dict(lines["kind"].value_counts().iter_rows())
            print(
                f"{size:,} customers: {lines.height:,} invoice lines "
                f"({', '.join(f'{v:,} {k}' for k, v in sorted(kinds.items()))}; generated or "
                f"read in {time.perf_counter() - started:.1f} s)"
            )
            for keys, instants in harness.combinations(args):
                frame = harness.convert(
                    lines,
                    keys,
                    instants,
                    ids=["customer_id", "subscription_id"],
                    instants=["period_start", "period_end"],
                )
                for order in args.orders:
                    if order == "shuffled":
                        frame = frame.sample(fraction=1.0, shuffle=True, seed=5)
                    path = str(folder / f"invoices_{size}_{keys}_{instants}_{order}.parquet")
                    if not Path(path).exists():
                        frame.write_parquet(path)
                    label = (f"{size:,}", keys, instants, order)
                    figures = runs.run(__file__, label, args.peers, path, args.repeat)
                    gap = figures.get("csmetrics", {}).get("identity_max_gap_units")
                    if gap:
                        runs.problem(" ".join(label), [f"bridge identity off by {gap} units"])
                del frame
            del lines
        runs.finish(
            ["customers", "keys", "instants", "lines"],
            args.peers,
            "csmetrics exact on every row: the bridge identity in integer units",
        )
    _ratios(runs.rows)


if __name__ == "__main__":
    main()
