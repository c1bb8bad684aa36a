"""Checks of option values, in one place: every bad option is an ``InvalidInputError`` naming
the option, the value and the rule, never a bare TypeError, ValueError or OverflowError."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from csmetrics.exceptions import InvalidInputError

_EPOCH = dt.date(1970, 1, 1)


def option_error(option: str, value: object, rule: str) -> InvalidInputError:
    """The error for ``option=value`` breaking ``rule``, with the attributes set."""
    err = InvalidInputError(f"option {option}={value!r} is not allowed: {rule}")
    err.option = option  # type: ignore[attr-defined]
    err.value = repr(value)  # type: ignore[attr-defined]
    err.rule = rule  # type: ignore[attr-defined]
    return err


def whole(value: Any, option: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number ``minimum <= value <= maximum`` (bools are not numbers here)."""
    rule = f"expected a whole number >= {minimum}" + (
        f" and <= {maximum}" if maximum is not None else ""
    )
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise option_error(option, value, rule)
    if value < minimum or (maximum is not None and value > maximum):
        raise option_error(option, value, rule)
    return int(value)


def optional_whole(
    value: Any, option: str, *, minimum: int = 0, maximum: int | None = None
) -> int | None:
    """:func:`whole`, or None."""
    return None if value is None else whole(value, option, minimum=minimum, maximum=maximum)


def number(
    value: Any,
    option: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
) -> float:
    """A finite real number within the bounds given (``above`` is exclusive)."""
    parts = []
    if minimum is not None:
        parts.append(f">= {minimum:g}")
    if above is not None:
        parts.append(f"> {above:g}")
    if maximum is not None:
        parts.append(f"<= {maximum:g}")
    rule = "expected a finite number" + (" " + " and ".join(parts) if parts else "")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise option_error(option, value, rule)
    value = float(value)
    if (
        not math.isfinite(value)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
        or (above is not None and value <= above)
    ):
        raise option_error(option, value, rule)
    return float(value)


def _as_datetime(value: Any, option: str) -> dt.date | dt.datetime:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            raise option_error(option, value, "expected an ISO date or datetime") from None
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    raise option_error(option, value, "expected a date, a datetime or an ISO date string")


def micros(value: Any, option: str) -> int | None:
    """An instant as microseconds since 1970-01-01 UTC (naive values are taken as UTC)."""
    if value is None:
        return None
    when = _as_datetime(value, option)
    if isinstance(when, dt.datetime):
        if when.tzinfo is not None:
            when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
        delta = when - dt.datetime(1970, 1, 1)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return (when - _EPOCH).days * 86_400_000_000


def days(value: Any, option: str) -> int | None:
    """A date as days since 1970-01-01: a datetime counts by its UTC date (an aware datetime is
    converted to UTC first; a naive one is taken as UTC)."""
    if value is None:
        return None
    when = _as_datetime(value, option)
    if isinstance(when, dt.datetime):
        if when.tzinfo is not None:
            when = when.astimezone(dt.timezone.utc)
        when = when.date()
    return (when - _EPOCH).days


def choice(value: Any, option: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise option_error(option, value, "expected one of " + ", ".join(map(repr, allowed)))
    return value


_ARGUMENT_ERRORS = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    OverflowError,
    AttributeError,
    ImportError,
)


def _typed(err: BaseException, where: str) -> BaseException:
    """``err`` as a :class:`~csmetrics.CsMetricsError` (itself when it is one already)."""
    import polars as pl

    from csmetrics.exceptions import (
        CsMetricsError,
        InvalidTypeError,
        MissingColumnError,
        MissingDependencyError,
    )

    if isinstance(err, CsMetricsError):
        return err
    message = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, pl.exceptions.ColumnNotFoundError):
        first = message.split(" Resolved plan")[0].split(" Valid columns")[0]
        return MissingColumnError(f"{where}: missing column: {first}")
    if isinstance(err, ImportError):
        return MissingDependencyError(f"{where} needs a package that is not installed: {message}")
    if isinstance(err, TypeError):
        return InvalidTypeError(f"{where}: {message}")
    return InvalidInputError(f"{where}: {message}")


def boundary(function: Any) -> Any:
    """Wraps a public function so that nothing but a :class:`~csmetrics.CsMetricsError` leaves
    it: an argument of the wrong type or value (a TypeError from Python or from the extension
    module's argument conversion, a ValueError, an OverflowError, ...) and a Polars error on
    the caller's frame become an :class:`~csmetrics.InvalidInputError` (a missing column a
    :class:`~csmetrics.MissingColumnError`) naming the function, with the original chained."""
    import functools

    import polars as pl

    name = getattr(function, "__qualname__", getattr(function, "__name__", "function"))

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (*_ARGUMENT_ERRORS, pl.exceptions.PolarsError) as err:
            typed = _typed(err, name)
            if typed is err:
                raise
            raise typed from err

    return guarded


def guard_module(namespace: dict[str, Any], names: list[str]) -> None:
    """Applies :func:`boundary` to the public functions and to the public methods of the public
    classes listed in ``names`` of a module's ``namespace``."""
    import inspect

    for name in names:
        obj = namespace.get(name)
        if inspect.isclass(obj):
            if issubclass(obj, BaseException):
                continue
            for klass in obj.__mro__:
                if klass.__module__.split(".")[0] != "csmetrics":
                    continue
                for attr, member in list(vars(klass).items()):
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    if isinstance(member, (classmethod, staticmethod)):
                        if getattr(member.__func__, "_boundary", False):
                            continue
                        guarded = boundary(member.__func__)
                        guarded._boundary = True
                        setattr(klass, attr, type(member)(guarded))
                    elif inspect.isfunction(member) and not getattr(member, "_boundary", False):
                        guarded = boundary(member)
                        guarded._boundary = True
                        setattr(klass, attr, guarded)
        elif inspect.isfunction(obj) and not getattr(obj, "_boundary", False):
            guarded = boundary(obj)
            guarded._boundary = True
            namespace[name] = guarded


def scale_pair(value: Any, option: str = "scale") -> tuple[int, int]:
    """A ``(min, max)`` pair of whole numbers."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise option_error(option, value, "expected a pair (min, max) of whole numbers")
    low = whole(value[0], option, minimum=-(2**62))
    high = whole(value[1], option, minimum=-(2**62))
    return low, high


def confidence_level(value: Any, option: str = "confidence") -> float:
    """A confidence level strictly between 0 and 1."""
    level = number(value, option, above=0.0, maximum=1.0)
    if level >= 1.0:
        raise option_error(option, value, "expected a finite number > 0 and < 1")
    return level
