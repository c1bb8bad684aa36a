"""The fuzz registry: one strategy of (frames, options) per public callable of csmetrics.

:data:`REGISTRY` maps the name of every public function, class and method (``"nps"``,
``"clv.BetaGeo.predict"``, ``"expr.cs.nps"``, ``"datasets.saas"``, ...) to an :class:`Entry`: a
strategy drawing a :class:`Case` and the way to call it. tests/test_fuzz.py fails when a public
callable has no entry, and checks every outcome.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import strategies as st

import csmetrics as csm
from csmetrics import clv, datasets
from csmetrics import expr as cse
from csmetrics.io import stripe as stripe_io
from fuzz.frames import FAMILIES, Column, Family, instants, source, table

# --- cases and entries ------------------------------------------------------------------------


@dataclass
class Case:
    """One call: the input frames (in argument order), the options and what must happen."""

    name: str
    frames: dict[str, pl.DataFrame]
    kwargs: dict[str, Any]
    # Used columns given a refused dtype ("frame.column"): the call must raise.
    refused: list[str] = field(default_factory=list)
    # An option value that is surely bad (an unknown literal, a negative precision, ...).
    bad_option: str | None = None
    # Anything else the call needs (a model's construction, a path's content, ...).
    setup: dict[str, Any] = field(default_factory=dict)
    snippet: str = ""
    # The frames a reproducer shows, when the call's own are derived from them.
    shown: dict[str, pl.DataFrame] | None = None

    def __repr__(self) -> str:
        shown = self.frames if self.shown is None else self.shown
        lines = [f"{name} = {source(frame)}" for name, frame in shown.items()]
        call = call_source(self)
        # Only the setup values the call names (a model's parameters are inlined in it).
        lines += [
            f"{k} = {source(v)}" for k, v in self.setup.items() if re.search(rf"\b{k}\b", call)
        ]
        if "**kwargs" in call:
            lines.append(f"kwargs = {source(self.kwargs)}")
        lines.append(call)
        notes = []
        if self.refused:
            notes.append(f"refused dtype in {', '.join(self.refused)}")
        if self.bad_option:
            notes.append(f"bad option {self.bad_option}")
        head = f"# {self.name}" + (f" ({'; '.join(notes)})" if notes else "")
        return "\n".join([head, *lines])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints falsifying examples with this: the reproducer, not the fields.
        printer.text("\n" + repr(self) + "\n")


def default_snippet(case: Case) -> str:
    args = [*case.frames, *(f"{k}={source(v)}" for k, v in case.kwargs.items())]
    return f"csm.{case.name}({', '.join(args)})"


Call = Callable[[dict[str, Any], Case], Any]
Bounds = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Entry:
    """How to fuzz one public callable.

    ``call`` gets the case's frames converted to one family. ``bounds`` gives the contract's
    range of result columns (checked besides "no NaN or inf in float columns"). ``weight``
    scales the number of examples (a report costs a second; an NPS a millisecond).
    ``passthrough``: the result is the input with new columns (only those are checked).
    ``families``: the frame families to try; the first is the reference.
    """

    cases: st.SearchStrategy[Case]
    call: Call
    bounds: Callable[[Case], Bounds] = field(default=lambda _: {})
    weight: float = 1.0
    frame_result: bool = True
    passthrough: bool = False
    families: tuple[Family, ...] = FAMILIES
    # Exceptions the documentation allows besides CsMetricsError (Polars plugins' errors).
    allowed: tuple[type[BaseException], ...] = ()
    # A check of the outcome (result, error) against another public function (e.g. the
    # expressions against the eager functions).
    check: Callable[[Case, Any, BaseException | None], None] | None = None


# --- options ----------------------------------------------------------------------------------

GENERIC_BAD = st.sampled_from(
    ["bogus", "", -1, 0, 2.5, math.nan, math.inf, -math.inf, None, [], {}, b"x", True, 10**20]
)
PERIODS = ("day", "week", "month", "quarter", "year")


def instant_option() -> st.SearchStrategy[Any]:
    """``as_of``-like options: dates, datetimes (naive or aware), ISO strings, extremes."""
    return st.one_of(
        st.none(),
        instants().map(lambda t: t.date()),
        instants(),
        instants().map(lambda t: t.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5)))),
        instants().map(lambda t: t.date().isoformat()),
        st.sampled_from([dt.date(1, 1, 1), dt.date(9999, 12, 31), "2024-03-31T02:30:00"]),
    )


BAD_INSTANTS = st.sampled_from(["not a date", "2024-13-01", 20240101, 1.5, [2024, 1, 1]])
CONFIDENCE = st.sampled_from([0.95, 0.5, 0.8, 0.999])
BAD_CONFIDENCE = st.sampled_from([0.0, 1.0, 1.5, -0.1, math.nan, math.inf, "0.95"])


@st.composite
def options(
    draw: st.DrawFn,
    literals: Mapping[str, tuple[Any, ...]],
    others: Mapping[str, st.SearchStrategy[Any]] | None = None,
    bad: Mapping[str, st.SearchStrategy[Any]] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """Options: each left at its default or drawn, and in one case in four one bad value.

    Returns the options and, when the bad value is surely bad (an unknown literal or one of
    ``bad``), a description of it: the call must then raise.
    """
    others = others or {}
    bad = bad or {}
    chosen: dict[str, Any] = {}
    for name, values in literals.items():
        if draw(st.integers(0, 2)):
            chosen[name] = draw(st.sampled_from(values))
    for name, strategy in others.items():
        if draw(st.integers(0, 2)):
            chosen[name] = draw(strategy)
    surely_bad = None
    names = sorted({*literals, *others})
    if names and draw(st.integers(0, 3)) == 0:
        name = draw(st.sampled_from(names))
        if name in bad and draw(st.booleans()):
            chosen[name] = draw(bad[name])
            surely_bad = f"{name}={chosen[name]!r}"
        else:
            value = draw(GENERIC_BAD)
            chosen[name] = value
            if name in literals and isinstance(value, str) and value not in literals[name]:
                surely_bad = f"{name}={value!r}"
    return chosen, surely_bad


def _refused(frame: str, names: list[str]) -> list[str]:
    return [f"{frame}.{n}" for n in names]


# --- column sets ------------------------------------------------------------------------------


def _by(kwargs: dict[str, Any], column: str = "segment") -> bool:
    by = kwargs.get("by")
    return by == column or (isinstance(by, list) and column in by)


SEGMENT = Column("segment", "key", values=st.integers(0, 1), optional=True, used=_by)
SCORE_BY = st.sampled_from([None, "segment", ["segment"]])


def survey_columns(score_values: st.SearchStrategy[Any]) -> list[Column]:
    return [
        Column("score", "score", values=score_values),
        SEGMENT,
        Column(
            "timestamp",
            "instant",
            optional=True,
            used=lambda kw: kw.get("period") is not None,
        ),
    ]


SUBSCRIPTIONS = [
    Column("customer_id", "key"),
    Column("start", "instant"),
    Column("end", "instant", optional=True, used=lambda kw: kw.get("end", "end") == "end"),
    Column("amount", "number"),
    Column(
        "interval",
        "label",
        vocabulary=PERIODS,
        used=lambda kw: kw.get("interval", "interval") == "interval",
    ),
    Column("interval_count", "count", values=st.integers(1, 12), optional=True),
    Column("currency", "label", vocabulary=("USD", "EUR"), optional=True),
    SEGMENT,
]
# Billing detail (docs/metrics/billing.md): each column read when the table has it.
BILLING = [
    Column("quantity", "count", values=st.integers(0, 50), optional=True),
    Column("subscription_id", "key", optional=True),
    Column(
        "status",
        "label",
        vocabulary=("active", "trialing", "past_due", "paused", "canceled", "unpaid"),
        optional=True,
    ),
    Column("canceled_at", "instant", optional=True),
    Column(
        "churn_reason",
        "label",
        vocabulary=("cancellation_requested", "payment_failed", "other"),
        optional=True,
    ),
    Column(
        "percent_off",
        "number",
        values=st.integers(0, 10_000).map(lambda c: c / 100),
        optional=True,
    ),
    Column("amount_off", "number", optional=True),
    Column(
        "discount_duration", "label", vocabulary=("once", "repeating", "forever"), optional=True
    ),
    Column("duration_in_months", "count", values=st.integers(1, 24), optional=True),
    Column("discount_start", "instant", optional=True),
    Column("discount_end", "instant", optional=True),
]
MONTHLY = [
    Column("customer_id", "key"),
    Column("period", "instant"),
    Column("mrr", "number"),
    SEGMENT,
]
ACTIVITY = [Column("customer_id", "key"), Column("timestamp", "instant"), SEGMENT]
# Invoice lines (table="invoices"): amounts of either sign, service periods, kinds.
INVOICES = [
    Column("customer_id", "key"),
    Column("period_start", "instant"),
    Column("period_end", "instant"),
    Column("amount", "number", values=st.integers(-5_000, 100_000).map(lambda c: c / 100)),
    Column(
        "kind",
        "label",
        vocabulary=("subscription", "subscription", "proration", "one_time", "usage"),
        optional=True,
    ),
    Column("subscription_id", "key", optional=True),
    Column("currency", "label", vocabulary=("USD", "EUR"), optional=True),
    SEGMENT,
]


# --- survey -----------------------------------------------------------------------------------

SURVEY_LITERALS: dict[str, tuple[Any, ...]] = {
    "period": (None, *PERIODS),
    "invalid": ("raise", "drop", "null"),
}
SCALES = st.sampled_from([(1, 5), (0, 10), (1, 7), (1, 10), (-2, 2)])
BAD_SCALES = st.sampled_from([(5, 1), (3, 3), (0.5, 4), ("1", "5"), (1,), (1, 2, 3)])


@st.composite
def survey_case(draw: st.DrawFn, name: str) -> Case:
    literals = dict(SURVEY_LITERALS)
    others: dict[str, st.SearchStrategy[Any]] = {"by": SCORE_BY}
    bad: dict[str, st.SearchStrategy[Any]] = {}
    if name == "nps":
        literals["ci"] = ("adjusted_wald", "wald", None)
        others["confidence"] = CONFIDENCE
        bad["confidence"] = BAD_CONFIDENCE
    elif name == "nps_compare":
        literals["pairs"] = ("all", "consecutive")
        others["between"] = st.sampled_from([None, "group"])
        others["confidence"] = CONFIDENCE
        bad["confidence"] = BAD_CONFIDENCE
    else:
        others["scale"] = SCALES
        bad["scale"] = BAD_SCALES
        if name == "ces":
            literals["direction"] = ("higher_is_easier", "lower_is_easier")
    kwargs, bad_option = draw(options(literals, others, bad))
    columns = survey_columns(st.integers(-1, 11) if name != "nps" else st.integers(0, 10))
    if name == "nps_compare":
        columns.append(
            Column("group", "key", values=st.integers(0, 2), used=lambda kw: kw.get("between"))
        )
    drawn = draw(table(columns, kwargs, customer=None))
    return Case(name, {"data": drawn.frame}, kwargs, _refused("data", drawn.refused), bad_option)


def _survey_bounds(case: Case) -> Bounds:
    return {
        "nps": (-100, 100),
        "nps_lower": (-100, 100),
        "nps_upper": (-100, 100),
        "nps_a": (-100, 100),
        "nps_b": (-100, 100),
        "difference": (-200, 200),
        "promoter_share": (0, 1),
        "passive_share": (0, 1),
        "detractor_share": (0, 1),
        "csat": (0, 1),
        "low_effort_share": (0, 1),
        "p_value": (0, 1),
        "se": (0, math.inf),
    }


def _frame_call(function: Callable[..., Any], *names: str) -> Call:
    def call(frames: dict[str, Any], case: Case) -> Any:
        return function(*(frames[n] for n in names), **case.kwargs)

    return call


# --- revenue, churn, cohorts, lives -------------------------------------------------------------

PANEL_BAD: dict[str, st.SearchStrategy[Any]] = {
    "as_of": BAD_INSTANTS,
    "observed_from": BAD_INSTANTS,
    "precision": st.sampled_from([-1, 10, 2.5, "6", 100]),
    "window": st.sampled_from([0, -1, 2.5, "12"]),
    "gap_tolerance_days": st.sampled_from([-1.0, math.nan, math.inf, "5"]),
    "confidence": BAD_CONFIDENCE,
    "fx": st.sampled_from([{"EUR": math.nan}, {"EUR": -1.0}, {"EUR": 0.0}, {"EUR": "x"}]),
    "delinquency_days": st.sampled_from([-1, 2.5, "30"]),
    "churn_reasons": st.sampled_from([{"other": "sometimes"}, ["x"]]),
}


@st.composite
def panel_case(draw: st.DrawFn, name: str) -> Case:
    """Revenue, churn, cohort and lives functions: one subscriptions-like table."""
    tables = ["subscriptions", "subscriptions", "monthly", "invoices"]
    if name in ("churn_rates", "cohort_retention", "survival_table"):
        tables.append("activity")
    literals: dict[str, tuple[Any, ...]] = {
        "table": tuple(tables),
        "free_is_active": (False, True),
    }
    others: dict[str, st.SearchStrategy[Any]] = {
        "as_of": instant_option(),
        "by": SCORE_BY,
        "interval": st.sampled_from(["interval", None]),
        "end": st.sampled_from(["end", None]),
    }
    others["observed_from"] = instant_option()
    if name != "survival_table":
        literals["period"] = PERIODS
    if name in ("mrr", "mrr_bridge", "mrr_movements", "revenue_kpis"):
        literals["money"] = ("float", "units", "decimal")
        others["precision"] = st.integers(0, 9)
        others["fx"] = st.sampled_from([None, {"EUR": 1.1, "USD": 1.0}, {"EUR": 1.1}])
    if name in ("mrr_bridge", "mrr_movements", "revenue_kpis", "churn_rates"):
        literals["mode"] = ("snapshot", "events")
    if name == "revenue_kpis":
        others["window"] = st.sampled_from([None, 1, 3, 12])
    if name == "churn_rates":
        literals["denominator"] = ("start", "start_plus_new", "average")
        literals["ci"] = (None, "wilson")
        others["confidence"] = CONFIDENCE
    if name == "cohort_retention":
        literals["kind"] = ("logo", "revenue")
        literals["rule"] = ("classic", "unbounded")
        others["signup"] = st.sampled_from([None, "signup"])
    if name == "survival_table":
        literals["lives"] = ("first", "all")
        literals["time_unit"] = ("day", "week", "month", "year")
        others["gap_tolerance_days"] = st.sampled_from([0.0, 1.0, 15.5, 400])
    literals["prorations"] = ("spread", "exclude")
    if name != "survival_table":
        others["gap_tolerance_days"] = st.sampled_from([0.0, 3, 40.5])
    literals["stacking"] = ("sequential", "sum")
    literals["mrr_basis"] = ("net", "contract", "forever_only")
    literals["with_contract"] = (False, True)
    literals["trials"] = ("exclude", "include")
    literals["past_due"] = ("active", "churn_after")
    literals["paused"] = ("zero", "active", "churn")
    literals["churn_at"] = ("end", "cancel")
    others["delinquency_days"] = st.sampled_from([0, 1, 30, 400])
    others["churn_reasons"] = st.sampled_from([None, {"other": "voluntary"}])
    kwargs, bad_option = draw(options(literals, others, PANEL_BAD))
    kind = kwargs.get("table", "subscriptions")
    columns = {"monthly": MONTHLY, "activity": ACTIVITY, "invoices": INVOICES}.get(
        kind, SUBSCRIPTIONS
    )
    if kind == "subscriptions" and draw(st.booleans()):
        columns = [*columns, *BILLING]
    if name == "cohort_retention":
        signup = Column(
            "signup", "instant", optional=True, used=lambda kw: kw.get("signup") == "signup"
        )
        columns = [*columns, signup]
    drawn = draw(table(columns, kwargs))
    return Case(name, {"data": drawn.frame}, kwargs, _refused("data", drawn.refused), bad_option)


def _panel_bounds(case: Case) -> Bounds:
    bounds: Bounds = {
        "grr": (0, 1),
        "gross_mrr_churn_rate": (0, 1),
        "grr_window": (0, 1),
        "retention_rate": (0, 1),
        "churn_lower": (0, 1),
        "churn_upper": (0, 1),
        "duration": (0, math.inf),
        "entry": (0, math.inf),
    }
    if case.kwargs.get("denominator", "start") != "average":
        bounds["churn_rate"] = (0, 1)
    if case.kwargs.get("kind", "logo") == "logo":
        bounds["rate"] = (0, 1)
    for money in ("new", "expansion", "contraction", "churned", "reactivation", "amount"):
        bounds[money] = (0, math.inf)
    return bounds


@st.composite
def cohort_triangle_case(draw: st.DrawFn) -> Case:
    """A cohort_retention table (or, sometimes, any frame) to pivot."""
    base = draw(panel_case("cohort_retention"))
    values, bad_option = draw(
        options({"values": ("rate", "active", "cohort_size", "mrr", "cohort_mrr")})
    )
    try:
        long = csm.cohort_retention(base.frames["data"], **base.kwargs)
        made = f"long = csm.cohort_retention(data, {_kwargs_source(base.kwargs)})"
    except BaseException:
        long = base.frames["data"]  # not a cohort table: the pivot must refuse it
        made = "long = data"
    snippet = f"{made}\ncsm.cohort_triangle(long, {_kwargs_source(values)})"
    return Case("cohort_triangle", {"long": long}, values, [], bad_option, {}, snippet, base.frames)


def _kwargs_source(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={source(v)}" for k, v in kwargs.items())


# --- survival ---------------------------------------------------------------------------------

SURVIVAL_COLUMNS = [
    Column("duration", "number", values=st.integers(0, 30).map(float)),
    Column("event", "flag"),
    Column("entry", "number", values=st.integers(0, 3), used=lambda kw: kw.get("entry")),
    Column("weights", "number", values=st.integers(0, 4), used=lambda kw: kw.get("weights")),
    SEGMENT,
]


@st.composite
def survival_case(draw: st.DrawFn, name: str) -> Case:
    literals: dict[str, tuple[Any, ...]] = {"weights": (None, "weights")}
    others: dict[str, st.SearchStrategy[Any]] = {"by": SCORE_BY}
    bad: dict[str, st.SearchStrategy[Any]] = {"confidence": BAD_CONFIDENCE}
    if name == "logrank_test":
        literals["entry"] = (None,)
        bad["entry"] = st.just("entry")
    else:
        literals["entry"] = (None, "entry")
        others["confidence"] = CONFIDENCE
    if name == "kaplan_meier_summary":
        others["tau"] = st.sampled_from([None, 0.0, 5.0, 1e6])
        bad["tau"] = st.sampled_from([-1.0, math.nan, math.inf])
    if name == "nelson_aalen":
        literals["ties"] = ("sequential", "textbook")
    kwargs, bad_option = draw(options(literals, others, bad))
    columns = list(SURVIVAL_COLUMNS)
    if name == "logrank_test":
        columns.append(Column("group", "key", values=st.integers(0, 2)))
    drawn = draw(table(columns, kwargs, customer=None))
    return Case(name, {"data": drawn.frame}, kwargs, _refused("data", drawn.refused), bad_option)


def _survival_bounds(case: Case) -> Bounds:
    bounds: Bounds = {"p_value": (0, 1), "statistic": (0, math.inf), "rmst": (0, math.inf)}
    if case.name == "kaplan_meier":
        bounds |= {"survival": (0, 1), "lower": (0, 1), "upper": (0, 1)}
    if case.name == "nelson_aalen":
        bounds |= {"cumulative_hazard": (0, math.inf), "lower": (0, math.inf)}
    return bounds


# --- renewals and operations --------------------------------------------------------------------


@st.composite
def renewal_case(draw: st.DrawFn) -> Case:
    kwargs, bad_option = draw(
        options({"period": PERIODS, "amount": (None, "amount")}, {"by": SCORE_BY})
    )
    columns = [
        Column("renewal_due", "instant"),
        Column("renewed", "flag"),
        Column("amount", "number", used=lambda kw: kw.get("amount") == "amount"),
        SEGMENT,
    ]
    drawn = draw(table(columns, kwargs, customer=None))
    refused = _refused("contracts", drawn.refused)
    return Case("renewal_rates", {"contracts": drawn.frame}, kwargs, refused, bad_option)


@st.composite
def retention_cost_case(draw: st.DrawFn) -> Case:
    kwargs, bad_option = draw(
        options(
            {
                "customers": ("any", "start", "average"),
                "period": PERIODS,
                "mode": ("snapshot", "events"),
                "free_is_active": (False, True),
            },
            {"as_of": instant_option()},
            {"as_of": BAD_INSTANTS},
        )
    )
    subs = draw(table(SUBSCRIPTIONS[:-1], kwargs))
    costs = draw(table([Column("period", "instant"), Column("amount", "number")], kwargs))
    refused = _refused("subscriptions", subs.refused) + _refused("costs", costs.refused)
    frames = {"subscriptions": subs.frame, "costs": costs.frame}
    return Case("retention_cost", frames, kwargs, refused, bad_option)


WINDOW_BAD = st.sampled_from([-1.0, math.nan, math.inf, "14"])


@st.composite
def trial_case(draw: st.DrawFn) -> Case:
    kwargs, bad_option = draw(
        options(
            {"period": PERIODS},
            {
                "as_of": instant_option(),
                "by": SCORE_BY,
                "window_days": st.sampled_from([14, 0, 30.5, 1e6]),
            },
            {"as_of": BAD_INSTANTS, "window_days": WINDOW_BAD},
        )
    )
    columns = [
        Column("trial_start", "instant"),
        Column("trial_end", "instant"),
        Column("converted_at", "instant", optional=True),
        SEGMENT,
    ]
    drawn = draw(table(columns, kwargs, customer=None))
    refused = _refused("trials", drawn.refused)
    return Case("trial_conversion", {"trials": drawn.frame}, kwargs, refused, bad_option)


@st.composite
def conversion_case(draw: st.DrawFn) -> Case:
    kwargs, bad_option = draw(options({"period": PERIODS}, {"by": SCORE_BY}))
    columns = [
        Column("timestamp", "instant"),
        Column("kind", "label", vocabulary=("new", "upsell", "cross_sell")),
        SEGMENT,
    ]
    drawn = draw(table(columns, kwargs, customer=None))
    refused = _refused("conversions", drawn.refused)
    return Case("conversion_rates", {"conversions": drawn.frame}, kwargs, refused, bad_option)


@st.composite
def fcr_case(draw: st.DrawFn) -> Case:
    kwargs, bad_option = draw(
        options(
            {"period": PERIODS},
            {"by": SCORE_BY, "reopen_window_days": st.sampled_from([7, 0, 0.5, 1e5])},
            {"reopen_window_days": WINDOW_BAD},
        )
    )
    columns = [
        Column("opened_at", "instant"),
        Column("resolved_at", "instant"),
        Column("contacts", "count", values=st.integers(1, 3)),
        Column("reopened_at", "instant", optional=True),
        Column("resolvable_at_first_contact", "flag", optional=True),
        SEGMENT,
    ]
    drawn = draw(table(columns, kwargs, customer=None))
    refused = _refused("tickets", drawn.refused)
    return Case("first_contact_resolution", {"tickets": drawn.frame}, kwargs, refused, bad_option)


@st.composite
def usage_case(draw: st.DrawFn, name: str) -> Case:
    others: dict[str, st.SearchStrategy[Any]] = {
        "as_of": instant_option(),
        "by": SCORE_BY,
        "user_id": st.sampled_from([None, "user_id"]),
    }
    kwargs, bad_option = draw(
        options(
            {"period": PERIODS, "level": ("customer", "user")},
            others,
            {"as_of": BAD_INSTANTS},
        )
    )
    raw = kwargs.get("user_id") == "user_id"
    columns = [
        Column("customer_id", "key"),
        Column("date", "instant"),
        Column("user_id", "key", optional=True, used=lambda kw: kw.get("user_id") == "user_id"),
        Column("active_users", "count", optional=True, used=lambda _: not raw),
        Column("events", "count", optional=True, used=lambda _: not raw),
        SEGMENT,
    ]
    if name == "feature_adoption":
        columns.append(Column("feature", "label", vocabulary=("core", "reports", "export")))
    drawn = draw(table(columns, kwargs))
    refused = _refused("usage", drawn.refused)
    return Case(name, {"usage": drawn.frame}, kwargs, refused, bad_option)


# --- health -----------------------------------------------------------------------------------

FACTOR_BAD = {
    "weight": st.sampled_from([0.0, -1.0, math.nan, math.inf]),
    "direction": st.just("sideways"),
    "normalisation": st.sampled_from(["zscore", (10.0, 0.0), (1.0, 1.0), (math.nan, 1.0)]),
}


@st.composite
def factor_spec(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    return draw(
        options(
            {"direction": ("higher", "lower")},
            {
                "weight": st.sampled_from([1.0, 0.5, 3, 1e-9]),
                "normalisation": st.sampled_from(["minmax", "percentile", (0.0, 10.0)]),
                "column": st.sampled_from(["usage", "tickets", "missing_column"]),
            },
            FACTOR_BAD,
        )
    )


@st.composite
def health_case(draw: st.DrawFn, name: str) -> Case:
    specs = draw(st.lists(factor_spec(), min_size=0 if name == "health_score" else 1, max_size=3))
    factors = [{"column": "usage", **spec} for spec, _ in specs]
    bad_factors = [why for _, why in specs if why]
    kwargs, bad_option = draw(
        options(
            {"missing": ("reweight", "worst", "raise")},
            {
                "bands": st.sampled_from([(40, 70), (0, 100), (50, 50)]),
                "by_period": st.sampled_from([None, "period"]),
            },
            {"bands": st.sampled_from([(70, 40), (math.nan, 50), (-10, 200)])},
        )
    )
    columns = [
        Column("customer_id", "key"),
        Column("usage", "number"),
        Column("tickets", "count"),
        Column("period", "instant", optional=True, used=lambda kw: kw.get("by_period")),
    ]
    drawn = draw(table(columns, kwargs))
    used = {str(f.get("column", "usage")) for f in factors} | {"customer_id", "period"}
    refused = [c for c in drawn.refused if c in used]
    bad = bad_option or (f"factor {bad_factors[0]}" if bad_factors else None)
    if name == "Factor" and not factors:
        factors = [{"column": "usage"}]
    return Case(
        name, {"data": drawn.frame}, kwargs, _refused("data", refused), bad, {"factors": factors}
    )


def _health_call(frames: dict[str, Any], case: Case) -> Any:
    factors = [csm.Factor(**spec) for spec in case.setup["factors"]]
    return csm.health_score(frames["data"], factors, **case.kwargs)


def _health_snippet(case: Case) -> str:
    args = ", ".join(f"{k}={source(v)}" for k, v in case.kwargs.items())
    return f"csm.health_score(data, [csm.Factor(**f) for f in factors], {args})"


@st.composite
def backtest_case(draw: st.DrawFn) -> Case:
    columns = [Column("score", "number", values=st.integers(0, 100)), Column("churned", "flag")]
    drawn = draw(table(columns, {}, customer=None))
    return Case("health_backtest", {"data": drawn.frame}, {}, _refused("data", drawn.refused))


@st.composite
def churn_labels_case(draw: st.DrawFn) -> Case:
    kwargs, bad_option = draw(
        options(
            {"period": PERIODS},
            {"periods": st.sampled_from([1, 2, 12]), "as_of": instant_option()},
            {"periods": st.sampled_from([0, -1, 1.5, True, "1"]), "as_of": BAD_INSTANTS},
        )
    )
    scores = draw(table([Column("customer_id", "key"), Column("period", "instant")], kwargs))
    subs = draw(table(SUBSCRIPTIONS[:-1], kwargs))
    refused = _refused("scores", scores.refused) + _refused("subscriptions", subs.refused)
    frames = {"scores": scores.frame, "subscriptions": subs.frame}
    return Case("churn_labels", frames, kwargs, refused, bad_option)


# --- scorecard and report -----------------------------------------------------------------------

_SCORECARD_TABLES: dict[str, list[Column]] = {
    "subscriptions": SUBSCRIPTIONS[:-1],
    "responses": [
        Column("timestamp", "instant"),
        Column("score", "score"),
        Column("csat", "score", values=st.integers(1, 5), optional=True),
    ],
    "tickets": [
        Column("opened_at", "instant"),
        Column("resolved_at", "instant"),
        Column("contacts", "count", values=st.integers(1, 3)),
    ],
    "usage": [Column("customer_id", "key"), Column("date", "instant"), Column("events", "count")],
    "costs": [Column("period", "instant"), Column("amount", "number")],
    "trials": [Column("trial_start", "instant"), Column("trial_end", "instant")],
    "conversions": [
        Column("timestamp", "instant"),
        Column("kind", "label", vocabulary=("new", "upsell", "cross_sell")),
    ],
    "transactions": [
        Column("customer_id", "key"),
        Column("timestamp", "instant"),
        Column("amount", "number"),
    ],
    "invoices": INVOICES[:-1],
}


@st.composite
def scorecard_case(draw: st.DrawFn, name: str) -> Case:
    names = sorted(_SCORECARD_TABLES)
    if name == "report":
        names = [n for n in names if n != "transactions"]
    chosen = draw(st.lists(st.sampled_from(names), min_size=0, max_size=3, unique=True))
    literals: dict[str, tuple[Any, ...]] = {"period": PERIODS}
    if name == "report":
        literals["revenue_from"] = ("auto", "invoices", "subscriptions")
    kwargs, bad_option = draw(
        options(literals, {"as_of": instant_option()}, {"as_of": BAD_INSTANTS})
    )
    frames: dict[str, pl.DataFrame] = {}
    refused: list[str] = []
    for table_name in sorted(chosen):
        drawn = draw(table(_SCORECARD_TABLES[table_name], kwargs))
        frames[table_name] = drawn.frame
        if table_name != "costs" or "subscriptions" in chosen:  # costs need subscriptions
            refused += _refused(table_name, drawn.refused)
    case = Case(name, frames, kwargs, refused, bad_option)
    if name == "scorecard_wide":
        try:
            long = csm.scorecard(**frames, **kwargs)
            made = f"long = csm.scorecard({_tables_snippet(case).split('(', 1)[1]}"
        except BaseException:
            long = next(iter(frames.values()), pl.DataFrame())
            made = f"long = {next(iter(frames), 'pl.DataFrame()')}"
        snippet = f"{made}\ncsm.scorecard_wide(long)"
        case = Case(name, {"long": long}, {}, [], None, {}, snippet, frames)
    return case


def _tables_call(function: Callable[..., Any]) -> Call:
    def call(frames: dict[str, Any], case: Case) -> Any:
        return function(**frames, **case.kwargs)

    return call


def _report_call(frames: dict[str, Any], case: Case) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        path = csm.report(**frames, **case.kwargs, out=Path(folder) / "report.html")
        assert path.stat().st_size > 0, "an empty report"
        return str(path.name)


def _tables_snippet(case: Case) -> str:
    args = [f"{k}={k}" for k in case.frames] + [f"{k}={source(v)}" for k, v in case.kwargs.items()]
    return f"csm.{case.name}({', '.join(args)})"


def _scorecard_bounds(case: Case) -> Bounds:
    return {}


# --- survey expressions -------------------------------------------------------------------------


@st.composite
def expr_case(draw: st.DrawFn, name: str) -> Case:
    metric = name.rsplit(".", 1)[-1]
    literals: dict[str, tuple[Any, ...]] = {"invalid": ("raise", "drop", "null")}
    others: dict[str, st.SearchStrategy[Any]] = {}
    bad: dict[str, st.SearchStrategy[Any]] = {}
    if metric != "nps":
        others["scale"] = SCALES
        bad["scale"] = BAD_SCALES
    if metric == "ces":
        literals["direction"] = ("higher_is_easier", "lower_is_easier")
    kwargs, bad_option = draw(options(literals, others, bad))
    columns = [Column("score", "score", values=st.integers(-1, 11)), SEGMENT]
    grouped = draw(st.booleans())
    drawn = draw(table(columns, {"by": "segment"} if grouped else {}, customer=None))
    # Only the score is csmetrics' to refuse; the group key is Polars' business.
    refused = [c for c in drawn.refused if c == "score"]
    setup = {"group_by": "segment" if grouped and "segment" in drawn.frame.columns else None}
    return Case(name, {"data": drawn.frame}, kwargs, _refused("data", refused), bad_option, setup)


def _expr(case: Case) -> pl.Expr:
    metric = case.name.rsplit(".", 1)[-1]
    if case.name.startswith("expr.cs."):
        return getattr(pl.col("score").cs, metric)(**case.kwargs)  # type: ignore[attr-defined]
    return getattr(cse, metric)("score", **case.kwargs)  # type: ignore[no-any-return]


def _expr_call(frames: dict[str, Any], case: Case) -> Any:
    data = frames["data"]
    key = case.setup["group_by"]
    query = data.group_by(key).agg(_expr(case)).sort(key) if key else data.select(_expr(case))
    return query.collect() if isinstance(query, pl.LazyFrame) else query


def _expr_snippet(case: Case) -> str:
    metric = case.name.rsplit(".", 1)[-1]
    args = ", ".join(f"{k}={source(v)}" for k, v in case.kwargs.items())
    made = (
        f"pl.col('score').cs.{metric}({args})"
        if case.name.startswith("expr.cs.")
        else f"cse.{metric}('score'{', ' if args else ''}{args})"
    )
    key = case.setup["group_by"]
    return f"data.group_by({key!r}).agg({made}).sort({key!r})" if key else f"data.select({made})"


_EAGER_COLUMN = {"nps": "nps", "csat": "csat", "ces": "low_effort_share"}


def _expr_check(case: Case, result: Any, error: BaseException | None) -> None:
    """The plugin gives what the eager function gives for the same answers, and refuses what
    it refuses."""
    metric = case.name.rsplit(".", 1)[-1]
    eager = getattr(csm, metric)
    key = case.setup["group_by"]
    try:
        expected = eager(case.frames["data"], score="score", by=key, **case.kwargs)
    except csm.CsMetricsError as refused:
        if key is not None and getattr(refused, "column", None) == key:
            return  # the group key is Polars' business in the plugin, csmetrics' in eager
        assert error is not None, f"eager {metric} refuses ({refused}) what the plugin accepts"
        return
    except Exception:
        return  # the eager function's own failure, reported by its own entry
    assert error is None, f"the plugin refuses ({error}) what eager {metric} accepts"
    expected = expected.select(*([key] if key else []), pl.col(_EAGER_COLUMN[metric]))
    got = result.select(*([key] if key else []), pl.col("score").cast(pl.Float64))
    # Group order is not part of either contract (eager sorts nulls last, group_by first).
    assert sorted(got.rows(), key=repr) == sorted(expected.rows(), key=repr), (
        f"plugin {got.rows()} != eager {expected.rows()}"
    )


# --- CLV: formulas and RFM ----------------------------------------------------------------------

SCALARS = st.one_of(
    st.integers(-10, 10_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([None, "12", 0, -0.0, 1e300]),
    st.lists(st.floats(0, 1e3), min_size=0, max_size=4).map(lambda v: pl.Series("x", v)),
)


@st.composite
def formula_case(draw: st.DrawFn, name: str) -> Case:
    arity = {"purchase_clv": 4, "subscription_clv": 3, "net_clv": 3}[name]
    args = draw(st.lists(SCALARS, min_size=arity - (name == "purchase_clv"), max_size=arity))
    return Case(f"clv.{name}", {}, {}, setup={"args": args})


def _formula_call(name: str) -> Call:
    def call(frames: dict[str, Any], case: Case) -> Any:
        return getattr(clv, name)(*case.setup["args"])

    return call


def _formula_snippet(case: Case) -> str:
    return f"csm.{case.name}(*args)"


@st.composite
def rfm_case(draw: st.DrawFn) -> Case:
    kwargs, bad_option = draw(
        options(
            {
                "merge": ("day", "week", "month"),
                "time_unit": ("day", "week", "month"),
                "after_end": ("raise", "drop"),
                "amount": ("amount", None),
            },
            {"observation_end": instant_option(), "calibration_end": instant_option()},
            {"observation_end": BAD_INSTANTS, "calibration_end": BAD_INSTANTS},
        )
    )
    columns = [
        Column("customer_id", "key"),
        Column("timestamp", "instant"),
        Column("amount", "number", used=lambda kw: kw.get("amount", "amount") is not None),
    ]
    drawn = draw(table(columns, kwargs))
    refused = _refused("transactions", drawn.refused)
    return Case("clv.rfm_summary", {"transactions": drawn.frame}, kwargs, refused, bad_option)


# --- CLV models -------------------------------------------------------------------------------

MODELS: dict[str, type[Any]] = {
    "BetaGeo": clv.BetaGeo,
    "ModifiedBetaGeo": clv.ModifiedBetaGeo,
    "ParetoNBD": clv.ParetoNBD,
    "BetaGeoBetaBinom": clv.BetaGeoBetaBinom,
    "GammaGamma": clv.GammaGamma,
    "ShiftedBetaGeometric": clv.ShiftedBetaGeometric,
}
_GOOD_PARAMS = {
    "BetaGeo": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "ModifiedBetaGeo": {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    "ParetoNBD": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "BetaGeoBetaBinom": {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783},
    "GammaGamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
    "ShiftedBetaGeometric": {"alpha": 0.704, "beta": 1.182},
}
PARAM_VALUES = st.sampled_from([1e-8, 0.01, 1.0, 50.0, 1e8, 1e300])
BAD_PARAMS = st.sampled_from([0.0, -1.0, math.nan, math.inf, "x", None])


@st.composite
def params(draw: st.DrawFn, model: str) -> tuple[dict[str, Any], str | None]:
    """Parameters for ``from_params``: published ones, extreme ones or bad ones."""
    chosen: dict[str, Any] = dict(_GOOD_PARAMS[model])
    if draw(st.booleans()):
        for key in chosen:
            if draw(st.booleans()):
                chosen[key] = draw(PARAM_VALUES)
    if draw(st.integers(0, 4)) == 0:
        key = draw(st.sampled_from(sorted(chosen)))
        if draw(st.booleans()):
            del chosen[key]
            return chosen, f"params without {key}"
        chosen[key] = draw(BAD_PARAMS)
        return chosen, f"params {key}={chosen[key]!r}"
    return chosen, None


def summary_columns(model: str, spend: bool) -> list[Column]:
    discrete = model == "BetaGeoBetaBinom"
    whole = st.integers(0, 6) if discrete else st.integers(0, 40).map(float)
    columns = [
        Column("frequency", "count", values=st.integers(0, 6 if discrete else 20)),
        Column("recency", "number", values=whole),
        Column("T", "number", values=st.integers(6, 6) if discrete else st.integers(0, 60)),
    ]
    if spend or model == "GammaGamma":
        columns.append(Column("monetary_value", "number"))
    if model == "GammaGamma":
        columns = [columns[0], columns[-1]]
    if model == "ShiftedBetaGeometric":
        columns = [Column("alive", "number", values=st.integers(0, 1000))]
    return columns


@st.composite
def model_setup(draw: st.DrawFn, model: str, state: str | None = None) -> dict[str, Any]:
    """How the model under test is made: unfitted, from parameters, or fitted on a summary."""
    state = state or draw(st.sampled_from(["params", "params", "params", "unfitted", "fit"]))
    setup: dict[str, Any] = {"model": model, "state": state}
    if state == "params":
        setup["params"], setup["bad"] = draw(params(model))
    elif state == "fit":
        sizes = st.integers(8, 25)
        columns = summary_columns(model, spend=False)
        rows = draw(sizes)
        values = {
            c.name: draw(st.lists(c.regular(), min_size=rows, max_size=rows)) for c in columns
        }
        if model not in ("ShiftedBetaGeometric", "GammaGamma"):
            values["recency"] = [
                float(min(r, t)) for r, t in zip(values["recency"], values["T"], strict=True)
            ]
        if model == "ShiftedBetaGeometric":
            values["alive"] = sorted(values["alive"], reverse=True)
        if model == "GammaGamma":
            values["frequency"] = [max(1, f) for f in values["frequency"]]
        setup["fit_data"] = pl.DataFrame(values)
    return setup


def make_model(setup: dict[str, Any]) -> Any:
    cls = MODELS[setup["model"]]
    if setup["state"] == "params":
        return cls.from_params(setup["params"])
    if setup["state"] == "fit":
        return cls().fit(setup["fit_data"])
    return cls()


def _model_source(setup: dict[str, Any]) -> str:
    name = f"clv.{setup['model']}"
    if setup["state"] == "params":
        return f"{name}.from_params({source(setup['params'])})"
    if setup["state"] == "fit":
        return f"{name}().fit({source(setup['fit_data'])})"
    return f"{name}()"


_T = st.sampled_from([0.0, 1.0, 39.0, 52.5, 1e6, 1e300])
_BAD_T = st.sampled_from([-1.0, math.nan, math.inf, "39"])


@st.composite
def method_case(draw: st.DrawFn, model: str, method: str) -> Case:
    name = f"clv.{model}.{method}"
    setup = draw(model_setup(model, "unfitted" if method == "fit" else None))
    frames: dict[str, pl.DataFrame] = {}
    refused: list[str] = []
    kwargs: dict[str, Any] = {}
    bad_option = setup.pop("bad", None)
    if method in ("load", "from_params"):
        bad_option = None  # these make their own model: the drawn one is not used
    if method in ("fit", "p_alive", "predict", "conditional_expected_purchases") or method in (
        "probability_of_purchases",
        "discounted_expected_purchases",
        "expected_spend",
    ):
        others: dict[str, st.SearchStrategy[Any]] = {}
        bad: dict[str, st.SearchStrategy[Any]] = {}
        timed = ("predict", "conditional_expected_purchases", "probability_of_purchases")
        if method in timed and model != "GammaGamma":  # GammaGamma.predict is expected_spend
            others["t"] = _T if model != "BetaGeoBetaBinom" else st.sampled_from([0, 1, 5, 10**4])
            bad["t"] = _BAD_T
        if method == "probability_of_purchases":
            others["n"] = st.sampled_from([0, 1, 5, 1000])
            bad["n"] = st.sampled_from([-1, 1.5, "2"])
        if method == "discounted_expected_purchases":
            others["discount_rate"] = st.sampled_from([0.001, 0.1, 1.0, 1e6])
            bad["discount_rate"] = st.sampled_from([0.0, -0.1, math.nan, 0.0005])
        if method == "fit":
            others["start"] = st.sampled_from([None, list(_GOOD_PARAMS[model].values())])
            bad["start"] = st.sampled_from([[1.0], [-1.0] * 4, [math.nan] * 4])
        drawn_options, option_bad = draw(options({}, others, bad))
        # Required keyword options default to a usual value when left out.
        for key, default in (("t", 1), ("n", 0), ("discount_rate", 0.1)):
            if key in others and key not in drawn_options:
                drawn_options[key] = default
        kwargs = drawn_options
        bad_option = bad_option or option_bad
        if method == "fit" and model == "ShiftedBetaGeometric" and draw(st.booleans()):
            setup["alive"] = draw(
                st.lists(
                    st.integers(0, 1000) | st.sampled_from([math.nan, -1.0, 1e300]), max_size=8
                )
            )
        else:
            spend = method == "expected_spend" or model == "GammaGamma"
            drawn = draw(table(summary_columns(model, spend), {}, customer=None))
            frames["data"] = drawn.frame
            refused = _refused("data", drawn.refused)
    elif method == "survival":
        kwargs = {"periods": draw(st.sampled_from([0, 1, 12, 10**5]) | GENERIC_BAD)}
    elif method == "load":
        if draw(st.booleans()):
            broken = ["", "{}", "[1]", '{"model": "bg_nbd"}', '{"params": {"r": "x"}}']
            setup["content"] = draw(st.sampled_from(broken))
            bad_option = f"file content {setup['content']!r}"
        else:
            chosen, bad_option = draw(params(model))
            setup["content"] = json.dumps({"model": MODELS[model]._model, "params": chosen})
    elif method == "from_params":
        kwargs["params"], bad_option = draw(params(model))
    return Case(name, frames, kwargs, refused, bad_option, setup, _method_snippet(name, setup))


def _method_snippet(name: str, setup: dict[str, Any]) -> str:
    model, method = name.split(".")[1:]
    if method == "from_params":
        return f"clv.{model}.from_params(**kwargs)"
    if method == "load":
        return f"Path('m.json').write_text(content); clv.{model}.load('m.json')"
    if method == "fit" and "alive" in setup:
        return f"clv.{model}().fit(alive, **kwargs)"
    args = "data, **kwargs" if method not in ("summary", "to_dict", "survival", "save") else ""
    if method == "survival":
        args = "**kwargs"
    if method == "save":
        args = "'m.json'"
    return f"{_model_source(setup)}.{method}({args})"


def _method_call(model: str, method: str) -> Call:
    def call(frames: dict[str, Any], case: Case) -> Any:
        setup = case.setup
        cls = MODELS[model]
        if method == "from_params":
            return cls.from_params(**case.kwargs).params_
        if method == "load":
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "m.json"
                path.write_text(setup["content"])
                return cls.load(path).params_
        fitted = make_model(setup)
        if method == "fit":
            data = setup["alive"] if "alive" in setup else frames["data"]
            return fitted.fit(data, **case.kwargs).params_
        if method == "save":
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "m.json"
                fitted.save(path)
                return cls.load(path).params_
        if method in ("summary", "to_dict"):
            return getattr(fitted, method)()
        if method == "survival":
            return fitted.survival(**case.kwargs)
        return getattr(fitted, method)(frames["data"], **case.kwargs)

    return call


_FRAME_METHODS = {
    "p_alive",
    "predict",
    "conditional_expected_purchases",
    "probability_of_purchases",
    "discounted_expected_purchases",
    "expected_spend",
}


def _model_bounds(case: Case) -> Bounds:
    return {
        "p_alive": (0, 1),
        "probability": (0, 1),
        "expected_purchases": (0, math.inf),
        "discounted_purchases": (0, math.inf),
        "expected_spend": (0, math.inf),
        "survival": (0, 1),
        "retention_rate": (0, 1),
        "clv": (-math.inf, math.inf),
    }


@st.composite
def clv_case(draw: st.DrawFn) -> Case:
    model = draw(st.sampled_from(["BetaGeo", "ModifiedBetaGeo", "ParetoNBD", "BetaGeoBetaBinom"]))
    transactions = draw(model_setup(model))
    spend = draw(model_setup("GammaGamma"))
    discrete = model == "BetaGeoBetaBinom"
    others: dict[str, st.SearchStrategy[Any]] = {
        "discount_rate": st.sampled_from([0.01, 0.0, 0.1, 1e-6]),
        "margin": st.sampled_from([1.0, 0.3, 0.0]),
    }
    literals: dict[str, tuple[Any, ...]] = {"discounting": ("monthly", "continuous")}
    bad: dict[str, st.SearchStrategy[Any]] = {
        "discount_rate": st.sampled_from([-0.5, math.nan, math.inf]),
        "margin": st.sampled_from([math.nan, math.inf]),
    }
    if discrete:
        others["periods"] = st.sampled_from([None, 1, 10, 10**4])
        others["months"] = st.none()  # a horizon in months does not apply to BG/BB
        bad["periods"] = st.sampled_from([-1, 0, 2.5])
        bad["months"] = st.just(12)
    else:
        others["months"] = st.sampled_from([None, 1, 12, 120])
        literals["time_unit"] = ("day", "week", "month")
        others["periods"] = st.none()  # periods are BG/BB's horizon
        bad["months"] = st.sampled_from([-1, 0, 2.5])
        bad["periods"] = st.just(10)
    kwargs, bad_option = draw(options(literals, others, bad))
    if not discrete:
        # Models from parameters or a plain frame know no time unit: clv needs it (without it,
        # a DeprecationWarning says days are assumed).
        kwargs.setdefault("time_unit", "day")
    drawn = draw(table(summary_columns(model, spend=True), {}, customer=None))
    setup = {"transactions": transactions, "spend": spend}
    bad_option = bad_option or transactions.get("bad") or spend.get("bad")
    snippet = (
        f"clv.clv(data, transactions={_model_source(transactions)}, "
        f"spend={_model_source(spend)}, **kwargs)"
    )
    refused = _refused("data", drawn.refused)
    return Case("clv.clv", {"data": drawn.frame}, kwargs, refused, bad_option, setup, snippet)


def _clv_call(frames: dict[str, Any], case: Case) -> Any:
    transactions = make_model(case.setup["transactions"])
    spend = make_model(case.setup["spend"])
    return clv.clv(frames["data"], transactions=transactions, spend=spend, **case.kwargs)


@st.composite
def evaluate_case(draw: st.DrawFn) -> Case:
    model = draw(st.sampled_from(["BetaGeo", "ModifiedBetaGeo", "ParetoNBD", "BetaGeoBetaBinom"]))
    transactions = draw(model_setup(model))
    spend = draw(st.none() | model_setup("GammaGamma"))
    kwargs, bad_option = draw(
        options(
            {},
            {"max_frequency": st.sampled_from([1, 7, 40])},
            {"max_frequency": st.sampled_from([0, -1, 2.5, "7"])},
        )
    )
    discrete = model == "BetaGeoBetaBinom"
    columns = [
        *summary_columns(model, spend=spend is not None),
        Column("frequency_holdout", "count", values=st.integers(0, 12)),
        Column(
            "duration_holdout",
            "number",
            values=st.integers(0, 6) if discrete else st.sampled_from([0.0, 39.0, 52.5]),
        ),
    ]
    if spend is not None:
        columns.append(Column("monetary_value_holdout", "number"))
    drawn = draw(table(columns, {}, customer=None))
    setup = {"transactions": transactions, "spend": spend}
    bad_option = (
        bad_option or transactions.get("bad") or (spend.get("bad") if spend is not None else None)
    )
    spend_source = "None" if spend is None else _model_source(spend)
    snippet = f"clv.evaluate(data, {_model_source(transactions)}, {spend_source}, **kwargs)"
    refused = _refused("data", drawn.refused)
    return Case("clv.evaluate", {"data": drawn.frame}, kwargs, refused, bad_option, setup, snippet)


def _evaluate_call(frames: dict[str, Any], case: Case) -> Any:
    transactions = make_model(case.setup["transactions"])
    spend = None if case.setup["spend"] is None else make_model(case.setup["spend"])
    return clv.evaluate(frames["data"], transactions, spend, **case.kwargs).metrics


def _evaluate_bounds(case: Case) -> Bounds:
    return {
        "mae": (0, math.inf),
        "rmse": (0, math.inf),
        "spearman": (-1, 1),
        "top_decile_capture": (0, 1),
    }


@st.composite
def lr_test_case(draw: st.DrawFn) -> Case:
    model = draw(st.sampled_from(sorted(MODELS)))
    restricted = draw(model_setup(model, draw(st.sampled_from(["params", "fit", "unfitted"]))))
    full = draw(model_setup(model, draw(st.sampled_from(["params", "fit"]))))
    setup = {"restricted": restricted, "full": full}
    bad_option = restricted.get("bad") or full.get("bad")
    snippet = f"clv.lr_test({_model_source(restricted)}, {_model_source(full)})"
    return Case("clv.lr_test", {}, {}, [], bad_option, setup, snippet)


def _lr_test_call(frames: dict[str, Any], case: Case) -> Any:
    return clv.lr_test(make_model(case.setup["restricted"]), make_model(case.setup["full"]))


def _constructor_case(model: str) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: st.DrawFn) -> Case:
        names = st.sampled_from(["frequency", "recency", "T", "monetary_value", "x", None, 3])
        kwargs, _ = draw(
            options({}, {"frequency": names, "recency": names, "T": names, "weights": names})
        )
        if model == "ShiftedBetaGeometric":
            kwargs = {k: v for k, v in kwargs.items() if k == "weights"}
        drawn = draw(table(summary_columns(model, spend=True), {}, customer=None))
        snippet = f"clv.{model}(**kwargs).fit(data)"
        return Case(f"clv.{model}", {"data": drawn.frame}, kwargs, [], None, {}, snippet)

    return build()


def _constructor_call(model: str) -> Call:
    def call(frames: dict[str, Any], case: Case) -> Any:
        return MODELS[model](**case.kwargs).fit(frames["data"]).params_

    return call


# --- datasets ---------------------------------------------------------------------------------

_DATASET_OPTIONS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "survey_responses": {
        "n": st.integers(0, 300),
        "customers": st.integers(0, 30),
        "months": st.integers(0, 30),
        "seed": st.integers(0, 2**64 - 1),
    },
    "saas": {
        "customers": st.integers(0, 20),
        "months": st.integers(0, 6),
        "churn_hazard": st.sampled_from([0.0, 0.03, 1 / 3, 0.5, math.nan]),
        "trial_share": st.sampled_from([0.0, 0.3, 1.0, 1.5]),
        "usage_days": st.integers(0, 31),
        "raw_events": st.sampled_from([None, True, False]),
        "start": st.sampled_from([dt.date(2023, 1, 1), dt.date(1, 1, 1), dt.date(9999, 1, 1)]),
        "seed": st.integers(0, 2**64 - 1),
    },
    "cdnow": {"kind": st.sampled_from(["sample", "summary", "summary_monetary", "bogus"])},
    "feedback_responses": {
        "n": st.integers(0, 300),
        "customers": st.integers(0, 30),
        "months": st.integers(0, 30),
        "seed": st.integers(0, 2**64 - 1),
    },
    "feedback_dictionary": {},
    "donations": {},
    "sbg_retention": {},
}
_DATASET_OPTIONS["write"] = {
    **_DATASET_OPTIONS["saas"],
    "chunk_customers": st.integers(1, 10) | st.sampled_from([0, -1]),
}
_DATASET_OPTIONS["write_stripe"] = {
    **_DATASET_OPTIONS["saas"],
    "api_version": st.sampled_from(["2025-03-31", "2024-12-18", "2023-10-16"]),
    "currency": st.sampled_from(["usd", "JPY", "kwd", "dollars"]),
}
_STRIPE_OPTIONS = ("api_version", "currency")
_DATASET_OPTIONS["SaasData"] = _DATASET_OPTIONS["saas"]
_DATASET_OPTIONS["SaasData.tables"] = _DATASET_OPTIONS["saas"]


@st.composite
def dataset_case(draw: st.DrawFn, name: str) -> Case:
    kwargs, bad_option = draw(options({}, _DATASET_OPTIONS[name]))
    return Case(f"datasets.{name}", {}, kwargs, [], bad_option if name == "cdnow" else None)


def _dataset_call(name: str) -> Call:
    def call(frames: dict[str, Any], case: Case) -> Any:
        if name == "write":
            with tempfile.TemporaryDirectory() as folder:
                return datasets.write(folder, **case.kwargs)
        if name == "write_stripe":
            export = {k: v for k, v in case.kwargs.items() if k in _STRIPE_OPTIONS}
            generate = {k: v for k, v in case.kwargs.items() if k not in _STRIPE_OPTIONS}
            with tempfile.TemporaryDirectory() as folder:
                return datasets.write_stripe(datasets.saas(**generate), folder, **export)
        if name in ("SaasData", "SaasData.tables"):
            data = datasets.saas(**case.kwargs)
            rebuilt = datasets.SaasData(**{k: getattr(data, k) for k in data.__dataclass_fields__})
            return {k: v.height for k, v in rebuilt.tables().items()}
        return getattr(datasets, name)(**case.kwargs)

    return call


def _dataset_snippet(case: Case) -> str:
    args = ", ".join(f"{k}={source(v)}" for k, v in case.kwargs.items())
    if case.name.startswith("datasets.SaasData"):
        return f"csm.datasets.saas({args}).tables()"
    if case.name == "datasets.write_stripe":
        generate = ", ".join(
            f"{k}={source(v)}" for k, v in case.kwargs.items() if k not in _STRIPE_OPTIONS
        )
        export = "".join(
            f", {k}={source(v)}" for k, v in case.kwargs.items() if k in _STRIPE_OPTIONS
        )
        return f"csm.datasets.write_stripe(csm.datasets.saas({generate}), 'out'{export})"
    return f"csm.{case.name}({args})"


# --- readers of exports (csmetrics.io) -------------------------------------------------------

_STRIPE_DATA = Path(__file__).resolve().parent.parent / "data" / "stripe"
_STRIPE_FILES = {
    "subscriptions": [
        _STRIPE_DATA / "v2024/subscriptions.jsonl",
        _STRIPE_DATA / "v2025/subscriptions.json",
    ],
    "invoices": [_STRIPE_DATA / "v2024/invoices.jsonl", _STRIPE_DATA / "v2025/invoices.jsonl"],
}


def _stripe_objects(path: Path) -> list[Any]:
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return list(json.loads(text))


_JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([0, 1, -1, 1704067200, 2**63, -(2**63) - 1, 10**30, 253402300800])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["metered", "month", "canceled", "12.3456", "NaN", "1e-60", "invoice"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, inner in items:
        out.append((*prefix, key))
        out.extend(_json_paths(inner, (*prefix, key)))
    return out


@st.composite
def _stripe_text(draw: st.DrawFn, which: str) -> str | bytes:
    """An export file: fixture objects with fields deleted or given arbitrary JSON values, in
    any layout, or text that is not quite JSON."""
    objects = _stripe_objects(draw(st.sampled_from(_STRIPE_FILES[which])))
    objects = draw(st.lists(st.sampled_from(objects), min_size=0, max_size=6))
    objects = json.loads(json.dumps(objects))
    for _ in range(draw(st.integers(0, 4))):
        if not objects:
            break
        position = draw(st.integers(0, len(objects) - 1))
        paths = _json_paths(objects[position])
        if not paths:
            objects[position] = draw(_JSON_VALUES)
            continue
        path = draw(st.sampled_from(paths))
        parent = objects[position]
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(_JSON_VALUES)
    layout = draw(st.sampled_from(["lines", "array", "envelope", "one", "cut", "garbage", "bytes"]))
    if layout == "lines":
        return "".join(json.dumps(o) + "\n" for o in objects)
    if layout == "array":
        return json.dumps(objects)
    if layout == "envelope":
        return json.dumps({"object": "list", "data": objects})
    if layout == "one":
        return json.dumps(objects[0] if objects else draw(_JSON_VALUES))
    if layout == "cut":
        text = "".join(json.dumps(o) + "\n" for o in objects)
        return text[: draw(st.integers(0, len(text)))]
    if layout == "garbage":
        return draw(st.text(max_size=40)) + draw(
            st.sampled_from(["", "[", "{", "\n{}", "[[[[[[" * 40])
        )
    return draw(st.binary(max_size=40))


@st.composite
def stripe_read_case(draw: st.DrawFn) -> Case:
    setup = {
        which: draw(st.none() | _stripe_text(which)) for which in ("subscriptions", "invoices")
    }
    shown = ", ".join(f"{k}=file({v!r})" for k, v in setup.items() if v is not None)
    return Case("io.stripe.read", {}, {}, setup=setup, snippet=f"csm.io.stripe.read({shown})")


def _stripe_read_call(frames: dict[str, Any], case: Case) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for which, text in case.setup.items():
            if text is None:
                continue
            path = Path(folder) / f"{which}.json"
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8", errors="surrogatepass")
            paths[which] = path
        tables = stripe_io.read(**paths)
        return {
            "subscriptions": tables.subscriptions.height,
            "discounts": tables.discounts.height,
            "invoice_lines": tables.invoice_lines.height,
            **tables.skipped,
        }


@st.composite
def stripe_csv_case(draw: st.DrawFn) -> Case:
    lines = (_STRIPE_DATA / "dashboard_subscriptions.csv").read_text().splitlines()
    kept = [lines[0], *draw(st.lists(st.sampled_from(lines[1:]), max_size=5))]
    for _ in range(draw(st.integers(0, 3))):
        row = draw(st.integers(0, len(kept) - 1))
        cells = kept[row].split(",")
        cell = draw(st.integers(0, len(cells) - 1))
        cells[cell] = draw(st.text(alphabet="0123456789-: TZa.,_", max_size=12))
        kept[row] = ",".join(cells)
    text = "\n".join(kept)
    return Case("io.stripe.read_dashboard_csv", {}, {}, setup={"text": text})


def _stripe_csv_call(frames: dict[str, Any], case: Case) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "subscriptions.csv"
        path.write_text(case.setup["text"])
        return stripe_io.read_dashboard_csv(path).subscriptions.height


def _stripe_tables_case(name: str) -> st.SearchStrategy[Case]:
    return st.builds(lambda n: Case(name, {}, {}, setup={"rows": n}), st.integers(0, 3))


def _stripe_tables_call(frames: dict[str, Any], case: Case) -> Any:
    tables = stripe_io.read(
        subscriptions=_STRIPE_FILES["subscriptions"][0], invoices=_STRIPE_FILES["invoices"][0]
    )
    rows = case.setup["rows"]
    built = stripe_io.StripeTables(
        tables.subscriptions.head(rows),
        tables.discounts.head(rows),
        tables.invoice_lines.head(rows),
        dict(tables.skipped),
    )
    if case.name.endswith("to_pandas"):
        return {k: len(v) for k, v in built.to_pandas().items()}
    return built.subscriptions.height


def _io_entries() -> dict[str, Entry]:
    plain = {"frame_result": False, "families": ("polars",)}
    return {
        "io.stripe.read": Entry(stripe_read_case(), _stripe_read_call, weight=1.0, **plain),  # type: ignore[arg-type]
        "io.stripe.read_dashboard_csv": Entry(
            stripe_csv_case(), _stripe_csv_call, weight=0.3, **plain
        ),  # type: ignore[arg-type]
        "io.stripe.currency_exponent": Entry(
            st.builds(
                lambda c: Case("io.stripe.currency_exponent", {}, {"currency": c}),
                st.text(max_size=4) | st.sampled_from(["jpy", "KWD", "usd"]),
            ),
            lambda frames, case: stripe_io.currency_exponent(**case.kwargs),
            weight=0.1,
            **plain,  # type: ignore[arg-type]
        ),
        "io.stripe.StripeTables": Entry(
            _stripe_tables_case("io.stripe.StripeTables"), _stripe_tables_call, weight=0.1, **plain
        ),  # type: ignore[arg-type]
        "io.stripe.StripeTables.to_pandas": Entry(
            _stripe_tables_case("io.stripe.StripeTables.to_pandas"),
            _stripe_tables_call,
            weight=0.1,
            **plain,
        ),  # type: ignore[arg-type]
    }


# --- the customer journey and support times ---------------------------------------------------

JOURNEYS = st.sampled_from([["setup"], ["setup", "report"], ["report", "setup"]])
MILESTONE_COLUMNS = [
    Column("customer_id", "key"),
    Column("milestone", "label", vocabulary=("setup", "report", "other")),
    Column("timestamp", "instant"),
]
CUSTOMER_COLUMNS = [Column("customer_id", "key"), Column("signup_date", "instant"), SEGMENT]
WINDOWS_BAD = st.sampled_from([-1, [], [7, -3], 2.5, "30"])


@st.composite
def journey_case(draw: st.DrawFn, name: str) -> Case:
    others: dict[str, st.SearchStrategy[Any]] = {
        "as_of": instant_option(),
        "by": SCORE_BY,
        "cohort": st.sampled_from([None, "month", "week"]),
    }
    bad: dict[str, st.SearchStrategy[Any]] = {"as_of": BAD_INSTANTS}
    if name == "milestone_funnel":
        others["window_days"] = st.sampled_from([7, [7, 30], 0, 400])
        bad["window_days"] = WINDOWS_BAD
    else:
        others["confidence"] = CONFIDENCE
        bad["confidence"] = BAD_CONFIDENCE
    kwargs, bad_option = draw(
        options({"order": ("strict", "any"), "before_start": ("raise", "drop")}, others, bad)
    )
    kwargs["journey"] = draw(JOURNEYS)
    m = draw(table(MILESTONE_COLUMNS, kwargs))
    c = draw(table(CUSTOMER_COLUMNS, kwargs))
    refused = _refused("milestones", m.refused) + _refused("customers", c.refused)
    frames = {"milestones": m.frame, "customers": c.frame}
    return Case(name, frames, kwargs, refused, bad_option)


USAGE_COLUMNS = [
    Column("customer_id", "key"),
    Column("date", "instant"),
    Column("feature", "label", vocabulary=("core", "reports")),
]


@st.composite
def activation_case(draw: st.DrawFn, name: str) -> Case:
    kwargs, bad_option = draw(
        options(
            {},
            {
                "as_of": instant_option(),
                "by": SCORE_BY,
                "window_days": st.sampled_from([14, 0, 60]),
                "cohort": st.sampled_from([None, "month"]),
            },
            {"as_of": BAD_INSTANTS, "window_days": st.sampled_from([-1, 2.5, "14"])},
        )
    )
    rule = draw(
        st.sampled_from(
            [
                {"min_active_days": 1},
                {"min_active_days": 3},
                {"features": ["core", "reports"]},
                {"milestone": "setup"},
            ]
        )
    )
    kwargs.update(rule)
    c = draw(table(CUSTOMER_COLUMNS, kwargs))
    u = draw(table(USAGE_COLUMNS, kwargs))
    m = draw(table(MILESTONE_COLUMNS, kwargs))
    frames = {"customers": c.frame, "usage": u.frame, "milestones": m.frame}
    refused = _refused("customers", c.refused)
    refused += (
        _refused("milestones", m.refused) if "milestone" in rule else _refused("usage", u.refused)
    )
    if draw(st.booleans()):
        subs = draw(table(SUBSCRIPTIONS[:-1], kwargs, allow_refused=False))
        frames["subscriptions"] = subs.frame
    return Case(name, frames, kwargs, refused, bad_option)


def _activation_call(frames: dict[str, Any], case: Case) -> Any:
    result = csm.activation(
        frames["customers"],
        usage=frames["usage"],
        milestones=frames["milestones"],
        subscriptions=frames.get("subscriptions"),
        **case.kwargs,
    )
    return result.rates


@st.composite
def touchpoint_case(draw: st.DrawFn) -> Case:
    kwargs, bad_option = draw(
        options(
            {"period": (None, *PERIODS), "ci": (None, "wald", "adjusted_wald")},
            {
                "journey": st.sampled_from([None, ["setup", "report"], ["report"]]),
                "csat": st.sampled_from([None, "csat"]),
                "confidence": CONFIDENCE,
            },
            {"confidence": BAD_CONFIDENCE},
        )
    )
    columns = [
        Column("touchpoint", "label", vocabulary=("setup", "report", "support")),
        Column("nps", "score"),
        Column("csat", "score", values=st.integers(1, 5), used=lambda kw: kw.get("csat") == "csat"),
        Column("timestamp", "instant", used=lambda kw: kw.get("period") is not None),
    ]
    drawn = draw(table(columns, kwargs, customer=None))
    refused = _refused("responses", drawn.refused)
    return Case("touchpoint_experience", {"responses": drawn.frame}, kwargs, refused, bad_option)


@st.composite
def response_times_case(draw: st.DrawFn) -> Case:
    kwargs, bad_option = draw(
        options(
            {"period": PERIODS},
            {
                "as_of": instant_option(),
                "by": SCORE_BY,
                "sla_hours": st.sampled_from([None, 4, 0.5, {"high": 1, "low": 8}]),
                "business_hours": st.sampled_from([None, (9, 17), (0, 24)]),
                "holidays": st.sampled_from([(), [dt.date(2024, 1, 1)]]),
            },
            {
                "as_of": BAD_INSTANTS,
                "sla_hours": st.sampled_from([-1, 0, math.nan, {"high": -2}]),
                "business_hours": st.sampled_from([(17, 9), (9, 25), (9,)]),
            },
        )
    )
    columns = [
        Column("opened_at", "instant"),
        Column("first_response_at", "instant"),
        Column("resolved_at", "instant"),
        Column(
            "priority",
            "label",
            vocabulary=("high", "low"),
            used=lambda kw: isinstance(kw.get("sla_hours"), dict),
        ),
        SEGMENT,
    ]
    drawn = draw(table(columns, kwargs, customer=None))
    refused = _refused("tickets", drawn.refused)
    return Case("response_times", {"tickets": drawn.frame}, kwargs, refused, bad_option)


# --- voice of the customer -------------------------------------------------------------------

COMMENTS = (
    "great support",
    "billing error!",
    "Não funciona. Muito lento",
    "",
    "slow slow app",
    "ÇA MARCHE PAS",
    "the the",
    "refund?? now!!!",
    "\U0001f600 love it",
    "charged twice, NOT happy",
    "الخدمة ممتازة",
)
DICTIONARIES = st.sampled_from(
    [
        {"billing": ["billing", "charged? twice"], "support": "support"},
        {"anything": r"\w+"},
        {"emoji": "\U0001f600", "slow": ["slow", "lento"]},
    ]
)
BAD_DICTIONARIES = st.sampled_from([{}, {"x": []}, {"x": ""}, ["billing"], {"x": [3]}, {3: "x"}])
BAD_STOP_WORDS = st.sampled_from(["french", [1, 2], 5])


@st.composite
def feedback_case(draw: st.DrawFn, name: str) -> Case:
    function = name.rsplit(".", 1)[-1]
    literals: dict[str, tuple[Any, ...]] = {"invalid": ("raise", "drop", "null")}
    others: dict[str, st.SearchStrategy[Any]] = {}
    bad: dict[str, st.SearchStrategy[Any]] = {}
    if function in ("themes", "quotes"):
        others["dictionary"] = DICTIONARIES
        bad["dictionary"] = BAD_DICTIONARIES
        literals["patterns"] = ("regex", "literal")
    if function == "themes":
        literals["score_type"] = ("nps", "csat", "ces")
        literals["period"] = (None, *PERIODS)
        others["by"] = SCORE_BY
    if function == "distinctive_terms":
        others["between"] = st.sampled_from(["nps_category", "group"])
        others["prior"] = st.sampled_from(["informative", 0.05, 1.0])
        bad["prior"] = st.sampled_from([-1.0, 0.0, math.nan, "flat"])
        others["top"] = st.sampled_from([None, 1, 5])
    if function in ("distinctive_terms", "quotes"):
        others["ngrams"] = st.integers(1, 3)
        bad["ngrams"] = st.sampled_from([0, 6, 2.5])
        others["stop_words"] = st.sampled_from(["english", None, ["app", "ÇA"]])
        bad["stop_words"] = BAD_STOP_WORDS
    if function == "quotes":
        others["k"] = st.integers(1, 3)
        bad["k"] = st.sampled_from([0, -1])
    if function == "sentiment":
        others["score"] = st.sampled_from(["score", None])
    kwargs, bad_option = draw(options(literals, others, bad))
    snippet = ""
    if name.startswith("expr."):
        # The expression takes no option.
        kwargs, bad_option = {}, None
        made = "pl.col('comment').cs.sentiment()" if ".cs." in name else "cse.sentiment('comment')"
        snippet = f"data.select({made})"
    if function in ("themes", "quotes"):
        kwargs.setdefault("dictionary", draw(DICTIONARIES))
    score_used: Callable[[dict[str, Any]], bool] = lambda kw: (  # noqa: E731
        kw.get("score", "score") == "score"
        and (function != "distinctive_terms" or kw.get("between") != "group")
    )
    columns = [
        Column("comment", "label", vocabulary=COMMENTS),
        Column("score", "score", values=st.integers(-1, 11), used=score_used),
        *survey_columns(st.integers(0, 10))[1:],
        Column(
            "group",
            "key",
            values=st.integers(0, 1),
            used=lambda kw: kw.get("between") == "group",
        ),
    ]
    drawn = draw(table(columns, kwargs, customer=None))
    refused = drawn.refused
    if name.startswith("expr."):
        refused = [c for c in refused if c == "comment"]
    return Case(
        name,
        {"data": drawn.frame},
        kwargs,
        _refused("data", refused),
        bad_option,
        snippet=snippet,
    )


def _feedback_bounds(case: Case) -> Bounds:
    return {
        "share": (0, 1),
        "nps": (-100, 100),
        "nps_overall": (-100, 100),
        "nps_without": (-100, 100),
        "nps_impact": (-200, 200),
        "csat": (0, 1),
        "low_effort_share": (0, 1),
        "compound": (-1, 1),
        "rank": (1, math.inf),
    }


def _tokenize_case() -> st.SearchStrategy[Case]:
    @st.composite
    def case(draw: st.DrawFn) -> Case:
        others = {
            "ngrams": st.integers(1, 5),
            "stop_words": st.sampled_from(["english", None, ["the"]]),
        }
        bad = {"ngrams": st.sampled_from([0, 6, "2"]), "stop_words": BAD_STOP_WORDS}
        kwargs, bad_option = draw(options({}, others, bad))
        text = draw(st.text(max_size=60) | st.sampled_from(COMMENTS))
        return Case("feedback.tokenize", {}, kwargs, [], bad_option, setup={"text": text})

    return case()


def _feedback_entries() -> dict[str, Entry]:
    from polars.exceptions import ComputeError

    from csmetrics import feedback

    reg: dict[str, Entry] = {}
    for function in ("themes", "distinctive_terms", "sentiment", "quotes"):
        entry = Entry(
            feedback_case(f"feedback.{function}"),
            _frame_call(getattr(feedback, function), "data"),
            _feedback_bounds,
            weight=0.5,
            passthrough=function == "sentiment",
        )
        reg[f"feedback.{function}"] = entry
        if function != "tokenize" and hasattr(csm, function):
            reg[function] = Entry(
                feedback_case(function),
                _frame_call(getattr(csm, function), "data"),
                _feedback_bounds,
                weight=0.3,
                passthrough=function == "sentiment",
            )
    reg["feedback.tokenize"] = Entry(
        _tokenize_case(),
        lambda frames, case: feedback.tokenize(case.setup["text"], **case.kwargs),
        frame_result=False,
        families=("polars",),
    )
    for prefix in ("expr.", "expr.cs."):
        reg[prefix + "sentiment"] = Entry(
            feedback_case(prefix + "sentiment"),
            _sentiment_expr_call,
            lambda _: {"comment": (-1, 1)},
            families=("polars", "lazy"),
            allowed=(ComputeError,),
        )
    return reg


def _sentiment_expr_call(frames: dict[str, Any], case: Case) -> Any:
    made = (
        pl.col("comment").cs.sentiment()  # type: ignore[attr-defined]
        if case.name.startswith("expr.cs.")
        else cse.sentiment("comment")
    )
    query = frames["data"].select(made)
    return query.collect() if isinstance(query, pl.LazyFrame) else query


# --- the registry -----------------------------------------------------------------------------


def _registry() -> dict[str, Entry]:
    reg: dict[str, Entry] = {}
    for name in ("nps", "csat", "ces", "nps_compare"):
        reg[name] = Entry(
            survey_case(name), _frame_call(getattr(csm, name), "data"), _survey_bounds
        )
    panel = ("mrr", "mrr_bridge", "mrr_movements", "revenue_kpis", "churn_rates")
    for name in (*panel, "cohort_retention", "survival_table"):
        reg[name] = Entry(panel_case(name), _frame_call(getattr(csm, name), "data"), _panel_bounds)
    reg["cohort_triangle"] = Entry(
        cohort_triangle_case(),
        lambda frames, case: csm.cohort_triangle(frames["long"], **case.kwargs),
        weight=0.5,
    )
    for name in ("kaplan_meier", "kaplan_meier_summary", "nelson_aalen", "logrank_test"):
        reg[name] = Entry(
            survival_case(name), _frame_call(getattr(csm, name), "data"), _survival_bounds
        )
    reg["renewal_rates"] = Entry(
        renewal_case(),
        _frame_call(csm.renewal_rates, "contracts"),
        lambda _: {"renewal_rate": (0, 1), "revenue_renewal_rate": (0, 1)},
    )
    reg["retention_cost"] = Entry(
        retention_cost_case(),
        _frame_call(csm.retention_cost, "subscriptions", "costs"),
        lambda _: {"crc": (-math.inf, math.inf)},
    )
    reg["trial_conversion"] = Entry(
        trial_case(),
        _frame_call(csm.trial_conversion, "trials"),
        lambda _: {"conversion_rate": (0, 1)},
    )
    reg["conversion_rates"] = Entry(
        conversion_case(),
        _frame_call(csm.conversion_rates, "conversions"),
        lambda _: {"upsell_rate": (0, 1), "cross_sell_rate": (0, 1)},
    )
    for name in ("milestone_funnel", "time_to_milestone"):
        reg[name] = Entry(
            journey_case(name),
            _frame_call(getattr(csm, name), "milestones", "customers"),
            lambda _: {"share": (0, 1), "conversion": (0, math.inf), "median": (0, math.inf)},
        )
    for name in ("activation", "Activation"):
        reg[name] = Entry(
            activation_case(name),
            _activation_call,
            lambda _: {"activation_rate": (0, 1)},
            weight=0.5,
        )
    reg["touchpoint_experience"] = Entry(
        touchpoint_case(),
        _frame_call(csm.touchpoint_experience, "responses"),
        lambda _: {"nps": (-100, 100), "csat": (0, 1)},
    )
    reg["response_times"] = Entry(
        response_times_case(),
        _frame_call(csm.response_times, "tickets"),
        lambda _: {"sla_attainment": (0, 1), "first_response_median_hours": (0, math.inf)},
    )
    reg["first_contact_resolution"] = Entry(
        fcr_case(),
        _frame_call(csm.first_contact_resolution, "tickets"),
        lambda _: {"fcr_gross": (0, 1), "fcr_net": (0, 1)},
    )
    for name in ("engagement", "feature_adoption"):
        reg[name] = Entry(
            usage_case(name),
            _frame_call(getattr(csm, name), "usage"),
            lambda _: {"stickiness": (0, 1), "adoption": (0, 1), "dau": (0, math.inf)},
        )
    health_bounds: Callable[[Case], Bounds] = lambda case: {  # noqa: E731
        "score": (0, 100),
        **{f"{f['column']}_normalised": (0, 1) for f in case.setup["factors"]},
    }
    for name in ("health_score", "Factor"):
        reg[name] = Entry(health_case(name), _health_call, health_bounds, passthrough=True)
    reg["health_backtest"] = Entry(
        backtest_case(), _frame_call(csm.health_backtest, "data"), lambda _: {"auc": (0, 1)}
    )
    reg["churn_labels"] = Entry(
        churn_labels_case(),
        _frame_call(csm.churn_labels, "scores", "subscriptions"),
        passthrough=True,
    )
    reg["scorecard"] = Entry(
        scorecard_case("scorecard"), _tables_call(csm.scorecard), _scorecard_bounds, weight=0.5
    )
    reg["scorecard_wide"] = Entry(
        scorecard_case("scorecard_wide"),
        lambda frames, case: csm.scorecard_wide(frames["long"]),
        weight=0.3,
    )
    reg["report"] = Entry(
        scorecard_case("report"),
        _report_call,
        weight=0.1,
        frame_result=False,
        families=("polars", "pandas_arrow", "pyarrow"),
    )
    # Polars plugins: only Polars frames; their errors are ComputeError by documentation.
    from polars.exceptions import ComputeError

    for metric in ("nps", "csat", "ces"):
        for prefix in ("expr.", "expr.cs."):
            reg[prefix + metric] = Entry(
                expr_case(prefix + metric),
                _expr_call,
                _survey_bounds_expr,
                families=("polars", "lazy"),
                allowed=(ComputeError,),
                check=_expr_check,
            )
    # CLV.
    for name in ("purchase_clv", "subscription_clv", "net_clv"):
        reg[f"clv.{name}"] = Entry(
            formula_case(name), _formula_call(name), frame_result=False, families=("polars",)
        )
    reg["clv.rfm_summary"] = Entry(
        rfm_case(),
        _frame_call(clv.rfm_summary, "transactions"),
        lambda _: {"recency": (0, math.inf), "T": (0, math.inf)},
    )
    reg["clv.clv"] = Entry(clv_case(), _clv_call, _model_bounds, passthrough=True)
    reg["clv.evaluate"] = Entry(evaluate_case(), _evaluate_call, _evaluate_bounds, weight=0.5)
    reg["clv.lr_test"] = Entry(
        lr_test_case(), _lr_test_call, frame_result=False, families=("polars",), weight=0.3
    )
    for model, cls in MODELS.items():
        reg[f"clv.{model}"] = Entry(
            _constructor_case(model), _constructor_call(model), frame_result=False, weight=0.3
        )
        for method in public_methods(cls):
            frame_method = method in _FRAME_METHODS
            reg[f"clv.{model}.{method}"] = Entry(
                method_case(model, method),
                _method_call(model, method),
                _model_bounds,
                weight=0.5 if method in ("fit", "summary", "save") else 1.0,
                frame_result=frame_method,
                passthrough=frame_method,
                families=FAMILIES if frame_method or method == "fit" else ("polars",),
            )
    for name in _DATASET_OPTIONS:
        reg[f"datasets.{name}"] = Entry(
            dataset_case(name),
            _dataset_call(name),
            weight=0.2
            if name in ("saas", "write", "write_stripe", "SaasData", "SaasData.tables")
            else 0.3,
            frame_result=False,
            families=("polars",),
        )
    reg.update(_io_entries())
    reg.update(_feedback_entries())
    return reg


def _survey_bounds_expr(case: Case) -> Bounds:
    metric = case.name.rsplit(".", 1)[-1]
    return {"score": (-100, 100) if metric == "nps" else (0, 1)}


def public_methods(cls: type[Any]) -> list[str]:
    """The public methods of a class (properties and plain attributes are not callables)."""
    return sorted(
        name for name in dir(cls) if not name.startswith("_") and callable(getattr(cls, name, None))
    )


REGISTRY: dict[str, Entry] = _registry()

_SNIPPETS: dict[str, Callable[[Case], str]] = {
    "health_score": _health_snippet,
    "Factor": _health_snippet,
    "scorecard": _tables_snippet,
    "report": _tables_snippet,
}


def call_source(case: Case) -> str:
    """The call of ``case`` as Python source."""
    if case.snippet:
        return case.snippet
    if case.name in _SNIPPETS:
        return _SNIPPETS[case.name](case)
    if case.name.startswith("expr."):
        return _expr_snippet(case)
    if case.name.startswith("datasets."):
        return _dataset_snippet(case)
    if case.name in ("clv.purchase_clv", "clv.subscription_clv", "clv.net_clv"):
        return _formula_snippet(case)
    return default_snippet(case)
