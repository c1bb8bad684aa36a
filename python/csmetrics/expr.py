"""Survey metrics and comment sentiment as Polars expressions.

These run inside Polars (``select``, ``group_by().agg()``, ``over()``, lazy queries) through
compiled expression plugins, with the same definitions as the eager functions. Each returns one
Float64 value per group; a group with no valid answer gives null.

Importing csmetrics also registers the ``.cs`` namespace: ``pl.col("score").cs.nps()``.

Errors (an invalid score under ``invalid="raise"``) surface as
``polars.exceptions.ComputeError`` carrying csmetrics' message; its row number counts within the
group being aggregated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from polars.plugins import register_plugin_function

from csmetrics._options import choice, guard_module, scale_pair

__all__ = ["ces", "csat", "nps", "sentiment"]

_LIB = Path(__file__).parent

InvalidPolicy = Literal["raise", "drop", "null"]


def _expr(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


def _name(column: str | pl.Expr) -> str:
    """The column name errors should show (inside ``group_by`` the plugin sees no name)."""
    if isinstance(column, str):
        return column
    try:
        return column.meta.output_name()
    except pl.exceptions.ComputeError:
        return "<expression>"


def nps(column: str | pl.Expr, *, invalid: InvalidPolicy = "raise") -> pl.Expr:
    """NPS of 0-10 scores: ``100 * (promoters - detractors) / n``.

    Examples
    --------
    >>> import polars as pl
    >>> from csmetrics import expr as cse
    >>> df = pl.DataFrame({"team": ["a", "a", "b", "b"], "score": [10, 3, 9, 8]})
    >>> df.group_by("team").agg(cse.nps("score")).sort("team")["score"].to_list()
    [0.0, 50.0]
    """
    return register_plugin_function(
        plugin_path=_LIB,
        function_name="nps_expr",
        args=[_expr(column)],
        kwargs={"invalid": invalid, "column": _name(column)},
        returns_scalar=True,
    )


def csat(
    column: str | pl.Expr,
    *,
    scale: tuple[int, int] = (1, 5),
    invalid: InvalidPolicy = "raise",
) -> pl.Expr:
    """CSAT: the share of answers in the top two boxes of ``scale``.

    Examples
    --------
    >>> import polars as pl
    >>> from csmetrics import expr as cse
    >>> pl.DataFrame({"score": [5, 4, 4, 3, 1]}).select(cse.csat("score")).item()
    0.6
    """
    return register_plugin_function(
        plugin_path=_LIB,
        function_name="csat_expr",
        args=[_expr(column)],
        kwargs={
            "invalid": invalid,
            "scale_min": scale_pair(scale)[0],
            "scale_max": scale_pair(scale)[1],
            "column": _name(column),
        },
        returns_scalar=True,
    )


def ces(
    column: str | pl.Expr,
    *,
    scale: tuple[int, int] | None = None,
    direction: Literal["higher_is_easier", "lower_is_easier"] = "higher_is_easier",
    invalid: InvalidPolicy = "raise",
) -> pl.Expr:
    """CES low-effort share: top three boxes (higher is easier, 1-7) or bottom two (1-5).

    Examples
    --------
    >>> import polars as pl
    >>> from csmetrics import expr as cse
    >>> pl.DataFrame({"score": [7, 6, 5, 4, 1]}).select(cse.ces("score")).item()
    0.6
    """
    choice(direction, "direction", ("higher_is_easier", "lower_is_easier"))
    if scale is None:
        scale = (1, 7) if direction == "higher_is_easier" else (1, 5)
    return register_plugin_function(
        plugin_path=_LIB,
        function_name="ces_expr",
        args=[_expr(column)],
        kwargs={
            "invalid": invalid,
            "scale_min": scale_pair(scale)[0],
            "scale_max": scale_pair(scale)[1],
            "direction": direction,
            "column": _name(column),
        },
        returns_scalar=True,
    )


def sentiment(column: str | pl.Expr) -> pl.Expr:
    """VADER compound score of every comment (one Float64 per row, in [-1, 1]; null stays null).

    The same score as :func:`csmetrics.sentiment`. Comments must be strings: another type is a
    ``ComputeError`` naming the column.

    Examples
    --------
    >>> import polars as pl
    >>> from csmetrics import expr as cse
    >>> comments = pl.DataFrame({"comment": ["The book was good.", None, "not good"]})
    >>> comments.select(cse.sentiment("comment").round(4))["comment"].to_list()
    [0.4404, None, -0.3412]
    """
    return register_plugin_function(
        plugin_path=_LIB,
        function_name="sentiment_expr",
        args=[_expr(column)],
        is_elementwise=True,
    )


@pl.api.register_expr_namespace("cs")
class CsNamespace:
    """``pl.col(...).cs``: csmetrics' survey metrics on an expression.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics  # registers the namespace
    >>> pl.DataFrame({"score": [10] * 6 + [8] * 3 + [0]}).select(pl.col("score").cs.nps()).item()
    50.0
    """

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def nps(self, *, invalid: InvalidPolicy = "raise") -> pl.Expr:
        """See :func:`csmetrics.expr.nps`."""
        return nps(self._expr, invalid=invalid)

    def csat(self, *, scale: tuple[int, int] = (1, 5), invalid: InvalidPolicy = "raise") -> pl.Expr:
        """See :func:`csmetrics.expr.csat`."""
        return csat(self._expr, scale=scale, invalid=invalid)

    def ces(
        self,
        *,
        scale: tuple[int, int] | None = None,
        direction: Literal["higher_is_easier", "lower_is_easier"] = "higher_is_easier",
        invalid: InvalidPolicy = "raise",
    ) -> pl.Expr:
        """See :func:`csmetrics.expr.ces`."""
        return ces(self._expr, scale=scale, direction=direction, invalid=invalid)

    def sentiment(self) -> pl.Expr:
        """See :func:`csmetrics.expr.sentiment`."""
        return sentiment(self._expr)


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
