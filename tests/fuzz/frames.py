"""Frames for the fuzz suite: columns of every accepted and refused dtype, nulls, extremes.

A table is described by its :class:`Column` specs; :func:`table` draws one as a Polars frame
(empty, one row, a few rows or many rows of one customer), with each column's dtype drawn from
the accepted set of its role or, for at most one used column, from the refused set. The drawn
frame is then given to the function as Polars, LazyFrame, pandas (numpy, nullable and
pyarrow-backed dtypes) and pyarrow (:func:`families`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl
from hypothesis import strategies as st

Role = Literal["key", "number", "count", "score", "instant", "flag", "label"]

# What the reading layer of the core accepts per role (DESIGN.md "Reading input: one layer").
_INTEGERS: list[pl.DataType] = [
    pl.Int8(),
    pl.Int16(),
    pl.Int32(),
    pl.Int64(),
    pl.UInt8(),
    pl.UInt16(),
    pl.UInt32(),
    pl.UInt64(),
]
_INSTANTS: list[pl.DataType] = [
    pl.Date(),
    *(pl.Datetime(unit) for unit in ("ns", "us", "ms")),
    *(
        pl.Datetime(unit, tz)
        for unit in ("ns", "us", "ms")
        for tz in ("UTC", "Europe/Berlin", "America/New_York")
    ),
]
_NUMBERS: list[pl.DataType] = [
    *_INTEGERS,
    pl.Float32(),
    pl.Float64(),
    pl.Decimal(38, 2),
    pl.Decimal(18, 0),
]
_KEYS: list[pl.DataType] = [
    pl.String(),
    pl.Categorical(),
    pl.Enum([f"c{i}" for i in range(40)]),
    *_INTEGERS,
    pl.Boolean(),
    pl.Date(),
    pl.Datetime("us"),
    pl.Datetime("ms", "UTC"),
]
_LABELS: list[pl.DataType] = [pl.String(), pl.Categorical()]  # Enum: built from the vocabulary

ACCEPTED: dict[Role, list[pl.DataType]] = {
    "key": _KEYS,
    "number": _NUMBERS,
    "count": _NUMBERS,
    "score": _NUMBERS,
    "instant": _INSTANTS,
    "flag": [pl.Boolean(), *_INTEGERS],
    "label": _LABELS,
}

# Dtypes every role refuses, and those only some roles refuse. Ambiguous ones (Boolean amounts,
# integer labels) are left out: the brief names only these as refused.
_ALWAYS_REFUSED: list[pl.DataType] = [
    pl.Binary(),
    pl.List(pl.Int64()),
    pl.Struct({"v": pl.Int64()}),
    pl.Time(),
    pl.Duration("us"),
]
REFUSED: dict[Role, list[pl.DataType]] = {
    # Float keys: the brief lists them as refused, the engine's message as accepted; left out.
    "key": [*_ALWAYS_REFUSED, pl.Null()],
    "number": [*_ALWAYS_REFUSED, pl.String(), pl.Date()],
    "count": [*_ALWAYS_REFUSED, pl.String(), pl.Date()],
    "score": [*_ALWAYS_REFUSED, pl.String(), pl.Date()],
    "instant": [*_ALWAYS_REFUSED, pl.String(), pl.Int64(), pl.Float64()],
    "flag": [*_ALWAYS_REFUSED, pl.String(), pl.Date()],
    "label": [*_ALWAYS_REFUSED],
}

BASE = dt.datetime(2024, 1, 1)
# Instants that break naive calendar code: the ends of the Date range, DST transitions in both
# directions (Europe and the US, given in UTC), a leap day, the epoch.
EXTREME_INSTANTS = [
    dt.datetime(1, 1, 1),
    dt.datetime(9999, 12, 31, 23, 59, 59),
    dt.datetime(2024, 3, 31, 0, 30),
    dt.datetime(2024, 3, 31, 1, 30),
    dt.datetime(2024, 10, 27, 0, 30),
    dt.datetime(2024, 10, 27, 1, 30),
    dt.datetime(2024, 3, 10, 7, 0),
    dt.datetime(2024, 11, 3, 6, 0),
    dt.datetime(2024, 2, 29, 23, 59, 59, 999999),
    dt.datetime(1970, 1, 1),
]
EXTREME_NUMBERS: list[float | int] = [
    math.nan,
    math.inf,
    -math.inf,
    1e300,
    -1e300,
    -1,
    -0.0,
    0,
    5e-324,
    0.5,
    2**31,
    2**63 - 1,
    -(2**63),
    2**64 - 1,
    1e15 + 0.5,
]
_NS_RANGE = (dt.datetime(1678, 1, 1), dt.datetime(2262, 1, 1))


def instants(days: int = 400) -> st.SearchStrategy[dt.datetime]:
    """Instants around 2024, to the second (UTC, naive)."""
    return st.builds(
        lambda d, s: BASE + dt.timedelta(days=d, seconds=s),
        st.integers(-days, days),
        st.sampled_from([0, 0, 0, 3600 * 9 + 30, 86399]),
    )


@dataclass(frozen=True)
class Column:
    """One column of a table: its name, role and regular values.

    ``optional`` columns may be left out of the frame, or be all null (Null dtype for instants).
    ``used`` says whether the function reads the column under the drawn options; only a used
    column may get a refused dtype (an unread one must not matter).
    """

    name: str
    role: Role
    values: st.SearchStrategy[Any] | None = None
    vocabulary: tuple[str, ...] = ()
    optional: bool = False
    nullable: bool = True
    used: Callable[[dict[str, Any]], bool] = field(default=lambda _: True)

    def regular(self) -> st.SearchStrategy[Any]:
        if self.values is not None:
            return self.values
        return {
            "key": st.integers(0, 5),
            "number": st.integers(0, 100_000).map(lambda c: c / 100),
            "count": st.integers(0, 5),
            "score": st.integers(0, 10),
            "instant": instants(),
            "flag": st.booleans(),
            "label": st.sampled_from(self.vocabulary or ("a", "b")),
        }[self.role]

    def extreme(self) -> st.SearchStrategy[Any]:
        return {
            "key": st.sampled_from([0, 1, 2**31, 10**6, -1, -(2**31)]),
            "number": st.sampled_from(EXTREME_NUMBERS),
            "count": st.sampled_from(EXTREME_NUMBERS),
            "score": st.sampled_from([*EXTREME_NUMBERS, 11, 10.5, -0.5]),
            "instant": st.sampled_from(EXTREME_INSTANTS),
            "flag": st.sampled_from([2, -1, True, False]),
            "label": st.sampled_from(["", "BOGUS", "é", "a" * 300, "Month", " month"]),
        }[self.role]


@dataclass
class Table:
    """A drawn frame and what the checks need to know about it."""

    frame: pl.DataFrame
    refused: list[str]  # used columns given a refused dtype
    shape: str


def _key_value(index: int, dtype: pl.DataType) -> Any:
    if dtype in (pl.String(), pl.Categorical()) or isinstance(dtype, pl.Enum):
        return f"c{index % 40}"
    if dtype == pl.Boolean():
        return index % 2 == 0
    if dtype == pl.Date():
        return dt.date(2020, 1, 1) + dt.timedelta(days=index % 1000)
    if isinstance(dtype, pl.Datetime):
        return dt.datetime(2020, 1, 1) + dt.timedelta(hours=index % 10**6)
    return index


def _in_range(value: int, dtype: pl.DataType) -> bool:
    bits = int(re.sub(r"\D", "", str(dtype)))
    if dtype.is_unsigned_integer():
        return 0 <= value < 2**bits
    return -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)


def _number_series(name: str, values: list[Any], dtype: pl.DataType) -> pl.Series:
    if dtype.is_integer():
        ints: list[int | None] = []
        for v in values:
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                ints.append(None)
                continue
            v = int(v) if isinstance(v, bool) else v
            i = int(v)
            ints.append(i if _in_range(i, dtype) else None)
        return pl.Series(name, ints, dtype=dtype)
    if isinstance(dtype, pl.Decimal):
        scale = dtype.scale or 0
        decimals = [
            None
            if v is None or not math.isfinite(float(v)) or abs(float(v)) >= 1e15
            else round(decimal.Decimal(repr(float(v)) if isinstance(v, float) else v), scale)
            for v in values
        ]
        return pl.Series(name, decimals, dtype=dtype)
    floats = [None if v is None else float(v) for v in values]
    return pl.Series(name, floats, dtype=pl.Float64).cast(dtype)


def _instant_series(name: str, values: list[Any], dtype: pl.DataType) -> pl.Series:
    if dtype == pl.Date():
        return pl.Series(name, [None if v is None else v.date() for v in values], dtype=pl.Date)
    assert isinstance(dtype, pl.Datetime)
    if dtype.time_unit == "ns":
        # Beyond ns range: clamp (Polars cannot hold them), keeping the extreme's intent.
        low, high = _NS_RANGE
        values = [None if v is None else min(max(v, low), high) for v in values]
    series = pl.Series(name, values, dtype=pl.Datetime("us")).dt.cast_time_unit(
        dtype.time_unit or "us"
    )
    if dtype.time_zone:
        series = series.dt.replace_time_zone("UTC").dt.convert_time_zone(dtype.time_zone)
    return series


def _refused_series(name: str, values: list[Any], dtype: pl.DataType) -> pl.Series:
    def text(v: Any) -> str:
        return v.isoformat() if isinstance(v, dt.datetime) else str(v)

    def number(v: Any) -> int:
        if isinstance(v, dt.datetime):
            return int((v - dt.datetime(1970, 1, 1)).total_seconds())
        if isinstance(v, str):
            return len(v)
        if isinstance(v, float) and not math.isfinite(v):
            return 0
        return max(min(int(v), 2**62), -(2**62))

    present = [v for v in values if v is not None]
    if dtype == pl.Null():
        return pl.Series(name, [None] * len(values), dtype=pl.Null)
    if dtype == pl.Binary():
        out: list[Any] = [text(v).encode() for v in present]
    elif isinstance(dtype, pl.List):
        out = [[number(v)] for v in present]
    elif isinstance(dtype, pl.Struct):
        out = [{"v": number(v)} for v in present]
    elif dtype == pl.Time():
        out = [dt.time(number(v) % 24, 30) for v in present]
    elif isinstance(dtype, pl.Duration):
        out = [dt.timedelta(days=number(v) % 10**5) for v in present]
    elif dtype == pl.String():
        out = [text(v) for v in present]
    elif dtype == pl.Date():
        out = [dt.date(2024, 1, 1) + dt.timedelta(days=number(v) % 1000) for v in present]
    elif dtype.is_numeric():
        out = [number(v) for v in present]
    else:  # pragma: no cover - every refused dtype is listed above
        raise AssertionError(dtype)
    it = iter(out)
    return pl.Series(name, [None if v is None else next(it) for v in values], dtype=dtype)


def build_series(column: Column, values: list[Any], dtype: pl.DataType, refused: bool) -> pl.Series:
    """The Series of ``values`` (the role's base values, None for null) with ``dtype``."""
    if refused:
        return _refused_series(column.name, values, dtype)
    if column.role == "key":
        keyed = [None if v is None else _key_value(v, dtype) for v in values]
        if isinstance(dtype, pl.Datetime):
            return _instant_series(column.name, keyed, dtype)
        if isinstance(dtype, pl.Enum | pl.Categorical):
            return pl.Series(column.name, keyed, dtype=pl.String).cast(dtype)
        if dtype.is_integer():
            keyed = [v if v is None or _in_range(v, dtype) else None for v in keyed]
        return pl.Series(column.name, keyed, dtype=dtype)
    if column.role == "instant":
        return _instant_series(column.name, values, dtype)
    if column.role == "label":
        labels = [None if v is None else str(v) for v in values]
        return pl.Series(column.name, labels, dtype=pl.String).cast(dtype)
    if column.role == "flag" and dtype == pl.Boolean():
        flags = [None if v is None else bool(v) if isinstance(v, bool) else v for v in values]
        flags = [f if f in (None, True, False) else True for f in flags]
        return pl.Series(column.name, flags, dtype=pl.Boolean)
    return _number_series(column.name, values, dtype)


@st.composite
def table(
    draw: st.DrawFn,
    columns: Sequence[Column],
    options: dict[str, Any],
    *,
    customer: str | None = "customer_id",
    allow_refused: bool = True,
) -> Table:
    """A frame of ``columns``: every accepted dtype, nulls in one column, extremes, odd shapes.

    ``customer`` names the customer column: in the "one customer" shape every row has the same
    id, and the columns listed in ``customer_level`` stay constant per customer.
    """
    shape = draw(st.sampled_from(["empty", "single", "small", "small", "small", "one_customer"]))
    rows = {"empty": 0, "single": 1, "small": draw(st.integers(2, 10))}.get(shape)
    if rows is None:
        rows = draw(st.integers(20, 60))
    extreme = draw(st.integers(0, 9)) < 3
    used = [c for c in columns if c.used(options)]
    null_column = draw(st.none() | st.sampled_from([c.name for c in columns]))
    refused_column = (
        draw(st.none() | st.none() | st.none() | st.sampled_from([c.name for c in used]))
        if allow_refused and used
        else None
    )
    series: list[pl.Series] = []
    refused: list[str] = []
    for column in columns:
        if column.optional and draw(st.integers(0, 3)) == 0:
            continue  # an optional column may be absent
        is_refused = column.name == refused_column
        if is_refused:
            # An optional column may be all null: the Null dtype is refused only where required.
            refusals = [d for d in REFUSED[column.role] if not (column.optional and d == pl.Null)]
            dtype = draw(st.sampled_from(refusals))
            refused.append(column.name)
        elif column.role == "label" and draw(st.integers(0, 3)) == 0:
            vocabulary = sorted({*column.vocabulary, "a", "b", "", "BOGUS"})
            dtype = pl.Enum(vocabulary)
        else:
            dtype = draw(st.sampled_from(ACCEPTED[column.role]))
        elements = column.regular() | column.extreme() if extreme else column.regular()
        values = draw(st.lists(elements, min_size=rows, max_size=rows))
        if column.role == "label" and isinstance(dtype, pl.Enum):
            values = [v if v in dtype.categories else "a" for v in values]
        if shape == "one_customer" and column.name == customer:
            values = [values[0]] * rows
        if column.name == null_column and column.nullable and rows:
            mask = draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
            values = [None if m else v for v, m in zip(values, mask, strict=True)]
            if column.optional and column.role == "instant" and not any(mask):
                values = [None] * rows
        if (
            column.optional
            and column.role == "instant"
            and not is_refused
            and all(v is None for v in values)
            and draw(st.booleans())
        ):
            # An all-null optional instant column, as Polars infers it: the Null dtype.
            series.append(pl.Series(column.name, [None] * rows, dtype=pl.Null))
            continue
        series.append(build_series(column, values, dtype, is_refused))
    return Table(pl.DataFrame(series), refused, shape)


# --- frame families ---------------------------------------------------------------------------

Family = Literal["polars", "lazy", "pandas", "pandas_nullable", "pandas_arrow", "pyarrow"]
FAMILIES: tuple[Family, ...] = (
    "polars",
    "lazy",
    "pandas",
    "pandas_nullable",
    "pandas_arrow",
    "pyarrow",
)


def convert(frame: pl.DataFrame, family: Family) -> Any:
    """``frame`` as the given family (raises when that library cannot hold it)."""
    if family == "polars":
        return frame
    if family == "lazy":
        return frame.lazy()
    if family == "pyarrow":
        return frame.to_arrow()
    if family == "pandas":
        return frame.to_pandas()
    if family == "pandas_arrow":
        return frame.to_pandas(use_pyarrow_extension_array=True)
    return frame.to_pandas().convert_dtypes(dtype_backend="numpy_nullable")


def back_to_polars(data: Any) -> pl.DataFrame:
    """Any supported frame (or result) as an eager Polars frame."""
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if isinstance(data, pl.DataFrame):
        return data
    if type(data).__module__.split(".")[0] == "pandas":
        return pl.from_pandas(data)
    converted = pl.from_arrow(data)
    assert isinstance(converted, pl.DataFrame)
    return converted


def lossless(frame: pl.DataFrame, family: Family) -> bool:
    """Whether ``frame`` survives the trip to ``family`` and back with dtypes and values intact,
    so that the function must give the very same answer on it."""
    if family in ("polars", "lazy"):
        return True
    try:
        back = back_to_polars(convert(frame, family))
    except Exception:
        return False
    return back.schema == frame.schema and back.equals(frame, null_equal=True)


# --- reproducers ------------------------------------------------------------------------------


def _dtype_source(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.List):
        return f"pl.List({_dtype_source(dtype.inner)})"
    if isinstance(dtype, pl.Struct):
        fields = ", ".join(f"{f.name!r}: {_dtype_source(f.dtype)}" for f in dtype.fields)
        return f"pl.Struct({{{fields}}})"
    if isinstance(dtype, pl.Enum):
        return f"pl.Enum({dtype.categories.to_list()!r})"
    if isinstance(dtype, pl.Datetime):
        return f"pl.Datetime({dtype.time_unit!r}, {dtype.time_zone!r})"
    if isinstance(dtype, pl.Duration):
        return f"pl.Duration({dtype.time_unit!r})"
    if isinstance(dtype, pl.Decimal):
        return f"pl.Decimal({dtype.precision}, {dtype.scale})"
    return f"pl.{type(dtype).__name__}()"


def _value_source(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"float('{value}')"
    if isinstance(value, list):
        return "[" + ", ".join(_value_source(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_value_source(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "(" + "".join(f"{_value_source(v)}, " for v in value) + ")"
    if isinstance(value, pl.DataFrame):
        return frame_source(value)
    if isinstance(value, pl.Series):
        return series_source(value)
    text = repr(value)
    return text.replace("datetime.", "dt.").replace("Decimal(", "decimal.Decimal(")


def series_source(series: pl.Series) -> str:
    """Python source that rebuilds ``series`` (dtype included)."""
    dtype = series.dtype
    if isinstance(dtype, pl.Datetime) and dtype.time_zone:
        # Values as UTC: a local time may fall outside Python's years 1-9999.
        utc = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return (
            f"{series_source(utc)}.dt.replace_time_zone('UTC')"
            f".dt.convert_time_zone({dtype.time_zone!r})"
        )
    values = _value_source(series.to_list())
    return f"pl.Series({series.name!r}, {values}, dtype={_dtype_source(dtype)})"


def frame_source(frame: pl.DataFrame) -> str:
    """Python source that rebuilds ``frame`` (dtypes included)."""
    return "pl.DataFrame([" + ", ".join(series_source(s) for s in frame.get_columns()) + "])"


def source(value: Any) -> str:
    """Python source of an option value or frame, for reproducers."""
    return _value_source(value)
