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
        self.log_likelihood_: float = math.nan
        self.customers_: float = 0.0
        self.iterations_: int = 0
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

    @property
    def standard_errors_(self) -> dict[str, float]:
        """Standard errors of the estimates (from the observed information), computed on first
        use after :meth:`fit`; NaN where unavailable."""
        if self._pending_errors is not None:
            frame, alive = self._pending_errors
            # Refitting from the estimates: the optimizer starts at its optimum and stops there.
            _, errors, *_ = self._call_fit(frame, alive, self._values(), standard_errors=True)
            self._standard_errors = dict(zip(self._parameters, errors, strict=True))
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
    ) -> tuple[list[float], list[float], float, float, int]:
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
        params, _, ll, customers, iterations = self._call_fit(
            frame, alive, start, standard_errors=False
        )
        self.params_ = dict(zip(self._parameters, params, strict=True))
        self._standard_errors = {}
        self._pending_errors = (frame, alive)
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
        """Estimates with standard errors and 95% Wald intervals.

        Columns ``parameter``, ``estimate``, ``std_error``, ``lower``, ``upper``.
        """
        errors = [self.standard_errors_.get(n, math.nan) for n in self._parameters]
        return _internal.clv_parameter_table(self._model, self._values(), errors)

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
        _internal.clv_parameter_table(cls._model, model._values(), [])  # validates
        return model

    def _predict(
        self, data: IntoFrame, entry: Callable[..., pl.DataFrame], *args: Any, spend: bool = False
    ) -> pl.DataFrame:
        """``entry`` (a prediction of ``_internal``) of this model on ``data``, with ``args``."""
        columns = [self.frequency, self.monetary_value] if spend else [*self._fit_columns()]
        frame, _ = to_polars(data, columns)
        fitted = {
            "model": self._model,
            "params": self._values(),
            "frequency": self.frequency,
            "recency": self.recency,
            "age": self.T,
            "monetary_value": self.monetary_value,
        }
        return entry(frame, fitted, *args)


def _time(t: Any) -> float:
    return number(t, "t", minimum=0.0)


class _TransactionModel(_Fitted):
    def fit(
        self: _Model,
        data: IntoFrame,
        *,
        time_unit: TimeUnit | None = None,
        start: Sequence[float] | None = None,
    ) -> _Model:
        """Fits by maximum likelihood on the summary ``data`` (one row per customer, or
        patterns with a ``weights`` column); returns the model.

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
        self._fit(data, start, "alive")
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
    def predict(self, data: IntoFrame, *, t: float) -> Any:
        """``data`` with ``p_alive`` and ``expected_purchases`` over the next ``t``."""
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

    def fit(self, data: IntoFrame, *, start: Sequence[float] | None = None) -> GammaGamma:
        """Fits on the repeat buyers of ``data``; returns the model."""
        return self._fit(data, start, "alive")

    @frame_method
    def expected_spend(self, data: IntoFrame) -> Any:
        """``data`` with ``expected_spend``: the expected mean purchase value of each customer
        (the population mean where frequency is 0)."""
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
    columns = [transactions.frequency, transactions.recency, transactions.T, spend.monetary_value]
    frame, _ = to_polars(data, columns)
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
    )
    return _with_columns(data, result)


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
