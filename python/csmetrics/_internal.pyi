# Type stubs of the compiled module csmetrics._internal (crates/csmetrics-python).
from typing import TypedDict

import polars as pl

# The names the module exports (pyo3 sets __all__); `make lint` checks this stub against the
# built module with mypy's stubtest.
__all__ = [
    "__version__",
    "activated_customers",
    "activation",
    "activation_retention",
    "ces",
    "churn_labels",
    "churn_rates",
    "clv_customer_value",
    "clv_discounted_purchases",
    "clv_evaluate",
    "clv_expected_purchases",
    "clv_expected_spend",
    "clv_fit",
    "clv_fit_covariates",
    "clv_lr_test",
    "clv_p_alive",
    "clv_parameter_table",
    "clv_prediction_intervals",
    "clv_purchase_probability",
    "clv_retention_curve",
    "clv_rfm_summary",
    "cohort_retention",
    "conversion_rates",
    "csat",
    "customer_signal",
    "dictionary_by_label",
    "distinctive_terms",
    "engagement",
    "english_stop_words",
    "feature_adoption",
    "feedback_dictionary",
    "feedback_responses",
    "first_contact_resolution",
    "health_backtest",
    "health_score",
    "kaplan_meier",
    "kaplan_meier_summary",
    "logrank_test",
    "milestone_funnel",
    "mrr",
    "mrr_bridge",
    "mrr_movements",
    "nelson_aalen",
    "nps",
    "nps_compare",
    "purchase_kpis",
    "quotes",
    "read_stripe",
    "renewal_rates",
    "response_times",
    "retention_cost",
    "revenue_kpis",
    "saas",
    "sentiment",
    "survey_responses",
    "survival_table",
    "themes",
    "time_to_milestone",
    "tokenize",
    "touchpoint_experience",
    "trial_conversion",
]

__version__: str

def nps(
    frame: pl.DataFrame,
    score: str,
    by: list[str],
    period: str | None,
    timestamp: str,
    invalid: str,
    ci: str | None,
    confidence: float,
) -> pl.DataFrame: ...
def csat(
    frame: pl.DataFrame,
    score: str,
    by: list[str],
    period: str | None,
    timestamp: str,
    invalid: str,
    scale: tuple[int, int],
) -> pl.DataFrame: ...
def ces(
    frame: pl.DataFrame,
    score: str,
    by: list[str],
    period: str | None,
    timestamp: str,
    invalid: str,
    scale: tuple[int, int] | None,
    direction: str,
) -> pl.DataFrame: ...
def nps_compare(
    frame: pl.DataFrame,
    score: str,
    between: str | None,
    by: list[str],
    period: str | None,
    timestamp: str,
    invalid: str,
    pairs: str,
    confidence: float,
) -> pl.DataFrame: ...
def survey_responses(n: int, customers: int, months: int, seed: int) -> pl.DataFrame: ...
def saas(
    customers: int,
    months: int,
    start: int,
    churn_hazard: float,
    expansion_rate: float,
    contraction_rate: float,
    reactivation_probability: float,
    trial_share: float,
    trial_conversion: float,
    usage_days: int,
    raw_events_limit: int,
    bgnbd: tuple[float, float, float, float],
    gamma_gamma: tuple[float, float, float],
    seat_share: float,
    mean_seats: float,
    seat_change_rate: float,
    discount_share: float,
    pause_rate: float,
    past_due_rate: float,
    failed_payment_share: float,
    cancel_notice_share: float,
    seed: int,
    first_customer: int,
    count: int,
) -> list[tuple[str, pl.DataFrame]]: ...

class _Panel(TypedDict):
    """The customer panel's columns and options (see csmetrics.revenue._run)."""

    table: str
    customer_id: str
    start: str
    end: str | None
    amount: str
    interval: str | None
    interval_count: str | None
    currency: str | None
    period_column: str
    mrr_column: str
    timestamp: str
    period: str
    as_of: int | None
    first_period: int | None
    precision: int
    free_is_active: bool
    mode: str
    by: list[str]
    fx: list[tuple[str, float]] | None
    window: int | None
    money: str
    quantity: str | None
    subscription_id: str | None
    status: str | None
    canceled_at: str | None
    churn_reason: str | None
    percent_off: str | None
    amount_off: str | None
    discount_duration: str | None
    duration_in_months: str | None
    discount_start: str | None
    discount_end: str | None
    discounts: pl.DataFrame | None
    stacking: str
    mrr_basis: str
    with_contract: bool
    trials: str
    past_due: str
    delinquency_days: int
    paused: str
    churn_at: str
    churn_reasons: list[tuple[str, str]]

def mrr(frame: pl.DataFrame, panel: _Panel) -> pl.DataFrame: ...
def mrr_movements(frame: pl.DataFrame, panel: _Panel) -> pl.DataFrame: ...
def mrr_bridge(frame: pl.DataFrame, panel: _Panel) -> pl.DataFrame: ...
def revenue_kpis(frame: pl.DataFrame, panel: _Panel) -> pl.DataFrame: ...
def churn_rates(
    frame: pl.DataFrame, panel: _Panel, denominator: str, confidence: float | None
) -> pl.DataFrame: ...
def cohort_retention(
    frame: pl.DataFrame, panel: _Panel, kind: str, rule: str, signup: str | None
) -> pl.DataFrame: ...
def survival_table(
    frame: pl.DataFrame, panel: _Panel, gap_tolerance_days: float, lives: str, unit: str
) -> pl.DataFrame: ...
def churn_labels(
    scores: pl.DataFrame,
    subscriptions: pl.DataFrame,
    panel: _Panel,
    periods: int,
    customer_id: str,
    period: str,
    churned: str,
) -> pl.DataFrame: ...
def renewal_rates(
    frame: pl.DataFrame,
    renewal_due: str,
    renewed: str,
    amount: str | None,
    by: list[str],
    period: str,
) -> pl.DataFrame: ...
def kaplan_meier(
    frame: pl.DataFrame,
    duration: str,
    event: str,
    entry: str | None,
    weights: str | None,
    by: list[str],
    confidence: float,
) -> pl.DataFrame: ...
def kaplan_meier_summary(
    frame: pl.DataFrame,
    duration: str,
    event: str,
    entry: str | None,
    weights: str | None,
    by: list[str],
    confidence: float,
    tau: float | None,
) -> pl.DataFrame: ...
def nelson_aalen(
    frame: pl.DataFrame,
    duration: str,
    event: str,
    entry: str | None,
    weights: str | None,
    by: list[str],
    confidence: float,
    ties: str,
) -> pl.DataFrame: ...
def logrank_test(
    frame: pl.DataFrame,
    duration: str,
    event: str,
    group: str,
    entry: str | None,
    weights: str | None,
    by: list[str],
) -> pl.DataFrame: ...
def clv_rfm_summary(
    frame: pl.DataFrame,
    customer_id: str,
    timestamp: str,
    amount: str | None,
    merge: str,
    time_unit: str,
    observation_end: int | None,
    calibration_end: int | None,
    after_end: str,
) -> pl.DataFrame: ...
def clv_fit(
    frame: pl.DataFrame,
    model: str,
    frequency: str,
    recency: str,
    age: str,
    monetary_value: str,
    weights: str | None,
    alive: str,
    start: list[float] | None,
    standard_errors: bool = True,
) -> tuple[list[float], list[float], float, float, int, list[float] | None]: ...

_Coding = list[tuple[str, list[str] | None]]
_Covariates = tuple[_Coding, _Coding, list[float], list[float]]

def clv_parameter_table(
    model: str,
    params: list[float],
    std_errors: list[float],
    log_likelihood: float = ...,
    customers: float = ...,
    covariates: _Covariates | None = ...,
) -> pl.DataFrame: ...
def clv_lr_test(
    model: str,
    restricted: list[float],
    restricted_ll: float,
    restricted_customers: float,
    restricted_covariates: _Covariates | None,
    full: list[float],
    full_ll: float,
    full_customers: float,
    full_covariates: _Covariates | None,
) -> tuple[float, int, float]: ...
def clv_fit_covariates(
    frame: pl.DataFrame,
    model: str,
    frequency: str,
    recency: str,
    age: str,
    monetary_value: str,
    weights: str | None,
    purchase: list[str],
    dropout: list[str],
    start: list[float] | None,
) -> tuple[
    list[float],
    list[float],
    float,
    float,
    int,
    tuple[_Coding, _Coding, list[str], list[float], list[float]],
    list[float] | None,
]: ...

class _Fitted(TypedDict):
    """A fitted model and the summary columns it reads (see csmetrics.clv._Fitted._predict)."""

    model: str
    params: list[float]
    frequency: str
    recency: str
    age: str
    monetary_value: str
    covariates: _Covariates | None
    covariance: list[float] | None

def clv_p_alive(frame: pl.DataFrame, fitted: _Fitted) -> pl.DataFrame: ...
def clv_expected_purchases(frame: pl.DataFrame, fitted: _Fitted, t: float) -> pl.DataFrame: ...
def clv_purchase_probability(
    frame: pl.DataFrame, fitted: _Fitted, n: int, t: float
) -> pl.DataFrame: ...
def clv_expected_spend(frame: pl.DataFrame, fitted: _Fitted) -> pl.DataFrame: ...

class _Spend(TypedDict):
    params: list[float]
    covariates: _Covariates | None
    covariance: list[float] | None

def clv_evaluate(
    frame: pl.DataFrame,
    fitted: _Fitted,
    spend: _Spend | None,
    frequency_holdout: str,
    duration_holdout: str,
    monetary_value_holdout: str,
    max_frequency: int,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]: ...
def clv_discounted_purchases(
    frame: pl.DataFrame, fitted: _Fitted, discount_rate: float
) -> pl.DataFrame: ...
def clv_customer_value(
    frame: pl.DataFrame,
    model: str,
    params: list[float],
    spend_params: list[float],
    frequency: str,
    recency: str,
    age: str,
    monetary_value: str,
    months: int,
    discount_rate: float,
    margin: float,
    time_unit: str,
    discounting: str,
    periods: int | None,
    covariates: _Covariates | None = ...,
    spend_covariates: _Covariates | None = ...,
    intervals: tuple[list[float] | None, list[float] | None, int, int, float] | None = ...,
) -> pl.DataFrame: ...
def clv_prediction_intervals(
    frame: pl.DataFrame,
    fitted: _Fitted,
    prediction: str,
    t: float,
    draws: int,
    seed: int,
    level: float,
) -> pl.DataFrame: ...
def clv_retention_curve(params: list[float], periods: int) -> pl.DataFrame: ...
def retention_cost(
    subscriptions: pl.DataFrame,
    costs: pl.DataFrame,
    customer_id: str,
    start: str,
    end: str | None,
    amount: str,
    interval: str | None,
    interval_count: str | None,
    period: str,
    as_of: int | None,
    free_is_active: bool,
    mode: str,
    cost_period: str,
    cost_amount: str,
    customers: str,
) -> pl.DataFrame: ...
def trial_conversion(
    frame: pl.DataFrame,
    trial_start: str,
    trial_end: str,
    converted_at: str,
    window: float,
    as_of: int | None,
    by: list[str],
    period: str,
) -> pl.DataFrame: ...
def conversion_rates(
    frame: pl.DataFrame, timestamp: str, kind: str, by: list[str], period: str
) -> pl.DataFrame: ...
def purchase_kpis(
    frame: pl.DataFrame,
    customer_id: str,
    timestamp: str,
    amount: str,
    by: list[str],
    period: str,
    as_of: int | None,
) -> pl.DataFrame: ...
def first_contact_resolution(
    frame: pl.DataFrame,
    opened_at: str,
    resolved_at: str,
    contacts: str,
    reopened_at: str | None,
    resolvable: str | None,
    reopen_window: float,
    by: list[str],
    period: str,
) -> pl.DataFrame: ...

class _Usage(TypedDict):
    """The usage table's columns and options (see csmetrics.operations._usage)."""

    customer_id: str
    date: str
    user_id: str | None
    active_users: str | None
    events: str | None
    feature: str | None
    unit: str
    as_of: int | None
    by: list[str]
    period: str

def engagement(frame: pl.DataFrame, usage: _Usage) -> pl.DataFrame: ...
def feature_adoption(frame: pl.DataFrame, usage: _Usage) -> pl.DataFrame: ...
def customer_signal(
    customers: pl.DataFrame,
    events: pl.DataFrame,
    customer_id: str,
    timestamp: str,
    value: str | None,
    distinct_days: bool,
    reference: int,
    window_days: int | None,
    name: str,
) -> pl.DataFrame: ...
def health_score(
    frame: pl.DataFrame,
    factors: list[tuple[str, float, str, str, float | None, float | None]],
    bands: tuple[float, float],
    missing: str,
    by_period: str | None,
) -> pl.DataFrame: ...
def health_backtest(frame: pl.DataFrame, score: str, churned: str) -> pl.DataFrame: ...
def dictionary_by_label(
    rows: pl.DataFrame, dictionary: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]: ...
def read_stripe(
    subscriptions: list[str], invoices: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[tuple[str, int]]]: ...

class _Starts(TypedDict):
    """The customers table's columns (see csmetrics.journey)."""

    customer_id: str
    start: str
    end: str | None
    by: list[str]
    cohort: str | None

class _Milestones(TypedDict):
    customer_id: str
    milestone: str
    timestamp: str

def milestone_funnel(
    milestones: pl.DataFrame,
    customers: pl.DataFrame,
    starts: _Starts,
    columns: _Milestones,
    journey: list[str],
    window_days: list[int],
    order: str,
    as_of: int | None,
    before_start: str,
) -> pl.DataFrame: ...
def time_to_milestone(
    milestones: pl.DataFrame,
    customers: pl.DataFrame,
    starts: _Starts,
    columns: _Milestones,
    journey: list[str],
    order: str,
    as_of: int | None,
    before_start: str,
    confidence: float,
) -> pl.DataFrame: ...
def activation(
    events: pl.DataFrame,
    customers: pl.DataFrame,
    starts: _Starts,
    rule: dict[str, object],
    window_days: int,
    as_of: int | None,
) -> pl.DataFrame: ...
def activated_customers(
    events: pl.DataFrame,
    customers: pl.DataFrame,
    starts: _Starts,
    rule: dict[str, object],
    window_days: int,
    as_of: int | None,
) -> pl.DataFrame: ...
def activation_retention(
    lives: pl.DataFrame, flags: pl.DataFrame, customer_id: str, confidence: float
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]: ...
def touchpoint_experience(
    frame: pl.DataFrame,
    touchpoint: str,
    journey: list[str],
    nps: str | None,
    csat: str | None,
    ces: str | None,
    period: str | None,
    timestamp: str,
    invalid: str,
    ci: str | None,
    confidence: float,
    csat_scale: tuple[int, int],
    ces_scale: tuple[int, int] | None,
    ces_direction: str,
) -> pl.DataFrame: ...

class _Calendar(TypedDict):
    start_hour: float
    end_hour: float
    weekdays: list[int]
    holidays: list[int]

def response_times(
    frame: pl.DataFrame,
    opened_at: str,
    first_response_at: str,
    resolved_at: str | None,
    priority: str | None,
    by: list[str],
    period: str,
    as_of: int | None,
    sla_hours: float | None,
    sla_per_priority: list[tuple[str, float]] | None,
    calendar: _Calendar | None,
) -> pl.DataFrame: ...
def feedback_responses(n: int, customers: int, months: int, seed: int) -> pl.DataFrame: ...
def feedback_dictionary() -> list[tuple[str, list[str]]]: ...
def tokenize(text: str, ngrams: int, stop_words: list[str] | None, english: bool) -> list[str]: ...
def english_stop_words() -> list[str]: ...
def themes(
    frame: pl.DataFrame,
    dictionary: list[tuple[str, list[str]]],
    text: str,
    score: str,
    score_type: str,
    scale: tuple[int, int] | None,
    direction: str,
    patterns: str,
    by: list[str],
    period: str | None,
    timestamp: str,
    invalid: str,
) -> pl.DataFrame: ...
def distinctive_terms(
    frame: pl.DataFrame,
    text: str,
    score: str,
    between: str | None,
    groups: tuple[str, str] | None,
    prior: float | None,
    ngrams: int,
    stop_words: list[str] | None,
    english: bool,
    top: int | None,
    invalid: str,
) -> pl.DataFrame: ...
def sentiment(frame: pl.DataFrame, text: str, score: str | None, invalid: str) -> pl.DataFrame: ...
def quotes(
    frame: pl.DataFrame,
    dictionary: list[tuple[str, list[str]]],
    text: str,
    score: str,
    patterns: str,
    ngrams: int,
    stop_words: list[str] | None,
    english: bool,
    k: int,
    terms: int,
    invalid: str,
) -> pl.DataFrame: ...
