//! Cohort retention (docs/metrics/churn-and-retention.md#cohorts): customers grouped by the period
//! of their first activity (or of a signup column), followed age by age on the revenue engine's
//! panel.

use std::str::FromStr;

use polars::prelude::*;

use std::collections::HashMap;

use foldhash::fast::FixedState;

use crate::error::{CsError, Result};
use crate::input::Clock;
use crate::parallel::{parallel, work_ranges};
use crate::revenue::input::{customers, period_grid};
use crate::revenue::{
    build_grid, check_options, customer_panel, normalise, panel_values, rows_by_customer,
    RevenueInput, RevenueOptions, DAY,
};

/// What a cohort cell measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CohortKind {
    /// Customers active at age k over the cohort's size (default).
    #[default]
    Logo,
    /// The cohort's MRR at age k over its MRR at age 0 (unbounded: expansion can exceed 1).
    Revenue,
}

impl FromStr for CohortKind {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "logo" => Ok(Self::Logo),
            "revenue" => Ok(Self::Revenue),
            other => Err(CsError::option(
                "kind",
                format!("'{other}'"),
                "expected 'logo' or 'revenue'",
            )),
        }
    }
}

/// When a customer counts as retained at age k.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CohortRule {
    /// Active at age k (default).
    #[default]
    Classic,
    /// Active at age k or later (never increases with age). Logo only.
    Unbounded,
}

impl FromStr for CohortRule {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "classic" => Ok(Self::Classic),
            "unbounded" => Ok(Self::Unbounded),
            other => Err(CsError::option(
                "rule",
                format!("'{other}'"),
                "expected 'classic' or 'unbounded'",
            )),
        }
    }
}

/// Options of [`cohort_retention`].
#[derive(Debug, Clone, Default)]
pub struct CohortOptions {
    /// The panel: input table, period, as_of, free_is_active, by, ...
    pub panel: RevenueOptions,
    /// Logo or revenue retention.
    pub kind: CohortKind,
    /// Classic or unbounded.
    pub rule: CohortRule,
    /// A signup Date/Datetime column (constant per customer) defining the cohort instead of
    /// the first active period.
    pub signup: Option<String>,
}

/// Cohort retention as a long table, one row per (group, cohort, age).
///
/// Columns: keys, `cohort` (Date, the cohort's period), `age` (periods since the cohort's
/// period), `cohort_size` (customers), `active` (customers active at age k, or at k or later
/// under the unbounded rule), `mrr` and `cohort_mrr` (revenue kind: the cohort's MRR at age k and
/// at age 0), `rate`. Every cohort gets the same ages, 0 to the oldest observable; cells not yet
/// observable at `as_of` have null `active`, `mrr` and `rate` (not 0).
pub fn cohort_retention(frame: &DataFrame, options: &CohortOptions) -> Result<DataFrame> {
    if options.kind == CohortKind::Revenue && options.rule == CohortRule::Unbounded {
        return Err(CsError::option(
            "rule",
            "'unbounded'",
            "the unbounded rule is defined for logo retention only; use kind='logo' or rule='classic'",
        ));
    }
    if options.kind == CohortKind::Revenue
        && matches!(options.panel.input, RevenueInput::Activity { .. })
    {
        return Err(CsError::option(
            "kind",
            "'revenue'",
            "activity events carry no revenue; use kind='logo'",
        ));
    }
    check_options(&options.panel)?;
    if let Some(table) = activity_cohorts(frame, options)? {
        return Ok(table);
    }
    let data = normalise(frame, &options.panel)?;
    // Signup instants per customer, when cohorts come from a signup column.
    let signup = match &options.signup {
        Some(name) => Some(signup_per_customer(frame, name, &data)?),
        None => None,
    };
    let mut panel_options = options.panel.clone();
    if let Some(signup) = &signup {
        if let Some(min) = signup.iter().copied().min() {
            panel_options.first_period =
                Some(panel_options.first_period.map_or(min, |f| f.min(min)));
        }
    }
    let grid = build_grid(&data, &panel_options)?;
    let n = grid.len();
    let first = grid.report_first;
    let cohorts = n - first;
    let (offsets, order) = rows_by_customer(&data);
    let free = options.panel.free_is_active;
    // Cells are kept only for the (group, cohort) rows that have customers, each with one cell
    // per age: memory follows the output, never groups x cohorts x ages.
    let parts = parallel(work_ranges(data.customer_labels.len()), |range| {
        let mut cells = SparseCells::new(cohorts);
        let (mut mrr, mut subs, mut held) = (Vec::new(), Vec::new(), Vec::new());
        let mut before_signup: Option<(usize, usize)> = None;
        for customer in range {
            let rows = &order[offsets[customer]..offsets[customer + 1]];
            let (lo, hi) = customer_panel(&data, &grid, rows, &mut mrr, &mut subs);
            // A paused customer (held at $0) stays a customer.
            if let Some(b) = data.billing.as_ref().filter(|b| b.has_status) {
                panel_values(
                    &data,
                    &grid,
                    rows,
                    (lo, hi),
                    |r| i64::from(b.held[r]),
                    &mut held,
                );
            } else {
                held.clear();
            }
            let active_at = |p: usize| {
                p >= lo
                    && p < hi
                    && (mrr[p - lo] > 0
                        || (free && subs[p - lo] > 0)
                        || held.get(p - lo).is_some_and(|h| *h > 0))
            };
            let cohort = match &signup {
                Some(s) if s[customer] <= grid.as_of => {
                    Some(grid.starts.partition_point(|t| *t <= s[customer]) - 1)
                }
                Some(_) => None,
                None => (lo..hi).find(|&p| active_at(p)),
            };
            if signup.is_some() {
                if let (Some(c), Some(p)) = (cohort, (lo..hi).find(|&p| active_at(p))) {
                    if p < c && before_signup.is_none() {
                        before_signup = Some((customer, p));
                    }
                }
            }
            let Some(cohort) = cohort.filter(|c| *c >= first) else {
                continue;
            };
            let g = data.group_rank[data.customer_group[customer] as usize] as usize;
            let slot = cells.slot(g * cohorts + (cohort - first));
            cells.sizes[slot] += 1;
            let last_active = (lo..hi).rev().find(|&p| active_at(p));
            for p in cohort..n {
                let age = p - cohort;
                let cell = slot * cohorts + age;
                let counted = match options.rule {
                    CohortRule::Classic => active_at(p),
                    CohortRule::Unbounded => last_active.is_some_and(|l| l >= p),
                };
                if counted {
                    cells.active[cell] += 1;
                }
                if p >= lo && p < hi {
                    cells.mrr_at_age[cell] += i128::from(mrr[p - lo]);
                    if age == 0 {
                        cells.base_mrr[slot] += i128::from(mrr[p - lo]);
                    }
                }
            }
        }
        (cells, before_signup)
    });
    if let Some((customer, p)) = parts.iter().find_map(|part| part.1) {
        let id = data
            .customer_labels
            .get(customer)
            .map(|v| v.to_string())
            .unwrap_or_default();
        return Err(CsError::InvalidValue {
            column: options.signup.clone().unwrap_or_default(),
            row: order[offsets[customer]] as usize,
            value: format!(
                "customer {id} active in the period of {}",
                crate::revenue::input::format_instant(grid.starts[p])
            ),
            rule: "a customer cannot be active before the period of its signup".into(),
        });
    }
    let mut cells = SparseCells::new(cohorts);
    for (part, _) in parts {
        cells.absorb(part);
    }
    let starts: Vec<i64> = (0..cohorts).map(|c| grid.starts[first + c] / DAY).collect();
    cohort_frame(options, &cells, &starts, &data.group_keys)
}

/// Accumulated cohort cells of the (group, cohort) rows that have customers: sizes and base
/// MRR per row, active customers and MRR per (row, age). `rows` maps `group * cohorts +
/// cohort` to its slot.
struct SparseCells {
    cohorts: usize,
    rows: HashMap<usize, usize, FixedState>,
    keys: Vec<usize>,
    sizes: Vec<i64>,
    base_mrr: Vec<i128>,
    active: Vec<i64>,
    mrr_at_age: Vec<i128>,
}

impl SparseCells {
    fn new(cohorts: usize) -> Self {
        SparseCells {
            cohorts,
            rows: HashMap::with_hasher(FixedState::with_seed(0x5eed)),
            keys: Vec::new(),
            sizes: Vec::new(),
            base_mrr: Vec::new(),
            active: Vec::new(),
            mrr_at_age: Vec::new(),
        }
    }

    /// The slot of `row`, added (zeroed) on first use.
    fn slot(&mut self, row: usize) -> usize {
        if let Some(&slot) = self.rows.get(&row) {
            return slot;
        }
        let slot = self.keys.len();
        self.rows.insert(row, slot);
        self.keys.push(row);
        self.sizes.push(0);
        self.base_mrr.push(0);
        self.active.resize(self.active.len() + self.cohorts, 0);
        self.mrr_at_age
            .resize(self.mrr_at_age.len() + self.cohorts, 0);
        slot
    }

    /// Adds another worker's cells.
    fn absorb(&mut self, other: SparseCells) {
        let width = self.cohorts;
        for (from, &row) in other.keys.iter().enumerate() {
            let to = self.slot(row);
            self.sizes[to] += other.sizes[from];
            self.base_mrr[to] += other.base_mrr[from];
            for age in 0..width {
                self.active[to * width + age] += other.active[from * width + age];
                self.mrr_at_age[to * width + age] += other.mrr_at_age[from * width + age];
            }
        }
    }
}

/// The long cohort table from accumulated cells; `starts` are the reported periods' first days.
fn cohort_frame(
    options: &CohortOptions,
    cells: &SparseCells,
    starts: &[i64],
    group_keys: &DataFrame,
) -> Result<DataFrame> {
    let cohorts = cells.cohorts;
    // Rows: (group, cohort) with at least one customer, in key order, times every age.
    let mut slots: Vec<(usize, usize)> = cells.keys.iter().copied().zip(0..).collect();
    slots.sort_unstable();
    let scale = 10f64.powi(options.panel.precision as i32);
    let mut group_index: Vec<IdxSize> = Vec::new();
    let (mut cohort_days, mut ages, mut size_col) = (Vec::new(), Vec::new(), Vec::new());
    let (mut active_col, mut rate_col, mut mrr_col, mut base_col) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (row, slot) in slots {
        let (g, c) = (row / cohorts, row % cohorts);
        let size = cells.sizes[slot];
        let base = cells.base_mrr[slot];
        for age in 0..cohorts {
            let observable = c + age < cohorts;
            let cell = slot * cohorts + age;
            group_index.push(g as IdxSize);
            cohort_days.push(starts[c] as i32);
            ages.push(age as i32);
            size_col.push(size);
            active_col.push(observable.then_some(cells.active[cell]));
            mrr_col.push(observable.then(|| cells.mrr_at_age[cell] as f64 / scale));
            base_col.push(base as f64 / scale);
            rate_col.push(
                observable
                    .then(|| match options.kind {
                        CohortKind::Logo => Some(cells.active[cell] as f64 / size as f64),
                        CohortKind::Revenue => {
                            (base != 0).then(|| cells.mrr_at_age[cell] as f64 / base as f64)
                        }
                    })
                    .flatten(),
            );
        }
    }
    let height = ages.len();
    let mut columns = group_keys
        .take(&IdxCa::from_vec("".into(), group_index))?
        .into_columns();
    columns.push(Column::new("cohort".into(), cohort_days).cast(&DataType::Date)?);
    columns.push(Column::new("age".into(), ages));
    columns.push(Column::new("cohort_size".into(), size_col));
    columns.push(Column::new("active".into(), active_col));
    if options.kind == CohortKind::Revenue {
        columns.push(Column::new("cohort_mrr".into(), base_col));
        columns.push(Column::new("mrr".into(), mrr_col));
    }
    columns.push(Column::new("rate".into(), rate_col));
    Ok(DataFrame::new(height, columns)?)
}

/// Logo cohorts of activity events through one 64-bit mask of active periods per customer:
/// no per-event intervals, no sort. None when it does not apply (more than 64 periods, a
/// signup column or a first period given), and the general path runs.
fn activity_cohorts(frame: &DataFrame, options: &CohortOptions) -> Result<Option<DataFrame>> {
    let RevenueInput::Activity {
        customer_id,
        timestamp,
    } = &options.panel.input
    else {
        return Ok(None);
    };
    if options.signup.is_some() || options.panel.first_period.is_some() || frame.height() == 0 {
        return Ok(None);
    }
    let period = options.panel.period;
    // The events' days are read in place, chunk by chunk: no code per event is stored.
    let what = "the timestamp of each row";
    let stamps = crate::frame::column(frame, timestamp, what)?.as_materialized_series();
    let clock = crate::input::clock(stamps, timestamp, what)?;
    if stamps.null_count() > 0 || matches!(clock, Clock::Null) {
        return Ok(None); // the general path names the null
    }
    let physical = stamps.to_physical_repr();
    let per_day = match clock {
        Clock::Datetime { per_day, .. } => per_day,
        _ => 1,
    };
    let each_day = |f: &mut dyn FnMut(i64)| -> Result<()> {
        if per_day == 1 {
            for array in physical.i32()?.downcast_iter() {
                array.values().iter().for_each(|&d| f(i64::from(d)));
            }
        } else {
            for array in physical.i64()?.downcast_iter() {
                array
                    .values()
                    .iter()
                    .for_each(|&v| f(v.div_euclid(per_day)));
            }
        }
        Ok(())
    };
    let (mut min_day, mut max_day) = (i64::MAX, i64::MIN);
    each_day(&mut |d| {
        min_day = min_day.min(d);
        max_day = max_day.max(d);
    })?;
    // An event belongs to the panel when its period starts by as_of (as in the general path).
    let as_of = options
        .panel
        .as_of
        .unwrap_or_else(|| period.start_of(max_day) * DAY);
    let first_day = period.start_of(min_day);
    if first_day * DAY > as_of {
        return Ok(None);
    }
    let grid = period_grid(period, first_day, as_of.div_euclid(DAY));
    let n = grid.len() - 1;
    if n > 64 {
        return Ok(None);
    }
    // The bit of each day of the panel's periods; days after them have none.
    let bit_of_day: Vec<u64> = (first_day..grid[n])
        .map(|d| 1u64 << (grid.partition_point(|g| *g <= d) - 1))
        .collect();
    let customers = customers(frame, customer_id, &options.panel.by)?;
    let n_customers = customers.labels.len();
    let mut masks = vec![0u64; n_customers];
    let mut row = 0;
    each_day(&mut |d| {
        if d < grid[n] {
            masks[customers.codes[row] as usize] |= bit_of_day[(d - first_day) as usize];
        }
        row += 1;
    })?;
    let groups = customers.group_keys.height().max(1);
    // Dense cells per worker: only while they stay small (many by= groups take the sparse path).
    if groups * n * n > 1 << 22 {
        return Ok(None);
    }
    let per_group = parallel(work_ranges(n_customers), |range| {
        let mut sizes = vec![0i64; groups * n];
        let mut active = vec![0i64; groups * n * n];
        for customer in range {
            let mask = masks[customer];
            if mask == 0 {
                continue;
            }
            let cohort = mask.trailing_zeros() as usize;
            let last = 63 - mask.leading_zeros() as usize;
            let row =
                customers.group_rank[customers.group[customer] as usize] as usize * n + cohort;
            sizes[row] += 1;
            for age in 0..n - cohort {
                let retained = match options.rule {
                    CohortRule::Classic => mask >> (cohort + age) & 1 == 1,
                    CohortRule::Unbounded => cohort + age <= last,
                };
                if retained {
                    active[row * n + age] += 1;
                }
            }
        }
        (sizes, active)
    });
    let mut sizes = vec![0i64; groups * n];
    let mut active = vec![0i64; groups * n * n];
    for (s, a) in per_group {
        sizes.iter_mut().zip(s).for_each(|(x, y)| *x += y);
        active.iter_mut().zip(a).for_each(|(x, y)| *x += y);
    }
    let mut cells = SparseCells::new(n);
    for (row, &size) in sizes.iter().enumerate().filter(|(_, s)| **s > 0) {
        let slot = cells.slot(row);
        cells.sizes[slot] = size;
        cells.active[slot * n..(slot + 1) * n].copy_from_slice(&active[row * n..(row + 1) * n]);
    }
    Ok(Some(cohort_frame(
        options,
        &cells,
        &grid[..n],
        &customers.group_keys,
    )?))
}

/// The signup instant of each customer code, checked constant per customer.
fn signup_per_customer(
    frame: &DataFrame,
    name: &str,
    data: &crate::revenue::Normalised,
) -> Result<Vec<i64>> {
    let (values, _) =
        crate::input::instants(frame, name, "the signup date of each customer", i64::MIN)?;
    let mut signup = vec![i64::MIN; data.customer_labels.len()];
    for (row, instant) in values.into_iter().enumerate() {
        if instant == i64::MIN {
            return Err(crate::input::invalid(
                name,
                row,
                "null",
                "every customer needs a signup date",
            ));
        }
        let c = data.customer[row] as usize;
        if signup[c] == i64::MIN {
            signup[c] = instant;
        } else if signup[c] != instant {
            return Err(CsError::InvalidValue {
                column: name.to_string(),
                row,
                value: crate::revenue::input::format_instant(instant),
                rule: format!(
                    "a signup date must be constant per customer; this customer's is {} elsewhere",
                    crate::revenue::input::format_instant(signup[c])
                ),
            });
        }
    }
    Ok(signup)
}

/// The cohort family in one import (`use csmetrics::cohort::prelude::*;`): its functions,
/// options and option enums, with the error type and `Period`.
/// [`crate::prelude`] holds every family's.
pub mod prelude {
    pub use super::{cohort_retention, CohortKind, CohortOptions, CohortRule};
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
