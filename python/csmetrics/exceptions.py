"""The exceptions csmetrics raises.

Every error from the engine is a :class:`CsMetricsError`. Input problems are also built-in
exceptions users already catch: a bad value or option is a :class:`ValueError`, a missing column a
:class:`KeyError`. Errors about data carry the offending ``column``, ``row``, ``value`` and
``rule`` as attributes where they apply.

Errors raised inside Polars expression plugins (``csmetrics.expr`` and the ``.cs`` namespace)
surface as ``polars.exceptions.ComputeError`` with the same message, because Polars owns that path.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceError",
    "CsMetricsError",
    "InternalError",
    "InvalidInputError",
    "InvalidTypeError",
    "MissingColumnError",
    "MissingDependencyError",
    "ModelLoadError",
    "NotFittedError",
    "StripeFormatError",
    "TimeUnitMismatchError",
]


class CsMetricsError(Exception):
    """Base class of every csmetrics error."""


class InvalidInputError(CsMetricsError, ValueError):
    """A value, type or option breaks a rule of the metric's definition.

    Attributes (set when they apply): ``column``, ``row`` (zero-based), ``value``, ``rule``,
    ``option``.
    """


class InvalidTypeError(InvalidInputError, TypeError):
    """An argument of the wrong type (a list where a frame is expected, a number where a column
    name is): an :class:`InvalidInputError` that is also the :class:`TypeError` Python raises
    for it."""


class MissingDependencyError(CsMetricsError, ImportError):
    """An optional package a function needs is not installed (matplotlib for plots and the
    report: ``pip install csmetrics[plot]``)."""


class MissingColumnError(CsMetricsError, KeyError):
    """A column the computation needs is not in the input. Attribute: ``column``."""

    def __str__(self) -> str:
        # KeyError would quote the message; show it as written.
        return str(self.args[0]) if self.args else ""


class ConvergenceError(CsMetricsError):
    """A model fit did not converge."""


class NotFittedError(CsMetricsError, ValueError):
    """A model was asked for results (predictions, :meth:`summary`, :meth:`save`) before
    :meth:`fit`, :meth:`load` or ``from_params`` gave it parameters."""


class ModelLoadError(InvalidInputError):
    """A saved model cannot be loaded: the file is unreadable or not JSON, holds no parameters,
    holds another model, or its parameters or time unit are not valid. An
    :class:`InvalidInputError` (so a ``ValueError``), as before this class existed."""


class StripeFormatError(InvalidInputError):
    """A Stripe export (read by :mod:`csmetrics.io.stripe`) lacks a field the reader needs, or
    holds a value it cannot take. The message names the file, the object and the field;
    attributes ``file``, ``object_id`` and ``field``."""

    file: str
    object_id: str
    field: str


class TimeUnitMismatchError(InvalidInputError):
    """A time unit given to :func:`csmetrics.clv.clv` (or to a model's ``fit``) contradicts the
    one the model (or the summary) remembers: a model fitted on weekly recency and T would
    otherwise give a CLV off by a factor of seven without a word. Attributes ``expected`` (the
    remembered unit) and ``value`` (the one given)."""


class InternalError(CsMetricsError):
    """A bug in csmetrics: the engine panicked. The message names the function; please report it
    with the input that caused it. Tests show this backstop is never reached."""
