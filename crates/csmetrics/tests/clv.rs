//! CLV reference tests: the RFM summary of the CDNOW sample against the published summary, the
//! published maximum-likelihood fits and pointwise values (their sources and tolerances:
//! python/csmetrics/data/NOTICE),
//! gradients against finite differences, determinism, recovery of simulated parameters and
//! bad input.

#![allow(clippy::unwrap_used)]

mod common;

use common::{floats, Rng};
use csmetrics::clv::{
    customer_value, fit, predict, rfm_summary, AfterEnd, ClvOptions, Discounting, Fit, FitOptions,
    Model, Params, PeriodUnit, Prediction, RfmOptions, SummaryColumns,
};
use csmetrics::period::{days_from_civil, micros_from_civil, MICROS_PER_DAY};
use csmetrics::CsError;
use polars::prelude::*;

fn data_path(name: &str) -> String {
    format!(
        "{}/../../python/csmetrics/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn read_csv(name: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(data_path(name)).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split(',')
                .map(|v| v.trim().parse::<f64>().unwrap())
                .collect()
        })
        .collect();
    (header, rows)
}

fn csv_frame(name: &str, names: &[&str]) -> DataFrame {
    let (_, rows) = read_csv(name);
    let columns = names
        .iter()
        .enumerate()
        .map(|(j, n)| Column::new((*n).into(), rows.iter().map(|r| r[j]).collect::<Vec<f64>>()))
        .collect();
    DataFrame::new(rows.len(), columns).unwrap()
}

/// The CDNOW sample as a transaction log: customer_id (sample id), timestamp (Date), amount.
fn cdnow_transactions() -> DataFrame {
    let text = std::fs::read_to_string(data_path("CDNOW_sample.txt")).unwrap();
    let (mut ids, mut days, mut amounts) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        ids.push(f[1].parse::<i64>().unwrap());
        let d: i64 = f[2].parse().unwrap();
        days.push(days_from_civil(d / 10000, (d / 100 % 100) as u32, (d % 100) as u32) as i32);
        amounts.push(f[4].parse::<f64>().unwrap());
    }
    let date = Column::new("timestamp".into(), days)
        .cast(&DataType::Date)
        .unwrap();
    DataFrame::new(
        ids.len(),
        vec![
            Column::new("customer_id".into(), ids),
            date,
            Column::new("amount".into(), amounts),
        ],
    )
    .unwrap()
}

fn cdnow_summary() -> DataFrame {
    let options = RfmOptions {
        time_unit: PeriodUnit::Week,
        observation_end: Some(micros_from_civil(1997, 9, 30)),
        after_end: AfterEnd::Drop,
        ..RfmOptions::default()
    };
    rfm_summary(&cdnow_transactions(), &options).unwrap()
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (v * scale).round() / scale
}

/// Every parameter rounds to the published value at its number of decimals.
fn assert_rounds_to(fit: &Fit, published: &[(f64, i32)]) {
    for (i, (value, decimals)) in published.iter().enumerate() {
        assert_eq!(
            round_to(fit.params.values()[i], *decimals),
            *value,
            "{} parameter {i}: {:?}",
            fit.model,
            fit.params
        );
    }
}

#[test]
fn rfm_summary_reproduces_the_published_cdnow_summary() {
    let summary = cdnow_summary();
    let (_, rows) = read_csv("cdnow_customers_summary_with_transactions.csv");
    assert_eq!(summary.height(), rows.len());
    let ids = floats(&summary, "customer_id");
    let x = floats(&summary, "frequency");
    let tx = floats(&summary, "recency");
    let t = floats(&summary, "T");
    let m = floats(&summary, "monetary_value");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(ids[i], Some(row[0]));
        assert_eq!(x[i], Some(row[1]), "frequency of customer {}", row[0]);
        assert!(
            (round_to(tx[i].unwrap(), 2) - row[2]).abs() < 1e-9,
            "recency {}",
            row[0]
        );
        assert!(
            (round_to(t[i].unwrap(), 2) - row[3]).abs() < 1e-9,
            "T {}",
            row[0]
        );
        match m[i] {
            None => assert_eq!(row[1], 0.0),
            // Half-up to cents (values are whole cents apart from the division).
            Some(v) => assert!(
                ((v * 100.0 + 0.5 + 1e-9).floor() / 100.0 - row[4]).abs() < 1e-9,
                "zbar {}",
                row[0]
            ),
        }
    }
}

#[test]
fn rfm_summary_calibration_holdout_split() {
    let options = RfmOptions {
        time_unit: PeriodUnit::Week,
        calibration_end: Some(micros_from_civil(1997, 9, 30)),
        observation_end: Some(micros_from_civil(1998, 6, 30)),
        ..RfmOptions::default()
    };
    let split = rfm_summary(&cdnow_transactions(), &options).unwrap();
    let plain = cdnow_summary();
    assert_eq!(floats(&split, "frequency"), floats(&plain, "frequency"));
    assert_eq!(floats(&split, "T"), floats(&plain, "T"));
    let duration = floats(&split, "duration_holdout");
    assert!((duration[0].unwrap() - 273.0 / 7.0).abs() < 1e-12);
    let holdout: f64 = floats(&split, "frequency_holdout")
        .iter()
        .map(|v| v.unwrap())
        .sum();
    assert!(holdout > 0.0);
}

fn fit_cdnow(model: Model) -> Fit {
    fit(&cdnow_summary(), model, &FitOptions::default()).unwrap()
}

#[test]
fn bg_nbd_published_fit_and_pointwise_values() {
    let model = fit_cdnow(Model::BetaGeo);
    assert_rounds_to(&model, &[(0.243, 3), (4.414, 3), (0.793, 3), (2.426, 3)]);
    assert!(
        (model.log_likelihood - -9582.4).abs() < 0.05,
        "{}",
        model.log_likelihood
    );
    assert!(model
        .std_errors
        .values()
        .iter()
        .all(|s| s.is_finite() && *s > 0.0));
    let one = df!("frequency" => [2.0], "recency" => [30.43], "T" => [38.86]).unwrap();
    let columns = SummaryColumns::default();
    let published = Fit::from_params(
        Params::from_values(Model::BetaGeo, &[0.243, 4.414, 0.793, 2.426]).unwrap(),
    )
    .unwrap();
    let alive = predict(&one, &published, Prediction::PAlive, &columns).unwrap();
    assert!((alive.f64().unwrap().get(0).unwrap() - 0.7266).abs() < 5e-5);
    let e = predict(
        &one,
        &published,
        Prediction::ExpectedPurchases(39.0),
        &columns,
    )
    .unwrap();
    assert!((e.f64().unwrap().get(0).unwrap() - 1.226).abs() < 5e-4);
}

#[test]
fn pareto_nbd_published_fit() {
    let model = fit_cdnow(Model::ParetoNbd);
    assert!(
        (model.log_likelihood - -9595.0).abs() < 0.05,
        "{}",
        model.log_likelihood
    );
    assert_rounds_to(&model, &[(0.553, 3), (10.578, 3), (0.606, 3)]);
    assert!(
        (model.params.values()[3] / 11.669 - 1.0).abs() < 1e-3,
        "{:?}",
        model.params
    );
}

/// Not a published estimate: the values the lifetimes test suite asserts (said there to be close
/// to BTYDplus), checked with lifetimes 0.11.3; see python/csmetrics/data/NOTICE.
#[test]
fn mbg_nbd_reference_fit() {
    let model = fit_cdnow(Model::ModifiedBetaGeo);
    assert_rounds_to(&model, &[(0.525, 3), (6.183, 3), (0.891, 3), (1.614, 3)]);
}

#[test]
fn gamma_gamma_published_fit() {
    let model = fit_cdnow(Model::GammaGamma);
    assert_eq!(model.customers, 946.0);
    assert_rounds_to(&model, &[(6.25, 2), (3.74, 2), (15.44, 2)]);
}

#[test]
fn fits_on_the_rounded_csv_agree_within_2e3() {
    let csv = csv_frame(
        "cdnow_customers_summary_with_transactions.csv",
        &["id", "frequency", "recency", "T", "monetary_value"],
    );
    let options = FitOptions::default();
    for (model, published) in [
        (Model::BetaGeo, vec![0.243, 4.414, 0.793, 2.426]),
        (Model::GammaGamma, vec![6.25, 3.74, 15.44]),
    ] {
        let f = fit(&csv, model, &options).unwrap();
        for (p, q) in f.params.values().iter().zip(&published) {
            assert!((p / q - 1.0).abs() < 2e-3, "{model}: {:?}", f.params);
        }
    }
}

#[test]
fn bg_bb_donations_published_fit() {
    let frame = csv_frame(
        "donations.csv",
        &["frequency", "recency", "periods", "weights"],
    );
    let options = FitOptions {
        columns: SummaryColumns {
            age: "periods".into(),
            weights: Some("weights".into()),
            ..SummaryColumns::default()
        },
        ..FitOptions::default()
    };
    let model = fit(&frame, Model::BetaGeoBetaBinom, &options).unwrap();
    assert_eq!(model.customers, 11104.0);
    assert_rounds_to(&model, &[(1.204, 3), (0.750, 3), (0.657, 3), (2.783, 3)]);
    assert!(
        (model.log_likelihood - -33225.6).abs() < 0.05,
        "{}",
        model.log_likelihood
    );
    let alive = predict(&frame, &model, Prediction::PAlive, &options.columns).unwrap();
    assert!(alive
        .f64()
        .unwrap()
        .iter()
        .all(|p| p.is_some_and(|p| (0.0..=1.0).contains(&p))));
}

#[test]
fn shifted_beta_geometric_published_fits() {
    let (_, rows) = read_csv("sbg_retention_2007.csv");
    for (col, published) in [(1, [(0.704, 3), (1.182, 3)]), (2, [(0.668, 3), (3.806, 3)])] {
        let alive: Vec<f64> = rows.iter().map(|r| r[col] * 10.0).collect();
        let frame = df!("alive" => alive).unwrap();
        let model = fit(&frame, Model::ShiftedBetaGeometric, &FitOptions::default()).unwrap();
        assert_rounds_to(&model, &published);
    }
}

#[test]
fn fits_are_deterministic() {
    let summary = cdnow_summary();
    for model in [Model::BetaGeo, Model::ParetoNbd] {
        let a = fit(&summary, model, &FitOptions::default()).unwrap();
        let b = fit(&summary, model, &FitOptions::default()).unwrap();
        assert_eq!(a, Fit { ..b.clone() });
        let bits = |f: &Fit| {
            let mut all: Vec<u64> = f.params.values().iter().map(|v| v.to_bits()).collect();
            all.extend(f.std_errors.values().iter().map(|v| v.to_bits()));
            all.push(f.log_likelihood.to_bits());
            all
        };
        assert_eq!(bits(&a), bits(&b), "{model}");
    }
}

/// One BG/NBD customer observed for `horizon`: (x, t_x).
fn bg_nbd_customer(
    rng: &mut Rng,
    (r, alpha, a, b): (f64, f64, f64, f64),
    horizon: f64,
) -> (f64, f64) {
    let lambda = rng.gamma(r) / alpha;
    let p = rng.beta(a, b);
    let (mut time, mut x, mut last) = (0.0, 0.0, 0.0);
    loop {
        time += -rng.uniform().ln() / lambda;
        if time > horizon {
            break;
        }
        x += 1.0;
        last = time;
        if rng.uniform() < p {
            break;
        }
    }
    (x, last)
}

#[test]
fn fits_recover_simulated_bg_nbd_parameters() {
    let (r, alpha, a, b) = (0.8, 6.0, 0.6, 2.5);
    let mut rng = Rng(42);
    let (mut xs, mut txs, mut ts) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..20_000 {
        let horizon = 52.0;
        let (x, last) = bg_nbd_customer(&mut rng, (r, alpha, a, b), horizon);
        xs.push(x);
        txs.push(last);
        ts.push(horizon);
    }
    let frame = df!("frequency" => xs, "recency" => txs, "T" => ts).unwrap();
    let model = fit(&frame, Model::BetaGeo, &FitOptions::default()).unwrap();
    for (estimate, (truth, se)) in model
        .params
        .values()
        .iter()
        .zip([r, alpha, a, b].iter().zip(model.std_errors.values()))
    {
        assert!(
            (estimate - truth).abs() < 4.0 * se,
            "{:?} vs truth, se {:?}",
            model.params,
            model.std_errors
        );
    }
}

#[test]
fn clv_discounting_monthly_and_continuous() {
    let summary = cdnow_summary();
    let bg = fit(&summary, Model::BetaGeo, &FitOptions::default()).unwrap();
    let gg = fit(&summary, Model::GammaGamma, &FitOptions::default()).unwrap();
    let columns = SummaryColumns::default();
    let monthly = ClvOptions {
        time_unit: PeriodUnit::Week,
        ..ClvOptions::default()
    };
    let continuous = ClvOptions {
        discounting: Discounting::Continuous,
        ..monthly
    };
    let undiscounted = ClvOptions {
        discount_rate: 0.0,
        ..monthly
    };
    let m = customer_value(&summary, &bg, &gg, &columns, &monthly).unwrap();
    let c = customer_value(&summary, &bg, &gg, &columns, &continuous).unwrap();
    let u = customer_value(&summary, &bg, &gg, &columns, &undiscounted).unwrap();
    let (m, c, u) = (m.f64().unwrap(), c.f64().unwrap(), u.f64().unwrap());
    // Without discounting, CLV = spend x expected purchases over 12 months.
    let e12 = predict(
        &summary,
        &bg,
        Prediction::ExpectedPurchases(365.0 / 7.0),
        &columns,
    )
    .unwrap();
    let spend = predict(&summary, &gg, Prediction::ExpectedSpend, &columns).unwrap();
    for i in 0..summary.height() {
        let (mi, ci, ui) = (m.get(i).unwrap(), c.get(i).unwrap(), u.get(i).unwrap());
        let expected = e12.f64().unwrap().get(i).unwrap() * spend.f64().unwrap().get(i).unwrap();
        assert!((ui - expected).abs() < 1e-9 * expected.max(1.0));
        // Purchases come earlier than month ends: continuous discounting loses less.
        assert!(mi > 0.0 && mi <= ci && ci <= ui, "{i}: {mi} {ci} {ui}");
    }
}

#[test]
fn bad_input_is_named() {
    let day = |d: i32| d;
    let base = |amounts: Vec<f64>, days: Vec<i32>| {
        let n = amounts.len();
        DataFrame::new(
            n,
            vec![
                Column::new(
                    "customer_id".into(),
                    (0..n as i64).map(|i| i % 2).collect::<Vec<_>>(),
                ),
                Column::new("timestamp".into(), days)
                    .cast(&DataType::Date)
                    .unwrap(),
                Column::new("amount".into(), amounts),
            ],
        )
        .unwrap()
    };
    let err = rfm_summary(
        &base(vec![1.0, -5.0, 2.0], vec![day(0), day(1), day(2)]),
        &RfmOptions::default(),
    )
    .unwrap_err();
    match err {
        CsError::InvalidValue {
            column, row, value, ..
        } => {
            assert_eq!((column.as_str(), row, value.as_str()), ("amount", 1, "-5"));
        }
        other => panic!("{other}"),
    }
    let err = rfm_summary(
        &base(vec![1.0, f64::NAN, 2.0], vec![0, 1, 2]),
        &RfmOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, CsError::InvalidValue { row: 1, .. }), "{err}");
    // observation_end is an instant in µs: any instant of 1970-01-02 observes that whole day.
    for end in [MICROS_PER_DAY, 2 * MICROS_PER_DAY - 1] {
        let late = RfmOptions {
            observation_end: Some(end),
            ..RfmOptions::default()
        };
        let err = rfm_summary(&base(vec![1.0, 1.0, 2.0], vec![0, 1, 2]), &late).unwrap_err();
        assert!(
            err.to_string().contains("row 2") && err.to_string().contains("observation_end"),
            "{err}"
        );
    }

    let tiny = df!("frequency" => [1.0, 0.0], "recency" => [2.0, 0.0], "T" => [5.0, 5.0]).unwrap();
    let err = fit(&tiny, Model::BetaGeo, &FitOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("needs at least 8 customers"),
        "{err}"
    );
    let bad = df!("frequency" => [1.0, 0.0], "recency" => [6.0, 0.0], "T" => [5.0, 5.0]).unwrap();
    let err = fit(&bad, Model::BetaGeo, &FitOptions::default()).unwrap_err();
    assert!(
        matches!(err, CsError::InvalidValue { ref column, row: 0, .. } if column == "recency"),
        "{err}"
    );
    let nan =
        df!("frequency" => [1.0, f64::NAN], "recency" => [2.0, 0.0], "T" => [5.0, 5.0]).unwrap();
    let err = fit(&nan, Model::BetaGeo, &FitOptions::default()).unwrap_err();
    assert!(
        matches!(err, CsError::InvalidValue { ref column, row: 1, .. } if column == "frequency"),
        "{err}"
    );
    // No repeat buyer: the drop-out process is not identified.
    let flat = df!("frequency" => [0.0; 10], "recency" => [0.0; 10], "T" => [5.0; 10]).unwrap();
    assert!(fit(&flat, Model::BetaGeo, &FitOptions::default()).is_err());
}

/// (x, t_x, T, mean repeat value, holdout x, purchases dropped) of one customer.
type Brute = (i64, f64, f64, Option<f64>, i64, u32);

/// The summary of one customer the slow way: distinct purchase days, split at `split`; None
/// when not a customer yet.
fn brute_summary(purchases: &[(i32, f64)], split: i32, end: i32) -> Option<Brute> {
    let dropped = purchases.iter().filter(|p| p.0 > end).count() as u32;
    let mut days: std::collections::BTreeMap<i32, f64> = Default::default();
    for &(d, a) in purchases.iter().filter(|p| p.0 <= end) {
        *days.entry(d).or_default() += a;
    }
    let (&first, _) = days.iter().next()?;
    if first > split {
        return None;
    }
    let calibration: Vec<(i32, f64)> = days
        .iter()
        .filter(|(d, _)| **d <= split)
        .map(|(d, a)| (*d, *a))
        .collect();
    let x = calibration.len() as i64 - 1;
    let last = calibration.last()?.0;
    let repeat: f64 = calibration[1..].iter().map(|p| p.1).sum();
    let holdout = days.keys().filter(|d| **d > split).count() as i64;
    Some((
        x,
        f64::from(last - first),
        f64::from(split - first),
        (x > 0).then(|| repeat / x as f64),
        holdout,
        dropped,
    ))
}

#[test]
fn rfm_summary_agrees_with_a_brute_force_summary_on_a_large_shuffled_log() {
    // More customers than one work range holds; ids shuffled and not in id order.
    let customers = 70_000u64;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let base = days_from_civil(2020, 1, 1) as i32;
    let (split, end) = (base + 300, base + 400);
    let mut log: Vec<(u64, i32, f64)> = Vec::new();
    for c in 0..customers {
        let first = base + next(450) as i32;
        for _ in 0..1 + next(6) {
            // Whole cents, so that sums do not depend on the order of additions.
            let amount = (1 + next(5000)) as f64 / 100.0;
            log.push((c * 13 + 5, first + next(60) as i32, amount));
        }
    }
    for i in (1..log.len()).rev() {
        let j = next(i as u64 + 1) as usize;
        log.swap(i, j);
    }
    let mut by_customer: std::collections::BTreeMap<u64, Vec<(i32, f64)>> = Default::default();
    for r in &log {
        by_customer.entry(r.0).or_default().push((r.1, r.2));
    }
    let expected: Vec<(u64, Brute)> = by_customer
        .iter()
        .filter_map(|(id, p)| brute_summary(p, split, end).map(|s| (*id, s)))
        .collect();
    let frame_of = |log: &[(u64, i32, f64)]| {
        DataFrame::new(
            log.len(),
            vec![
                Column::new(
                    "customer_id".into(),
                    log.iter().map(|r| r.0 as i64).collect::<Vec<_>>(),
                ),
                Column::new(
                    "timestamp".into(),
                    log.iter().map(|r| r.1).collect::<Vec<_>>(),
                )
                .cast(&DataType::Date)
                .unwrap(),
                Column::new("amount".into(), log.iter().map(|r| r.2).collect::<Vec<_>>()),
            ],
        )
        .unwrap()
    };
    let frame = frame_of(&log);
    let options = RfmOptions {
        observation_end: Some(i64::from(end) * MICROS_PER_DAY),
        calibration_end: Some(i64::from(split) * MICROS_PER_DAY),
        after_end: AfterEnd::Drop,
        ..RfmOptions::default()
    };
    // A log in time order (customers interleaved) takes the one-pass path; the shuffled one
    // the general path. Both must give the brute-force summary.
    let mut in_time_order = log.clone();
    in_time_order.sort_by_key(|r| r.1);
    let ordered = rfm_summary(&frame_of(&in_time_order), &options).unwrap();
    let summary = rfm_summary(&frame, &options).unwrap();
    for name in [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "frequency_holdout",
        "dropped_after_end",
    ] {
        assert_eq!(floats(&ordered, name), floats(&summary, name), "{name}");
    }
    let (a, b) = (
        floats(&ordered, "monetary_value"),
        floats(&summary, "monetary_value"),
    );
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.is_some(), b.is_some());
        assert!(a.zip(*b).is_none_or(|(a, b)| (a - b).abs() < 1e-9));
    }
    assert_eq!(summary.height(), expected.len());
    let ids = floats(&summary, "customer_id");
    let x = floats(&summary, "frequency");
    let recency = floats(&summary, "recency");
    let age = floats(&summary, "T");
    let value = floats(&summary, "monetary_value");
    let holdout = floats(&summary, "frequency_holdout");
    let dropped = floats(&summary, "dropped_after_end");
    for (i, (id, want)) in expected.iter().enumerate() {
        assert_eq!(ids[i], Some(*id as f64), "row {i}");
        assert_eq!(x[i], Some(want.0 as f64), "customer {id}");
        assert_eq!(recency[i], Some(want.1), "customer {id}");
        assert_eq!(age[i], Some(want.2), "customer {id}");
        match (value[i], want.3) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "customer {id}: {a} {b}"),
            (a, b) => assert_eq!(a, b, "customer {id}"),
        }
        assert_eq!(holdout[i], Some(want.4 as f64), "customer {id}");
        assert_eq!(dropped[i], Some(f64::from(want.5)), "customer {id}");
    }
    // Without a drop option, a purchase after the end is an error naming it.
    let strict = RfmOptions {
        after_end: AfterEnd::Raise,
        ..options.clone()
    };
    let message = rfm_summary(&frame, &strict).unwrap_err().to_string();
    assert!(message.contains("timestamp"), "{message}");
}

#[test]
fn fits_warm_started_from_a_subsample_agree_with_cold_fits() {
    // 150k customers with continuous times: more patterns than the warm start threshold.
    let (r, alpha, a, b) = (0.8, 6.0, 0.6, 2.5);
    let mut rng = Rng(7);
    let (mut xs, mut txs, mut ts, mut spend) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..150_000 {
        let horizon = 20.0 + 40.0 * rng.uniform();
        let (x, last) = bg_nbd_customer(&mut rng, (r, alpha, a, b), horizon);
        xs.push(x);
        txs.push(last);
        ts.push(horizon);
        spend.push(if x > 0.0 {
            5.0 + 50.0 * rng.uniform()
        } else {
            0.0
        });
    }
    let frame =
        df!("frequency" => xs, "recency" => txs, "T" => ts.clone(), "monetary_value" => spend)
            .unwrap();
    let mean_t = ts.iter().sum::<f64>() / ts.len() as f64;
    for (model, start) in [
        (Model::BetaGeo, vec![1.0, mean_t, 1.0, 1.0]),
        (Model::GammaGamma, vec![1.0, 2.0, 30.0]),
    ] {
        let warm = fit(&frame, model, &FitOptions::default()).unwrap();
        // Given starting values turn the warm start off.
        let cold = fit(
            &frame,
            model,
            &FitOptions {
                start: Some(Params::from_values(model, &start).unwrap()),
                ..FitOptions::default()
            },
        )
        .unwrap();
        assert!(
            warm.iterations < cold.iterations,
            "{model}: {warm:?} {cold:?}"
        );
        for (w, c) in warm.params.values().iter().zip(cold.params.values()) {
            assert!((w / c - 1.0).abs() < 1e-5, "{model}: {warm:?} {cold:?}");
        }
        assert!(
            (warm.log_likelihood - cold.log_likelihood).abs() < 1e-6 * cold.log_likelihood.abs()
        );
        for (w, c) in warm
            .std_errors
            .values()
            .iter()
            .zip(cold.std_errors.values())
        {
            assert!((w / c - 1.0).abs() < 1e-3, "{model}: {warm:?} {cold:?}");
        }
    }
}

#[test]
fn params_by_name() {
    let named = Params::new(
        Model::ParetoNbd,
        &[("s", 0.6), ("r", 0.55), ("beta", 11.7), ("alpha", 10.6)],
    )
    .unwrap();
    assert_eq!(named.values(), &[0.55, 10.6, 0.6, 11.7]);
    assert_eq!(named["beta"], 11.7);
    assert_eq!(named.get("b"), None);
    assert_eq!(
        named.to_string(),
        "r = 0.55, alpha = 10.6, s = 0.6, beta = 11.7"
    );
    let message = |pairs: &[(&str, f64)]| {
        Params::new(Model::GammaGamma, pairs)
            .unwrap_err()
            .to_string()
    };
    assert!(message(&[("p", 1.0), ("q", 1.0), ("g", 1.0)]).contains("'g'"));
    assert!(message(&[("p", 1.0), ("q", 1.0), ("p", 1.0)]).contains("twice"));
    assert!(message(&[("p", 1.0), ("q", 1.0)]).contains("no 'gamma'"));
    assert!(Params::from_values(Model::GammaGamma, &[1.0, 2.0]).is_err());
    let fitted = Fit::from_params(named.clone()).unwrap();
    assert_eq!(fitted.params, named);
    assert!(fitted.std_errors.values().iter().all(|s| s.is_nan()));
    let negative = Params::from_values(Model::ShiftedBetaGeometric, &[1.0, -1.0]).unwrap();
    assert!(Fit::from_params(negative)
        .unwrap_err()
        .to_string()
        .contains("beta"));

    // Starting values must carry the fitted model's names: BG/NBD ones start MBG/NBD.
    let summary = cdnow_summary();
    let bg = fit(&summary, Model::BetaGeo, &FitOptions::default()).unwrap();
    let from_bg = FitOptions {
        start: Some(bg.params.clone()),
        standard_errors: false,
        ..FitOptions::default()
    };
    assert!(fit(&summary, Model::ModifiedBetaGeo, &from_bg).is_ok());
    let from_pareto = FitOptions {
        start: Some(named),
        ..FitOptions::default()
    };
    let error = fit(&summary, Model::BetaGeo, &from_pareto).unwrap_err();
    assert!(
        error.to_string().contains("starts from r, alpha, a, b"),
        "{error}"
    );
}
