"""Synthetic and reference data sets.

Generated data is deterministic: the same parameters and seed give identical frames on every
machine (the generator runs in the Rust core).
"""

from __future__ import annotations

import polars as pl

from csmetrics import _internal

__all__ = ["survey_responses"]


def survey_responses(
    n: int = 100_000, *, customers: int = 10_000, months: int = 12, seed: int = 0
) -> pl.DataFrame:
    """Survey answers of a synthetic subscription business.

    Parameters
    ----------
    n
        Number of answers.
    customers
        Number of customers answering; each has a fixed segment (60% ``smb``, 30%
        ``mid_market``, 10% ``enterprise``), and larger segments are happier (NPS near 10, 30
        and 45).
    months
        Calendar months covered, from January 2024; answer dates are uniform over them.
    seed
        Seed of the generator.

    Returns
    -------
    polars.DataFrame
        ``customer_id`` (Int64), ``segment`` (String), ``timestamp`` (Date), ``nps`` (0-10),
        ``csat`` (1-5), ``ces`` (1-7, higher is easier), all Int8 scores. CSAT and CES follow the
        NPS answer of the same row.

    Examples
    --------
    >>> from csmetrics import datasets
    >>> answers = datasets.survey_responses(1_000, customers=100, months=3, seed=1)
    >>> answers.shape
    (1000, 6)
    >>> answers["timestamp"].min().isoformat(), answers["timestamp"].max() < __import__("datetime").date(2024, 4, 1)
    ('2024-01-01', True)
    """
    return _internal.survey_responses(n, customers, months, seed)
