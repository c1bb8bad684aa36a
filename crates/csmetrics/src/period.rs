//! Calendar periods: parsing the `period=` option and labelling instants by the first day of the
//! calendar period (UTC) that contains them. ISO weeks start on Monday.
//!
//! The arithmetic is done on days since 1970-01-01 with a proleptic Gregorian calendar, so
//! labelling a column is one pass with no allocation per row.

use std::fmt;
use std::str::FromStr;

use polars::prelude::*;

use crate::input::Clock;

use polars_arrow::array::PrimitiveArray;

use crate::error::{CsError, Result};
use crate::groups::EncodedKey;
use crate::parallel::{parallel, work_ranges};

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
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Microseconds in a day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The instant of midnight UTC starting a civil date, in µs since 1970-01-01 UTC: the unit of
/// every instant option (`as_of`, `first_period`, `observation_end`, `calibration_end`).
///
/// ```
/// use csmetrics::period::{days_from_civil, micros_from_civil, MICROS_PER_DAY};
///
/// assert_eq!(micros_from_civil(1970, 1, 2), MICROS_PER_DAY);
/// assert_eq!(micros_from_civil(2024, 3, 31), days_from_civil(2024, 3, 31) * MICROS_PER_DAY);
/// ```
pub fn micros_from_civil(year: i64, month: u32, day: u32) -> i64 {
    days_from_civil(year, month, day) * MICROS_PER_DAY
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
    /// The longest the period can be, in days.
    fn max_days(self) -> i64 {
        match self {
            Period::Day => 1,
            Period::Week => 7,
            Period::Month => 31,
            Period::Quarter => 92,
            Period::Year => 366,
        }
    }

    /// The fewest days a period has.
    pub fn min_days(self) -> i64 {
        match self {
            Period::Day => 1,
            Period::Week => 7,
            Period::Month => 28,
            Period::Quarter => 89,
            Period::Year => 365,
        }
    }

    /// The first day of the period after the one starting on `start_day`.
    pub fn next_start(self, start_day: i64) -> i64 {
        self.start_of(start_day + self.max_days())
    }

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

/// Days since 1970-01-01 (UTC) of each row of a Date or Datetime column, as a row accessor.
///
/// Time-zone-aware datetimes are stored as UTC instants, so they are labelled in UTC.
enum DayReader<'a> {
    Date(&'a PrimitiveArray<i32>),
    Datetime(&'a PrimitiveArray<i64>, i64),
    Empty,
}

impl DayReader<'_> {
    fn day(&self, row: usize) -> Option<i64> {
        match self {
            DayReader::Date(a) => a.get(row).map(i64::from),
            DayReader::Datetime(a, per_day) => a.get(row).map(|t| t.div_euclid(*per_day)),
            DayReader::Empty => None,
        }
    }
}

/// The period code of each instant: `table[day - lo]`, dividing by a constant ticks-per-day.
fn days_into<const PER_DAY: i64>(ticks: &[i64], lo: i64, table: &[u32], out: &mut [u32]) {
    for (code, &t) in out.iter_mut().zip(ticks) {
        *code = table[(t.div_euclid(PER_DAY) - lo) as usize];
    }
}

/// The period code of each day `lo..=hi` (as offsets from `lo`) and the first day of each
/// period, as Date values; `Err(start)` for a period starting outside the range of a Date.
pub(crate) fn day_table(
    period: Period,
    lo: i64,
    hi: i64,
) -> std::result::Result<(Vec<u32>, Vec<i32>), i64> {
    let mut table: Vec<u32> = Vec::with_capacity((hi - lo + 1).max(0) as usize);
    let mut labels: Vec<i32> = Vec::new();
    let mut next_start = i64::MIN;
    for day in lo..=hi {
        if day >= next_start {
            let start = period.start_of(day);
            labels.push(i32::try_from(start).map_err(|_| start)?);
            next_start = period.next_start(start);
        }
        table.push(labels.len() as u32 - 1);
    }
    Ok((table, labels))
}

/// Encodes the calendar period of each row of `timestamp` as a grouping key named `name`
/// (a Date label: the first day of the period).
///
/// A null timestamp is an error: the row cannot be placed in a period.
pub fn period_key(
    frame: &DataFrame,
    timestamp: &str,
    period: Period,
    name: &str,
) -> Result<EncodedKey> {
    let series = crate::frame::column(frame, timestamp, "the timestamp of each row")?
        .as_materialized_series()
        .rechunk();
    let physical = series.to_physical_repr().rechunk();
    let reader = match crate::input::clock(&series, timestamp, "the timestamp of each row")? {
        Clock::Date => physical
            .i32()?
            .downcast_iter()
            .next()
            .map_or(DayReader::Empty, DayReader::Date),
        Clock::Datetime { per_day, .. } => physical
            .i64()?
            .downcast_iter()
            .next()
            .map_or(DayReader::Empty, |a| DayReader::Datetime(a, per_day)),
        Clock::Null => DayReader::Empty,
    };
    let rows = series.len();
    // Dates without nulls are read as a plain slice: the loops below then vectorise.
    let dates: Option<&[i32]> = match &reader {
        DayReader::Date(a) if a.validity().is_none_or(|v| v.unset_bits() == 0) => {
            Some(a.values().as_slice())
        }
        _ => None,
    };
    let datetimes: Option<(&[i64], i64)> = match &reader {
        DayReader::Datetime(a, per_day) if a.validity().is_none_or(|v| v.unset_bits() == 0) => {
            Some((a.values().as_slice(), *per_day))
        }
        _ => None,
    };
    // Pass 1: the range of days, and the first null.
    let spans = parallel(work_ranges(rows), |range| {
        if let Some(days) = dates {
            let (lo, hi) = days[range]
                .iter()
                .fold((i32::MAX, i32::MIN), |(lo, hi), &d| (lo.min(d), hi.max(d)));
            return (i64::from(lo), i64::from(hi), None);
        }
        if let Some((ticks, per_day)) = datetimes {
            // Flooring is monotonic: the day range is that of the extreme instants.
            let (lo, hi) = ticks[range]
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
            return (lo.div_euclid(per_day), hi.div_euclid(per_day), None);
        }
        let (mut lo, mut hi, mut null) = (i64::MAX, i64::MIN, None);
        for row in range {
            match reader.day(row) {
                Some(d) => {
                    lo = lo.min(d);
                    hi = hi.max(d);
                }
                None => {
                    null = null.or(Some(row));
                }
            }
        }
        (lo, hi, null)
    });
    if let Some(row) = spans.iter().filter_map(|s| s.2).min() {
        return Err(CsError::InvalidValue {
            column: timestamp.to_string(),
            row,
            value: "null".to_string(),
            rule: format!("every row needs a timestamp to be placed in a {period}"),
        });
    }
    let lo = spans.iter().map(|s| s.0).min().unwrap_or(0);
    let hi = spans.iter().map(|s| s.1).max().unwrap_or(-1);
    let label_range_error = |start: i64| CsError::InvalidValue {
        column: timestamp.to_string(),
        row: 0,
        value: format!("{start} days since 1970-01-01"),
        rule: "timestamps must fall within the range of a Date".to_string(),
    };
    let label_range = |start: i64| i32::try_from(start).map_err(|_| label_range_error(start));
    let (codes, labels): (Vec<u32>, Vec<i32>) = if hi < lo {
        (Vec::new(), Vec::new())
    } else if hi - lo < 20_000_000 {
        // Pass 2 through a table from day offset to period index: no calendar work per row.
        let (table, labels) = day_table(period, lo, hi).map_err(label_range_error)?;
        // One buffer filled in place: per-range vectors joined would hold every code twice.
        let mut codes = crate::alloc::zeroed_buffer::<u32>(rows);
        crate::parallel::parallel_fill(&mut codes, |first, out| {
            if let Some(days) = dates {
                for (code, &d) in out.iter_mut().zip(&days[first..]) {
                    *code = table[(i64::from(d) - lo) as usize];
                }
                return;
            }
            if let Some((ticks, per_day)) = datetimes {
                let ticks = &ticks[first..first + out.len()];
                // One loop per unit, so each divides by a constant (a multiply, not a divide).
                match per_day {
                    86_400_000_000 => days_into::<86_400_000_000>(ticks, lo, &table, out),
                    86_400_000 => days_into::<86_400_000>(ticks, lo, &table, out),
                    86_400_000_000_000 => days_into::<86_400_000_000_000>(ticks, lo, &table, out),
                    _ => {
                        for (code, &t) in out.iter_mut().zip(ticks) {
                            *code = table[(t.div_euclid(per_day) - lo) as usize];
                        }
                    }
                }
                return;
            }
            for (i, code) in out.iter_mut().enumerate() {
                *code = reader
                    .day(first + i)
                    .map_or(0, |d| table[(d - lo) as usize]);
            }
        });
        (codes, labels)
    } else {
        // Dates thousands of years apart: label each row directly.
        let (codes, firsts) =
            crate::groups::encode_rows(rows, |row| reader.day(row).map(|d| period.start_of(d)));
        let labels = firsts
            .iter()
            .map(|&r| label_range(reader.day(r as usize).map_or(0, |d| period.start_of(d))))
            .collect::<Result<Vec<i32>>>()?;
        (codes, labels)
    };
    Ok(EncodedKey {
        codes,
        labels: Column::new(name.into(), labels).cast(&DataType::Date)?,
    })
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
        assert_eq!(
            Period::Week.start_of(days_from_civil(2024, 8, 12)),
            days_from_civil(2024, 8, 12)
        );
        assert_eq!(
            Period::Week.start_of(days_from_civil(2024, 8, 18)),
            days_from_civil(2024, 8, 12)
        );
        // Before the epoch.
        assert_eq!(
            Period::Month.start_of(days_from_civil(1969, 12, 31)),
            days_from_civil(1969, 12, 1)
        );
    }

    #[test]
    fn parse_rejects_unknown() {
        assert_eq!("quarter".parse::<Period>().unwrap(), Period::Quarter);
        let err = "fortnight".parse::<Period>().unwrap_err().to_string();
        assert!(
            err.contains("fortnight") && err.contains("'month'"),
            "{err}"
        );
    }
}
