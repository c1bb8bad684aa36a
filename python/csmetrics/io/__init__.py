"""Readers of billing systems' exports into the tables csmetrics reads.

* :mod:`csmetrics.io.stripe` reads Stripe subscriptions and invoices (JSON arrays or JSON
  lines, both API shapes) and the Dashboard's subscriptions CSV export.
"""

from __future__ import annotations

from csmetrics.io import stripe

__all__ = ["stripe"]
