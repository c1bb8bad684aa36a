//! Calendar periods: parsing the `period=` option and labelling instants by the first day of the
//! calendar period (UTC) that contains them. ISO weeks start on Monday.
//!
//! The arithmetic is done on days since 1970-01-01 with a proleptic Gregorian calendar, so
//! labelling a column is one pass with no allocation per row.

use std::fmt;
use std::str::FromStr;

use polars::prelude::*;

use crate::error::{CsError, Result};

/// A calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter (January, April, July, October).
    Quarter,
    /// A calendar year.
    Year,
}

impl FromStr for Period {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            "quarter" => Ok(Period::Quarter),
            "year" => Ok(Period::Year),
            other => Err(CsError::option(
                "period",
                format!("'{other}'"),
                "expected one of 'day', 'week', 'month', 'quarter', 'year'",
            )),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        };
        f.write_str(name)
    }
}

/// Converts days since 1970-01-01 to a (year, month, day) civil date.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a 400-year era.
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Converts a civil date to days since 1970-01-01.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_index = if month > 2 { month - 3 } else { month + 9 } as i64;
    let day_of_year = (153 * month_index + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

impl Period {
    /// The first day (days since 1970-01-01) of the period containing `days`.
    pub fn start_of(self, days: i64) -> i64 {
        match self {
            Period::Day => days,
            // 1970-01-01 was a Thursday: Monday-based weekday is (days + 3) mod 7.
            Period::Week => days - (days + 3).rem_euclid(7),
            Period::Month => {
                let (y, m, _) = civil_from_days(days);
                days_from_civil(y, m, 1)
            }
            Period::Quarter => {
                let (y, m, _) = civil_from_days(days);
                days_from_civil(y, (m - 1) / 3 * 3 + 1, 1)
            }
            Period::Year => {
                let (y, _, _) = civil_from_days(days);
                days_from_civil(y, 1, 1)
            }
        }
    }
}

/// Days since 1970-01-01 (UTC) of every value of a Date or Datetime column; nulls stay null.
///
/// Time-zone-aware datetimes are stored as UTC instants, so this labels them in UTC.
pub fn column_days(frame: &DataFrame, column: &str) -> Result<Vec<Option<i64>>> {
    let series = crate::frame::column(frame, column, "the timestamp of each row")?
        .as_materialized_series();
    match series.dtype() {
        DataType::Date => Ok(series
            .date()?
            .physical()
            .iter()
            .map(|d| d.map(i64::from))
            .collect()),
        DataType::Datetime(unit, _) => {
            let per_day: i64 = match unit {
                TimeUnit::Nanoseconds => 86_400_000_000_000,
                TimeUnit::Microseconds => 86_400_000_000,
                TimeUnit::Milliseconds => 86_400_000,
            };
            Ok(series
                .datetime()?
                .physical()
                .iter()
                .map(|t| t.map(|t| t.div_euclid(per_day)))
                .collect())
        }
        other => Err(CsError::InvalidType {
            column: column.to_string(),
            dtype: other.to_string(),
            rule: "a timestamp column must be Date or Datetime".to_string(),
        }),
    }
}

/// A Date column named `name` holding the start of the period that contains each timestamp.
///
/// A null timestamp is an error: the row cannot be placed in a period.
pub fn period_column(frame: &DataFrame, timestamp: &str, period: Period, name: &str) -> Result<Column> {
    let days = column_days(frame, timestamp)?;
    let mut starts: Vec<i32> = Vec::with_capacity(days.len());
    let mut cache: Option<(i64, i64, i32)> = None; // (first day, last day + 1, label) of the last period seen
    for (row, day) in days.iter().enumerate() {
        let Some(day) = *day else {
            return Err(CsError::InvalidValue {
                column: timestamp.to_string(),
                row,
                value: "null".to_string(),
                rule: format!("every row needs a timestamp to be placed in a {period}"),
            });
        };
        // Rows usually arrive in time order: reuse the last period's bounds when they fit.
        if let Some((lo, hi, label)) = cache {
            if day >= lo && day < hi {
                starts.push(label);
                continue;
            }
        }
        let start = period.start_of(day);
        let next = period.start_of(match period {
            Period::Day => start + 1,
            Period::Week => start + 7,
            Period::Month => start + 31,
            Period::Quarter => start + 92,
            Period::Year => start + 366,
        });
        let label = i32::try_from(start).map_err(|_| CsError::InvalidValue {
            column: timestamp.to_string(),
            row,
            value: format!("{day} days since 1970-01-01"),
            rule: "timestamps must fall within the range of a Date".to_string(),
        })?;
        cache = Some((start, next, label));
        starts.push(label);
    }
    Ok(Column::new(name.into(), starts).cast(&DataType::Date)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn period_starts() {
        let d = days_from_civil(2024, 8, 15); // a Thursday
        assert_eq!(Period::Day.start_of(d), d);
        assert_eq!(Period::Week.start_of(d), days_from_civil(2024, 8, 12));
        assert_eq!(Period::Month.start_of(d), days_from_civil(2024, 8, 1));
        assert_eq!(Period::Quarter.start_of(d), days_from_civil(2024, 7, 1));
        assert_eq!(Period::Year.start_of(d), days_from_civil(2024, 1, 1));
        // A Monday is its own week start; a Sunday belongs to the week that began six days before.
        assert_eq!(Period::Week.start_of(days_from_civil(2024, 8, 12)), days_from_civil(2024, 8, 12));
        assert_eq!(Period::Week.start_of(days_from_civil(2024, 8, 18)), days_from_civil(2024, 8, 12));
        // Before the epoch.
        assert_eq!(Period::Month.start_of(days_from_civil(1969, 12, 31)), days_from_civil(1969, 12, 1));
    }

    #[test]
    fn parse_rejects_unknown() {
        assert_eq!("quarter".parse::<Period>().unwrap(), Period::Quarter);
        let err = "fortnight".parse::<Period>().unwrap_err().to_string();
        assert!(err.contains("fortnight") && err.contains("'month'"), "{err}");
    }
}
