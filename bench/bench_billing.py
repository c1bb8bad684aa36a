"""The MRR bridge with billing detail (seats, discounts, statuses): csmetrics against itself
without them and against idiomatic Polars.

The subscriptions are generated with numpy (seeded), one row per status spell of each
subscription (``subscription_id``): a trial first for a third of them, then active spells
(seat and price changes start a new row), past-due spells that recover, go unpaid or end,
pauses that resume, unpaid spells that recover or end; monthly, three-monthly and yearly
plans, 1 to 3 subscriptions per customer, ``quantity`` (seats) and a coupon on 30% of the
subscriptions as row columns (``percent_off`` and/or ``amount_off``, ``discount_duration``
once, repeating or forever, ``duration_in_months``, ``discount_start`` null or given). Three
peers run, each in its own process on the same Parquet file:

- ``csmetrics``: ``mrr_bridge`` with every billing column and the default policies
  (trials="exclude", past_due="active", paused="zero", mrr_basis="net",
  stacking="sequential");
- ``plain``: ``mrr_bridge`` on the same rows without the billing columns (amount x quantity
  pre-multiplied; subscription_id, status and the discount columns dropped): what the billing
  detail costs, printed as billing / plain (the target is within 1.5x);
- ``polars``: the same rules written by hand the way a data scientist would (lazy): gross
  monthly units per row, each coupon expanded into its window (once = the first billing
  period starting at or after the coupon's start, billing periods counted in calendar months
  from the subscription's first start), percent then amount-off, half-even rounding to 6
  decimals, status rules, each piece exploded over the month-end snapshots it covers, a
  customer spine with shifts and the bridge with group_by. Its bridge (every amount and
  count, paused_customers included) is checked against csmetrics' (to 1e-6) before any
  figure is printed: csmetrics at least 10x faster is the target.

The generated data keep to what the Polars peer implements faithfully: month and year
intervals, paused spells always resume onto an active spell of at least two months (and
follow one), no discount brings a customer with a pause to $0, no quantity 0. It runs on
String and Categorical customer ids (and subscription ids; ``--keys integer`` too), Date and
Datetime instants, rows grouped by customer as generated and shuffled. The script exits
non-zero if a peer fails or differs; it asserts nothing about time. ``--self-test`` checks the
Polars peer (and csmetrics, when built with the billing options) on small hand-computed
cases.

    python bench/bench_billing.py                      # 1M and 10M customers
    python bench/bench_billing.py --sizes 100000       # a quick run
    python bench/bench_billing.py --self-test          # the hand-computed cases only
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import harness

PEERS = ["csmetrics", "plain", "polars"]
ORDERS = ["sorted", "shuffled"]
FIRST_DAY = dt.date(2021, 1, 1)
DAYS = (dt.date(2026, 1, 1) - FIRST_DAY).days  # 60 months of starts
SPELLS = 8  # at most this many rows per subscription
CHUNK = 1_000_000  # customers generated at a time
POLICIES = {
    "trials": "exclude",
    "past_due": "active",
    "paused": "zero",
    "mrr_basis": "net",
    "stacking": "sequential",
}
BILLING = [
    "subscription_id",
    "status",
    "quantity",
    "percent_off",
    "amount_off",
    "discount_duration",
    "duration_in_months",
    "discount_start",
]
MONEY = ["starting_mrr", "new", "expansion", "contraction", "churned", "reactivation", "ending_mrr"]
COUNTS = [
    "starting_customers",
    "new_customers",
    "expansion_customers",
    "contraction_customers",
    "churned_customers",
    "reactivated_customers",
    "ending_customers",
    "active_customers",
    "paused_customers",
]
UNITS = 1_000_000  # precision=6


# --- The data -------------------------------------------------------------------------------

TRIALING, ACTIVE, PAST_DUE, PAUSED, UNPAID, END = range(6)
STATUSES = ["trialing", "active", "past_due", "paused", "unpaid"]
# From each status: the probabilities of the next spell's status (END: the subscription ends).
NEXT = {
    TRIALING: {ACTIVE: 0.7, END: 0.3},
    ACTIVE: {ACTIVE: 0.35, PAST_DUE: 0.2, PAUSED: 0.08, UNPAID: 0.04, END: 0.33},
    PAST_DUE: {ACTIVE: 0.75, UNPAID: 0.15, END: 0.1},
    PAUSED: {ACTIVE: 1.0},  # a pause always resumes
    UNPAID: {ACTIVE: 0.3, END: 0.7},
}
# Days each spell lasts, [low, high). Active spells last over two months, so that a month-end
# snapshot sees the subscription paying before a pause and after it resumes.
DURATION = {
    TRIALING: (14, 31),
    ACTIVE: (62, 540),
    PAST_DUE: (3, 45),
    PAUSED: (30, 120),
    UNPAID: (7, 60),
}
PRICES = [9.0, 19.99, 49.0, 99.0, 249.0, 499.0]  # per seat and month; a year costs 10 months


def _chunk(rng: Any, first: int, count: int) -> Any:
    """The rows of customers ``first`` to ``first + count - 1``, grouped by customer, then
    subscription, then start."""
    import numpy as np
    import polars as pl

    per_customer = rng.choice([1, 2, 3], size=count, p=[0.65, 0.25, 0.10])
    customer = np.repeat(np.arange(first, first + count, dtype=np.int64), per_customer)
    index = np.arange(customer.size) - np.repeat(
        np.cumsum(per_customer) - per_customer, per_customer
    )
    signup = rng.integers(0, DAYS, count)
    later = rng.integers(0, 540, customer.size)
    start = np.repeat(signup, per_customer) + np.where(index == 0, 0, later)
    trial = rng.random(customer.size) < 0.35
    if first == 1:  # the first day has a paying customer: every peer starts its months there
        start[0], trial[0] = 0, False
    keep = start < DAYS
    customer, index, start, trial = customer[keep], index[keep], start[keep], trial[keep]
    subs = customer.size
    yearly = rng.random(subs) < 0.15
    every = np.where(~yearly & (rng.random(subs) < 0.05), 3, 1)  # some bill every 3 months
    tier = rng.integers(0, len(PRICES) - 1, subs)
    seats = np.where(rng.random(subs) < 0.6, 1, 1 + rng.geometric(0.15, subs))
    unit = np.asarray(PRICES)[tier] * np.where(yearly, 10, every)  # upgrades only raise it

    # Status spells, one step of every subscription at a time.
    status = np.where(trial, TRIALING, ACTIVE)
    now = start.copy()
    alive = np.arange(subs)
    pieces = []
    for spell in range(SPELLS):
        st = status[alive]
        low = np.select([st == s for s in DURATION], [DURATION[s][0] for s in DURATION])
        high = np.select([st == s for s in DURATION], [DURATION[s][1] for s in DURATION])
        ends_at = now[alive] + rng.integers(low, high)
        draw = rng.random(alive.size)
        following = np.full(alive.size, END)
        for s, moves in NEXT.items():
            here = st == s
            edges = np.cumsum(list(moves.values()))
            following[here] = np.asarray(list(moves))[
                np.minimum(np.searchsorted(edges, draw[here], side="right"), len(moves) - 1)
            ]
        beyond = ends_at >= DAYS
        stops = beyond | (following == END) | (spell == SPELLS - 1)
        # Past the last start, most rows are open; some have a scheduled end after it.
        open_end = (beyond & (rng.random(alive.size) < 0.8)) | ((spell == SPELLS - 1) & ~beyond)
        pieces.append(
            (alive, now[alive], np.where(open_end, -1, ends_at), st, seats[alive], tier[alive])
        )
        go = ~stops
        moved = alive[go]
        # Seat changes (and one upgrade in five) start a new active row.
        change = (st[go] == ACTIVE) & (following[go] == ACTIVE)
        step = rng.integers(-3, 6, moved.size)
        step = np.where(step >= 0, step + 1, step)  # never 0
        seats[moved] = np.where(change, np.maximum(1, seats[moved] + step), seats[moved])
        upgrade = change & (rng.random(moved.size) < 0.2)
        tier[moved] = np.minimum(len(PRICES) - 1, tier[moved] + upgrade)
        now[moved] = ends_at[go]
        status[moved] = following[go]
        alive = moved
    sub, row_start, row_end, row_status, row_seats, row_tier = (
        np.concatenate(p) for p in zip(*pieces, strict=True)
    )

    # Coupons, one per subscription at most, copied onto each of its rows.
    paused_customer = np.zeros(first + count, dtype=bool)
    paused_customer[customer[sub[row_status == PAUSED]]] = True
    calm = ~paused_customer[customer]  # no pause: a coupon may bring the customer to $0
    coupon = rng.random(subs) < 0.3
    kind = rng.random(subs)
    percent = rng.choice([10.0, 15.0, 20.0, 25.0, 12.5, 50.0, 100.0], subs)
    duration = rng.choice(["once", "repeating", "forever"], subs, p=[0.4, 0.35, 0.25])
    percent = np.where((percent == 100) & (~calm | (duration == "forever")), 50.0, percent)
    percent = np.where(coupon & (kind < 0.7), percent, np.nan)
    off = rng.choice([5.0, 10.0, 20.0, 50.0], subs) * np.where(yearly, 10, every)
    # With a pause, amount-off stays under 40% of one seat's price (never $0 with a percent).
    off = np.where(calm, off, np.minimum(off, np.floor(0.4 * unit)))
    off = np.where(coupon & ((kind >= 0.7) | (kind < 0.1)), off, np.nan)
    months = np.where(duration == "repeating", rng.choice([1, 3, 6, 12], subs), 0)
    # The coupon's start: null (the subscription's first start) for 60%, else the end of the
    # trial or a day within the first 400.
    given = rng.random(subs) < 0.4
    trial_end = np.full(subs, -1)
    first_rows = np.flatnonzero(row_status == TRIALING)
    trial_end[sub[first_rows]] = row_end[first_rows]
    coupon_start = np.where(trial, trial_end, start + rng.integers(0, 400, subs))
    coupon_start = np.where(given & (coupon_start >= 0), coupon_start, -1)

    interval = np.where(yearly, "year", "month")
    epoch = (FIRST_DAY - dt.date(1970, 1, 1)).days

    def day(days: Any) -> Any:
        return pl.when(days >= 0).then(days + epoch).cast(pl.Int32).cast(pl.Date)

    return (
        pl.DataFrame(
            {
                "customer_id": customer[sub],
                "subscription_id": customer[sub] * 10 + index[sub],
                "start": row_start,
                "end": row_end,
                "status": np.asarray(STATUSES)[row_status],
                "amount": np.asarray(PRICES)[row_tier] * np.where(yearly, 10, every)[sub],
                "quantity": row_seats.astype(np.int64),
                "interval": interval[sub],
                "interval_count": every[sub].astype(np.int32),
                "percent_off": percent[sub],
                "amount_off": off[sub],
                "discount_duration": duration[sub],
                "duration_in_months": months[sub].astype(np.int32),
                "discount_start": coupon_start[sub],
            },
            nan_to_null=True,
        )
        .with_columns(
            day(pl.col("start")),
            day(pl.col("end")),
            day(pl.col("discount_start")),
            discount_duration=pl.when(
                pl.col("percent_off").is_not_null() | pl.col("amount_off").is_not_null()
            ).then(pl.col("discount_duration")),
        )
        .with_columns(
            duration_in_months=pl.when(pl.col("discount_duration") == "repeating").then(
                pl.col("duration_in_months")
            ),
            discount_start=pl.when(pl.col("discount_duration").is_not_null()).then(
                pl.col("discount_start")
            ),
        )
        .sort("customer_id", "subscription_id", "start")
    )


def generate(customers: int, seed: int = 17) -> Any:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    return pl.concat(
        [
            _chunk(rng, first, min(CHUNK, customers + 1 - first))
            for first in range(1, customers + 1, CHUNK)
        ]
    )


# --- The Polars peer ------------------------------------------------------------------------


def _half_even(numerator: Any, denominator: int) -> Any:
    """numerator / denominator rounded half to even, in integers (numerator >= 0)."""
    import polars as pl

    quotient, remainder = numerator // denominator, numerator % denominator
    half = denominator // 2
    up = (remainder > half) | ((remainder == half) & (quotient % 2 == 1))
    return quotient + up.cast(pl.Int64)


def polars_bridge(subs: Any, as_of: Any) -> Any:
    """The bridge of ``subs`` at the month ends up to ``as_of``, by hand."""
    import polars as pl

    us = pl.Datetime("us")
    cut = pl.lit(as_of).cast(us)
    never = pl.lit(dt.datetime(2200, 1, 1)).cast(us)
    last_month = pl.lit(as_of).cast(pl.Date).dt.month_start()
    months = (
        pl.when(pl.col("interval") == "year").then(12).otherwise(1)
        * pl.col("interval_count").fill_null(1)
    ).cast(pl.Int64)

    def shift(instant: Any, by: Any) -> Any:
        return instant.dt.offset_by(pl.format("{}mo", by))

    # The first billing period starting at or after the coupon's start: the k-th, counted in
    # calendar months from the subscription's first start.
    behind = (pl.col("ds").dt.year() - pl.col("anchor").dt.year()) * 12 + (
        pl.col("ds").dt.month().cast(pl.Int64) - pl.col("anchor").dt.month().cast(pl.Int64)
    )
    guess = (behind // pl.col("months")).clip(lower_bound=0)
    k = guess + (shift(pl.col("anchor"), guess * pl.col("months")) < pl.col("ds")).cast(pl.Int64)
    duration = pl.col("discount_duration")
    percent = (pl.col("percent_off").fill_null(0) * 100).round().cast(pl.Int64)
    rows = (
        subs.lazy()
        .with_columns(
            pl.col("start").cast(us),
            pl.col("end").cast(us).fill_null(never),
            anchor=pl.col("start").min().over("subscription_id").cast(us),
        )
        .filter(pl.col("status").is_in(["active", "past_due", "paused"]))
        .with_columns(
            ds=pl.col("discount_start").cast(us).fill_null(pl.col("anchor")),
            months=months,
            paused=pl.col("status") == "paused",
            gross=(pl.col("amount") * pl.col("quantity") * UNITS / months).round().cast(pl.Int64),
            off=(pl.col("amount_off").fill_null(0) * UNITS / months).round().cast(pl.Int64),
        )
        .with_columns(k=k)
        .with_columns(
            w0=pl.when(duration == "once")
            .then(shift(pl.col("anchor"), pl.col("k") * pl.col("months")))
            .when(duration.is_not_null())
            .then(pl.col("ds"))
            .otherwise(never),
            w1=pl.when(duration == "once")
            .then(shift(pl.col("anchor"), (pl.col("k") + 1) * pl.col("months")))
            .when(duration == "repeating")
            .then(shift(pl.col("ds"), pl.col("duration_in_months")))
            .otherwise(never),
            net=(_half_even(pl.col("gross") * (10_000 - percent), 10_000) - pl.col("off")).clip(
                lower_bound=0
            ),
        )
        .with_columns(
            gross=pl.when(pl.col("paused")).then(0).otherwise(pl.col("gross")),
            net=pl.when(pl.col("paused")).then(0).otherwise(pl.col("net")),
        )
        .select("customer_id", "start", "end", "w0", "w1", "gross", "net", "paused")
    )
    # Each row in up to three pieces of one value: before, inside and after its coupon.
    inside = pl.max_horizontal("start", "w0"), pl.min_horizontal("end", "w1"), pl.col("net")
    pieces = pl.concat(
        [
            rows.select(
                "customer_id", "paused", a="start", b=pl.min_horizontal("end", "w0"), value="gross"
            ),
            rows.select("customer_id", "paused", a=inside[0], b=inside[1], value=inside[2]),
            rows.select(
                "customer_id", "paused", a=pl.max_horizontal("start", "w1"), b="end", value="gross"
            ),
        ]
    ).filter((pl.col("a") < pl.col("b")) & (pl.col("a") <= cut))
    # A piece [a, b) is in month m when a <= the last instant of m (as_of for the last) < b.
    active = (
        pieces.with_columns(
            first=pl.col("a").dt.date().dt.month_start(),
            last=pl.when(pl.col("b") > cut)
            .then(last_month)
            .otherwise(pl.col("b").dt.date().dt.month_start().dt.offset_by("-1mo")),
        )
        .filter(pl.col("last") >= pl.col("first"))
        .with_columns(month=pl.date_ranges("first", "last", interval="1mo"))
        .explode("month")
        .group_by("customer_id", "month")
        .agg(mrr=pl.col("value").sum(), paused=pl.col("paused").any())
    )
    spine = harness.month_spine(active, last_month)
    # A customer is active when paying, or at $0 because paused (paused="zero").
    panel = (
        spine.join(active, on=["customer_id", "month"], how="left")
        .with_columns(pl.col("mrr").fill_null(0), pl.col("paused").fill_null(False))
        .with_columns(on=(pl.col("mrr") > 0) | pl.col("paused"))
        .sort("customer_id", "month")
        .with_columns(
            previous=pl.col("mrr").shift(1, fill_value=0).over("customer_id"),
            was_on=pl.col("on").shift(1, fill_value=False).over("customer_id"),
            seen=pl.col("on").cum_sum().shift(1, fill_value=0).over("customer_id") > 0,
        )
    )
    up = pl.col("mrr") - pl.col("previous")
    arrives = ~pl.col("was_on") & pl.col("on") & (pl.col("mrr") > 0)
    stays = pl.col("was_on") & pl.col("on")
    moves = {
        "new": (arrives & ~pl.col("seen"), up),
        "expansion": (stays & (up > 0), up),
        "contraction": (stays & (up < 0), -up),
        "churned": (pl.col("was_on") & ~pl.col("on"), pl.col("previous")),
        "reactivation": (arrives & pl.col("seen"), up),
    }
    customers = {
        "new": "new_customers",
        "expansion": "expansion_customers",
        "contraction": "contraction_customers",
        "churned": "churned_customers",
        "reactivation": "reactivated_customers",
    }
    bridge = (
        panel.group_by("month")
        .agg(
            starting_mrr=pl.col("previous").sum(),
            **{name: amount.filter(when).sum() for name, (when, amount) in moves.items()},
            ending_mrr=pl.col("mrr").sum(),
            starting_customers=(pl.col("previous") > 0).sum(),
            **{customers[name]: when.sum() for name, (when, _) in moves.items()},
            ending_customers=(pl.col("mrr") > 0).sum(),
            active_customers=pl.col("on").sum(),
            paused_customers=(pl.col("on") & (pl.col("mrr") == 0)).sum(),
        )
        .with_columns(pl.col(MONEY) / UNITS)
        .sort("month")
    )
    return bridge.collect()


# --- The peers ------------------------------------------------------------------------------


def plain(subs: Any) -> Any:
    """The rows without their billing detail: amount x quantity, every row paying."""
    import polars as pl

    return subs.with_columns(pl.col("amount") * pl.col("quantity")).drop(BILLING)


def identity_and_movements(subs: Any, as_of: Any, **options: Any) -> dict[str, Any]:
    """csmetrics' exactness on ``subs``: the bridge identity in integer units (its largest gap)
    and whether the movements sum to the bridge."""
    import polars as pl

    import csmetrics as csm

    units = csm.mrr_bridge(subs, as_of=as_of, money="units", **options)
    gap = harness.identity_gap(units)
    moves = csm.mrr_movements(subs, as_of=as_of, money="units", **options)
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
    same = (joined["amount"].fill_null(0) == joined["amount_moves"].fill_null(0)).all()
    return {"identity_max_gap_units": gap, "movements_match_bridge": bool(same)}


def run_peer(peer: str, path: str, repeat: int, result: str) -> dict[str, object]:
    import numpy as np
    import polars as pl

    import csmetrics as csm

    subs = pl.read_parquet(path)
    as_of = subs["start"].max()
    if peer == "plain":
        subs = plain(subs)
    options: dict[str, Any] = {"interval_count": "interval_count"}
    if peer == "csmetrics":
        options |= POLICIES

    def compute(subs: Any = subs) -> Any:
        if peer == "polars":
            return polars_bridge(subs, as_of)
        return csm.mrr_bridge(subs, as_of=as_of, **options)

    table, figures = harness.measure(compute, repeat, subs.head(harness.SAMPLE))
    month = "month" if peer == "polars" else "period"
    columns = MONEY + COUNTS if peer != "plain" else MONEY
    values = {c: table[c] for c in columns}
    # Equal to 1e-6 (one unit of precision=6) on top of 1e-9 relative.
    atol = np.full(table.height, 1e-6)
    harness.save_result(result, [str(m)[:7] for m in table[month]], values, atol=atol)
    if peer != "polars":
        figures |= identity_and_movements(subs, as_of, **options)
    return figures


def exactness(figures: dict[str, dict[str, Any]]) -> list[str]:
    """What is not exact in csmetrics' figures (with and without billing detail)."""
    problems = []
    for peer in ("csmetrics", "plain"):
        f = figures.get(peer, {})
        if f and (f["identity_max_gap_units"] or not f["movements_match_bridge"]):
            problems.append(
                f"{peer} is not exact: identity gap {f['identity_max_gap_units']} units, "
                f"movements sum to the bridge: {f['movements_match_bridge']}"
            )
    return problems


# --- Hand-computed cases --------------------------------------------------------------------


def _case(rows: list[dict[str, Any]]) -> Any:
    import polars as pl

    full = {
        "subscription_id": None,
        "end": None,
        "status": "active",
        "quantity": 1,
        "interval": "month",
        "interval_count": 1,
        "percent_off": None,
        "amount_off": None,
        "discount_duration": None,
        "duration_in_months": None,
        "discount_start": None,
    }
    frame = pl.DataFrame(
        [full | row for row in rows],
        schema={
            "customer_id": pl.String,
            "subscription_id": pl.String,
            "start": pl.Date,
            "end": pl.Date,
            "status": pl.String,
            "amount": pl.Float64,
            "quantity": pl.Int64,
            "interval": pl.String,
            "interval_count": pl.Int32,
            "percent_off": pl.Float64,
            "amount_off": pl.Float64,
            "discount_duration": pl.String,
            "duration_in_months": pl.Int32,
            "discount_start": pl.Date,
        },
    )
    return frame.with_columns(pl.col("subscription_id").fill_null(pl.col("customer_id")))


D = dt.date
# (what it checks, rows, as_of, per month from January 2024: starting, new, expansion,
# contraction, churned, reactivation, ending MRR, then paused customers)
CASES: list[tuple[str, list[dict[str, Any]], dt.date, list[tuple[float, ...]]]] = [
    (
        "3 seats x $10, 20% once from the first start: the first month only",
        [
            {"customer_id": "a", "start": D(2024, 1, 15), "amount": 10.0, "quantity": 3}
            | {"percent_off": 20.0, "discount_duration": "once"}
        ],
        D(2024, 3, 10),
        [(0, 24, 0, 0, 0, 0, 24, 0), (24, 0, 6, 0, 0, 0, 30, 0), (30, 0, 0, 0, 0, 0, 30, 0)],
    ),
    (
        "a trial (excluded), then $1200/year with $120/year off for 2 months from the trial end",
        [
            {"customer_id": "b", "subscription_id": "b1", "start": D(2024, 1, 10)}
            | {"end": D(2024, 1, 24), "status": "trialing", "amount": 1200.0},
            {"customer_id": "b", "subscription_id": "b1", "start": D(2024, 1, 24)}
            | {"amount": 1200.0, "interval": "year", "amount_off": 120.0}
            | {"discount_duration": "repeating", "duration_in_months": 2}
            | {"discount_start": D(2024, 1, 24)},
        ],
        D(2024, 3, 25),
        [(0, 90, 0, 0, 0, 0, 90, 0), (90, 0, 0, 0, 0, 0, 90, 0), (90, 0, 10, 0, 0, 0, 100, 0)],
    ),
    (
        "paused: a contraction to 0 (still a customer), the resume an expansion",
        [
            {"customer_id": "c", "start": D(2024, 1, 1), "end": D(2024, 2, 10), "amount": 50.0},
            {"customer_id": "c", "start": D(2024, 2, 10), "end": D(2024, 3, 15)}
            | {"status": "paused", "amount": 50.0},
            {"customer_id": "c", "start": D(2024, 3, 15), "amount": 50.0},
        ],
        D(2024, 4, 2),
        [
            (0, 50, 0, 0, 0, 0, 50, 0),
            (50, 0, 0, 50, 0, 0, 0, 1),
            (0, 0, 50, 0, 0, 0, 50, 0),
            (50, 0, 0, 0, 0, 0, 50, 0),
        ],
    ),
    (
        "past_due keeps its MRR, unpaid has none (churn), paying again is a reactivation",
        [
            {"customer_id": "d", "start": D(2024, 1, 1), "end": D(2024, 1, 20), "amount": 40.0},
            {"customer_id": "d", "start": D(2024, 1, 20), "end": D(2024, 2, 20)}
            | {"status": "past_due", "amount": 40.0},
            {"customer_id": "d", "start": D(2024, 2, 20), "end": D(2024, 3, 20)}
            | {"status": "unpaid", "amount": 40.0},
            {"customer_id": "d", "start": D(2024, 3, 20), "amount": 40.0},
        ],
        D(2024, 3, 25),
        [(0, 40, 0, 0, 0, 0, 40, 0), (40, 0, 0, 0, 40, 0, 0, 0), (0, 0, 0, 0, 0, 40, 40, 0)],
    ),
    (
        "once from Feb 15 on a plan started Jan 31: the period from Feb 29 (clamped)",
        [
            {"customer_id": "e", "start": D(2024, 1, 31), "amount": 30.0, "percent_off": 50.0}
            | {"discount_duration": "once", "discount_start": D(2024, 2, 15)}
        ],
        D(2024, 3, 10),
        [(0, 30, 0, 0, 0, 0, 30, 0), (30, 0, 0, 15, 0, 0, 15, 0), (15, 0, 0, 0, 0, 0, 15, 0)],
    ),
    (
        "25% then $30 off on 2 seats x $100, forever; a $10 plan with $20 off is $0 (no customer)",
        [
            {"customer_id": "f", "start": D(2024, 1, 5), "amount": 100.0, "quantity": 2}
            | {"percent_off": 25.0, "amount_off": 30.0, "discount_duration": "forever"},
            {"customer_id": "g", "start": D(2024, 1, 5), "amount": 10.0, "amount_off": 20.0}
            | {"discount_duration": "forever"},
        ],
        D(2024, 2, 10),
        [(0, 120, 0, 0, 0, 0, 120, 0), (120, 0, 0, 0, 0, 0, 120, 0)],
    ),
    (
        "100% once: $0 the first month (not a customer), new the next; 12.5% rounds half-even",
        [
            {"customer_id": "h", "start": D(2024, 1, 1), "amount": 20.0, "percent_off": 100.0}
            | {"discount_duration": "once"},
            {"customer_id": "i", "start": D(2024, 2, 3), "amount": 1.000012}
            | {"percent_off": 12.5, "discount_duration": "forever"},
        ],
        D(2024, 2, 10),
        [(0, 20.87501, 0, 0, 0, 0, 20.87501, 0)],  # January, all 0, may not be reported
    ),
    (
        "once, no start, copied onto a trial and its paid spell: the trial's billing period",
        [
            {"customer_id": "k", "start": D(2024, 1, 1), "end": D(2024, 2, 5)}
            | {"status": "trialing", "amount": 100.0, "percent_off": 50.0}
            | {"discount_duration": "once"},
            {"customer_id": "k", "start": D(2024, 2, 5), "amount": 100.0, "percent_off": 50.0}
            | {"discount_duration": "once"},
        ],
        D(2024, 3, 3),
        [(0, 100, 0, 0, 0, 0, 100, 0), (100, 0, 0, 0, 0, 0, 100, 0)],
    ),
    (
        "yearly $1200 from 2023-06-30, 50% once from 2024-02-01: the year from 2024-06-30",
        [
            {"customer_id": "j", "start": D(2023, 6, 30), "amount": 1200.0, "interval": "year"}
            | {"percent_off": 50.0, "discount_duration": "once", "discount_start": D(2024, 2, 1)}
        ],
        D(2024, 7, 2),
        [(0, 100, 0, 0, 0, 0, 100, 0)]
        + [(100, 0, 0, 0, 0, 0, 100, 0)] * 11
        + [(100, 0, 0, 50, 0, 0, 50, 0), (50, 0, 0, 0, 0, 0, 50, 0)],
    ),
]


def self_test(run: list[str]) -> None:
    """The Polars peer and csmetrics (``run``: either or both) on :data:`CASES`; exits non-zero
    when a bridge differs from the hand-computed one."""
    import sys

    import csmetrics as csm

    problems = []
    for what, rows, as_of, expected in CASES:
        subs = _case(rows)
        peers = {"polars": lambda subs=subs, as_of=as_of: polars_bridge(subs, as_of)}
        peers["csmetrics"] = lambda subs=subs, as_of=as_of: csm.mrr_bridge(
            subs, as_of=as_of, interval_count="interval_count", **POLICIES
        )
        for peer, compute in peers.items():
            if peer not in run:
                continue
            try:
                table = compute()
            except Exception as error:  # reported, not raised
                problems.append(f"{peer}: {what}: {type(error).__name__}: {error}")
                continue
            # csmetrics starts at the first period with activity: align on the last month.
            got = [
                tuple(round(float(v), 9) for v in row)
                for row in table.select(*MONEY, "paused_customers").rows()
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
    print("\nbilling / plain (target: within 1.5x), polars / csmetrics (target: at least 10x):")
    for label, figures in rows:
        seconds = {peer: f["seconds"] for peer, f in figures.items()}
        cells = []
        if "csmetrics" in seconds and "plain" in seconds:
            cells.append(f"billing / plain {seconds['csmetrics'] / seconds['plain']:.2f}x")
        if "csmetrics" in seconds and "polars" in seconds:
            cells.append(f"polars / csmetrics {seconds['polars'] / seconds['csmetrics']:.1f}x")
        print(f"  {' '.join(label)}: {', '.join(cells)}")


def main() -> None:
    parser = harness.parser(
        __doc__, [1_000_000, 10_000_000], 2, PEERS, size_aliases=["--customers"]
    )
    parser.set_defaults(keys=["string", "categorical"])
    parser.add_argument("--orders", nargs="+", choices=ORDERS, default=ORDERS)
    parser.add_argument(
        "--polars-max", type=int, default=10_000_000, help="largest size the Polars peer runs at"
    )
    parser.add_argument("--cache", help="keep the generated Parquet files here (and reuse them)")
    parser.add_argument("--self-test", action="store_true", help="the hand-computed cases only")
    args = harness.parse_args(parser, run_peer)
    if args.self_test:
        self_test(args.peers)
        return

    import polars as pl

    harness.print_versions()
    print(f"MRR bridge with seats, coupons and statuses, {POLICIES}; best of {args.repeat} runs")
    runs = harness.Runs()
    with harness.cache_folder(args.cache) as folder:
        for size in args.sizes:
            base = folder / f"billing_{size}.parquet"
            started = time.perf_counter()
            if not base.exists():
                generate(size).write_parquet(base)
            subs = pl.read_parquet(base)
            print(
                f"{size:,} customers: {subs.n_unique('subscription_id'):,} subscriptions, "
                f"{subs.height:,} rows (generated or read in {time.perf_counter() - started:.1f} s)"
            )
            for keys, instants in harness.combinations(args):
                frame = harness.convert(
                    subs,
                    keys,
                    instants,
                    ids=["customer_id", "subscription_id"],
                    instants=["start", "end", "discount_start"],
                )
                for order in args.orders:
                    if order == "shuffled":
                        frame = frame.sample(fraction=1.0, shuffle=True, seed=5)
                    path = str(folder / f"billing_{size}_{keys}_{instants}_{order}.parquet")
                    if not Path(path).exists():
                        frame.write_parquet(path)
                    label = (f"{size:,}", keys, instants, order)
                    where = " ".join(label)
                    checked = [p for p in ("csmetrics", "polars") if p in args.peers]
                    if size > args.polars_max and "polars" in checked:
                        checked.remove("polars")
                    figures, found = harness.run_peers(__file__, checked, path, args.repeat)
                    runs.problem(where, found)
                    if "plain" in args.peers:
                        # Not the same bridge: checked for exactness only.
                        alone, found = harness.run_peers(
                            __file__, ["plain"], path, args.repeat, base="plain"
                        )
                        runs.problem(where, found)
                        figures |= alone
                    runs.problem(where, exactness(figures))
                    runs.rows.append((label, figures))
                del frame
            del subs
        runs.finish(
            ["customers", "keys", "instants", "rows"],
            args.peers,
            "csmetrics exact on every row: the bridge identity in integer units, movements sum "
            "to the bridge (with and without billing detail)",
        )
    _ratios(runs.rows)


if __name__ == "__main__":
    main()
