"""Customer lifetime value: formula CLV, RFM summaries and buy-till-you-die models.

Definitions follow docs/metrics/clv.md.

* :func:`rfm_summary` turns a transaction log into one row per customer: ``frequency`` (repeat
  purchases x), ``recency`` (t_x), ``T`` and ``monetary_value`` (mean repeat purchase value),
  optionally split into calibration and holdout periods.
* Models fitted by maximum likelihood with exact gradients and Hessian standard errors:
  :class:`BetaGeo` (BG/NBD), :class:`ParetoNBD`, :class:`ModifiedBetaGeo` (MBG/NBD),
  :class:`BetaGeoBetaBinom` (BG/BB), :class:`GammaGamma` (spend) and
  :class:`ShiftedBetaGeometric` (contractual retention). Fits are deterministic; a fit that fails
  raises :class:`~csmetrics.ConvergenceError`.
* Predictions come back as new columns of the frame given: ``p_alive``,
  ``expected_purchases``, ``probability`` (every transaction model), ``expected_spend``,
  ``discounted_purchases`` (BG/BB) and, from :func:`clv`, ``clv``.
* :func:`purchase_clv`, :func:`subscription_clv` and :func:`net_clv` are the closed formulas.

Fitted models save and load their parameters as JSON (:meth:`BetaGeo.save`,
:meth:`BetaGeo.load`), so a model fitted once scores new customers anywhere.

Time units are ``"day"``, ``"week"`` or ``"month"`` (365/12 days), the words of ``period=``
elsewhere (``"D"``, ``"W"`` and ``"M"`` still work, with a :class:`DeprecationWarning`). A
transaction model remembers the unit of the summary it was fitted on (``time_unit_``): ``fit``
takes it from the frame :func:`rfm_summary` returned (or from ``time_unit=``), ``save`` writes
it and ``load`` reads it back, and :func:`clv` uses it, refusing a different explicit
``time_unit`` with :class:`~csmetrics.TimeUnitMismatchError`.

Examples
--------
>>> import datetime as dt
>>> import polars as pl
>>> from csmetrics import clv
>>> log = pl.DataFrame({
...     "customer_id": [1, 1, 1, 2, 2, 3],
...     "timestamp": [dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 1, 15),
...                   dt.date(2024, 1, 3), dt.date(2024, 1, 31), dt.date(2024, 1, 20)],
...     "amount": [10.0, 5.0, 20.0, 8.0, 12.0, 30.0],
... })
>>> summary = clv.rfm_summary(log, time_unit="day", observation_end=dt.date(2024, 1, 31))
>>> summary.select("customer_id", "frequency", "recency", "T", "monetary_value").rows()
[(1, 1, 14.0, 30.0, 20.0), (2, 1, 28.0, 28.0, 12.0), (3, 0, 0.0, 11.0, None)]
"""

from __future__ import annotations

import datetime as dt
import json
import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, cast

import polars as pl

from csmetrics import _internal
from csmetrics._frames import (
    IntoFrame,
    _is_pandas,
    column_names,
    frame_function,
    frame_method,
    from_polars,
    to_polars,
)
from csmetrics._options import (
    choice,
    guard_module,
    number,
    option_error,
    optional_whole,
    renamed_value,
    warn_deprecated,
    whole,
)
from csmetrics._options import days as _days
from csmetrics.exceptions import (
    InvalidInputError,
    ModelLoadError,
    NotFittedError,
    TimeUnitMismatchError,
)

if TYPE_CHECKING:
    import pandas as pd  # noqa: F401

__all__ = [
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "ShiftedBetaGeometric",
    "clv",
    "evaluate",
    "lr_test",
    "net_clv",
    "purchase_clv",
    "rfm_summary",
    "subscription_clv",
]

TimeUnit = Literal["day", "week", "month"]
_Model = TypeVar("_Model", bound="_Fitted")

_TIME_UNITS: tuple[TimeUnit, ...] = ("day", "week", "month")
# The letters of earlier releases, deprecated.
_OLD_TIME_UNITS = {"D": "day", "W": "week", "M": "month"}
# What the core reads.
_CORE_TIME_UNITS = {"day": "D", "week": "W", "month": "M"}
_UNIT_KEY = "csmetrics.time_unit"


def _time_unit(value: Any, option: str, where: str) -> TimeUnit:
    """A time unit in the period vocabulary (an old letter warns and is translated)."""
    return cast(
        TimeUnit, choice(renamed_value(value, option, _OLD_TIME_UNITS, where), option, _TIME_UNITS)
    )


# The unit of every summary rfm_summary returned, kept while the frame lives. pandas frames
# carry it in ``attrs`` and pyarrow tables in their schema metadata; a Polars frame holds no
# attributes, so it is remembered here by identity (a weak reference: nothing is kept alive).
_SUMMARY_UNITS: dict[int, tuple[weakref.ref[Any], TimeUnit]] = {}


def _remember_unit(summary: Any, unit: TimeUnit) -> Any:
    """``summary`` marked as being in ``unit`` (see :func:`_recorded_unit`)."""
    if _is_pandas(summary):
        summary.attrs[_UNIT_KEY] = unit
        return summary
    if isinstance(summary, pl.DataFrame):
        key = id(summary)
        _SUMMARY_UNITS[key] = (weakref.ref(summary), unit)
        weakref.finalize(summary, _SUMMARY_UNITS.pop, key, None)
        return summary
    metadata = getattr(getattr(summary, "schema", None), "metadata", None)
    if hasattr(summary, "replace_schema_metadata"):
        return summary.replace_schema_metadata(
            {**(metadata or {}), _UNIT_KEY.encode(): unit.encode()}
        )
    return summary


def _recorded_unit(summary: Any) -> TimeUnit | None:
    """The unit :func:`rfm_summary` recorded on this very frame, if it made it."""
    if _is_pandas(summary):
        found = summary.attrs.get(_UNIT_KEY)
    elif isinstance(summary, pl.DataFrame):
        ref, unit = _SUMMARY_UNITS.get(id(summary), (None, None))
        found = unit if ref is not None and ref() is summary else None
    elif isinstance(summary, pl.LazyFrame):
        found = None
    else:
        metadata = getattr(getattr(summary, "schema", None), "metadata", None) or {}
        raw = metadata.get(_UNIT_KEY.encode())
        found = raw.decode() if isinstance(raw, bytes) else None
    return cast(TimeUnit, found) if found in _TIME_UNITS else None


def _with_columns(data: IntoFrame, new: pl.DataFrame) -> Any:
    """The input frame with the columns of ``new`` appended (pandas stays pandas)."""
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    if isinstance(data, pl.DataFrame):
        return data.with_columns(new.get_columns())
    if _is_pandas(data):
        out = data.copy()
        for name in new.columns:
            out[name] = new[name].to_numpy()
        return out
    # pyarrow stays pyarrow; other Arrow streams come back as Polars.
    frame, kind = to_polars(data, column_names(data))
    return from_polars(frame.with_columns(new.get_columns()), kind)


# --- formula CLV ------------------------------------------------------------------------------


def _formula(function: str, *inputs: Any) -> Any:
    """A closed formula of the core, row by row: an expression when any input is one, a Series
    named ``clv`` when any is a Series, else a float (None where the formula is undefined)."""
    from polars.plugins import register_plugin_function

    from csmetrics.exceptions import InvalidInputError

    if not any(isinstance(x, pl.Expr | pl.Series) for x in inputs):
        for x in inputs:
            if isinstance(x, bool) or not isinstance(x, int | float):
                raise InvalidInputError(
                    f"{function}: expected numbers, Polars expressions or Series; got {x!r}"
                )
    args = [
        x
        if isinstance(x, pl.Expr)
        else pl.lit(x, dtype=pl.Float64)
        if not isinstance(x, pl.Series)
        else pl.lit(x)
        for x in inputs
    ]
    expr = register_plugin_function(
        plugin_path=Path(__file__).parent,
        function_name=f"{function}_expr",
        args=args,
        is_elementwise=True,
    )
    if any(isinstance(x, pl.Expr) for x in inputs):
        return expr.alias("clv")
    try:
        values = pl.select(expr.alias("clv")).to_series()
    except pl.exceptions.ComputeError as err:
        raise InvalidInputError(f"{function}: {err}") from None
    if any(isinstance(x, pl.Series) for x in inputs):
        return values
    return values.item()


def purchase_clv(
    average_purchase_value: Any,
    purchases_per_year: Any,
    lifespan_years: Any,
    retention_cost_per_year: Any = 0,
) -> Any:
    """Average purchase value x purchases per year x lifespan, minus the yearly retention cost.

    Works on numbers (a float) and, row by row, on Polars expressions (an expression) or Series
    (a Series ``clv``; one value per segment); a null input gives null.

    Examples
    --------
    >>> purchase_clv(1000, 2, 3)
    6000.0
    >>> purchase_clv(1000, 2, 3, retention_cost_per_year=500)
    4500.0
    """
    return _formula(
        "purchase_clv",
        average_purchase_value,
        purchases_per_year,
        lifespan_years,
        retention_cost_per_year,
    )


def subscription_clv(arpa: Any, gross_margin: Any, monthly_churn_rate: Any) -> Any:
    """ARPA x gross margin / monthly churn rate; null (``None``) when the churn rate is 0.

    Inputs as for :func:`purchase_clv`.

    Examples
    --------
    >>> subscription_clv(100.0, 0.8, 0.02)
    4000.0
    >>> subscription_clv(100.0, 0.8, 0.0) is None
    True
    """
    return _formula("subscription_clv", arpa, gross_margin, monthly_churn_rate)


def net_clv(revenue: Any, acquisition_cost: Any, service_cost: Any) -> Any:
    """Revenue minus acquisition and service cost.

    Inputs as for :func:`purchase_clv`.

    Examples
    --------
    >>> net_clv(6000, 1000, 500)
    4500.0
    """
    return _formula("net_clv", revenue, acquisition_cost, service_cost)


# --- RFM summary ------------------------------------------------------------------------------


@frame_function
def rfm_summary(
    transactions: IntoFrame,
    *,
    customer_id: str = "customer_id",
    timestamp: str = "timestamp",
    amount: str | None = "amount",
    merge: TimeUnit = "day",
    time_unit: TimeUnit = "day",
    observation_end: dt.date | dt.datetime | str | None = None,
    calibration_end: dt.date | dt.datetime | str | None = None,
    after_end: Literal["raise", "drop"] = "raise",
) -> Any:
    """Per-customer frequency, recency, T and monetary value of a transaction log.

    Purchases in the same ``merge`` period (calendar day by default; ISO week; calendar month)
    count as one purchase whose value is their sum; with weeks or months, purchases and the
    ends are placed on the first day of their period. ``frequency`` is the number of purchases
    after the first, ``recency`` the time from the first purchase to the last, ``T`` the time
    from the first purchase to ``observation_end`` (inclusive), all in ``time_unit`` (days,
    weeks of 7 days, months of 365/12 days). ``monetary_value`` is the mean of the repeat
    purchases, null when frequency is 0.

    Parameters
    ----------
    transactions
        One row per purchase: Polars DataFrame or LazyFrame, or pandas DataFrame.
    customer_id, timestamp, amount
        Columns: any customer key (no nulls), Date or Datetime (UTC days), and the purchase
        value (finite, >= 0; ``None`` when there is none).
    merge
        Which purchases count as one: those of the same ``"day"``, ``"week"`` or ``"month"``
        (``"D"``, ``"W"``, ``"M"`` are deprecated spellings).
    time_unit
        Unit of recency, T and duration: ``"day"``, ``"week"`` or ``"month"`` (``"D"``,
        ``"W"``, ``"M"`` are deprecated spellings). The result remembers it: a model fitted on
        this very frame takes it as its ``time_unit_`` (see :meth:`BetaGeo.fit`).
    observation_end
        Last day observed (inclusive); default the latest purchase.
    calibration_end
        When given, the summary covers purchases up to it (inclusive) and adds
        ``frequency_holdout``, ``monetary_value_holdout`` and ``duration_holdout`` for the
        purchases after it up to ``observation_end``; customers whose first purchase is after it
        are left out.
    after_end
        Purchases after ``observation_end``: ``"raise"`` an error naming the row, or ``"drop"``
        them and count them per customer in a ``dropped_after_end`` column (a customer whose
        every purchase is after ``observation_end`` is not a customer yet and has no row).

    Returns
    -------
    DataFrame
        One row per customer, sorted by customer id.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> log = pl.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "timestamp": [dt.date(2024, 1, 1), dt.date(2024, 1, 8), dt.date(2024, 2, 5),
    ...                   dt.date(2024, 1, 1)],
    ...     "amount": [10.0, 20.0, 30.0, 5.0],
    ... })
    >>> split = rfm_summary(log, time_unit="week", calibration_end="2024-01-31",
    ...                     observation_end="2024-02-29")
    >>> split.select("customer_id", "frequency", "recency", "frequency_holdout").rows()
    [('a', 1, 1.0, 1), ('b', 0, 0.0, 0)]
    """
    merge = _time_unit(merge, "merge", "rfm_summary")
    time_unit = _time_unit(time_unit, "time_unit", "rfm_summary")
    columns = [customer_id, timestamp, *([amount] if amount is not None else [])]
    frame, kind = to_polars(transactions, columns, keys=[customer_id])
    result = _internal.clv_rfm_summary(
        frame,
        customer_id,
        timestamp,
        amount,
        _CORE_TIME_UNITS[merge],
        _CORE_TIME_UNITS[time_unit],
        _days(observation_end, "observation_end"),
        _days(calibration_end, "calibration_end"),
        after_end,
    )
    return _remember_unit(from_polars(result, kind), time_unit)


# --- models -----------------------------------------------------------------------------------


class _Fitted:
    """Shared machinery: parameters, fitting, summary table and JSON persistence."""

    _model: ClassVar[str]
    _parameters: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        *,
        frequency: str = "frequency",
        recency: str = "recency",
        T: str = "T",
        monetary_value: str = "monetary_value",
        weights: str | None = None,
    ) -> None:
        self.frequency = frequency
        self.recency = recency
        self.T = T
        self.monetary_value = monetary_value
        self.weights = weights
        self.params_: dict[str, float] = {}
        self._standard_errors: dict[str, float] = {}
        # Standard errors are computed on first use (they cost about a third of a fit): the
        # frame and columns of the fit, kept until then.
        self._pending_errors: tuple[pl.DataFrame, str] | None = None
        # The covariance of the log-parameters (then the coefficients), row-major, from the
        # fit with standard errors; what the intervals draw from.
        self._covariance: list[float] | None = None
        self.log_likelihood_: float = math.nan
        self.customers_: float = 0.0
        self.iterations_: int = 0
        #: With covariates: their coding, ``{"purchase": [(column, levels or None), ...],
        #: "dropout": [...]}`` (levels sorted, the first the baseline); ``None`` without.
        self.covariates_: dict[str, list[tuple[str, list[str] | None]]] | None = None
        #: With covariates: the coefficients by name (``alpha:segment[b]``, ``a:tenure``, ...).
        self.coefficients_: dict[str, float] = {}
        #: The time unit of recency and T in the summary the model was fitted on (``None``
        #: when unknown); horizons ``t`` count it.
        self.time_unit_: TimeUnit | None = None

    def __repr__(self) -> str:
        if not self.params_:
            return f"{type(self).__name__}() (not fitted)"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({shown}; log-likelihood {self.log_likelihood_:.2f})"

    def _fit_columns(self) -> list[str]:
        return [self.frequency, self.recency, self.T]

    def _covariate_columns(self) -> list[str]:
        if self.covariates_ is None:
            return []
        names = [c for c, _ in self.covariates_["purchase"] + self.covariates_["dropout"]]
        return list(dict.fromkeys(names))

    def _covariates_arg(self) -> Any:
        """The covariates as the core reads them (None without)."""
        if self.covariates_ is None:
            return None
        errors = self.standard_errors_
        return (
            [(c, levels) for c, levels in self.covariates_["purchase"]],
            [(c, levels) for c, levels in self.covariates_["dropout"]],
            list(self.coefficients_.values()),
            [errors.get(n, math.nan) for n in self.coefficients_],
        )

    def _fit_covariates(
        self: _Model,
        data: IntoFrame,
        start: Sequence[float] | None,
        purchase: str | Sequence[str] | None,
        dropout: str | Sequence[str] | None,
    ) -> _Model:
        purchases = _column_list(purchase, "purchase_covariates")
        dropouts = _column_list(dropout, "dropout_covariates")
        wanted = [*self._fit_columns(), *([self.weights] if self.weights else [])]
        frame, _ = to_polars(data, list(dict.fromkeys([*wanted, *purchases, *dropouts])))
        params, errors, ll, customers, iterations, covariates, covariance = (
            _internal.clv_fit_covariates(
                frame,
                self._model,
                self.frequency,
                self.recency,
                self.T,
                self.monetary_value,
                self.weights,
                purchases,
                dropouts,
                None if start is None else [float(v) for v in start],
            )
        )
        coding_p, coding_d, names, estimates, coefficient_errors = covariates
        self.params_ = dict(zip(self._parameters, params, strict=True))
        self.standard_errors_ = {
            **dict(zip(self._parameters, errors, strict=True)),
            **dict(zip(names, coefficient_errors, strict=True)),
        }
        if names:
            self.covariates_ = {"purchase": list(coding_p), "dropout": list(coding_d)}
            self.coefficients_ = dict(zip(names, estimates, strict=True))
        else:
            self.covariates_ = None
            self.coefficients_ = {}
        self._covariance = covariance
        self.log_likelihood_ = ll
        self.customers_ = customers
        self.iterations_ = iterations
        return self

    def _covariance_arg(self) -> list[float] | None:
        """The covariance the intervals draw from (computing the standard errors if pending)."""
        _ = self.standard_errors_
        return self._covariance

    @property
    def standard_errors_(self) -> dict[str, float]:
        """Standard errors of the estimates (from the observed information), computed on first
        use after :meth:`fit`; NaN where unavailable."""
        if self._pending_errors is not None:
            frame, alive = self._pending_errors
            # Refitting from the estimates: the optimizer starts at its optimum and stops there.
            _, errors, _, _, _, covariance = self._call_fit(
                frame, alive, self._values(), standard_errors=True
            )
            self._standard_errors = dict(zip(self._parameters, errors, strict=True))
            self._covariance = covariance
            self._pending_errors = None
        return self._standard_errors

    @standard_errors_.setter
    def standard_errors_(self, errors: dict[str, float]) -> None:
        self._standard_errors = dict(errors)
        self._pending_errors = None

    def _call_fit(
        self,
        frame: pl.DataFrame,
        alive: str,
        start: Sequence[float] | None,
        *,
        standard_errors: bool,
    ) -> tuple[list[float], list[float], float, float, int, list[float] | None]:
        return _internal.clv_fit(
            frame,
            self._model,
            self.frequency,
            self.recency,
            self.T,
            self.monetary_value,
            self.weights,
            alive,
            None if start is None else [float(v) for v in start],
            standard_errors,
        )

    def _fit(self: _Model, data: IntoFrame, start: Sequence[float] | None, alive: str) -> _Model:
        wanted = [*self._fit_columns(), *([self.weights] if self.weights else [])]
        frame, _ = to_polars(data, wanted)
        params, _, ll, customers, iterations, _ = self._call_fit(
            frame, alive, start, standard_errors=False
        )
        self.params_ = dict(zip(self._parameters, params, strict=True))
        self._standard_errors = {}
        self._covariance = None
        self._pending_errors = (frame, alive)
        self.covariates_ = None
        self.coefficients_ = {}
        self.log_likelihood_ = ll
        self.customers_ = customers
        self.iterations_ = iterations
        return self

    def _values(self) -> list[float]:
        if not self.params_:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted: call .fit(), .load() or .from_params() first"
            )
        return [self.params_[name] for name in self._parameters]

    def summary(self) -> pl.DataFrame:
        """Estimates with standard errors and 95% Wald intervals, then the fit statistics.

        Columns ``parameter``, ``estimate``, ``std_error``, ``lower``, ``upper``: one row per
        parameter, followed by the rows ``log_likelihood``, ``aic`` (2k - 2 LL) and ``bic``
        (k ln(n) - 2 LL, n the customers fitted on), their value in ``estimate`` (null for a
        model made by :meth:`from_params` or loaded without a log-likelihood).
        """
        errors = [self.standard_errors_.get(n, math.nan) for n in self._parameters]
        return _internal.clv_parameter_table(
            self._model,
            self._values(),
            errors,
            self.log_likelihood_,
            self.customers_,
            self._covariates_arg(),
        )

    @property
    def parameter_count_(self) -> int:
        """Estimated parameters k: the model's, and the covariates' coefficients."""
        return len(self._parameters) + len(self.coefficients_)

    @property
    def aic_(self) -> float:
        """Akaike's information criterion 2k - 2 LL (NaN without a log-likelihood)."""
        return 2 * self.parameter_count_ - 2 * self.log_likelihood_

    @property
    def bic_(self) -> float:
        """The Bayesian information criterion k ln(n) - 2 LL, n the customers fitted on (NaN
        without a log-likelihood)."""
        if self.customers_ <= 0:
            return math.nan
        return self.parameter_count_ * math.log(self.customers_) - 2 * self.log_likelihood_

    def to_dict(self) -> dict[str, Any]:
        """The model as plain data (what :meth:`save` writes)."""
        return {
            "model": self._model,
            "params": dict(zip(self._parameters, self._values(), strict=True)),
            "std_errors": {
                k: (None if math.isnan(v) else v) for k, v in self.standard_errors_.items()
            },
            "log_likelihood": None if math.isnan(self.log_likelihood_) else self.log_likelihood_,
            "customers": self.customers_,
            "time_unit": self.time_unit_,
            "covariance": self._covariance_arg(),
            **(
                {}
                if self.covariates_ is None
                else {
                    "covariates": {
                        "purchase": [[c, levels] for c, levels in self.covariates_["purchase"]],
                        "dropout": [[c, levels] for c, levels in self.covariates_["dropout"]],
                        "coefficients": dict(self.coefficients_),
                    }
                }
            ),
        }

    def save(self, path: str | Path) -> None:
        """Writes the parameters (and fit statistics) as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls: type[_Model], path: str | Path) -> _Model:
        """Reads a model written by :meth:`save`, with its time unit.

        Raises :class:`~csmetrics.ModelLoadError` when the file cannot be read or does not hold
        a valid model of this class.
        """
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as err:
            raise ModelLoadError(f"{path}: cannot read a saved {cls._model} model: {err}") from err
        if not isinstance(data, dict) or not isinstance(data.get("params"), dict):
            raise ModelLoadError(f"{path}: not a saved model (no 'params' object)")
        if data.get("model", cls._model) != cls._model:
            raise ModelLoadError(
                f"{path}: the file holds a {data['model']} model, not {cls._model}"
            )
        try:
            return cls.from_params(data["params"], time_unit=data.get("time_unit"), _data=data)
        except InvalidInputError as err:
            raise ModelLoadError(f"{path}: not a valid saved {cls._model} model: {err}") from err

    @classmethod
    def from_params(
        cls: type[_Model],
        params: dict[str, float],
        *,
        time_unit: TimeUnit | None = None,
        _data: dict[str, Any] | None = None,
    ) -> _Model:
        """A model with given parameters, ready to score customers.

        ``time_unit`` is the unit of recency and T the parameters were estimated in (for
        :func:`clv`); ``None`` when unknown.
        """
        data = _data or {}
        if data.get("model", cls._model) != cls._model:
            raise InvalidInputError(f"the file holds a {data['model']} model, not {cls._model}")
        model = cls()
        if time_unit is not None:
            model.time_unit_ = _time_unit(time_unit, "time_unit", f"{cls.__name__}.from_params")
        rule = f"{cls.__name__} needs the parameters {', '.join(cls._parameters)} as numbers"
        if not isinstance(params, dict) or any(n not in params for n in cls._parameters):
            raise option_error("params", params, rule)
        try:
            model.params_ = {n: float(params[n]) for n in cls._parameters}
        except (TypeError, ValueError):
            raise option_error("params", params, rule) from None
        errors = data.get("std_errors") or {}
        model.standard_errors_ = {
            n: math.nan if errors.get(n) is None else float(errors[n]) for n in cls._parameters
        }
        ll = data.get("log_likelihood")
        model.log_likelihood_ = math.nan if ll is None else float(ll)
        model.customers_ = float(data.get("customers", 0.0))
        if data.get("covariates") is not None:
            model._load_covariates(data["covariates"], errors)
        covariance = data.get("covariance")
        if covariance is not None:
            size = model.parameter_count_**2
            if not isinstance(covariance, list) or len(covariance) != size:
                raise option_error(
                    "covariance", covariance, f"a saved covariance holds {size} numbers"
                )
            try:
                model._covariance = [float(v) for v in covariance]
            except (TypeError, ValueError):
                raise option_error("covariance", covariance, "numbers") from None
        # Validates the parameters (and the covariates' coding against their coefficients).
        _internal.clv_parameter_table(
            cls._model, model._values(), [], math.nan, 0.0, model._covariates_arg()
        )
        return model

    def _load_covariates(self, saved: Any, errors: dict[str, Any]) -> None:
        rule = "saved covariates are {purchase, dropout: [[column, levels]], coefficients}"
        try:
            coding = {
                part: [
                    (str(c), None if levels is None else [str(v) for v in levels])
                    for c, levels in saved[part]
                ]
                for part in ("purchase", "dropout")
            }
            coefficients = {str(k): float(v) for k, v in saved["coefficients"].items()}
        except (TypeError, ValueError, KeyError, AttributeError):
            raise option_error("covariates", saved, rule) from None
        self.covariates_ = coding
        self.coefficients_ = coefficients
        self._standard_errors.update(
            {n: math.nan if errors.get(n) is None else float(errors[n]) for n in coefficients}
        )

    def _intervals(
        self,
        data: IntoFrame,
        prediction: str,
        t: float,
        interval: Any,
        draws: Any,
        seed: Any,
        *,
        spend: bool = False,
    ) -> pl.DataFrame:
        """``prediction`` with its ``_lower`` and ``_upper`` bounds (see :func:`clv`)."""
        columns = [self.frequency, self.monetary_value] if spend else [*self._fit_columns()]
        frame, _ = to_polars(data, list(dict.fromkeys([*columns, *self._covariate_columns()])))
        return _internal.clv_prediction_intervals(
            frame,
            cast("Any", self._fitted(covariance=True)),
            prediction,
            t,
            *_interval_options(interval, draws, seed),
        )

    def _predict(
        self, data: IntoFrame, entry: Callable[..., pl.DataFrame], *args: Any, spend: bool = False
    ) -> pl.DataFrame:
        """``entry`` (a prediction of ``_internal``) of this model on ``data``, with ``args``."""
        columns = [self.frequency, self.monetary_value] if spend else [*self._fit_columns()]
        frame, _ = to_polars(data, list(dict.fromkeys([*columns, *self._covariate_columns()])))
        return entry(frame, self._fitted(), *args)

    def _fitted(
        self, monetary_value: str | None = None, *, covariance: bool = False
    ) -> dict[str, Any]:
        """The model as the core's predictions read it (with its covariance for intervals)."""
        return {
            "covariance": self._covariance_arg() if covariance else None,
            "model": self._model,
            "params": self._values(),
            "frequency": self.frequency,
            "recency": self.recency,
            "age": self.T,
            "monetary_value": monetary_value or self.monetary_value,
            "covariates": self._covariates_arg(),
        }


def _time(t: Any) -> float:
    return number(t, "t", minimum=0.0)


def _interval_options(interval: Any, draws: Any, seed: Any) -> tuple[int, int, float]:
    level = number(interval, "interval")
    if not 0 < level < 1:
        raise option_error("interval", interval, "the coverage must lie strictly between 0 and 1")
    return (
        whole(draws, "draws", minimum=20, maximum=100_000),
        whole(seed, "seed", maximum=2**64 - 1),
        level,
    )


def _column_list(value: Any, option: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise option_error(option, value, "expected a column name or a list of column names")
    return list(value)


class _TransactionModel(_Fitted):
    def fit(
        self: _Model,
        data: IntoFrame,
        *,
        time_unit: TimeUnit | None = None,
        start: Sequence[float] | None = None,
        purchase_covariates: str | Sequence[str] | None = None,
        dropout_covariates: str | Sequence[str] | None = None,
    ) -> _Model:
        """Fits by maximum likelihood on the summary ``data`` (one row per customer, or
        patterns with a ``weights`` column); returns the model.

        ``purchase_covariates`` and ``dropout_covariates`` (default None: none) name columns
        of time-invariant covariates (BG/NBD, MBG/NBD and Pareto/NBD): a numeric column is one
        covariate, a text, Categorical or Boolean column is coded against its first level
        (sorted). Purchase covariates scale alpha: ``alpha_i = alpha exp(-g . x_i)``; drop-out
        covariates scale ``a`` and ``b`` (``a_i = a exp(g_a . z_i)``, ``b_i = b exp(g_b .
        z_i)``) or, in Pareto/NBD, ``beta_i = beta exp(-g_d . z_i)``. The fitted ``params_``
        are then the baseline (every covariate 0 or at its first level), the coefficients are
        in ``coefficients_`` (named ``alpha:segment[b]``, ``a:tenure``, ...) with standard
        errors in ``standard_errors_`` and rows of :meth:`summary`, and predictions read the
        covariate columns of the frame they score. Without covariates the fit is the plain one.

        ``time_unit`` is the unit of the summary's recency and T, remembered as
        ``time_unit_`` and used by :func:`clv`. By default it is the unit :func:`rfm_summary`
        recorded on ``data`` when ``data`` is the frame it returned (a pandas frame or pyarrow
        table keeps it through most operations; a Polars frame only as that very object, so
        give ``time_unit=`` after filtering or joining one); otherwise it stays unknown
        (``None``). A ``time_unit`` that contradicts the recorded one raises
        :class:`~csmetrics.TimeUnitMismatchError`.
        """
        where = f"{type(self).__name__}.fit"
        recorded = _recorded_unit(data)
        given = None if time_unit is None else _time_unit(time_unit, "time_unit", where)
        if given is not None and recorded is not None and given != recorded:
            raise _mismatch(where, recorded, given, "the summary was built")
        if purchase_covariates is None and dropout_covariates is None:
            self._fit(data, start, "alive")
        elif isinstance(self, BetaGeoBetaBinom):
            raise option_error(
                "purchase_covariates",
                purchase_covariates or dropout_covariates,
                "BG/BB takes no covariates (BG/NBD, MBG/NBD and Pareto/NBD do)",
            )
        else:
            self._fit_covariates(data, start, purchase_covariates, dropout_covariates)
        self.time_unit_ = given or recorded
        return self

    @frame_method
    def p_alive(self, data: IntoFrame) -> Any:
        """``data`` with the column ``p_alive``: P(customer still active at T)."""
        return _with_columns(data, self._predict(data, _internal.clv_p_alive))

    @frame_method
    def conditional_expected_purchases(self, data: IntoFrame, *, t: float) -> Any:
        """``data`` with ``expected_purchases``: expected purchases in the next ``t`` time
        units (opportunities for BG/BB)."""
        return _with_columns(data, self._predict(data, _internal.clv_expected_purchases, _time(t)))

    @frame_method
    def probability_of_purchases(self, data: IntoFrame, *, n: int, t: float) -> Any:
        """``data`` with ``probability``: P(exactly ``n`` purchases in the next ``t`` time
        units), given each customer's history. For BG/BB, ``t`` is a whole number of future
        opportunities."""
        n = whole(n, "n")
        return _with_columns(
            data, self._predict(data, _internal.clv_purchase_probability, n, _time(t))
        )

    @frame_method
    def predict(
        self,
        data: IntoFrame,
        *,
        t: float,
        interval: float | None = None,
        draws: int = 200,
        seed: int = 0,
    ) -> Any:
        """``data`` with ``p_alive`` and ``expected_purchases`` over the next ``t``.

        With ``interval`` (a coverage such as 0.9; default None: no interval) each also gets
        ``_lower`` and ``_upper`` columns: the interval from the estimates' uncertainty, by a
        parametric draw of ``draws`` (default 200) parameter vectors from the fit's
        covariance with ``seed`` (default 0; the same seed gives the same bounds). See
        :func:`clv` for the method. A model made by :meth:`from_params` has no covariance.
        """
        if interval is not None:
            if isinstance(self, BetaGeoBetaBinom):
                raise option_error("interval", interval, "BG/BB has no intervals yet")
            t = _time(t)
            new = pl.concat(
                [
                    self._intervals(data, "p_alive", t, interval, draws, seed),
                    self._intervals(data, "expected_purchases", t, interval, draws, seed),
                ],
                how="horizontal",
            )
            return _with_columns(data, new)
        new = pl.concat(
            [
                self._predict(data, _internal.clv_p_alive),
                self._predict(data, _internal.clv_expected_purchases, _time(t)),
            ],
            how="horizontal",
        )
        return _with_columns(data, new)


class BetaGeo(_TransactionModel):
    """BG/NBD (Fader, Hardie & Lee 2005): parameters ``r``, ``alpha``, ``a``, ``b``.

    Examples
    --------
    >>> import polars as pl
    >>> from csmetrics.clv import BetaGeo
    >>> model = BetaGeo.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> one = pl.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    >>> scored = model.predict(one, t=39)
    >>> round(scored["p_alive"][0], 4), round(scored["expected_purchases"][0], 3)
    (0.7266, 1.226)
    >>> round(model.probability_of_purchases(one, n=0, t=39)["probability"][0], 4)
    0.4454
    """

    _model = "bg_nbd"
    _parameters = ("r", "alpha", "a", "b")


class ModifiedBetaGeo(BetaGeo):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): ``r``, ``alpha``, ``a``, ``b``; a
    customer may also drop out right after the first purchase."""

    _model = "mbg_nbd"


class ParetoNBD(_TransactionModel):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987): ``r``, ``alpha``, ``s``, ``beta``.

    Examples
    --------
    >>> import polars as pl
    >>> from csmetrics.clv import ParetoNBD
    >>> model = ParetoNBD.from_params({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
    >>> one = pl.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    >>> probs = [model.probability_of_purchases(one, n=k, t=39)["probability"][0]
    ...          for k in range(200)]
    >>> round(sum(probs), 9)
    1.0
    >>> mean = sum(k * p for k, p in enumerate(probs))
    >>> abs(mean - model.conditional_expected_purchases(one, t=39)["expected_purchases"][0]) < 1e-9
    True
    """

    _model = "pareto_nbd"
    _parameters = ("r", "alpha", "s", "beta")


class BetaGeoBetaBinom(_TransactionModel):
    """BG/BB for discrete opportunities (Fader, Hardie & Shang 2010): ``alpha``, ``beta``,
    ``gamma``, ``delta``. ``T`` is the number of opportunities n (whole numbers; the
    donations data call it ``periods``).

    Horizons ``t`` count future opportunities. :meth:`discounted_expected_purchases` gives the
    discounted expected residual transactions (DERT) that :func:`clv` multiplies by the
    expected spend.

    Examples
    --------
    >>> import polars as pl
    >>> from csmetrics.clv import BetaGeoBetaBinom
    >>> model = BetaGeoBetaBinom.from_params(
    ...     {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
    >>> donor = pl.DataFrame({"frequency": [3], "recency": [5], "T": [6]})
    >>> probs = [model.probability_of_purchases(donor, n=k, t=5)["probability"][0]
    ...          for k in range(6)]
    >>> round(sum(probs), 12)
    1.0
    >>> mean = sum(k * p for k, p in enumerate(probs))
    >>> abs(mean - model.conditional_expected_purchases(donor, t=5)["expected_purchases"][0]) < 1e-12
    True
    >>> dert = model.discounted_expected_purchases(donor, discount_rate=0.1)
    >>> dert.columns
    ['frequency', 'recency', 'T', 'discounted_purchases']
    """

    _model = "bg_bb"
    _parameters = ("alpha", "beta", "gamma", "delta")

    @frame_method
    def discounted_expected_purchases(self, data: IntoFrame, *, discount_rate: float) -> Any:
        """``data`` with ``discounted_purchases``: the discounted expected residual transactions
        (DERT) of each customer, ``sum over k >= 1 of E[transaction at opportunity n + k] /
        (1 + discount_rate)^k``, the closed form of Fader, Hardie & Shang (2010).

        ``discount_rate`` is per opportunity and must be at least 0.001.
        """
        return _with_columns(
            data,
            self._predict(
                data,
                _internal.clv_discounted_purchases,
                number(discount_rate, "discount_rate", minimum=0.0),
            ),
        )


class GammaGamma(_Fitted):
    """Gamma-Gamma spend model: ``p``, ``q``, ``gamma``; fitted on customers with frequency > 0
    from ``frequency`` and ``monetary_value``."""

    _model = "gamma_gamma"
    _parameters = ("p", "q", "gamma")

    def _fit_columns(self) -> list[str]:
        return [self.frequency, self.monetary_value]

    def fit(
        self,
        data: IntoFrame,
        *,
        start: Sequence[float] | None = None,
        covariates: str | Sequence[str] | None = None,
    ) -> GammaGamma:
        """Fits on the repeat buyers of ``data``; returns the model.

        ``covariates`` (default None: none) name columns of time-invariant covariates of the
        spend scale: ``gamma_i = gamma exp(g . x_i)`` (numeric, or text coded against its
        first level), with the coefficients in ``coefficients_`` (``gamma:segment[b]``).
        """
        if covariates is None:
            return self._fit(data, start, "alive")
        return self._fit_covariates(data, start, covariates, [])

    @frame_method
    def expected_spend(
        self,
        data: IntoFrame,
        *,
        interval: float | None = None,
        draws: int = 200,
        seed: int = 0,
    ) -> Any:
        """``data`` with ``expected_spend``: the expected mean purchase value of each customer
        (the population mean where frequency is 0). With ``interval`` (default None), also
        ``expected_spend_lower`` and ``expected_spend_upper`` (see :meth:`BetaGeo.predict`;
        ``draws`` default 200, ``seed`` default 0)."""
        if interval is not None:
            new = self._intervals(data, "expected_spend", 0.0, interval, draws, seed, spend=True)
            return _with_columns(data, new)
        return _with_columns(data, self._predict(data, _internal.clv_expected_spend, spend=True))

    predict = expected_spend


class ShiftedBetaGeometric(_Fitted):
    """Shifted-beta-geometric retention (Fader & Hardie 2007): ``alpha``, ``beta``.

    Examples
    --------
    >>> from csmetrics.clv import ShiftedBetaGeometric
    >>> model = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(model.params_["alpha"], 3), round(model.params_["beta"], 3)
    (0.704, 1.182)
    """

    _model = "sbg"
    _parameters = ("alpha", "beta")

    def fit(
        self,
        alive: Sequence[float] | IntoFrame,
        *,
        column: str = "alive",
        start: Sequence[float] | None = None,
    ) -> ShiftedBetaGeometric:
        """Fits on the numbers of customers still active at the start of each period (the
        cohort size first): a sequence, or a frame with that ``column``."""
        if isinstance(alive, Sequence):
            frame = pl.DataFrame({column: [float(v) for v in alive]})
        else:
            frame, _ = to_polars(alive, [column])
        self.frequency = column
        return self._fit(frame, start, column)

    def _fit_columns(self) -> list[str]:
        return [self.frequency]

    def survival(self, periods: int) -> pl.DataFrame:
        """``period`` 0..periods, ``survival`` (share still active) and ``retention_rate``."""
        return _internal.clv_retention_curve(self._values(), periods)


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """The result of :func:`lr_test`."""

    #: 2 (LL_full - LL_restricted), at least 0.
    statistic: float
    #: Degrees of freedom: the difference in the numbers of parameters.
    df: int
    #: P(chi-square with ``df`` degrees of freedom >= ``statistic``).
    p_value: float


def lr_test(restricted: _Fitted, full: _Fitted) -> LikelihoodRatioTest:
    """Likelihood-ratio test of the fit ``restricted`` nested in ``full``: the same model on
    the same customers, ``full`` with more parameters (a fit with covariates against one
    with fewer or none).

    Nesting is the caller's claim; the test checks that both are fits (with a
    log-likelihood) of one model on the same number of customers and that ``full`` has more
    parameters. A statistic below 0 by rounding is 0.
    """
    for name, model in (("restricted", restricted), ("full", full)):
        if not isinstance(model, _Fitted):
            raise option_error(name, type(model).__name__, "expected a fitted csmetrics.clv model")
    if restricted._model != full._model:
        raise option_error(
            "full",
            full._model,
            f"a likelihood-ratio test compares fits of one model (restricted is {restricted._model})",
        )
    statistic, df, p_value = _internal.clv_lr_test(
        restricted._model,
        restricted._values(),
        restricted.log_likelihood_,
        restricted.customers_,
        restricted._covariates_arg(),
        full._values(),
        full.log_likelihood_,
        full.customers_,
        full._covariates_arg(),
    )
    return LikelihoodRatioTest(statistic=statistic, df=df, p_value=p_value)


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` returns; each frame of the kind of the summary given."""

    #: The summary with ``predicted_purchases`` and ``actual_purchases`` (and, with a spend
    #: model, ``predicted_spend`` and ``actual_spend``) per customer.
    customers: Any
    #: One row per target (``purchases``, and ``spend`` with a spend model): ``target``,
    #: ``customers``, ``mae``, ``rmse``, ``actual_total``, ``predicted_total``,
    #: ``total_relative_error``, ``spearman``, ``top_decile_capture``.
    metrics: Any
    #: Mean actual and predicted holdout purchases by calibration frequency: ``frequency``,
    #: ``label`` ("0" ... "7+"), ``customers``, ``actual``, ``predicted``.
    calibration: Any


def evaluate(
    data: IntoFrame,
    model: BetaGeo | ParetoNBD | ModifiedBetaGeo | BetaGeoBetaBinom,
    spend_model: GammaGamma | None = None,
    *,
    frequency_holdout: str = "frequency_holdout",
    duration_holdout: str = "duration_holdout",
    monetary_value_holdout: str = "monetary_value_holdout",
    max_frequency: int = 7,
) -> Evaluation:
    """How good the forecast was: ``model`` (fitted on the calibration columns of ``data``, a
    :func:`rfm_summary` with ``calibration_end``) against the holdout period.

    Per customer the predicted holdout purchases are the model's expected purchases over the
    customer's ``duration_holdout`` (default column ``"duration_holdout"``), against
    ``frequency_holdout`` (default ``"frequency_holdout"``). With ``spend_model`` (a
    :class:`GammaGamma` fitted on the calibration columns; default None) the predicted holdout
    spend is those purchases times the expected mean purchase value, against
    ``frequency_holdout x monetary_value_holdout`` (default column
    ``"monetary_value_holdout"``).

    The metrics, per target: mean absolute error ``mae``, root mean squared error ``rmse``, the
    totals and ``total_relative_error`` = (predicted - actual) / actual, Spearman's rank
    correlation ``spearman`` (mid-ranks for ties) and ``top_decile_capture``, the share of the
    actual holdout total held by the ceil(n/10) customers with the highest prediction (ties
    broken by row order). The calibration table pools calibration frequencies from
    ``max_frequency`` (default 7) on in its last row. Customers without a finite prediction
    (possible only with extreme parameters) are left out of the figures.

    Examples
    --------
    >>> import polars as pl
    >>> from csmetrics import clv
    >>> bg = clv.BetaGeo.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> summary = pl.DataFrame({"frequency": [0, 2, 5], "recency": [0.0, 30.43, 38.0],
    ...                         "T": [38.86] * 3, "frequency_holdout": [0, 1, 4],
    ...                         "duration_holdout": [39.0] * 3})
    >>> result = clv.evaluate(summary, bg)
    >>> result.metrics.select("target", "customers").rows()
    [('purchases', 3)]
    >>> round(result.customers["predicted_purchases"][1], 3)
    1.226
    """
    if not isinstance(model, _TransactionModel):
        raise option_error(
            "model",
            type(model).__name__,
            "expected a fitted transaction model (BetaGeo, ParetoNBD, ModifiedBetaGeo, "
            "BetaGeoBetaBinom)",
        )
    if spend_model is not None and not isinstance(spend_model, GammaGamma):
        raise option_error("spend_model", type(spend_model).__name__, "expected a GammaGamma")
    wanted = [
        *model._fit_columns(),
        frequency_holdout,
        duration_holdout,
        *model._covariate_columns(),
    ]
    if spend_model is not None:
        wanted += [
            spend_model.monetary_value,
            monetary_value_holdout,
            *spend_model._covariate_columns(),
        ]
    frame, kind = to_polars(data, list(dict.fromkeys(wanted)))
    spend = None
    if spend_model is not None:
        spend = {
            "params": spend_model._values(),
            "covariates": spend_model._covariates_arg(),
            "covariance": None,
        }
    customers, metrics, calibration = _internal.clv_evaluate(
        frame,
        cast("Any", model._fitted(None if spend_model is None else spend_model.monetary_value)),
        cast("Any", spend),
        frequency_holdout,
        duration_holdout,
        monetary_value_holdout,
        whole(max_frequency, "max_frequency", minimum=1, maximum=1_000_000),
    )
    return Evaluation(
        customers=_with_columns(data, customers),
        metrics=from_polars(metrics, kind),
        calibration=from_polars(calibration, kind),
    )


def _mismatch(where: str, expected: str, given: str, what: str) -> TimeUnitMismatchError:
    err = TimeUnitMismatchError(
        f"{where}: time_unit={given!r} contradicts the unit {what} in ({expected!r}); "
        f"recency and T in {expected}s read as {given}s would scale every horizon wrongly. "
        f"Leave time_unit out to use {expected!r}, or build the summary in {given!r}"
    )
    vars(err).update(option="time_unit", value=repr(given), expected=expected)
    return err


@frame_function
def clv(
    data: IntoFrame,
    *,
    transactions: BetaGeo | ParetoNBD | ModifiedBetaGeo | BetaGeoBetaBinom,
    spend: GammaGamma,
    months: int | None = None,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    time_unit: TimeUnit | None = None,
    discounting: Literal["monthly", "continuous"] = "monthly",
    periods: int | None = None,
    interval: float | None = None,
    draws: int = 200,
    seed: int = 0,
) -> Any:
    """Customer lifetime value of every customer of ``data``.

    ``clv = margin x expected spend (Gamma-Gamma) x discounted expected purchases``.

    With a continuous-time model (BG/NBD, Pareto/NBD, MBG/NBD) the horizon is the next
    ``months`` (default 12, of 365/12 days) and the time unit of the summary the model was
    fitted on is the one it remembers (``transactions.time_unit_``, see :meth:`BetaGeo.fit`).
    ``time_unit`` need not be given; given, it must agree with the remembered unit (else
    :class:`~csmetrics.TimeUnitMismatchError`), and it is used when the model does not know
    its unit. A model that knows no unit, with no ``time_unit``, is taken to be in days as in
    earlier releases, with a :class:`DeprecationWarning`: that will be an error. With ``discounting="monthly"`` the purchases expected
    in month i are discounted by ``(1 + discount_rate)^-i`` (as if made at the month's end);
    with ``"continuous"`` each is discounted at the instant it is expected,
    ``(1 + discount_rate)^-(t in months)``.

    With :class:`BetaGeoBetaBinom` the horizon counts transaction opportunities: the next
    ``periods`` of them, or all future ones when ``periods`` is None (the model's discounted
    expected residual transactions, DERT); the transactions of the k-th future opportunity are
    discounted by ``(1 + discount_rate)^-k``, so ``discount_rate`` is per opportunity.
    ``months`` and ``time_unit`` do not apply to it.

    Returns ``data`` with the column ``clv``.

    With ``interval`` (a coverage such as 0.9; default None: none) it also has ``clv_lower``
    and ``clv_upper``: an interval from the uncertainty of both models' estimates, by a seeded
    parametric draw. ``draws`` (default 200) parameter vectors are drawn from the normal
    approximation of each fit's estimates (on the log scale of the parameters, with the
    covariance of the fit: the inverse observed information), independently for the two
    models, with ``seed`` (default 0; deterministic); every customer is valued under each
    draw and the bounds are the empirical quantiles at (1 - interval) / 2 and
    (1 + interval) / 2. A draw rather than the delta method: CLV, P(alive) and expected
    purchases are strongly nonlinear in the parameters (and bounded), which a linearised
    symmetric interval misstates, and drawing on the log scale keeps every parameter
    positive. Intervals need fitted models (not ones made by ``from_params``); BG/BB has none
    yet. The bounds reflect the parameters' uncertainty only, not the randomness of a
    customer's own future purchases.

    Examples
    --------
    >>> import polars as pl
    >>> from csmetrics import clv
    >>> bb = clv.BetaGeoBetaBinom.from_params(
    ...     {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
    >>> gg = clv.GammaGamma.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44})
    >>> donors = pl.DataFrame({"frequency": [3], "recency": [5], "T": [6],
    ...                        "monetary_value": [50.0]})
    >>> value = clv.clv(donors, transactions=bb, spend=gg, discount_rate=0.1)
    >>> dert = bb.discounted_expected_purchases(donors, discount_rate=0.1)
    >>> spend = gg.expected_spend(donors)
    >>> abs(value["clv"][0] - dert["discounted_purchases"][0] * spend["expected_spend"][0]) < 1e-9
    True
    """
    discrete = isinstance(transactions, BetaGeoBetaBinom)
    if discrete:
        if months is not None:
            raise option_error(
                "months", months, "BG/BB counts transaction opportunities: give periods"
            )
        if time_unit is not None:
            raise option_error(
                "time_unit", time_unit, "BG/BB counts transaction opportunities, not time"
            )
    elif periods is not None:
        raise option_error(
            "periods", periods, "periods is the horizon of BG/BB; this model takes months"
        )
    unit: TimeUnit = "day"
    if not discrete:
        known = transactions.time_unit_
        given = None if time_unit is None else _time_unit(time_unit, "time_unit", "clv")
        if known is not None and given is not None and known != given:
            raise _mismatch("clv", known, given, f"the {type(transactions).__name__} was fitted")
        if known is None and given is None:
            warn_deprecated(
                f"clv: the {type(transactions).__name__} model does not know the time unit of "
                "the summary it was fitted on; assuming days as earlier releases did. Pass "
                "time_unit= to fit() (or from_params()), or to clv(); this will be an error in "
                "the next release"
            )
        unit = known or given or "day"
    columns = [
        transactions.frequency,
        transactions.recency,
        transactions.T,
        spend.monetary_value,
        *transactions._covariate_columns(),
        *spend._covariate_columns(),
    ]
    frame, _ = to_polars(data, list(dict.fromkeys(columns)))
    result = _internal.clv_customer_value(
        frame,
        transactions._model,
        transactions._values(),
        spend._values(),
        transactions.frequency,
        transactions.recency,
        transactions.T,
        spend.monetary_value,
        12 if months is None else whole(months, "months", minimum=1, maximum=1200),
        number(discount_rate, "discount_rate", minimum=0.0),
        number(margin, "margin"),
        _CORE_TIME_UNITS[unit],
        discounting,
        optional_whole(periods, "periods", minimum=1, maximum=100_000),
        transactions._covariates_arg(),
        spend._covariates_arg(),
        None
        if interval is None
        else (
            transactions._covariance_arg(),
            spend._covariance_arg(),
            *_interval_options(interval, draws, seed),
        ),
    )
    return _with_columns(data, result)


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
