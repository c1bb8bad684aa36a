# Type stubs of the compiled module csmetrics._internal (crates/csmetrics-python).
import polars as pl

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
    seed: int,
    first_customer: int,
    count: int,
) -> list[tuple[str, pl.DataFrame]]: ...
def revenue(
    output: str,
    frame: pl.DataFrame,
    columns: dict[str, str | None],
    period: str,
    as_of: int | None,
    first_period: int | None,
    precision: int,
    free_is_active: bool,
    mode: str,
    by: list[str],
    fx: list[tuple[str, float]] | None,
    window: int | None,
    money: str,
    extra: dict[str, object],
) -> pl.DataFrame: ...
def renewal_rates(
    frame: pl.DataFrame,
    renewal_due: str,
    renewed: str,
    amount: str | None,
    by: list[str],
    period: str,
) -> pl.DataFrame: ...
