//! MRR from invoice lines: hand-computed bridges, and lines billed from monthly subscriptions
//! giving the subscriptions' own bridge (a property test).

// A failing unwrap here is a failing test, not a user-facing error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{dates, i, micros, Date};
use csmetrics::revenue::{
    mrr_bridge, InvoiceColumns, Money, Prorations, RevenueInput, RevenueOptions,
};
use csmetrics::CsError;
use polars::prelude::*;
use proptest::prelude::*;

/// An invoice line: customer, kind, amount, period start, period end.
type Line = (&'static str, &'static str, f64, Date, Date);

fn lines(rows: &[Line]) -> DataFrame {
    DataFrame::new(
        rows.len(),
        vec![
            Column::new(
                "customer_id".into(),
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
            Column::new("kind".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
            Column::new(
                "amount".into(),
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            ),
            dates(
                "period_start",
                &rows.iter().map(|r| Some(r.3)).collect::<Vec<_>>(),
            ),
            dates(
                "period_end",
                &rows.iter().map(|r| Some(r.4)).collect::<Vec<_>>(),
            ),
        ],
    )
    .unwrap()
}

fn invoices(as_of: Date, prorations: Prorations) -> RevenueOptions {
    RevenueOptions {
        input: RevenueInput::Invoices(InvoiceColumns {
            prorations,
            ..Default::default()
        }),
        as_of: Some(micros(as_of)),
        money: Money::Units,
        ..Default::default()
    }
}

fn column(frame: &DataFrame, name: &str) -> Vec<i64> {
    (0..frame.height()).map(|r| i(frame, name, r)).collect()
}

#[test]
fn a_yearly_line_a_downgrade_credit_and_a_one_time_charge() {
    let rows: [Line; 5] = [
        // 1200 for the year: 100 a month.
        ("a", "subscription", 1200.0, (2024, 1, 1), (2025, 1, 1)),
        // 60 a month, then a downgrade to 30 on 2024-03-11 (21 of March's 31 days left):
        // a credit of -60 * 21/31 and a charge of 30 * 21/31, written to the cent.
        ("b", "subscription", 60.0, (2024, 3, 1), (2024, 4, 1)),
        ("b", "proration", -40.65, (2024, 3, 11), (2024, 4, 1)),
        ("b", "proration", 20.32, (2024, 3, 11), (2024, 4, 1)),
        ("b", "one_time", 99.0, (2024, 3, 20), (2024, 3, 20)),
    ];
    let spread = mrr_bridge(&lines(&rows), &invoices((2024, 3, 31), Prorations::Spread)).unwrap();
    // Each proration scaled by 31/21 and rounded to 10^-6: -60.007143 and 29.996190.
    let b_march = 60_000_000 - 60_007_143 + 29_996_190;
    // January, February, March: b is new at its end-of-March value.
    assert_eq!(column(&spread, "new"), [100_000_000, 0, b_march]);
    assert_eq!(
        column(&spread, "ending_mrr"),
        [100_000_000, 100_000_000, 100_000_000 + b_march]
    );
    assert_eq!(column(&spread, "non_recurring"), [0, 0, 99_000_000]);
    assert_eq!(column(&spread, "usage"), [0, 0, 0]);
    let excluded =
        mrr_bridge(&lines(&rows), &invoices((2024, 3, 31), Prorations::Exclude)).unwrap();
    assert_eq!(
        column(&excluded, "ending_mrr"),
        [100_000_000, 100_000_000, 160_000_000]
    );
}

#[test]
fn a_credit_standing_alone_is_an_error_naming_its_row() {
    let rows: [Line; 2] = [
        ("a", "subscription", 10.0, (2024, 1, 1), (2024, 2, 1)),
        ("a", "proration", -5.0, (2024, 2, 10), (2024, 3, 1)),
    ];
    let err = mrr_bridge(&lines(&rows), &invoices((2024, 3, 31), Prorations::Spread)).unwrap_err();
    match err {
        CsError::InvalidValue { column, row, .. } => {
            assert_eq!((column.as_str(), row), ("amount", 1))
        }
        other => panic!("unexpected error {other:?}"),
    }
}

/// `months` calendar months after `d`, on its day of the month clamped to the month's length,
/// as billing dates are.
fn add_months(d: Date, months: u32) -> Date {
    let m = d.1 - 1 + months;
    let (y, m) = (d.0 + i64::from(m / 12), m % 12 + 1);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let length = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    (y, m, d.2.min(length[m as usize - 1]))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Monthly subscriptions (any start day, the 29th to the 31st clamped to short months,
    /// ending after whole months or running) and one line per month they bill give the same
    /// bridge.
    #[test]
    fn lines_billed_monthly_give_the_subscriptions_bridge(
        subs in prop::collection::vec((0usize..6, 0u32..18, 1u32..32, 0u32..8, 0u32..5), 1..12)
    ) {
        const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "f"];
        let as_of: Date = (2025, 6, 30);
        let mut customer = Vec::new();
        let mut start = Vec::new();
        let mut end = Vec::new();
        let mut amount = Vec::new();
        let mut line_rows: Vec<Line> = Vec::new();
        for (c, month, dom, months, price) in subs {
            let first = add_months((2024, 1, dom), month);
            let last = (months > 0).then(|| add_months(first, months));
            let value = [0.0, 9.0, 19.5, 49.0, 120.25][price as usize];
            customer.push(NAMES[c]);
            start.push(Some(first));
            end.push(last);
            amount.push(value);
            let mut k = 0;
            loop {
                let a = add_months(first, k);
                if last.is_some_and(|z| a >= z) || micros(a) > micros(as_of) {
                    break;
                }
                line_rows.push((NAMES[c], "subscription", value, a, add_months(first, k + 1)));
                k += 1;
            }
        }
        let n = customer.len();
        let table = DataFrame::new(n, vec![
            Column::new("customer_id".into(), customer),
            dates("start", &start),
            dates("end", &end),
            Column::new("amount".into(), amount),
            Column::new("interval".into(), vec!["month"; n]),
        ]).unwrap();
        let from_subs = mrr_bridge(&table, &RevenueOptions {
            as_of: Some(micros(as_of)),
            money: Money::Units,
            ..Default::default()
        }).unwrap();
        let from_lines = if line_rows.is_empty() {
            None
        } else {
            Some(mrr_bridge(&lines(&line_rows), &invoices(as_of, Prorations::Spread)).unwrap())
        };
        if let Some(from_lines) = from_lines {
            let from_lines = from_lines.drop_many(["non_recurring", "usage"]);
            prop_assert!(from_lines.equals(&from_subs), "{from_lines}\n{from_subs}");
        }
    }
}
