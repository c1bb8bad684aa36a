//! Small exports with answers worked by hand.

use std::path::PathBuf;

use polars::prelude::*;

use super::json::{float_repr, str_repr, Json};
use super::node::Money;
use super::read_stripe;
use crate::error::CsError;

/// A file holding `text` in a folder of its own.
fn file(name: &str, text: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!(
        "csmetrics-stripe-{}-{name}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const JAN_1: i64 = 1_704_067_200;
const JAN_15: i64 = JAN_1 + 14 * 86_400;
const FEB_1: i64 = 1_706_745_600;

fn subscription(id: &str, price: &str, extra: &str) -> String {
    format!(
        r#"{{"id": "{id}", "customer": "cus_{id}", "status": "active", "start_date": {JAN_1},
            "created": {JAN_1}, "current_period_start": {FEB_1},
            "items": {{"data": [{{"quantity": 2, "price": {price}}}]}}{extra}}}"#
    )
}

fn amounts(frame: &DataFrame, column: &str) -> (usize, Vec<Option<i128>>) {
    let decimal = frame.column(column).unwrap().decimal().unwrap();
    let scale = decimal.scale();
    (scale, decimal.physical().iter().collect())
}

fn strings(frame: &DataFrame, column: &str) -> Vec<Option<String>> {
    let column = frame.column(column).unwrap().str().unwrap();
    column.iter().map(|s| s.map(str::to_string)).collect()
}

fn micros(frame: &DataFrame, column: &str) -> Vec<Option<i64>> {
    let column = frame.column(column).unwrap().datetime().unwrap();
    column.physical().iter().collect()
}

#[test]
fn a_zero_decimal_yen_amount_is_whole_yen() {
    let price = r#"{"id": "price_jp", "unit_amount": 1200, "currency": "jpy",
                    "recurring": {"interval": "month", "interval_count": 3}}"#;
    let path = file("jpy.jsonl", &subscription("sub_jp", price, ""));
    let tables = read_stripe(&[path], &[]).unwrap();
    // 1200 minor units of a zero-decimal currency are 1200 yen: 1200.000 at scale 3.
    assert_eq!(
        amounts(&tables.subscriptions, "amount"),
        (3, vec![Some(1_200_000)])
    );
    assert_eq!(
        strings(&tables.subscriptions, "currency"),
        vec![Some("JPY".into())]
    );
    let counts = tables.subscriptions.column("interval_count").unwrap();
    assert_eq!(counts.i64().unwrap().get(0), Some(3));
}

#[test]
fn a_three_decimal_dinar_amount_keeps_its_fils() {
    let price = r#"{"id": "price_kw", "unit_amount": 12345, "currency": "kwd",
                    "recurring": {"interval": "year"}}"#;
    let path = file("kwd.jsonl", &subscription("sub_kw", price, ""));
    let tables = read_stripe(&[path], &[]).unwrap();
    // 12345 fils are 12.345 dinars.
    assert_eq!(
        amounts(&tables.subscriptions, "amount"),
        (3, vec![Some(12_345)])
    );
}

#[test]
fn a_unit_amount_decimal_widens_the_scale() {
    let price = r#"{"id": "price_fine", "unit_amount_decimal": "12.3456", "currency": "usd",
                    "recurring": {"interval": "month"}}"#;
    let path = file("fine.jsonl", &subscription("sub_fine", price, ""));
    let tables = read_stripe(&[path], &[]).unwrap();
    // 12.3456 cents are 0.123456 dollars: the column takes scale 6.
    assert_eq!(
        amounts(&tables.subscriptions, "amount"),
        (6, vec![Some(123_456)])
    );
}

#[test]
fn a_trial_then_an_active_spell() {
    let price = r#"{"id": "price_pro", "unit_amount": 2900, "currency": "eur",
                    "recurring": {"interval": "month"}}"#;
    let trial = format!(r#", "trial_start": {JAN_1}, "trial_end": {JAN_15}"#);
    let path = file("trial.jsonl", &subscription("sub_t", price, &trial));
    let tables = read_stripe(&[path], &[]).unwrap();
    let subs = &tables.subscriptions;
    assert_eq!(
        strings(subs, "status"),
        vec![Some("trialing".into()), Some("active".into())]
    );
    let (jan_1, jan_15) = (JAN_1 * 1_000_000, JAN_15 * 1_000_000);
    assert_eq!(micros(subs, "start"), vec![Some(jan_1), Some(jan_15)]);
    assert_eq!(micros(subs, "end"), vec![Some(jan_15), None]);
    assert_eq!(amounts(subs, "amount").1, vec![Some(29_000), Some(29_000)]);
    let dtype = subs.column("start").unwrap().dtype().clone();
    assert_eq!(
        dtype,
        DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
    );
}

#[test]
fn an_invoice_line_is_net_of_discounts_and_inclusive_tax() {
    let invoice = format!(
        r#"[{{"id": "in_1", "object": "invoice", "customer": "cus_1", "status": "paid",
             "lines": {{"data": [{{"id": "il_1", "type": "subscription", "amount": 10000,
               "currency": "usd", "quantity": 1, "subscription": "sub_1",
               "price": {{"id": "p", "recurring": {{"usage_type": "licensed"}}}},
               "period": {{"start": {JAN_1}, "end": {FEB_1}}},
               "discount_amounts": [{{"amount": 1000}}],
               "tax_amounts": [{{"amount": 500, "inclusive": true}},
                               {{"amount": 700, "inclusive": false}}]}}]}}}},
            {{"id": "cn_1", "object": "credit_note"}},
            {{"id": "in_2", "object": "invoice", "status": "void"}}]"#
    );
    let path = file("invoices.json", &invoice);
    let tables = read_stripe(&[], &[path]).unwrap();
    // 10000 - 1000 discount - 500 inclusive tax = 8500 cents (the exclusive 700 is not in it).
    assert_eq!(
        amounts(&tables.invoice_lines, "amount").1,
        vec![Some(85_000)]
    );
    assert_eq!(
        strings(&tables.invoice_lines, "kind"),
        vec![Some("subscription".into())]
    );
    assert_eq!(
        tables.skipped,
        vec![
            ("credit_note objects".into(), 1),
            ("void invoices".into(), 1)
        ]
    );
}

#[test]
fn a_missing_price_names_file_object_and_field() {
    let text = r#"{"id": "sub_1", "customer": "c", "status": "active", "start_date": 1,
                   "items": {"data": [{"quantity": 1}]}}"#;
    let path = file("noprice.jsonl", text);
    let name = path.to_string_lossy().into_owned();
    match read_stripe(&[path], &[]) {
        Err(CsError::StripeFormat {
            message,
            object_id,
            field,
            ..
        }) => {
            assert_eq!(
                message,
                format!("{name}: subscription sub_1 has no items.data[0].price")
            );
            assert_eq!(object_id.as_deref(), Some("sub_1"));
            assert_eq!(field.as_deref(), Some("items.data[0].price"));
        }
        other => panic!("expected a StripeFormat error, got {other:?}"),
    }
}

#[test]
fn a_wrong_type_is_shown_as_python_shows_it() {
    let text = r#"{"id": "sub_1", "customer": "c", "status": "active", "start_date": 1.0,
                   "items": {"data": [{"quantity": 1}]}}"#;
    let path = file("float.jsonl", text);
    let err = read_stripe(&[path], &[]).unwrap_err().to_string();
    assert!(
        err.ends_with("has start_date = 1.0, not a whole number"),
        "{err}"
    );
}

#[test]
fn json_lines_that_are_not_json_name_the_line() {
    let path = file("broken.jsonl", "{\"id\": \"sub_1\"}\n{\"id\": \n");
    let err = read_stripe(&[path], &[]).unwrap_err().to_string();
    assert!(
        err.contains("broken.jsonl: line 2 is neither JSON lines nor part of one JSON value"),
        "{err}"
    );
}

#[test]
fn values_read_as_python_shows_them() {
    assert_eq!(float_repr(1.0), "1.0");
    assert_eq!(float_repr(1e16), "1e+16");
    assert_eq!(float_repr(1e15), "1000000000000000.0");
    assert_eq!(float_repr(1.5e-5), "1.5e-05");
    assert_eq!(float_repr(0.0001), "0.0001");
    assert_eq!(float_repr(-0.0), "-0.0");
    assert_eq!(float_repr(123.456), "123.456");
    assert_eq!(str_repr("it's"), "\"it's\"");
    assert_eq!(str_repr("a\nb'\""), "'a\\nb\\'\"'");
    let value: Json<'_> =
        serde_json::from_str(r#"{"a": [1, true, null], "b": {"c": "d"}}"#).unwrap();
    assert_eq!(value.repr(), "{'a': [1, True, None], 'b': {'c': 'd'}}");
}

#[test]
fn shifted_decimals_round_to_28_digits_as_python_does() {
    // Decimal('1234567890123456789012345678.9').scaleb(-2) == 12345678901234567890123456.79
    let amount = Money::from_decimal_text("1234567890123456789012345678.9", "usd").unwrap();
    assert_eq!(
        (amount.coefficient, amount.exponent),
        (1_234_567_890_123_456_789_012_345_679, -2)
    );
    let amount = Money::from_decimal_text(" 1_000.50 ", "jpy").unwrap();
    assert_eq!((amount.coefficient, amount.exponent), (100_050, -2));
    assert!(Money::from_decimal_text("NaN", "usd").is_none());
    assert!(Money::from_decimal_text("1e", "usd").is_none());
}
