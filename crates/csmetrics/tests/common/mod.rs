//! What the integration tests share: civil dates as day numbers, microseconds and Date columns,
//! readers of result cells and columns, and a small deterministic random generator.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use csmetrics::period::days_from_civil;
use polars::prelude::*;

/// A civil date: (year, month, day).
pub type Date = (i64, u32, u32);

/// Days since 1970-01-01.
pub fn day(d: Date) -> i32 {
    days_from_civil(d.0, d.1, d.2) as i32
}

/// Microseconds since 1970-01-01 at midnight.
pub fn micros(d: Date) -> i64 {
    i64::from(day(d)) * 86_400_000_000
}

/// A Date column, null where a value is `None`.
pub fn dates(name: &str, values: &[Option<Date>]) -> Column {
    Column::new(
        name.into(),
        values.iter().map(|d| d.map(day)).collect::<Vec<_>>(),
    )
    .cast(&DataType::Date)
    .unwrap()
}

fn as_f64(frame: &DataFrame, name: &str) -> Float64Chunked {
    frame
        .column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .clone()
}

/// A numeric column as floats.
pub fn floats(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
    as_f64(frame, name).iter().collect()
}

/// One numeric cell as a float.
pub fn f(frame: &DataFrame, name: &str, row: usize) -> Option<f64> {
    as_f64(frame, name).get(row)
}

/// One integer cell, which must not be null.
pub fn i(frame: &DataFrame, name: &str, row: usize) -> i64 {
    frame
        .column(name)
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .get(row)
        .unwrap()
}

fn as_str<'a>(frame: &'a DataFrame, name: &str) -> &'a StringChunked {
    frame.column(name).unwrap().str().unwrap()
}

/// A String column.
pub fn strings(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    as_str(frame, name)
        .iter()
        .map(|s| s.map(String::from))
        .collect()
}

/// The non-null values of a String column.
pub fn strs<'a>(frame: &'a DataFrame, name: &str) -> Vec<&'a str> {
    as_str(frame, name).iter().flatten().collect()
}

/// A small deterministic generator (SplitMix64) for simulated customers.
pub struct Rng(pub u64);

impl Rng {
    /// Uniform in (0, 1].
    pub fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 + 1e-300
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang (with the boost for shape < 1).
    pub fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            return self.gamma(shape + 1.0) * self.uniform().powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let (u1, u2) = (self.uniform(), self.uniform());
            let n = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            let v = (1.0 + c * n).powi(3);
            if v > 0.0 && self.uniform().ln() < 0.5 * n * n + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// Beta(a, b), from two gamma draws.
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let g = self.gamma(a);
        g / (g + self.gamma(b))
    }
}
