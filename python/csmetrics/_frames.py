"""Input and output adapters: Polars, LazyFrame and pandas in; the same family out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Union

import polars as pl

if TYPE_CHECKING:
    import pandas as pd

    IntoFrame = Union[pl.DataFrame, pl.LazyFrame, pd.DataFrame]  # noqa: UP007 (an alias)
else:
    IntoFrame = Any

Kind = Literal["polars", "pandas"]


def _is_pandas(data: object) -> bool:
    return type(data).__module__.split(".")[0] == "pandas" and hasattr(data, "columns")


def as_list(columns: str | Sequence[str] | None) -> list[str]:
    """Normalises a ``by=`` argument to a list of column names."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def column_names(data: IntoFrame) -> list[str]:
    """The column names of a supported frame."""
    if isinstance(data, pl.LazyFrame):
        return data.collect_schema().names()
    if isinstance(data, pl.DataFrame):
        return data.columns
    if _is_pandas(data):
        return [str(c) for c in data.columns]
    raise TypeError(
        "csmetrics expects a polars DataFrame or LazyFrame or a pandas DataFrame, "
        f"got {type(data).__module__}.{type(data).__qualname__}"
    )


def to_polars(data: IntoFrame, columns: Iterable[str]) -> tuple[pl.DataFrame, Kind]:
    """Returns an eager Polars frame with only ``columns`` and the family of the input.

    LazyFrames are collected with only those columns (projection pushdown). When a column is
    missing, an empty frame with all the input's columns goes to the engine instead, so that its
    error names the missing column and lists every column the input has.
    """
    wanted = list(dict.fromkeys(columns))
    if isinstance(data, pl.LazyFrame):
        names = data.collect_schema().names()
        if all(c in names for c in wanted):
            return data.select(wanted).collect(), "polars"
        return data.head(0).collect(), "polars"
    if isinstance(data, pl.DataFrame):
        if all(c in data.columns for c in wanted):
            return data.select(wanted), "polars"
        return data.head(0), "polars"
    if _is_pandas(data):
        names = [str(c) for c in data.columns]
        if all(c in names for c in wanted):
            return pl.from_pandas(data[wanted]), "pandas"
        return pl.from_pandas(data.head(0)), "pandas"
    raise TypeError(
        "csmetrics expects a polars DataFrame or LazyFrame or a pandas DataFrame, "
        f"got {type(data).__module__}.{type(data).__qualname__}"
    )


def from_polars(result: pl.DataFrame, kind: Kind) -> Any:
    """Converts a result back to the caller's frame family."""
    if kind == "pandas":
        return result.to_pandas()
    return result
