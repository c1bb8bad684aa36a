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
    return value


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
