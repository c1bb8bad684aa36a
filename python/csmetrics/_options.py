"""Checks of option values, in one place: every bad option is an ``InvalidInputError`` naming
the option, the value and the rule, never a bare TypeError, ValueError or OverflowError."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

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


def fill_docs(functions: tuple[Callable[..., Any], ...], **parts: str) -> None:
    """Puts the shared docstring ``parts`` in the functions' docstrings (``{name}`` stands for
    ``parts[name]``, ``{{`` and ``}}`` for braces), before the docs and doctests read them."""
    for function in functions:
        doc = function.__doc__ or ""
        for name, text in parts.items():
            doc = doc.replace("{" + name + "}", text)
        function.__doc__ = doc.replace("{{", "{").replace("}}", "}")


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


def warn_deprecated(message: str) -> None:
    """A :class:`DeprecationWarning` pointing at the caller's line: the first frame outside
    csmetrics (the public wrappers sit between the user and the check)."""
    import sys
    import warnings

    level = 2
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("csmetrics"):
        frame = frame.f_back
        level += 1
    warnings.warn(message, DeprecationWarning, stacklevel=level)


_Function = TypeVar("_Function", bound=Callable[..., Any])


def renamed(**renames: str) -> Callable[[_Function], _Function]:
    """Keeps old keyword names working for one release: ``@renamed(first_period="observed_from")``
    accepts ``first_period=`` with a :class:`DeprecationWarning` naming ``observed_from=``.
    Giving both is an :class:`~csmetrics.InvalidInputError`."""
    import functools

    def decorate(function: _Function) -> _Function:
        name = getattr(function, "__qualname__", "function")

        @functools.wraps(function)
        def accept(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise option_error(
                        old, kwargs[old], f"{old}= is the old name of {new}=: give only {new}="
                    )
                warn_deprecated(
                    f"{name}: the keyword {old}= is deprecated and will be removed in the next "
                    f"release; use {new}="
                )
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        accept.__renamed__ = dict(renames)  # type: ignore[attr-defined]
        return cast(_Function, accept)

    return decorate


def renamed_value(value: Any, option: str, aliases: dict[str, str], where: str) -> Any:
    """``value``, or the new spelling of an old one (with a :class:`DeprecationWarning`)."""
    if isinstance(value, str) and value in aliases:
        new = aliases[value]
        warn_deprecated(
            f"{where}: {option}={value!r} is deprecated and will be removed in the next release; "
            f"use {option}={new!r}"
        )
        return new
    return value


def keyword_only(count: int) -> Callable[[_Function], _Function]:
    """Keeps the first ``count`` keyword-only parameters of a function, which were positional
    before, working by position for one release, with a :class:`DeprecationWarning`."""
    import functools
    import inspect

    from csmetrics.exceptions import InvalidTypeError

    def decorate(function: _Function) -> _Function:
        name = getattr(function, "__qualname__", "function")
        names = list(inspect.signature(function).parameters)[:count]

        @functools.wraps(function)
        def accept(*args: Any, **kwargs: Any) -> Any:
            if args:
                if len(args) > len(names):
                    raise InvalidTypeError(
                        f"{name} takes its tables by name ({', '.join(names)}); "
                        f"got {len(args)} positional arguments"
                    )
                given = dict(zip(names, args, strict=False))
                for option in given:
                    if option in kwargs:
                        raise option_error(option, "...", "given both by position and by name")
                wanted = ", ".join(f"{n}=..." for n in given)
                warn_deprecated(
                    f"{name}: tables given by position are deprecated and will be an error in "
                    f"the next release; name them: {name}({wanted})"
                )
                kwargs.update(given)
            return function(**kwargs)

        return cast(_Function, accept)

    return decorate
