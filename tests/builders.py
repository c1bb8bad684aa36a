"""Small frames the tests build by hand (imported by the test modules; see conftest.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl

SUBSCRIPTIONS = {
    "customer_id": pl.String,
    "start": pl.Date,
    "end": pl.Date,
    "amount": pl.Float64,
    "interval": pl.String,
}


def subscriptions(rows: list[tuple[str, dt.date, dt.date | None, float, str]]) -> pl.DataFrame:
    """Subscriptions from rows of (customer_id, start, end, amount, interval)."""
    return pl.DataFrame(rows, schema=SUBSCRIPTIONS, orient="row")
