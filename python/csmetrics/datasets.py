"""Synthetic and reference data sets.

* :func:`saas` generates one coherent synthetic subscription business (customers, subscriptions,
  purchases, surveys, support tickets, product usage, retention costs, trials and conversions)
  with the same customer ids in every table; :func:`write` streams it to Parquet files and
  :func:`write_stripe` writes its subscriptions as a Stripe export (JSON lines).
* :func:`cdnow`, :func:`donations` and :func:`sbg_retention` read the reference data bundled with
  the package (its provenance and licence are in ``csmetrics/data/NOTICE``).
* :func:`survey_responses` generates survey answers alone.

Generated data is deterministic: the same parameters and seed give identical tables on every
machine (the generator runs in the Rust core, with per-customer random streams, so neither the
number of threads nor the chunking changes the output).
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, fields
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import polars as pl

from csmetrics import _internal
from csmetrics._options import guard_module, option_error, whole

__all__ = [
    "MILESTONES",
    "SaasData",
    "cdnow",
    "donations",
    "feedback_dictionary",
    "feedback_responses",
    "saas",
    "sbg_retention",
    "survey_responses",
    "write",
    "write_stripe",
]

MILESTONES = (
    "setup_completed",
    "data_connected",
    "first_report",
    "team_invited",
    "integration_added",
)
"""The onboarding journey of the ``milestones`` table of :func:`saas`, in order."""

_EPOCH = dt.date(1970, 1, 1)
_RAW_EVENTS_LIMIT = 10_000
_ALL_CUSTOMERS = 2**64 - 1


def survey_responses(
    n: int = 100_000, *, customers: int = 10_000, months: int = 12, seed: int = 0
) -> pl.DataFrame:
    """Survey answers of a synthetic subscription business.

    Parameters
    ----------
    n
        Number of answers.
    customers
        Number of customers answering; each has a fixed segment (60% ``smb``, 30%
        ``mid_market``, 10% ``enterprise``), and larger segments are happier (NPS near 10, 30
        and 45).
    months
        Calendar months covered, from January 2024; answer dates are uniform over them.
    seed
        Seed of the generator.

    Returns
    -------
    polars.DataFrame
        ``customer_id`` (Int64), ``segment`` (String), ``timestamp`` (Date), ``nps`` (0-10),
        ``csat`` (1-5), ``ces`` (1-7, higher is easier), all Int8 scores. CSAT and CES follow the
        NPS answer of the same row.

    Examples
    --------
    >>> from csmetrics import datasets
    >>> answers = datasets.survey_responses(1_000, customers=100, months=3, seed=1)
    >>> answers.shape
    (1000, 6)
    >>> import datetime
    >>> answers["timestamp"].min(), answers["timestamp"].max() < datetime.date(2024, 4, 1)
    (datetime.date(2024, 1, 1), True)
    """
    return _internal.survey_responses(n, customers, months, seed)


def feedback_responses(
    n: int = 100_000, *, customers: int = 10_000, months: int = 12, seed: int = 0
) -> pl.DataFrame:
    """Survey answers with free-text comments (see :func:`survey_responses`).

    Billing problems are the planted driver of detractors: a detractor's comment is about
    billing with probability 0.7 when the customer churns afterwards and 0.3 otherwise
    (passives 0.08, promoters 0.03); the other comments pick one of seven other themes at
    random. Detractors write negatively 90% of the time, passives half, promoters 8%.

    Parameters
    ----------
    n, customers, months, seed
        As in :func:`survey_responses`.

    Returns
    -------
    polars.DataFrame
        The columns of :func:`survey_responses`, then ``churned`` (Boolean: churn after
        answering, probability 0.3 for a detractor, 0.1 for a passive, 0.03 for a promoter)
        and ``comment`` (String, null for about a third of the answers).

    Examples
    --------
    >>> from csmetrics import datasets
    >>> answers = datasets.feedback_responses(1_000, customers=100, months=3, seed=1)
    >>> answers.columns[-2:], answers["comment"].dtype
    (['churned', 'comment'], String)
    """
    return _internal.feedback_responses(n, customers, months, seed)


def feedback_dictionary() -> dict[str, list[str]]:
    """The theme dictionary of the generated comments: theme -> regular expressions.

    Examples
    --------
    >>> from csmetrics import datasets
    >>> list(datasets.feedback_dictionary())[:3]
    ['billing', 'support', 'performance']
    """
    return dict(_internal.feedback_dictionary())


@dataclass(frozen=True)
class SaasData:
    """The tables of a synthetic business (see :func:`saas`), one attribute per table.

    ``tables()`` gives them as a dict in a fixed order (the order and file names of
    :func:`write`); ``parameters`` holds every parameter used, including the purchase model's.
    """

    customers: pl.DataFrame
    subscriptions: pl.DataFrame
    transactions: pl.DataFrame
    surveys: pl.DataFrame
    tickets: pl.DataFrame
    usage: pl.DataFrame
    events: pl.DataFrame
    costs: pl.DataFrame
    trials: pl.DataFrame
    conversions: pl.DataFrame
    milestones: pl.DataFrame
    parameters: dict[str, Any]

    def tables(self) -> dict[str, pl.DataFrame]:
        """The tables by name, in the order customers, subscriptions, transactions, surveys,
        tickets, usage, events, costs, trials, conversions, milestones."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "parameters"}


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class _Settings:
    customers: int
    months: int
    start: dt.date
    churn_hazard: float
    expansion_rate: float
    contraction_rate: float
    reactivation_probability: float
    trial_share: float
    trial_conversion: float
    usage_days: int
    raw_events: bool | None
    bgnbd: tuple[float, float, float, float]
    gamma_gamma: tuple[float, float, float]
    seat_share: float
    mean_seats: float
    seat_change_rate: float
    discount_share: float
    pause_rate: float
    past_due_rate: float
    failed_payment_share: float
    cancel_notice_share: float
    seed: int

    def raw_events_limit(self) -> int:
        if self.raw_events is None:
            return _RAW_EVENTS_LIMIT
        return _ALL_CUSTOMERS if self.raw_events else 0

    def generate(self, first_customer: int, count: int) -> list[tuple[str, pl.DataFrame]]:
        if self.customers < 1:
            raise option_error("customers", self.customers, "must be at least 1")
        start = self.start.date() if isinstance(self.start, dt.datetime) else self.start
        r, alpha, a, b = self.bgnbd
        p, q, gamma = self.gamma_gamma
        return _internal.saas(
            self.customers,
            self.months,
            (start - _EPOCH).days,
            self.churn_hazard,
            self.expansion_rate,
            self.contraction_rate,
            self.reactivation_probability,
            self.trial_share,
            self.trial_conversion,
            self.usage_days,
            self.raw_events_limit(),
            (float(r), float(alpha), float(a), float(b)),
            (float(p), float(q), float(gamma)),
            float(self.seat_share),
            float(self.mean_seats),
            float(self.seat_change_rate),
            float(self.discount_share),
            float(self.pause_rate),
            float(self.past_due_rate),
            float(self.failed_payment_share),
            float(self.cancel_notice_share),
            self.seed,
            first_customer,
            count,
        )

    def parameters(self) -> dict[str, Any]:
        start = self.start.date() if isinstance(self.start, dt.datetime) else self.start
        r, alpha, a, b = self.bgnbd
        p, q, gamma = self.gamma_gamma
        return {
            "customers": self.customers,
            "months": self.months,
            "start": start,
            "end": _add_months(start, self.months),
            "churn_hazard": self.churn_hazard,
            "expansion_rate": self.expansion_rate,
            "contraction_rate": self.contraction_rate,
            "reactivation_probability": self.reactivation_probability,
            "trial_share": self.trial_share,
            "trial_conversion": self.trial_conversion,
            "usage_days": self.usage_days,
            "raw_events": self.customers <= self.raw_events_limit(),
            "bgnbd": {"r": r, "alpha": alpha, "a": a, "b": b, "time_unit": "week"},
            "gamma_gamma": {"p": p, "q": q, "gamma": gamma},
            "seat_share": self.seat_share,
            "mean_seats": self.mean_seats,
            "seat_change_rate": self.seat_change_rate,
            "discount_share": self.discount_share,
            "pause_rate": self.pause_rate,
            "past_due_rate": self.past_due_rate,
            "failed_payment_share": self.failed_payment_share,
            "cancel_notice_share": self.cancel_notice_share,
            "seed": self.seed,
        }


def saas(
    customers: int = 10_000,
    *,
    months: int = 24,
    start: dt.date = dt.date(2023, 1, 1),
    churn_hazard: float = 0.03,
    expansion_rate: float = 0.02,
    contraction_rate: float = 0.01,
    reactivation_probability: float = 0.15,
    trial_share: float = 0.3,
    trial_conversion: float = 0.4,
    usage_days: int = 28,
    raw_events: bool | None = None,
    bgnbd: tuple[float, float, float, float] = (0.25, 4.0, 0.8, 2.5),
    gamma_gamma: tuple[float, float, float] = (6.0, 4.0, 15.0),
    seat_share: float = 0.3,
    mean_seats: float = 5.0,
    seat_change_rate: float = 0.03,
    discount_share: float = 0.2,
    pause_rate: float = 0.01,
    past_due_rate: float = 0.03,
    failed_payment_share: float = 0.25,
    cancel_notice_share: float = 0.4,
    seed: int = 0,
) -> SaasData:
    """A seeded synthetic subscription business, every table sharing the same customer ids.

    Customers sign up on days drawn uniformly over ``months`` calendar months from ``start``
    (the history ends, exclusive, at ``parameters["end"]``). Each starts with a 14-day trial
    (share ``trial_share``), on the free plan (4% of the others) or on a paid plan, and then
    renews monthly, quarterly or yearly. Before every renewal a paying customer is unhappy (20%),
    neutral (30%) or happy (50%), drawn afresh each term: the mood multiplies the churn hazard by
    3.0, 1.0 or 0.2 (average 1) and drives that term's survey answer, tickets and usage, so low
    scores come before churn while the monthly logo churn of monthly-billed customers stays at
    ``churn_hazard``. Transactions are a separate buy-till-you-die purchase stream (BG/NBD and
    Gamma-Gamma) whose generating parameters are returned, so that a fit can recover them.

    Parameters
    ----------
    customers
        Number of customers (ids 1 to ``customers``).
    months
        Calendar months of history, 1 to 240.
    start
        First day of the history.
    churn_hazard
        Monthly probability that a paying customer cancels at a renewal, 0 to 1/3; an m-month
        term ends in cancellation with probability ``1 - (1 - churn_hazard * mood)^m``.
    expansion_rate
        Monthly probability of an upgrade to the next plan (one more unit at the top plan); half
        of it is the monthly probability of buying an add-on, and it is also the monthly
        probability that a free customer starts to pay.
    contraction_rate
        Monthly probability of a downgrade to the plan below (none from ``starter``).
    reactivation_probability
        Probability that a customer who cancels comes back, 2-12 months later, on the plan they
        left.
    trial_share
        Share of customers who start with a 14-day trial.
    trial_conversion
        Probability that a trial converts to a paid plan (``converted_at`` is within 7 days of
        the trial's end; billing starts at the later of the two).
    usage_days
        Days at the end of the history covered by the daily usage table (0 for none).
    raw_events
        Generate the raw events table: ``None`` (default) does it for at most 10,000 customers
        (about 440 events per customer with the defaults); ``True`` always; ``False`` never.
    bgnbd
        ``(r, alpha, a, b)`` of the purchase process, in weeks: purchase rates
        ``λ ~ Gamma(shape r, rate alpha)``, dropout after each repeat purchase with probability
        ``p ~ Beta(a, b)``. The defaults are close to the published CDNOW fit.
    gamma_gamma
        ``(p, q, gamma)`` of the purchase amounts: ``Gamma(shape p, rate nu)`` with
        ``nu ~ Gamma(shape q, rate gamma)`` per customer; the mean amount is
        ``p * gamma / (q - 1)``.
    seat_share
        Share of customers whose paid plans are sold per seat: ``quantity`` is their seats and
        ``amount`` the price of one seat (the plan's price divided by ``mean_seats``). The other
        plans are flat: ``quantity`` 1 and ``amount`` the plan's price times its units (1 for
        smb, 1-3 mid-market, 1-5 enterprise), so the business's MRR has the same scale either
        way.
    mean_seats
        Mean seats per unit of a per-seat customer, 1 to 1,000: ``u`` units start with
        ``1 + Poisson(u * mean_seats - 1)`` seats, ``u * mean_seats`` on average, at the plan's
        price divided by ``mean_seats`` a seat, so the expected MRR of a customer's first paid
        plan is the flat plan's.
    seat_change_rate
        Monthly probability that a per-seat subscription changes its seats at a renewal (a new
        row of the same ``subscription_id``; 60% add, 40% remove 1 to a fifth of the seats,
        never below 1).
    discount_share
        Share of paid subscriptions started at a signup, trial conversion, free-to-paid move or
        reactivation that carry a discount: ``once`` 30%, ``repeating`` 50% (3, 6 or 12
        months), ``forever`` 20%; 75% ``percent_off`` (10, 20, 25 or 50), else ``amount_off``
        (20% of the first invoice, in whole currency units). Plan changes start subscriptions
        without one.
    pause_rate
        Probability that a monthly-billed subscription pauses at a renewal: a ``paused`` spell of
        1 to 3 months, then ``active`` again on the same ``subscription_id``.
    past_due_rate
        Probability that the payment of a renewal fails and is recovered: a ``past_due`` spell
        of 3 to 21 days, then ``active``.
    failed_payment_share
        Share of the cancellations of paid subscriptions (not paused) that are failed payments:
        a ``past_due`` spell of 7 to 28 days ends the subscription
        (``churn_reason="payment_failed"``).
    cancel_notice_share
        Share of the voluntary cancellations of paid subscriptions asked for in advance:
        ``canceled_at`` 1 to 42 days before the end of the paid term (``end``), else null.
    seed
        Seed of every random draw.

    Returns
    -------
    SaasData
        One attribute per table (rows ordered by customer, then time; expected rows per
        customer with the defaults in brackets):

        - ``customers`` [1]: ``customer_id`` (Int64), ``signup_date`` (Date), ``segment``
          (``smb`` 60% / ``mid_market`` 30% / ``enterprise`` 10%), ``country`` (ISO code).
        - ``subscriptions`` [1.9; at most 3 per month + 3]: ``customer_id``,
          ``subscription_id`` (Int64), ``plan`` (``trial``, ``free``, ``starter`` $49,
          ``growth`` $149, ``business`` $499, ``enterprise`` $1,999 a month times 1-5 units;
          add-ons ``addon_analytics`` $29 and ``addon_support`` $99), ``start``, ``end`` (Date,
          null while running; half-open ``[start, end)``), ``amount`` (Float64, per billing
          interval and unit of quantity: a flat plan's price times its units, or one seat's),
          ``interval`` (``month`` / ``year``), ``interval_count`` (Int32: 3 for quarterly),
          ``quantity`` (Int32: 1 on flat plans, the seats of a per-seat one; MRR = ``amount *
          quantity`` / months of the interval, before discounts), ``status`` (``trialing`` on
          trial rows, ``active``, ``past_due``, ``paused``: one row per status spell, the next
          starting the day the previous ends; no row is ``canceled``: an ended row keeps the
          status of its spell), ``percent_off``, ``amount_off`` (Float64), ``discount_duration`` (``once`` /
          ``repeating`` / ``forever``), ``duration_in_months`` (Int32, repeating only),
          ``discount_start`` (Date, the subscription's first start), ``discount_end`` (Date,
          always null): the discount columns are null without a discount and repeated on every
          row of a discounted subscription; ``canceled_at`` (Date: the request of a cancellation
          asked in advance, on the subscription's last row, before ``end``; null otherwise) and
          ``churn_reason`` (``cancellation_requested`` / ``payment_failed`` on the last row of
          a subscription that ended by churn, add-ons dropped included; null on running rows,
          trials and rows replaced by a plan change). Plan changes end a subscription and start
          the next the same day; seat changes, pauses and past-due spells are rows of the same
          ``subscription_id``; add-ons overlap their base plan.
        - ``transactions`` [2.5; ``1 + (r/alpha) * weeks`` at most on average]: ``customer_id``,
          ``timestamp`` (Datetime[us]), ``amount`` (Float64, cents). The first purchase falls
          on the signup day.
        - ``surveys`` [1.6; at most 1 per renewal]: ``customer_id``, ``segment``, ``timestamp``
          (Date), ``nps`` (0-10), ``csat`` (1-5), ``ces`` (1-7, higher is easier), all Int8;
          answered 1-14 days before a renewal with probability 0.25 (monthly billing), 0.6
          (quarterly) or 0.9 (yearly); ``comment`` (String, null for about a third): a
          sentence from per-theme phrase sets (:func:`feedback_dictionary`), negative for most
          detractors and positive for most promoters, about billing for 70% of the detractors
          who churn within 120 days of answering (30% of the other detractors, 3-8% of the
          rest).
        - ``tickets`` [1.7]: ``ticket_id``, ``customer_id`` (Int64), ``opened_at``,
          ``resolved_at`` (Datetime[us], null while open), ``contacts`` (Int32),
          ``reopened_at`` (Datetime[us], null unless reopened), ``resolvable_at_first_contact``
          (Boolean), ``first_response_at`` (Datetime[us], null while unanswered; never after the
          resolution), ``priority`` (``high`` 20%, ``normal`` 50%, ``low`` 30%) and ``channel``
          (``email`` 50%, ``chat`` 30%, ``phone`` 20%); the first response comes after an
          exponential wait of mean 1.5, 6 or 16 hours by priority, times 1, 0.3 or 0.2 by
          channel.
        - ``usage`` [12.4; at most 4 per day of the window]: ``customer_id``, ``date`` (Date),
          ``active_users``, ``events`` (Int32), ``feature`` (``core``, ``reports``,
          ``integrations``, ``api``): one row per customer, active day and feature, over the
          last ``usage_days`` days.
        - ``events``: ``customer_id``, ``user_id`` (Int64), ``timestamp`` (Datetime[us]),
          ``feature``: the raw events behind ``usage`` (they aggregate to it exactly); empty
          unless ``raw_events``.
        - ``costs`` [``months`` rows in all]: ``period`` (Date, first of the month),
          ``amount``: the retention programme's cost, $1.50 / $6 / $25 per smb / mid-market /
          enterprise customer paying at any time in the month.
        - ``trials`` [0.3]: ``customer_id``, ``trial_start``, ``trial_end``, ``converted_at``
          (Date, null unless converted before the end of the history).
        - ``conversions`` [1.0]: ``customer_id``, ``timestamp`` (Date), ``kind``: ``new`` when
          a paid subscription starts (first, after a trial or free plan, or on reactivation),
          ``upsell`` at an upgrade, ``cross_sell`` at an add-on.
        - ``milestones`` [2.5]: ``customer_id`` (Int64), ``milestone`` (String), ``timestamp``
          (Datetime[us]): the onboarding journey ``setup_completed``, ``data_connected``,
          ``first_report``, ``team_invited``, ``integration_added``, each reached with
          probability 0.9, 0.75, 0.8, 0.6, 0.5 once the previous one is, after an exponential
          wait of mean 2, 6, 8, 15, 25 days (from 08:00 of the signup day for the first). A
          customer whose first paid life ends within 180 days reaches ``data_connected`` (the
          activation milestone) with 0.45 times the probability: activated customers retain
          better.

        ``parameters`` is a dict of every parameter (``start`` and ``end`` as dates, ``bgnbd``
        and ``gamma_gamma`` as dicts of the generating values).

    Raises
    ------
    InvalidInputError
        A parameter out of range (named in the message and the ``option`` attribute).

    Examples
    --------
    >>> from csmetrics import datasets
    >>> data = datasets.saas(500, months=6, seed=1)
    >>> list(data.tables())  # doctest: +NORMALIZE_WHITESPACE
    ['customers', 'subscriptions', 'transactions', 'surveys', 'tickets', 'usage', 'events',
     'costs', 'trials', 'conversions', 'milestones']
    >>> data.customers.height, data.costs.height
    (500, 6)
    >>> data.subscriptions.columns  # doctest: +NORMALIZE_WHITESPACE
    ['customer_id', 'subscription_id', 'plan', 'start', 'end', 'amount', 'interval',
     'interval_count', 'quantity', 'status', 'percent_off', 'amount_off', 'discount_duration',
     'duration_in_months', 'discount_start', 'discount_end', 'canceled_at', 'churn_reason']
    >>> data.parameters["end"], data.parameters["bgnbd"]["r"]
    (datetime.date(2023, 7, 1), 0.25)
    >>> set(data.subscriptions["customer_id"]) <= set(data.customers["customer_id"])
    True
    >>> data.subscriptions.equals(datasets.saas(500, months=6, seed=1).subscriptions)
    True
    """
    settings = _Settings(
        customers,
        months,
        start,
        churn_hazard,
        expansion_rate,
        contraction_rate,
        reactivation_probability,
        trial_share,
        trial_conversion,
        usage_days,
        raw_events,
        bgnbd,
        gamma_gamma,
        seat_share,
        mean_seats,
        seat_change_rate,
        discount_share,
        pause_rate,
        past_due_rate,
        failed_payment_share,
        cancel_notice_share,
        seed,
    )
    tables = dict(settings.generate(1, customers))
    return SaasData(**tables, parameters=settings.parameters())


def _chunks(customers: int, chunk_customers: int) -> Iterator[tuple[int, int]]:
    for first in range(1, customers + 1, chunk_customers):
        yield first, min(chunk_customers, customers - first + 1)


def write(
    path: str | Path,
    customers: int = 10_000,
    *,
    chunk_customers: int = 1_000_000,
    months: int = 24,
    start: dt.date = dt.date(2023, 1, 1),
    churn_hazard: float = 0.03,
    expansion_rate: float = 0.02,
    contraction_rate: float = 0.01,
    reactivation_probability: float = 0.15,
    trial_share: float = 0.3,
    trial_conversion: float = 0.4,
    usage_days: int = 28,
    raw_events: bool | None = None,
    bgnbd: tuple[float, float, float, float] = (0.25, 4.0, 0.8, 2.5),
    gamma_gamma: tuple[float, float, float] = (6.0, 4.0, 15.0),
    seat_share: float = 0.3,
    mean_seats: float = 5.0,
    seat_change_rate: float = 0.03,
    discount_share: float = 0.2,
    pause_rate: float = 0.01,
    past_due_rate: float = 0.03,
    failed_payment_share: float = 0.25,
    cancel_notice_share: float = 0.4,
    seed: int = 0,
) -> dict[str, int]:
    """Generate the business of :func:`saas` and write each table to ``<path>/<table>.parquet``.

    The customers are generated ``chunk_customers`` at a time, so peak memory stays bounded
    (about 0.8 GB per million customers in a chunk) however many customers there are. Each chunk
    is written to a temporary part file; the parts of each table are then streamed into one file
    (``polars.scan_parquet(...).sink_parquet(...)``) and removed. The tables hold exactly the rows
    :func:`saas` returns for the same parameters, whatever ``chunk_customers`` is; ``costs`` sums
    the chunks' costs. ``parameters.json`` records the parameters.

    Parameters
    ----------
    path
        Folder to write to (created if missing; existing table files are replaced).
    customers
        Number of customers.
    chunk_customers
        Customers generated at a time.
    months, start, churn_hazard, expansion_rate, contraction_rate, reactivation_probability, \
trial_share, trial_conversion, usage_days, raw_events, bgnbd, gamma_gamma, seat_share, \
mean_seats, seat_change_rate, discount_share, pause_rate, past_due_rate, failed_payment_share, \
cancel_notice_share, seed
        As in :func:`saas`.

    Returns
    -------
    dict[str, int]
        Rows written per table.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> from csmetrics import datasets
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     rows = datasets.write(folder, 300, chunk_customers=100, months=6, seed=2)
    ...     customers = pl.read_parquet(f"{folder}/customers.parquet")
    >>> rows["customers"], customers["customer_id"].to_list()[:3]
    (300, [1, 2, 3])
    >>> rows["subscriptions"] == datasets.saas(300, months=6, seed=2).subscriptions.height
    True
    """
    if chunk_customers < 1:
        raise option_error("chunk_customers", chunk_customers, "must be at least 1")
    settings = _Settings(
        customers,
        months,
        start,
        churn_hazard,
        expansion_rate,
        contraction_rate,
        reactivation_probability,
        trial_share,
        trial_conversion,
        usage_days,
        raw_events,
        bgnbd,
        gamma_gamma,
        seat_share,
        mean_seats,
        seat_change_rate,
        discount_share,
        pause_rate,
        past_due_rate,
        failed_payment_share,
        cancel_notice_share,
        seed,
    )
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    chunks = list(_chunks(customers, chunk_customers))
    if len(chunks) <= 1:
        for name, frame in settings.generate(1, customers):
            frame.write_parquet(folder / f"{name}.parquet")
            rows[name] = frame.height
    else:
        parts = Path(tempfile.mkdtemp(prefix=".parts-", dir=folder))
        try:
            costs: pl.DataFrame | None = None
            names: list[str] = []
            for index, (first, count) in enumerate(chunks):
                for name, frame in settings.generate(first, count):
                    if index == 0:
                        names.append(name)
                    if name == "costs":
                        # Sum in whole cents, so the total equals the one-chunk amounts exactly.
                        cents = frame.select(
                            "period", (pl.col("amount") * 100).round().cast(pl.Int64)
                        )
                        costs = (
                            cents
                            if costs is None
                            else costs.with_columns(pl.col("amount") + cents["amount"])
                        )
                        continue
                    (parts / name).mkdir(exist_ok=True)
                    # Temporary parts: fast to write, read once by the streaming merge below.
                    frame.write_parquet(
                        parts / name / f"{index:06d}.parquet",
                        compression="uncompressed",
                        statistics=False,
                    )
                    rows[name] = rows.get(name, 0) + frame.height
                del frame
            for name in names:
                target = folder / f"{name}.parquet"
                if name == "costs" and costs is not None:
                    costs = costs.with_columns(pl.col("amount") / 100)
                    costs.write_parquet(target)
                    rows[name] = costs.height
                    continue
                part_files = sorted(str(p) for p in (parts / name).iterdir())
                pl.scan_parquet(part_files).sink_parquet(target)
            rows = {name: rows[name] for name in names}
        finally:
            shutil.rmtree(parts, ignore_errors=True)
    parameters = settings.parameters()
    with open(folder / "parameters.json", "w", encoding="utf-8") as handle:
        json.dump(parameters, handle, indent=2, default=str)
        handle.write("\n")
    return rows


def write_stripe(
    data: SaasData,
    path: str | Path,
    *,
    api_version: Literal["2025-03-31", "2024-12-18"] = "2025-03-31",
    currency: str = "usd",
    customers: int | None = None,
) -> dict[str, int]:
    """Write the business of :func:`saas` as a Stripe export: ``<path>/subscriptions.jsonl``
    and ``<path>/invoices.jsonl`` (JSON lines), which :func:`csmetrics.io.stripe.read` reads.

    The export is taken at the history's end (``data.parameters["end"]``).

    - ``subscriptions.jsonl``: one subscription object per ``subscription_id`` in its current
      state: ``sub_<subscription_id>`` of ``cus_<customer_id>``, one item with its price
      (``price_<plan>_<interval><count>_<unit amount>``) and today's seats, ``status``
      (``canceled`` with ``ended_at`` once ended, ``trialing``, ``past_due``, else ``active``;
      a paused one is ``active`` with ``pause_collection``), the trial, ``canceled_at`` (the
      generator's advance request, else null) with ``cancel_at_period_end``,
      ``cancellation_details.reason`` and the subscription's discount (with its coupon; kept
      after it ran out, with its ``end``). The seats of earlier spells live in the invoices.
    - ``invoices.jsonl``: one invoice per billing period of every paid spell, each with one
      line whose period is the service period and whose ``amount`` is the unit amount times
      the seats of the spell, with the discount active when the period starts in
      ``discount_amounts`` (before 2025-03-31) or ``pretax_credit_amounts``. ``paid``, or
      ``open`` for a renewal past due at the export; ``void`` for the periods of a pause and for
      the renewal whose failed payment ended the subscription. Billing periods follow the
      generator's renewals: a plan change keeps the cycle of the subscription it replaces, an
      add-on bills monthly from the day it was bought. Seats, plans and pauses change only at
      renewals, so no line is a proration. Trials and free plans have no invoices.

    Amounts are integers in the currency's minor unit (:func:`csmetrics.io.stripe.currency_exponent`):
    the unit amount rounded to it, a ``percent_off`` discount rounded half up.

    Parameters
    ----------
    data
        The business, from :func:`saas`.
    path
        Folder to write to (created if missing; the two files are replaced).
    api_version
        ``"2025-03-31"`` (default: item-level ``current_period_*``, ``discounts[]``, lines with
        ``pricing`` and ``parent``) or ``"2024-12-18"`` (subscription-level ``current_period_*``,
        a single ``discount``, lines with ``price``, ``proration`` and ``type``).
    currency
        Three-letter currency code of every price (default ``"usd"``).
    customers
        Write only the customers with ids 1 to ``customers`` (default: all), a quick sample of
        a large business.

    Returns
    -------
    dict[str, int]
        Objects written per file.

    Examples
    --------
    >>> import tempfile
    >>> from csmetrics import datasets
    >>> from csmetrics.io import stripe
    >>> data = datasets.saas(200, months=6, seed=4)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = datasets.write_stripe(data, folder)
    ...     tables = stripe.read(
    ...         subscriptions=f"{folder}/subscriptions.jsonl",
    ...         invoices=f"{folder}/invoices.jsonl",
    ...     )
    >>> written["subscriptions.jsonl"] == data.subscriptions["subscription_id"].n_unique()
    True
    >>> tables.invoice_lines["kind"].unique().to_list()
    ['subscription']
    """
    from csmetrics._stripe_export import write_stripe as write_export

    if not isinstance(data, SaasData):
        raise option_error("data", type(data).__name__, "expected the SaasData of datasets.saas")
    subscriptions = data.subscriptions
    if customers is not None:
        whole(customers, "customers", minimum=1)
        subscriptions = subscriptions.filter(pl.col("customer_id") <= customers)
    return write_export(
        subscriptions,
        data.parameters["end"],
        path,
        api_version=api_version,
        currency=currency,
    )


def _data_bytes(name: str) -> bytes:
    return (files("csmetrics") / "data" / name).read_bytes()


def _whitespace_table(name: str, columns: list[str], header: bool) -> pl.DataFrame:
    tokens = _data_bytes(name).decode("ascii").split()
    if header:
        tokens = tokens[len(columns) :]
    width = len(columns)
    return pl.DataFrame({column: tokens[i::width] for i, column in enumerate(columns)})


def cdnow(
    kind: Literal["sample", "master", "summary", "summary_monetary"] = "sample",
) -> pl.DataFrame:
    """The CDNOW purchase data (Fader and Hardie), bundled with the package.

    23,570 customers who made their first purchase at CDNOW in the first quarter of 1997,
    followed to 1998-06-30; the 1/10 systematic sample of 2,357 of them; and the sample's
    39-week calibration summaries used in the BG/NBD and Gamma-Gamma papers. Provenance and
    licence: ``csmetrics/data/NOTICE``.

    Parameters
    ----------
    kind
        - ``"sample"`` (default): the sample's 6,919 purchase records: ``master_id`` (the id in
          the full data), ``customer_id`` (the sample id, 1-2357), ``date`` (Date),
          ``number_of_cds`` (Int64), ``dollar_value`` (Float64). Includes 223 same-day
          duplicate records as published.
        - ``"master"``: the full 69,659 records of the 23,570 customers: ``customer_id``,
          ``date``, ``number_of_cds``, ``dollar_value``.
        - ``"summary"``: the sample's calibration summary to 1997-09-30 (2,357 rows):
          ``customer_id``, ``frequency`` (x, repeat purchase days), ``recency`` (t_x, weeks),
          ``T`` (weeks), rounded to 2 decimals as published. A model fitted on this frame
          remembers that it is in weeks (see :meth:`csmetrics.clv.BetaGeo.fit`).
        - ``"summary_monetary"``: the same plus ``monetary_value`` (zbar, the mean
          repeat-purchase value, 0.0 when ``frequency`` is 0).

    Returns
    -------
    polars.DataFrame

    Examples
    --------
    >>> from csmetrics import datasets
    >>> sample = datasets.cdnow("sample")
    >>> sample.height, sample["customer_id"].n_unique(), str(sample["date"].dtype)
    (6919, 2357, 'Date')
    >>> master = datasets.cdnow("master")
    >>> master.height, master["customer_id"].n_unique()
    (69659, 23570)
    >>> datasets.cdnow("summary").row(0)
    (1, 2, 30.43, 38.86)
    """
    if kind == "sample":
        frame = _whitespace_table(
            "CDNOW_sample.txt",
            ["master_id", "customer_id", "date", "number_of_cds", "dollar_value"],
            header=False,
        )
        ids = ["master_id", "customer_id"]
    elif kind == "master":
        frame = _whitespace_table(
            "CDNOW_master.txt",
            ["customer_id", "date", "number_of_cds", "dollar_value"],
            header=True,
        )
        ids = ["customer_id"]
    elif kind in ("summary", "summary_monetary"):
        summary = kind == "summary"
        name = (
            "cdnow_customers_summary.csv"
            if summary
            else "cdnow_customers_summary_with_transactions.csv"
        )
        renames = (
            {"ID": "customer_id"}
            if summary
            else {
                "ID": "customer_id",
                "x": "frequency",
                "t_x": "recency",
                "zbar": "monetary_value",
            }
        )
        from csmetrics.clv import _remember_unit

        raw = pl.read_csv(io.BytesIO(_data_bytes(name)), infer_schema=False)
        table = raw.rename(renames).select(
            pl.col("customer_id", "frequency").cast(pl.Int64),
            pl.exclude("customer_id", "frequency").cast(pl.Float64),
        )
        # Recency and T are in weeks: a model fitted on this frame remembers it.
        result: pl.DataFrame = _remember_unit(table, "week")
        return result
    else:
        raise option_error(
            "kind", kind, "expected one of 'sample', 'master', 'summary', 'summary_monetary'"
        )
    return frame.select(
        pl.col(ids).cast(pl.Int64),
        pl.col("date").str.to_date("%Y%m%d"),
        pl.col("number_of_cds").cast(pl.Int64),
        pl.col("dollar_value").cast(pl.Float64),
    )


def donations() -> pl.DataFrame:
    """The donations data of the BG/BB model (Fader, Hardie and Shang 2010), bundled.

    11,104 donors summarised as 22 patterns of repeat donations over 6 annual opportunities:
    ``frequency`` (donations after the first), ``recency`` (the period of the last one),
    ``periods`` (6) and ``weights`` (donors with that pattern), all Int64.

    Examples
    --------
    >>> from csmetrics import datasets
    >>> table = datasets.donations()
    >>> table.height, table["weights"].sum(), table.columns
    (22, 11104, ['frequency', 'recency', 'periods', 'weights'])
    """
    raw = pl.read_csv(io.BytesIO(_data_bytes("donations.csv")), infer_schema=False)
    return raw.select(pl.all().cast(pl.Int64))


def sbg_retention() -> pl.DataFrame:
    """Share of customers still alive by year, from Fader and Hardie (2007), bundled.

    Two segments of 1,000 customers each, as in "How to project customer retention": ``year``
    (Int64, 0-7), ``regular_alive_pct`` and ``highend_alive_pct`` (Float64, percent alive at the
    start of each year).

    Examples
    --------
    >>> from csmetrics import datasets
    >>> table = datasets.sbg_retention()
    >>> table.height, table.row(1)
    (8, (1, 63.1, 86.9))
    """
    raw = pl.read_csv(io.BytesIO(_data_bytes("sbg_retention_2007.csv")), infer_schema=False)
    return raw.select(pl.col("year").cast(pl.Int64), pl.exclude("year").cast(pl.Float64))


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
