"""The one way frames enter and leave csmetrics.

In: Polars DataFrame and LazyFrame; pandas (numpy, nullable and pyarrow-backed dtypes,
``category``); anything with the Arrow PyCapsule stream interface (``__arrow_c_stream__``:
pyarrow Table and RecordBatchReader, DuckDB relations, ...). Out: pandas for pandas, a pyarrow
Table for pyarrow, Polars otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Literal,
    ParamSpec,
    Protocol,
    Union,
    cast,
    overload,
)

import polars as pl

from csmetrics import _internal
from csmetrics.exceptions import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa  # type: ignore[import-untyped]

    IntoFrame = Union[pl.DataFrame, pl.LazyFrame, pd.DataFrame, pa.Table]  # noqa: UP007
else:
    IntoFrame = Any

Family = Literal["polars", "pandas", "arrow"]

_Options = ParamSpec("_Options")


class FrameFunction(Protocol[_Options]):
    """The type of a public function whose result is a frame of its first argument's family:
    pandas in, pandas out; a pyarrow Table in, a pyarrow Table out; Polars (DataFrame or
    LazyFrame) in, a Polars DataFrame out. Declared once here instead of three ``@overload``
    stubs repeating each function's options."""

    @overload
    def __call__(
        self, data: pd.DataFrame, /, *args: _Options.args, **kwargs: _Options.kwargs
    ) -> pd.DataFrame: ...
    @overload
    def __call__(
        self,
        data: pl.DataFrame | pl.LazyFrame,
        /,
        *args: _Options.args,
        **kwargs: _Options.kwargs,
    ) -> pl.DataFrame: ...
    @overload
    def __call__(
        self, data: pa.Table, /, *args: _Options.args, **kwargs: _Options.kwargs
    ) -> pa.Table: ...


class FrameMethod(Protocol[_Options]):
    """A method typed as :class:`FrameFunction` once bound (the models' scoring methods)."""

    def __get__(self, obj: object, owner: type | None = None) -> FrameFunction[_Options]: ...


def frame_function(function: Callable[Concatenate[Any, _Options], Any]) -> FrameFunction[_Options]:
    """Types ``function`` as a :class:`FrameFunction`; at run time it is ``function`` itself."""
    return cast("FrameFunction[_Options]", function)


def frame_method(
    method: Callable[Concatenate[Any, Any, _Options], Any],
) -> FrameMethod[_Options]:
    """Types ``method`` as a :class:`FrameMethod`; at run time it is ``method`` itself."""
    return cast("FrameMethod[_Options]", method)


class Kind(str):
    """The frame family a result goes back to (``"polars"``, ``"pandas"`` or ``"arrow"``), and
    the labels of the Categorical and Enum key columns that crossed as integer codes."""

    labels: dict[str, tuple[pl.DataType, pl.Series | None]]
    #: Set when Categorical keys crossed as their own physical codes (see :func:`to_polars`'s
    #: ``sort_by``): the result is sorted again by these columns once its labels are back.
    sort_by: list[str] | None

    def __new__(cls, family: Family) -> Kind:
        kind = super().__new__(cls, family)
        kind.labels = {}
        kind.sort_by = None
        return kind


def _module(data: object) -> str:
    return type(data).__module__.split(".")[0]


def _is_pandas(data: object) -> bool:
    return _module(data) == "pandas" and hasattr(data, "columns")


def _is_arrow_stream(data: object) -> bool:
    return hasattr(data, "__arrow_c_stream__")


def _refuse(data: object) -> TypeError:
    return TypeError(
        "csmetrics expects a polars DataFrame or LazyFrame, a pandas DataFrame or an Arrow "
        "table or stream (an object with __arrow_c_stream__, such as a pyarrow Table or a DuckDB "
        f"relation), got {type(data).__module__}.{type(data).__qualname__}"
    )


def as_list(columns: str | Sequence[str] | None) -> list[str]:
    """Normalises a ``by=`` argument to a list of column names."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    names = list(columns)
    for name in names:
        if not isinstance(name, str):
            raise InvalidInputError(f"option by={names!r} is not allowed: column names are strings")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidInputError(
            f"option by={names!r} is not allowed: column {repeated[0]!r} is given twice"
        )
    return names


def _arrow_names(data: Any) -> list[str] | None:
    schema = getattr(data, "schema", None)
    names = getattr(schema, "names", None)
    return [str(n) for n in names] if names is not None else None


def column_names(data: IntoFrame) -> list[str]:
    """The column names of a supported frame."""
    if isinstance(data, pl.LazyFrame):
        return data.collect_schema().names()
    if isinstance(data, pl.DataFrame):
        return data.columns
    if _is_pandas(data):
        return [str(c) for c in data.columns]
    if _is_arrow_stream(data):
        names = _arrow_names(data)
        return names if names is not None else pl.DataFrame(data).columns
    raise _refuse(data)


def _check_names(wanted: list[str]) -> None:
    for name in wanted:
        if "\x00" in name:
            raise InvalidInputError(
                f"column {name!r}: column names may not contain a NUL byte (\\x00)"
            )


def _placeholder(frame: pl.DataFrame) -> pl.DataFrame:
    """An empty frame with the input's columns (NUL bytes in names shown escaped), so that the
    engine's missing-column error can list them."""
    empty = frame.head(0)
    return empty.rename({c: c.replace("\x00", "\\x00") for c in empty.columns if "\x00" in c})


def _from_pandas(data: Any) -> pl.DataFrame:
    # Column labels of any type (ints, tuples) become their string form, as column_names shows.
    if any(not isinstance(c, str) for c in data.columns):
        data = data.rename(columns=str)
    frame: pl.DataFrame = pl.from_pandas(data)
    return frame


def _as_codes(frame: pl.DataFrame, keys: Iterable[str], kind: Kind) -> pl.DataFrame:
    """Categorical and Enum key columns as UInt32 codes in the order of their labels (lexical
    for Categorical, the declared order for Enum), with the labels kept in ``kind``.

    A Categorical crossing into the engine is converted string by string (0.4 s for 20M rows);
    its codes cross as they are, and the engine's integer path groups them at once. Codes in
    label order keep every output sorted as the labels would sort.
    """
    swaps = []
    for name in dict.fromkeys(keys):
        dtype = frame.schema.get(name)
        if not isinstance(dtype, (pl.Categorical, pl.Enum)):
            continue
        column = frame[name]
        if isinstance(dtype, pl.Enum):
            # Enum codes are the positions in the declared order already.
            kind.labels[name] = (dtype, pl.Series(dtype.categories, dtype=pl.String))
            swaps.append(column.to_physical().cast(pl.UInt32).alias(name))
            continue
        if hasattr(column.cat, "to"):
            # Polars >= 1.32: the physical codes cross as they are, with the dictionary of the
            # codes they use; the engine ranks its labels (one parallel sort of the distinct
            # strings, no pass that hashes rows) and the ranks map back through `.cat.to`.
            physical = column.to_physical()
            top = physical.max()
            if top is not None and int(top) < max(len(column), 1 << 16):  # type: ignore[arg-type]
                # Few codes: the dictionary is the range of codes, absent ones null.
                codes = pl.arange(0, int(top) + 1, dtype=pl.UInt32, eager=True)  # type: ignore[arg-type]
                strings = codes.cat.to(dtype, strict=False).cast(pl.String)
            else:
                codes = physical.unique().drop_nulls()
                strings = codes.cat.to(dtype).cast(pl.String)
            ranked, order = _internal.dictionary_by_label(
                pl.DataFrame({"rows": physical}),
                pl.DataFrame({"codes": codes, "labels": strings}),
            )
            kind.labels[name] = (dtype, order["codes"])
            swaps.append(ranked["rows"].alias(name))
            continue
        # The distinct values keep the column's own codes (a cast from strings would not, in
        # Polars 1.x, where each Categorical may have its own mapping).
        distinct = column.unique().drop_nulls()
        order = distinct.cast(pl.String).arg_sort()
        present = distinct.gather(order)
        physical = present.to_physical().cast(pl.Int64)
        lookup = pl.zeros(int(physical.max() or 0) + 1, pl.UInt32, eager=True)
        lookup = lookup.scatter(physical, pl.arange(0, len(present), dtype=pl.UInt32, eager=True))
        kind.labels[name] = (dtype, present.cast(pl.String))
        swaps.append(lookup.gather(column.to_physical()).alias(name))
    return frame.with_columns(swaps) if swaps else frame


def restore_labels(result: pl.DataFrame, kind: Kind) -> pl.DataFrame:
    """Key columns that crossed as codes (see :func:`_as_codes`) back to their labels."""
    fixes = []
    for name, (dtype, labels) in kind.labels.items():
        if name in result.columns and result.schema[name].is_integer():
            if labels is None:
                # The column's own physical codes (see to_polars' sort_by).
                fixes.append(result[name].cast(pl.UInt32).cat.to(dtype).alias(name))
                continue
            restored = labels.gather(result[name])
            if labels.dtype == pl.UInt32:
                # Physical codes in label order (see _as_codes): no string is hashed again.
                restored = restored.cat.to(dtype)
            else:
                restored = restored.cast(dtype)
            fixes.append(restored.alias(name))
    result = result.with_columns(fixes) if fixes else result
    if kind.sort_by is not None:
        order = [c for c in kind.sort_by if c in result.columns]
        result = result.sort(order, nulls_last=True, maintain_order=True)
    return result


def to_polars(
    data: IntoFrame,
    columns: Iterable[str],
    *,
    keys: Iterable[str] = (),
    sort_by: Sequence[str] | None = None,
    ids: Iterable[str] = (),
) -> tuple[pl.DataFrame, Kind]:
    """Returns an eager Polars frame with only ``columns`` and the family of the input.

    LazyFrames are collected with only those columns (projection pushdown), pyarrow tables are
    sliced to them before conversion. When a column is missing, an empty frame with all the
    input's columns goes to the engine instead, so that its error names the missing column and
    lists every column the input has. Categorical and Enum columns among ``keys`` cross as
    integer codes; :func:`from_polars` gives their labels back.

    ``sort_by`` (for results of a few rows per group, such as survey scores): Categorical keys
    cross as their own physical codes, with no column of codes in label order built (at 20M rows
    that column is the largest allocation of the call); the engine then sorts its groups by
    physical code, and :func:`from_polars` sorts the result by ``sort_by`` once the labels are
    back (Polars sorts Categorical labels lexically, as the engine does; nulls last, as the
    engine puts them).

    ``ids`` are keys that do not appear in the result (the customer ids of a per-period table):
    a Categorical among them crosses as its own physical codes, which group the same customers.
    """
    frame, kind = _to_polars(data, columns)
    frame, _ = _own_codes(frame, ids)
    if sort_by is not None:
        frame, swapped = _own_codes(frame, keys)
        if swapped:
            kind.sort_by = list(sort_by)
            kind.labels.update({name: (dtype, None) for name, dtype in swapped.items()})
            keys = [k for k in keys if k not in swapped]
    return _as_codes(frame, keys, kind), kind


def _own_codes(
    frame: pl.DataFrame, names: Iterable[str]
) -> tuple[pl.DataFrame, dict[str, pl.DataType]]:
    """The Categorical columns among ``names`` as their own physical codes (Polars >= 1.32, whose
    codes map back through ``.cat.to``), and the dtypes of those swapped."""
    swapped = {
        name: frame.schema[name]
        for name in dict.fromkeys(names)
        if isinstance(frame.schema.get(name), pl.Categorical) and hasattr(frame[name].cat, "to")
    }
    if swapped:
        frame = frame.with_columns(frame[name].to_physical().alias(name) for name in swapped)
    return frame, swapped


def _to_polars(data: IntoFrame, columns: Iterable[str]) -> tuple[pl.DataFrame, Kind]:
    wanted = list(dict.fromkeys(columns))
    _check_names(wanted)
    if isinstance(data, pl.LazyFrame):
        names = data.collect_schema().names()
        if all(c in names for c in wanted):
            return data.select(wanted).collect(), Kind("polars")
        return _placeholder(data.head(0).collect()), Kind("polars")
    if isinstance(data, pl.DataFrame):
        if all(c in data.columns for c in wanted):
            return data.select(wanted), Kind("polars")
        return _placeholder(data), Kind("polars")
    if _is_pandas(data):
        names = [str(c) for c in data.columns]
        if all(c in names for c in wanted):
            plain = all(isinstance(c, str) for c in data.columns)
            frame = _from_pandas(data[wanted] if plain else data)
            return frame.select(wanted), Kind("pandas")
        return _placeholder(_from_pandas(data.head(0))), Kind("pandas")
    if _is_arrow_stream(data):
        kind = Kind("arrow" if _module(data) == "pyarrow" else "polars")
        stream_names = _arrow_names(data)
        select = getattr(data, "select", None)
        if stream_names is not None and all(c in stream_names for c in wanted) and callable(select):
            # pyarrow Tables (and DuckDB relations) project before anything is converted.
            try:
                data = select(wanted)
            except Exception:
                pass
        frame = pl.DataFrame(data)
        if all(c in frame.columns for c in wanted):
            return frame.select(wanted), kind
        return _placeholder(frame), kind
    raise _refuse(data)


def from_polars(result: pl.DataFrame, kind: Kind | str) -> Any:
    """Converts a result back to the caller's frame family (and key codes to their labels)."""
    if isinstance(kind, Kind):
        result = restore_labels(result, kind)
    if kind == "pandas":
        return result.to_pandas()
    if kind == "arrow":
        return result.to_arrow()
    return result
