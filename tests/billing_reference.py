"""A brute-force reference of billing detail (METRICS.md sections 0, 2, 2.1 and 3), for the tests.

Written from the definitions, not from the core, and deliberately slow: a customer's state is
evaluated at each snapshot instant (the last instant of each month, or ``as_of`` for the last one)
by looking at every subscription row and every discount at that instant. Nothing is swept,
sorted into events or carried from one instant to the next, except the "has this customer been
active before" flags the movement rules need.

Money is exact: the gross monthly value of a row is ``round_half_even(amount * quantity * interval
factor * fx rate * 10^precision)`` in integer units, a percent step is ``v <- round_half_even(v *
(100 - p) / 100)``, an amount-off step ``v <- max(0, v - round_half_even(amount_off * factor * fx *
10^precision))``. ``round`` of a :class:`fractions.Fraction` rounds half to even.

Choices where the definitions are silent (the tests avoid relying on them, or allow for them):

- a customer-level discount applies to every live subscription of the customer: its percent to each
  subscription's value (rounded per subscription), its amount-off (read as monthly, so the tests
  give customer-level amount-offs only to customers billed monthly in one currency) to the
  customer's total; the share of each subscription (for committed and cancellation MRR) is exact
  (a :class:`~fractions.Fraction`), and ``slack`` counts the shares that are not whole units;
- ``once`` windows are computed from the billing periods of the row being valued (the tests keep
  one interval per subscription and never give a customer-level discount duration ``once``);
- the reason of a churn is that of the customer's activity-giving row whose effective end (end,
  cancellation cut or delinquency cut) is the latest at or before the snapshot; two such rows
  ending at the same instant with different reasons make the split ``ambiguous``;
- a cancellation request counts only on a row that gives activity;
- the first reported period is the month of the earliest start of a row that gives activity
  (an excluded trial, an unpaid or incomplete row and a paused row under ``paused="churn"`` give
  none).

This module holds no tests; the property tests in ``test_billing.py`` compare it with the core.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

STRIPE_REASONS = {
    "cancellation_requested": "voluntary",
    "payment_failed": "involuntary",
    "payment_disputed": "involuntary",
}
STATUSES = {
    "trialing",
    "active",
    "past_due",
    "unpaid",
    "paused",
    "canceled",
    "incomplete",
    "incomplete_expired",
}
MONTHS_PER_STEP = {"month": 1, "quarter": 3, "year": 12}
ONE_MICRO = dt.timedelta(microseconds=1)


def instant(value: dt.date | dt.datetime | None) -> dt.datetime | None:
    """A date (midnight) or datetime as a naive datetime."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day)


def add_months(at: dt.datetime, months: int) -> dt.datetime:
    """``at`` plus calendar months, the day clamped to the target month's last day."""
    index = at.year * 12 + at.month - 1 + months
    year, month = divmod(index, 12)
    day = min(at.day, calendar.monthrange(year, month + 1)[1])
    return at.replace(year=year, month=month + 1, day=day)


def interval_factor(interval: str, count: int) -> Fraction:
    """Monthly value of one unit billed every ``count`` ``interval``s."""
    per = {
        "month": Fraction(1),
        "quarter": Fraction(1, 3),
        "year": Fraction(1, 12),
        "week": Fraction(365, 84),
        "day": Fraction(365, 12),
    }[interval]
    return per / count


def exact(value: float | int) -> Fraction:
    return Fraction(value)


@dataclass
class Discount:
    """One discount as read from a row's columns or from the discounts table."""

    level: str  # "sub" (row columns or keyed by subscription) or "customer"
    order: int  # input order, the tie-break of equal starts
    percent: Fraction | None
    amount_off: Fraction | None
    duration: str
    months: int | None
    start: dt.datetime | None  # None: the default start
    end: dt.datetime | None
    run_start: dt.datetime | None = None  # a row discount's default start


@dataclass
class Row:
    index: int
    customer: Any
    sub: tuple[str, Any]  # ("s", subscription id) or ("r", row index)
    start: dt.datetime
    end: dt.datetime | None
    amount: Fraction
    interval: str
    count: int
    quantity: int
    rate: Fraction
    status: str
    canceled_at: dt.datetime | None
    reason: str  # voluntary / involuntary / unknown
    discounts: list[Discount] = field(default_factory=list)
    spell_start: dt.datetime | None = None  # past-due spell start (past_due rows)


@dataclass
class SubValue:
    value: Fraction  # exact after the customer-level allocation
    canceled_by: dt.datetime | None  # the subscription's cancellation request, if any


@dataclass
class State:
    """A customer at one instant."""

    mrr: int = 0
    live: bool = False  # any live row that gives activity
    paused_row: bool = False  # any live paused row under paused="zero"
    subs: dict[tuple[str, Any], SubValue] = field(default_factory=dict)

    @property
    def paused(self) -> bool:
        return self.mrr == 0 and self.paused_row


@dataclass
class Result:
    periods: list[dt.date]
    bridge: list[dict[str, Any]]
    movements: list[dict[str, Any]]
    mrr: list[dict[str, Any]]
    churn: list[dict[str, Any]]


class Reference:
    """The brute force over one subscriptions table and one set of options."""

    def __init__(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        columns: Sequence[str] | None = None,
        discounts: Sequence[Mapping[str, Any]] | None = None,
        as_of: dt.date | dt.datetime,
        precision: int = 6,
        free_is_active: bool = False,
        trials: str = "exclude",
        past_due: str = "active",
        delinquency_days: int = 30,
        paused: str = "zero",
        churn_at: str = "end",
        stacking: str = "sequential",
        mrr_basis: str = "net",
        churn_reasons: Mapping[str, str] | None = None,
        fx: Mapping[str, float] | None = None,
        with_contract: bool = False,
    ) -> None:
        self.columns = set(columns if columns is not None else {k for r in rows for k in r})
        self.as_of = instant(as_of)
        self.scale = 10**precision
        self.free_is_active = free_is_active
        self.trials = trials
        self.past_due = past_due
        self.delinquency = dt.timedelta(days=delinquency_days)
        self.paused_policy = paused
        self.churn_at = churn_at
        self.stacking = stacking
        self.basis = mrr_basis
        self.reasons = {**STRIPE_REASONS, **(churn_reasons or {})}
        self.fx = {k: exact(v) for k, v in (fx or {}).items()}
        self.with_contract = with_contract
        self.rows = [self._row(i, r) for i, r in enumerate(rows)]
        self.sub_first: dict[tuple[str, Any], dt.datetime] = {}
        self.customer_first: dict[Any, dt.datetime] = {}
        for row in self.rows:
            first = self.sub_first.get(row.sub)
            self.sub_first[row.sub] = row.start if first is None else min(first, row.start)
            first = self.customer_first.get(row.customer)
            self.customer_first[row.customer] = (
                row.start if first is None else min(first, row.start)
            )
        self.customer_discounts: dict[Any, list[Discount]] = {}
        self._runs()
        self._table(discounts or [])
        self._spells()
        self.customers = sorted({row.customer for row in self.rows})

    # -- reading -------------------------------------------------------------------------------

    def _row(self, index: int, raw: Mapping[str, Any]) -> Row:
        has = self.columns.__contains__
        sub_id = raw.get("subscription_id") if has("subscription_id") else None
        currency = raw.get("currency") if has("currency") else None
        rate = self.fx[currency] if currency is not None and self.fx else Fraction(1)
        status = raw.get("status") if has("status") else "active"
        reason_text = raw.get("churn_reason") if has("churn_reason") else None
        row = Row(
            index=index,
            customer=raw["customer_id"],
            sub=("s", sub_id) if sub_id is not None else ("r", index),
            start=instant(raw["start"]),  # type: ignore[arg-type]
            end=instant(raw.get("end")),
            amount=exact(raw["amount"]),
            interval=raw.get("interval") or "month",
            count=int(raw.get("interval_count") or 1),
            quantity=int(raw["quantity"])
            if has("quantity") and raw.get("quantity") is not None
            else 1,
            rate=rate,
            status=status,
            canceled_at=instant(raw.get("canceled_at")) if has("canceled_at") else None,
            reason=self.reasons.get(reason_text, "unknown")
            if reason_text is not None
            else "unknown",
        )
        assert row.status in STATUSES, row.status
        if has("percent_off") or has("amount_off"):
            percent = raw.get("percent_off")
            amount_off = raw.get("amount_off")
            if percent is not None or amount_off is not None:
                row.discounts.append(
                    Discount(
                        level="sub",
                        order=-1,
                        percent=None if percent is None else exact(percent),
                        amount_off=None if amount_off is None else exact(amount_off),
                        duration=raw["discount_duration"],
                        months=raw.get("duration_in_months"),
                        start=instant(raw.get("discount_start")),
                        end=instant(raw.get("discount_end")),
                    )
                )
        return row

    def _runs(self) -> None:
        """A row discount without a start begins with the first of the contiguous rows of its
        subscription carrying the same discount (rows of a subscription taken in start order, each
        ending at the instant the next starts); without subscription ids, with the row."""

        def terms(row: Row) -> tuple[Any, ...] | None:
            own = [d for d in row.discounts if d.order == -1]
            if not own:
                return None
            d = own[0]
            return (d.percent, d.amount_off, d.duration, d.months, d.start, d.end)

        by_sub: dict[tuple[str, Any], list[Row]] = {}
        for row in self.rows:
            by_sub.setdefault(row.sub, []).append(row)
        for sub, rows in by_sub.items():
            rows.sort(key=lambda r: (r.start, r.index))
            for before, row in zip([None, *rows], rows, strict=False):
                own = [d for d in row.discounts if d.order == -1]
                if not own:
                    continue
                run = row.start
                if (
                    sub[0] == "s"
                    and before is not None
                    and before.end == row.start
                    and terms(before) == terms(row)
                ):
                    run = before.discounts[0].run_start or before.start
                own[0].run_start = run

    def _table(self, table: Sequence[Mapping[str, Any]]) -> None:
        for order, raw in enumerate(table):
            discount = Discount(
                level="sub",
                order=order,
                percent=None if raw.get("percent_off") is None else exact(raw["percent_off"]),
                amount_off=None if raw.get("amount_off") is None else exact(raw["amount_off"]),
                duration=raw["duration"],
                months=raw.get("duration_in_months"),
                start=instant(raw.get("start")),
                end=instant(raw.get("end")),
            )
            if raw.get("subscription_id") is not None:
                key = ("s", raw["subscription_id"])
                matched = [row for row in self.rows if row.sub == key]
                assert matched, raw
                for row in matched:
                    row.discounts.append(discount)
            else:
                discount.level = "customer"
                self.customer_discounts.setdefault(raw["customer_id"], []).append(discount)

    def _spells(self) -> None:
        """The start of each past-due row's spell: consecutive past_due rows of a subscription
        (one ending at the instant the next starts) form one spell."""
        for row in self.rows:
            if row.status != "past_due":
                continue
            first = row
            while first.sub[0] == "s":
                before = [
                    r
                    for r in self.rows
                    if r.sub == first.sub and r.status == "past_due" and r.end == first.start
                ]
                if not before:
                    break
                first = before[0]
            row.spell_start = first.start

    # -- one row at one instant ----------------------------------------------------------------

    def gives_activity(self, row: Row) -> bool:
        if row.status == "trialing":
            return self.trials == "include"
        if row.status in ("unpaid", "incomplete", "incomplete_expired"):
            return False
        if row.status == "paused":
            return self.paused_policy != "churn"
        return True

    def stop(self, row: Row, *, cancel_cut: bool = True) -> dt.datetime | None:
        """The instant the row stops giving activity (None: not before the data's end).
        ``cancel_cut=False`` ignores the cut ``churn_at="cancel"`` makes at ``canceled_at``."""
        return self.stop_and_cut(row, cancel_cut=cancel_cut)[0]

    def stop_and_cut(self, row: Row, *, cancel_cut: bool = True) -> tuple[dt.datetime | None, bool]:
        """:meth:`stop`, and whether a delinquency cut (past due longer than delinquency_days)
        made it."""
        stop = row.end
        if cancel_cut and self.churn_at == "cancel" and row.canceled_at is not None:
            stop = row.canceled_at if stop is None else min(stop, row.canceled_at)
        cut = self.delinquency_cut(row)
        if cut is not None and (stop is None or cut < stop):
            return max(row.start, cut), True
        return stop, False

    def delinquency_cut(self, row: Row) -> dt.datetime | None:
        if self.past_due == "churn_after" and row.status == "past_due":
            assert row.spell_start is not None
            return row.spell_start + self.delinquency
        return None

    def live(self, row: Row, t: dt.datetime, *, cancel_cut: bool = True) -> bool:
        if not self.gives_activity(row) or row.start > t:
            return False
        stop = self.stop(row, cancel_cut=cancel_cut)
        return stop is None or t < stop

    def units(self, value: Fraction, row: Row) -> int:
        return round(value * interval_factor(row.interval, row.count) * row.rate * self.scale)

    def window(self, discount: Discount, row: Row) -> tuple[dt.datetime, dt.datetime | None]:
        if discount.level == "customer":
            default = self.customer_first[row.customer]
        elif discount.order == -1:
            assert discount.run_start is not None
            default = discount.run_start
        else:
            default = self.sub_first[row.sub]
        start = discount.start if discount.start is not None else default
        if discount.duration == "forever":
            end: dt.datetime | None = None
        elif discount.duration == "repeating":
            assert discount.months is not None
            end = add_months(start, int(discount.months))
        else:
            assert discount.duration == "once", discount.duration
            anchor = self.sub_first[row.sub]
            k = 0
            while self._billing_start(anchor, row, k) < start:
                k += 1
            start = self._billing_start(anchor, row, k)
            end = self._billing_start(anchor, row, k + 1)
        if discount.end is not None:
            end = discount.end if end is None else min(end, discount.end)
        return start, end

    @staticmethod
    def _billing_start(anchor: dt.datetime, row: Row, k: int) -> dt.datetime:
        if row.interval in MONTHS_PER_STEP:
            return add_months(anchor, k * MONTHS_PER_STEP[row.interval] * row.count)
        days = 7 if row.interval == "week" else 1
        return anchor + dt.timedelta(days=k * days * row.count)

    def active_discounts(
        self, discounts: Sequence[Discount], row: Row, t: dt.datetime, basis: str
    ) -> list[Discount]:
        if basis == "contract":
            return []
        chosen = []
        for discount in discounts:
            if basis == "forever_only" and discount.duration != "forever":
                continue
            start, end = self.window(discount, row)
            if start <= t and (end is None or t < end):
                chosen.append((start, discount.order, discount))
        chosen.sort(key=lambda item: (item[0], item[1]))
        return [item[2] for item in chosen]

    def percent_steps(self, value: int, discounts: Sequence[Discount]) -> int:
        percents = [d.percent for d in discounts if d.percent is not None]
        if self.stacking == "sum":
            percents = [min(Fraction(100), sum(percents, Fraction(0)))] if percents else []
        for percent in percents:
            value = round(value * (100 - percent) / 100)
        return value

    def row_value(self, row: Row, t: dt.datetime, basis: str) -> int:
        """A live row's monthly value in units after its subscription-level discounts."""
        if row.status == "paused" and self.paused_policy == "zero":
            return 0
        value = self.units(row.amount * row.quantity, row)
        discounts = self.active_discounts(row.discounts, row, t, basis)
        value = self.percent_steps(value, discounts)
        for discount in discounts:
            if discount.amount_off is not None:
                value = max(0, value - self.units(discount.amount_off, row))
        return value

    # -- one customer at one instant -----------------------------------------------------------

    def state(
        self,
        customer: Any,
        t: dt.datetime,
        basis: str,
        *,
        uncut: tuple[str, Any] | None = None,
    ) -> tuple[State, int]:
        """The customer's state at ``t`` and the number of subscription shares that are not whole
        units (the slack of committed and cancellation MRR). The rows of subscription ``uncut``
        are valued as if their cancellation did not cut them (the MRR a request puts at risk)."""
        state = State()
        values: dict[tuple[str, Any], int] = {}
        rows_of: dict[tuple[str, Any], Row] = {}
        canceled: dict[tuple[str, Any], dt.datetime | None] = {}
        customer_discounts = self.customer_discounts.get(customer, [])
        cust_amount = Fraction(0)
        for row in self.rows:
            if row.customer != customer:
                continue
            if row.canceled_at is not None:
                before = canceled.get(row.sub)
                canceled[row.sub] = (
                    row.canceled_at if before is None else min(before, row.canceled_at)
                )
            if not self.live(row, t, cancel_cut=row.sub != uncut):
                continue
            state.live = True
            if row.status == "paused" and self.paused_policy == "zero":
                state.paused_row = True
            value = self.row_value(row, t, basis)
            chosen = self.active_discounts(customer_discounts, row, t, basis)
            if row.status == "paused" and self.paused_policy == "zero":
                chosen = []
            value = self.percent_steps(value, chosen)
            values[row.sub] = values.get(row.sub, 0) + value
            rows_of[row.sub] = row
        # Customer-level amount-offs (monthly), on the customer's total.
        if values and customer_discounts:
            any_row = next(iter(rows_of.values()))
            for discount in self.active_discounts(customer_discounts, any_row, t, basis):
                if discount.amount_off is not None:
                    cust_amount += round(discount.amount_off * self.scale)
        total = sum(values.values())
        taken = min(Fraction(total), cust_amount)
        state.mrr = int(total - taken)
        slack = 0
        for key, value in values.items():
            share = Fraction(value) - (taken * value / total if total else 0)
            if share.denominator != 1:
                slack += 1
            state.subs[key] = SubValue(share, canceled.get(key))
        return state, slack

    def reason_at(self, customer: Any, t0: dt.datetime | None, t: dt.datetime) -> str | None:
        """The churn reason of a customer churning in ``(t0, t]``: that of the row stopping last
        in the window (None: ambiguous; unknown when no row stops there, as when a discount
        takes the MRR to 0)."""
        best: dt.datetime | None = None
        reasons: set[str] = set()
        for row in self.rows:
            if row.customer != customer or not self.gives_activity(row):
                continue
            stop, by_cut = self.stop_and_cut(row)
            if stop is None or stop <= row.start or stop > t or (t0 is not None and stop <= t0):
                continue
            reason = "involuntary" if by_cut else row.reason
            if best is None or stop > best:
                best, reasons = stop, {reason}
            elif stop == best:
                reasons.add(reason)
        if best is None:
            return "unknown"
        return reasons.pop() if len(reasons) == 1 else None

    # -- the panel -----------------------------------------------------------------------------

    def periods(self) -> list[dt.date]:
        starts = [r.start for r in self.rows if self.gives_activity(r) and r.start <= self.as_of]
        if not starts:
            return []
        first = min(starts)
        out = []
        year, month = first.year, first.month
        while (year, month) <= (self.as_of.year, self.as_of.month):
            out.append(dt.date(year, month, 1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def snapshot(self, periods: list[dt.date], i: int) -> dt.datetime:
        if i + 1 < len(periods):
            return instant(periods[i + 1]) - ONE_MICRO  # type: ignore[operator]
        return self.as_of

    def run(self) -> Result:
        periods = self.periods()
        has = self.columns.__contains__
        with_status = has("status")
        with_cancel = has("canceled_at")
        with_reasons = has("churn_reason") or self.past_due == "churn_after"
        bridge, movements, mrr_rows, churn = [], [], [], []
        previous = {c: State() for c in self.customers}
        paid_before = dict.fromkeys(self.customers, False)
        active_before = dict.fromkeys(self.customers, False)
        requests = self._requests(periods)
        for i, period in enumerate(periods):
            t = self.snapshot(periods, i)
            t_before = self.snapshot(periods, i - 1) if i > 0 else None
            line: dict[str, Any] = {
                "period": period,
                "complete": i + 1 < len(periods),
                "starting_mrr": 0,
                "new": 0,
                "expansion": 0,
                "contraction": 0,
                "churned": 0,
                "reactivation": 0,
                "ending_mrr": 0,
                "starting_customers": 0,
                "new_customers": 0,
                "expansion_customers": 0,
                "contraction_customers": 0,
                "churned_customers": 0,
                "reactivated_customers": 0,
                "ending_customers": 0,
                "active_customers": 0,
            }
            logo = {"customers_start": 0, "customers_end": 0, "churned": 0, "new": 0}
            logo["reactivated"] = 0
            splits = {"voluntary": 0, "involuntary": 0, "unknown": 0}
            split_customers = dict.fromkeys(splits, 0)
            logo_split = dict.fromkeys(splits, 0)
            ambiguous = False
            paused_count = 0
            committed = Fraction(0)
            slack = 0
            net_total = contract_total = 0
            for customer in self.customers:
                before = previous[customer]
                now, shares_slack = self.state(customer, t, self.basis)
                was_active = self._active(before)
                is_active = self._active(now)
                # money movement (snapshot)
                m0, m1 = before.mrr, now.mrr
                kind = None
                if m0 == 0 and m1 > 0:
                    # New the first time it pays (after a trial, even one followed by a pause);
                    # a resume from a pause is an expansion, never a reactivation.
                    if not paid_before[customer]:
                        kind = "new"
                    else:
                        kind = "expansion" if before.paused else "reactivation"
                elif m0 > 0 and m1 == 0:
                    kind = "contraction" if now.paused else "churned"
                elif (
                    m0 == 0
                    and m1 == 0
                    and before.paused
                    and not now.paused
                    and paid_before[customer]
                ):
                    # A pause that ends without a resume: the held customer leaves (a churn of 0).
                    kind = "churned"
                elif m1 > m0:
                    kind = "expansion"
                elif m1 < m0:
                    kind = "contraction"
                line["starting_mrr"] += m0
                line["ending_mrr"] += m1
                line["starting_customers"] += m0 > 0
                line["ending_customers"] += m1 > 0
                line["active_customers"] += is_active
                paused_count += now.paused
                if kind is not None:
                    amount = abs(m1 - m0)
                    line[kind] += amount
                    counter = {
                        "new": "new_customers",
                        "expansion": "expansion_customers",
                        "contraction": "contraction_customers",
                        "churned": "churned_customers",
                        "reactivation": "reactivated_customers",
                    }[kind]
                    line[counter] += 1
                    move = {
                        "customer_id": customer,
                        "period": period,
                        "movement": kind,
                        "previous_mrr": m0,
                        "mrr": m1,
                        "amount": amount,
                        "churn_reason": None,
                    }
                    if kind == "churned":
                        reason = self.reason_at(customer, t_before, t)
                        if reason is None:
                            ambiguous = True
                            move["churn_reason"] = "?"
                        else:
                            splits[reason] += amount
                            split_customers[reason] += 1
                            move["churn_reason"] = reason
                    movements.append(move)
                # logo panel
                logo["customers_start"] += was_active
                logo["customers_end"] += is_active
                if was_active and not is_active:
                    logo["churned"] += 1
                    reason = self.reason_at(customer, t_before, t)
                    if reason is None:
                        ambiguous = True
                    else:
                        logo_split[reason] += 1
                if is_active and not was_active:
                    logo["reactivated" if active_before[customer] else "new"] += 1
                # committed MRR: without the subscriptions canceled but still running
                committed += now.mrr
                for sub in now.subs.values():
                    if sub.canceled_by is not None and sub.canceled_by <= t:
                        committed -= sub.value
                slack += shares_slack
                if self.with_contract:
                    net = self.state(customer, t, "net")[0].mrr
                    contract = self.state(customer, t, "contract")[0].mrr
                    net_total += net
                    contract_total += contract
                if is_active:
                    out: dict[str, Any] = {"customer_id": customer, "period": period, "mrr": m1}
                    if with_status:
                        out["paused"] = now.paused
                    if self.with_contract:
                        out["net_mrr"] = net
                        out["contract_mrr"] = contract
                    mrr_rows.append(out)
                paid_before[customer] = paid_before[customer] or m1 > 0
                active_before[customer] = active_before[customer] or is_active
                previous[customer] = now
            if with_status:
                line["paused_customers"] = paused_count
                logo["paused_customers"] = paused_count
            if with_cancel:
                count, at_risk, risk_slack = requests.get(period, (0, Fraction(0), 0))
                line["cancellations"] = count
                line["cancellation_mrr"] = at_risk
                line["committed_mrr"] = committed
                line["cancellation_slack"] = risk_slack
                line["committed_slack"] = slack
                logo["cancellations"] = count
            if with_reasons:
                for reason in splits:
                    line[f"churned_{reason}"] = splits[reason]
                    line[f"churned_{reason}_customers"] = split_customers[reason]
                    logo[f"churned_{reason}"] = logo_split[reason]
                line["split_ambiguous"] = ambiguous
                logo["split_ambiguous"] = ambiguous
            if self.with_contract:
                line["net_mrr"] = net_total
                line["contract_mrr"] = contract_total
            bridge.append(line)
            churn.append({"period": period, "complete": line["complete"], **logo})
        # The core's order: by customer, then period.
        movements.sort(key=lambda m: (m["customer_id"], m["period"]))
        mrr_rows.sort(key=lambda m: (m["customer_id"], m["period"]))
        return Result(periods, bridge, movements, mrr_rows, churn)

    def _active(self, state: State) -> bool:
        return state.mrr > 0 or state.paused or (self.free_is_active and state.live)

    def _requests(self, periods: list[dt.date]) -> dict[dt.date, tuple[int, Fraction, int]]:
        """Cancellation requests per period: count, the MRR they put at risk (the subscription's
        MRR at the request instant, before any cut the request itself makes) and its slack.

        One request per subscription and instant. Of the subscription's rows carrying it, the one
        holding the instant speaks for it, else the first starting after it, else the last to
        end; the request counts only when that row carries MRR or a pause at some time (an
        excluded trial, an unpaid row or a row already cut off made no customer to lose)."""
        carrying: dict[tuple[tuple[str, Any], dt.datetime], list[Row]] = {}
        for row in self.rows:
            if row.canceled_at is not None and row.canceled_at <= self.as_of:
                carrying.setdefault((row.sub, row.canceled_at), []).append(row)
        out: dict[dt.date, tuple[int, Fraction, int]] = {}
        far = dt.datetime.max
        for (sub_key, at), rows in carrying.items():
            holding = [r for r in rows if r.start <= at < (r.end or far)]
            after = sorted((r for r in rows if r.start > at), key=lambda r: (r.start, r.index))
            if holding:
                row = holding[0]
            elif after:
                row = after[0]
            else:
                row = max(rows, key=lambda r: (r.end or far, r.index))
            stop = self.stop(row)
            if not self.gives_activity(row) or (stop is not None and stop <= row.start):
                continue
            period = dt.date(at.year, at.month, 1)
            if not periods or period < periods[0]:
                continue
            # A request that ends its row (churn_at="cancel") puts at risk what the row carried
            # just before it; any other, what the subscription carries at the request.
            uncut_stop = self.stop(row, cancel_cut=False)
            cuts_itself = self.churn_at == "cancel" and (uncut_stop is None or at < uncut_stop)
            when = at - ONE_MICRO if cuts_itself and at > row.start else at
            state, _ = self.state(row.customer, when, self.basis, uncut=sub_key)
            sub = state.subs.get(sub_key)
            value = sub.value if sub is not None else Fraction(0)
            count, total, slack = out.get(period, (0, Fraction(0), 0))
            out[period] = (count + 1, total + value, slack + (value.denominator != 1))
        return out


def reference(rows: Sequence[Mapping[str, Any]], **options: Any) -> Result:
    """The brute-force panel of ``rows`` (see :class:`Reference` for the options)."""
    return Reference(rows, **options).run()
