//! The revenue sweep: one pass over each customer's subscriptions that builds its MRR in every
//! period (the customer-state panel), classifies its movements, and adds them to per-group,
//! per-period accumulators in exact integer units. Customers are independent, so the sweep runs
//! in parallel over ranges of customers; results do not depend on the number of threads.

use super::billing::Cause;
use super::input::Normalised;
use super::Mode;
use crate::parallel::{parallel, work_ranges};

/// The kinds of MRR movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Movement {
    /// First MRR of a customer who never had any.
    New = 0,
    /// MRR up from a positive amount.
    Expansion = 1,
    /// MRR down, still positive.
    Contraction = 2,
    /// MRR down to zero.
    Churned = 3,
    /// MRR back from zero for a customer who had MRR before.
    Reactivation = 4,
}

impl Movement {
    /// All kinds, in the order of the bridge.
    pub const ALL: [Movement; 5] = [
        Movement::New,
        Movement::Expansion,
        Movement::Contraction,
        Movement::Churned,
        Movement::Reactivation,
    ];

    /// The name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Movement::New => "new",
            Movement::Expansion => "expansion",
            Movement::Contraction => "contraction",
            Movement::Churned => "churned",
            Movement::Reactivation => "reactivation",
        }
    }

    /// The movement from `previous` to `current` MRR; `held` tells whether the customer was
    /// (and is) held at $0 by a pause, which makes a drop to 0 a contraction and the resume an
    /// expansion, and the end of a pause a churn of 0.
    fn classify(
        previous: i64,
        current: i64,
        was_active: bool,
        held: (bool, bool),
    ) -> Option<Movement> {
        match (previous > 0, current > 0) {
            // A resume is an expansion for a customer who paid before; a first payment after a
            // pause of a free subscription is new.
            (false, true) if held.0 && was_active => Some(Movement::Expansion),
            (false, true) => Some(if was_active {
                Movement::Reactivation
            } else {
                Movement::New
            }),
            (true, false) if held.1 => Some(Movement::Contraction),
            (true, false) => Some(Movement::Churned),
            (false, false) if held.0 && !held.1 && was_active => Some(Movement::Churned),
            (true, true) if current > previous => Some(Movement::Expansion),
            (true, true) if current < previous => Some(Movement::Contraction),
            _ => None,
        }
    }
}

/// Field offsets of one (group, period) accumulator.
pub mod field {
    /// MRR of the customers active at the end of the previous period.
    pub const STARTING_MRR: usize = 0;
    /// Movement amounts: new, expansion, contraction, churned, reactivation (Movement order).
    pub const MOVEMENT: usize = 1;
    /// MRR at the end of the period.
    pub const ENDING_MRR: usize = 6;
    /// Paying customers at the end of the previous period.
    pub const STARTING_CUSTOMERS: usize = 7;
    /// Customers with each movement kind (Movement order).
    pub const MOVEMENT_CUSTOMERS: usize = 8;
    /// Paying customers at the end of the period.
    pub const ENDING_CUSTOMERS: usize = 13;
    /// Active customers at the end of the period (paying, or any subscription with free_is_active).
    pub const ACTIVE_CUSTOMERS: usize = 14;
    /// Over the starting base: sum of min(start MRR, end MRR).
    pub const RETAINED_GROSS: usize = 15;
    /// Over the starting base: sum of end MRR.
    pub const RETAINED_NET: usize = 16;
    /// MRR at the window's start of the customers paying then.
    pub const WINDOW_BASE: usize = 17;
    /// Over the window's base: sum of min(start, end).
    pub const WINDOW_GROSS: usize = 18;
    /// Over the window's base: sum of end MRR.
    pub const WINDOW_NET: usize = 19;
    /// Customers active (by the activity rule) at the end of the previous period: |S|.
    pub const LOGO_START: usize = 20;
    /// Customers in S not active at the end of the period.
    pub const LOGO_LOST: usize = 21;
    /// Customers active at the end but not the start, for the first time.
    pub const LOGO_NEW: usize = 22;
    /// Customers active at the end but not the start, active before.
    pub const LOGO_REACTIVATED: usize = 23;
    /// Events mode: customers neither in S nor active at the end who paid at some instant in
    /// the period (joined and left within it).
    pub const LOGO_WITHIN: usize = 24;
    /// Customers at $0 only because paused, at the end of the period.
    pub const PAUSED_CUSTOMERS: usize = 25;
    /// MRR at the end of the period without subscriptions canceled but still running.
    pub const COMMITTED_MRR: usize = 26;
    /// Net MRR at the end of the period.
    pub const NET_MRR: usize = 27;
    /// Contract (undiscounted) MRR at the end of the period.
    pub const CONTRACT_MRR: usize = 28;
    /// Cancellation requests dated in the period.
    pub const CANCELLATIONS: usize = 29;
    /// MRR of the subscriptions whose cancellation was requested in the period.
    pub const CANCELLATION_MRR: usize = 30;
    /// Churned MRR by churn kind (ChurnKind order: unknown, voluntary, involuntary).
    pub const CHURN_REASON_MRR: usize = 31;
    /// Churned customers (MRR movements) by churn kind.
    pub const CHURN_REASON_CUSTOMERS: usize = 34;
    /// Customers lost (logo) by churn kind.
    pub const LOGO_LOST_REASON: usize = 37;
    /// Number of fields.
    pub const COUNT: usize = 40;
}

/// The period grid and snapshot instants.
pub struct Grid {
    /// Start instant of each period, plus the start of the period after the last.
    pub starts: Vec<i64>,
    /// Snapshot instant of each period (its last instant, or `as_of` for the last).
    pub snapshots: Vec<i64>,
    /// Index of the first reported period.
    pub report_first: usize,
    /// The cut-off instant.
    pub as_of: i64,
}

impl Grid {
    /// Number of periods in the grid.
    pub fn len(&self) -> usize {
        self.snapshots.len()
    }

    /// Number of reported periods.
    pub fn reported(&self) -> usize {
        self.len() - self.report_first
    }

    pub(crate) fn period_of(&self, instant: i64) -> usize {
        self.starts
            .partition_point(|s| *s <= instant)
            .saturating_sub(1)
    }
}

/// One row of the per-customer movement table.
#[derive(Debug, Clone, Copy)]
pub struct MovementRow {
    /// Customer code.
    pub customer: u32,
    /// Reported period index.
    pub period: u32,
    /// The movement.
    pub kind: Movement,
    /// MRR before, in units.
    pub previous: i64,
    /// MRR after, in units.
    pub current: i64,
    /// Cause (billing::Cause as u8).
    pub cause: u8,
    /// Churn kind of a churned movement (billing::ChurnKind as u8).
    pub reason: u8,
}

/// One row of the customer-period panel.
#[derive(Debug, Clone, Copy)]
pub struct PanelRow {
    /// Customer code.
    pub customer: u32,
    /// Reported period index.
    pub period: u32,
    /// MRR in units.
    pub mrr: i64,
}

/// What the sweep should produce besides the accumulators.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    /// Per-customer movement rows.
    pub movements: bool,
    /// Customer-period panel rows.
    pub panel: bool,
    /// The per-(group, period) accumulators (not needed for per-customer outputs, whose cost
    /// must not grow with groups x periods).
    pub totals: bool,
}

/// The sweep's results.
pub struct Sweep {
    /// Accumulators, indexed by (group rank, reported period, field).
    pub totals: Vec<i128>,
    /// Movement rows in customer-code order.
    pub movements: Vec<MovementRow>,
    /// Panel rows in customer-code order.
    pub panel: Vec<PanelRow>,
    /// With billing detail, beside each panel row: (net, contract, paused).
    pub panel_extra: Vec<(i64, i64, bool)>,
}

/// Options of the sweep.
pub struct SweepOptions {
    /// Movement mode.
    pub mode: Mode,
    /// Count customers with only $0 subscriptions as active.
    pub free_is_active: bool,
    /// Trailing window in periods for GRR/NRR, if any.
    pub window: Option<usize>,
    /// What to collect.
    pub wanted: Wanted,
}

/// Subscription rows grouped by customer (a counting sort): customer c's rows are
/// `order[offsets[c]..offsets[c + 1]]`.
pub fn rows_by_customer(data: &Normalised) -> (Vec<usize>, Vec<u32>) {
    crate::groups::rows_by_code(&data.customer, data.customer_labels.len())
}

/// One customer's snapshot panel: fills `mrr` and `subs` (active subscriptions) for the grid
/// periods `lo..hi` in which some subscription covers the snapshot, and returns `(lo, hi)`
/// (`lo == hi` when none does). Index period p at `p - lo`.
pub fn customer_panel(
    data: &Normalised,
    grid: &Grid,
    rows: &[u32],
    mrr: &mut Vec<i64>,
    subs: &mut Vec<i32>,
) -> (usize, usize) {
    let (mut lo, mut hi) = (usize::MAX, 0usize);
    let mut ranges: Vec<(usize, usize, i64)> = Vec::with_capacity(rows.len());
    for &r in rows {
        let r = r as usize;
        let first = grid.snapshots.partition_point(|t| *t < data.start[r]);
        let past = grid.snapshots.partition_point(|t| *t < data.end[r]);
        if first < past {
            lo = lo.min(first);
            hi = hi.max(past);
            ranges.push((first, past, data.units[r]));
        }
    }
    if lo >= hi {
        return (0, 0);
    }
    let span = hi - lo;
    mrr.clear();
    mrr.resize(span + 1, 0);
    subs.clear();
    subs.resize(span + 1, 0);
    for (first, past, units) in &ranges {
        mrr[first - lo] += units;
        mrr[past - lo] -= units;
        subs[first - lo] += 1;
        subs[past - lo] -= 1;
    }
    for i in 1..=span {
        mrr[i] += mrr[i - 1];
        subs[i] += subs[i - 1];
    }
    (lo, hi)
}

/// The sum of `value(row)` over the customer's rows covering each snapshot of `lo..hi` (index
/// period p at `p - lo`).
pub fn panel_values(
    data: &Normalised,
    grid: &Grid,
    rows: &[u32],
    (lo, hi): (usize, usize),
    value: impl Fn(usize) -> i64,
    out: &mut Vec<i64>,
) {
    out.clear();
    out.resize(hi - lo + 1, 0);
    if lo >= hi {
        return;
    }
    for &r in rows {
        let r = r as usize;
        // Most rows carry nothing here (no pause, no cancellation): no search for them.
        let v = value(r);
        if v == 0 {
            continue;
        }
        let first = grid.snapshots.partition_point(|t| *t < data.start[r]);
        let past = grid.snapshots.partition_point(|t| *t < data.end[r]);
        if first < past {
            out[first - lo] += v;
            out[past - lo] -= v;
        }
    }
    for i in 1..out.len() {
        out[i] += out[i - 1];
    }
}

/// The cause of a movement of one customer between two snapshots `(t0, t1]`: the kind of
/// change that moved its MRR most in the movement's direction (`up`), "plan" when none did.
pub fn movement_cause(data: &Normalised, rows: &[u32], t0: i64, t1: i64, up: bool) -> u8 {
    let Some(billing) = &data.billing else {
        return super::billing::Cause::Plan as u8;
    };
    let mut by_cause = [0i64; 8];
    for &r in rows {
        let r = r as usize;
        let units = data.units[r];
        if units == 0 {
            continue;
        }
        if data.start[r] > t0 && data.start[r] <= t1 {
            by_cause[billing.start_cause[r] as usize] += units;
        }
        if data.end[r] > t0 && data.end[r] <= t1 {
            by_cause[billing.end_cause[r] as usize] -= units;
        }
    }
    best_cause(&by_cause, up)
}

fn best_cause(by_cause: &[i64; 8], up: bool) -> u8 {
    let mut best = (0i64, super::billing::Cause::Plan as u8);
    for (cause, delta) in by_cause.iter().enumerate() {
        let toward = if up { *delta } else { -*delta };
        if toward > best.0 {
            best = (toward, cause as u8);
        }
    }
    best.1
}

/// The churn kind of a customer active at `t0` and no longer at `t1`: that of its row (segment)
/// which ends last in `(t0, t1]`.
pub fn churn_reason(data: &Normalised, rows: &[u32], t0: i64, t1: i64) -> u8 {
    let Some(billing) = &data.billing else {
        return super::billing::ChurnKind::Unknown as u8;
    };
    rows.iter()
        .map(|r| *r as usize)
        .filter(|r| {
            billing.closes[*r]
                && data.start[*r] < data.end[*r]
                && t0 < data.end[*r]
                && data.end[*r] <= t1
        })
        .max_by_key(|r| (data.end[*r], *r))
        .map_or(super::billing::ChurnKind::Unknown as u8, |r| {
            billing.reason[r]
        })
}

/// Runs the sweep.
pub fn sweep(data: &Normalised, grid: &Grid, options: &SweepOptions) -> Sweep {
    let customers = data.customer_labels.len();
    let (offsets, order) = rows_by_customer(data);
    let groups = data.group_keys.height().max(1);
    let reported = grid.reported();
    // Without totals one scratch cell takes every write.
    let cells = if options.wanted.totals {
        groups * reported * field::COUNT
    } else {
        field::COUNT
    };
    let parts = parallel(work_ranges(customers), |range| {
        let mut worker = Worker::new(data, grid, options, cells);
        for customer in range {
            worker.customer(
                customer as u32,
                &order[offsets[customer]..offsets[customer + 1]],
            );
        }
        (
            worker.totals,
            worker.movements,
            worker.panel,
            worker.panel_extra,
        )
    });
    let mut totals = vec![0i128; cells];
    let mut movements = Vec::new();
    let mut panel = Vec::new();
    let mut panel_extra = Vec::new();
    for (part, m, p, x) in parts {
        for (t, v) in totals.iter_mut().zip(part) {
            *t += v;
        }
        movements.extend(m);
        panel.extend(p);
        panel_extra.extend(x);
    }
    if let (Some(billing), true) = (&data.billing, options.wanted.totals) {
        for &(customer, instant, units) in &billing.cancellations {
            if instant > grid.as_of {
                continue;
            }
            let p = grid.period_of(instant);
            if p < grid.report_first {
                continue;
            }
            let group = data.group_rank[data.customer_group[customer as usize] as usize] as usize;
            let at = (group * reported + p - grid.report_first) * field::COUNT;
            totals[at + field::CANCELLATIONS] += 1;
            totals[at + field::CANCELLATION_MRR] += i128::from(units);
        }
    }
    Sweep {
        totals,
        movements,
        panel,
        panel_extra,
    }
}

struct Worker<'a> {
    data: &'a Normalised,
    grid: &'a Grid,
    options: &'a SweepOptions,
    totals: Vec<i128>,
    movements: Vec<MovementRow>,
    panel: Vec<PanelRow>,
    panel_extra: Vec<(i64, i64, bool)>,
    // Scratch, reused across customers.
    mrr: Vec<i64>,
    active: Vec<i32>,
    held: Vec<i64>,
    committed: Vec<i64>,
    net: Vec<i64>,
    contract: Vec<i64>,
    events: Vec<Event>,
}

/// One change of a customer's MRR (events mode): instant, units, held rows, cause, row.
#[derive(Clone, Copy)]
struct Event {
    instant: i64,
    units: i64,
    held: i64,
    cause: u8,
    row: u32,
}

impl<'a> Worker<'a> {
    fn new(data: &'a Normalised, grid: &'a Grid, options: &'a SweepOptions, cells: usize) -> Self {
        Worker {
            data,
            grid,
            options,
            totals: vec![0; cells],
            movements: Vec::new(),
            panel: Vec::new(),
            panel_extra: Vec::new(),
            mrr: Vec::new(),
            active: Vec::new(),
            held: Vec::new(),
            committed: Vec::new(),
            net: Vec::new(),
            contract: Vec::new(),
            events: Vec::new(),
        }
    }

    fn cell(&mut self, group: usize, period: usize) -> &mut [i128] {
        let start = if self.options.wanted.totals {
            (group * self.grid.reported() + period - self.grid.report_first) * field::COUNT
        } else {
            0
        };
        &mut self.totals[start..start + field::COUNT]
    }

    fn customer(&mut self, customer: u32, rows: &[u32]) {
        let grid = self.grid;
        let data = self.data;
        let n = grid.len();
        let group = data.group_rank[data.customer_group[customer as usize] as usize] as usize;
        // Snapshot panel: the periods [lo, hi) whose snapshot falls inside some subscription.
        let (lo, hi) = customer_panel(data, grid, rows, &mut self.mrr, &mut self.active);
        let span = hi - lo;
        let billing = data.billing.as_ref();
        let totals = self.options.wanted.totals;
        if let Some(b) = billing {
            if b.has_status {
                panel_values(
                    data,
                    grid,
                    rows,
                    (lo, hi),
                    |r| i64::from(b.held[r]),
                    &mut self.held,
                );
            }
            if b.has_cancel && totals {
                panel_values(
                    data,
                    grid,
                    rows,
                    (lo, hi),
                    |r| if b.committed[r] { data.units[r] } else { 0 },
                    &mut self.committed,
                );
            }
            if b.with_contract {
                panel_values(data, grid, rows, (lo, hi), |r| b.net[r], &mut self.net);
                panel_values(
                    data,
                    grid,
                    rows,
                    (lo, hi),
                    |r| b.contract[r],
                    &mut self.contract,
                );
            }
        }
        let has_held = billing.is_some_and(|b| b.has_status);
        let has_reasons = billing.is_some_and(|b| b.has_reasons);
        let mrr_at = |mrr: &[i64], p: usize| if p >= lo && p < hi { mrr[p - lo] } else { 0 };
        let held_at = |held: &[i64], p: usize| has_held && p >= lo && p < hi && held[p - lo] > 0;

        let window = self.options.window.unwrap_or(0);
        let snapshot = self.options.mode == Mode::Snapshot;
        let free = self.options.free_is_active;
        let active_at = |mrr: &[i64], subs: &[i32], held: &[i64], p: usize| {
            p >= lo
                && p < hi
                && (mrr[p - lo] > 0 || (free && subs[p - lo] > 0) || (has_held && held[p - lo] > 0))
        };
        let snapshot_before = |p: usize| {
            if p == 0 {
                i64::MIN
            } else {
                grid.snapshots[p - 1]
            }
        };
        let mut was_active = false;
        let mut was_logo_active = false;
        if span > 0 {
            let last = (hi + window).min(n - 1);
            for p in lo..=last {
                let previous = if p == 0 { 0 } else { mrr_at(&self.mrr, p - 1) };
                let current = mrr_at(&self.mrr, p);
                let held_before = p > 0 && held_at(&self.held, p - 1);
                let held_now = held_at(&self.held, p);
                if p >= grid.report_first {
                    let active_subs = if p >= lo && p < hi {
                        self.active[p - lo]
                    } else {
                        0
                    };
                    let base = if window > 0 && p >= window {
                        mrr_at(&self.mrr, p - window)
                    } else {
                        0
                    };
                    let movement =
                        Movement::classify(previous, current, was_active, (held_before, held_now));
                    let logo_before =
                        p > 0 && active_at(&self.mrr, &self.active, &self.held, p - 1);
                    let logo_now = active_at(&self.mrr, &self.active, &self.held, p);
                    let lost_reason = if has_reasons && logo_before && !logo_now {
                        churn_reason(data, rows, grid.snapshots[p - 1], grid.snapshots[p])
                    } else {
                        0
                    };
                    let committed = if billing.is_some_and(|b| b.has_cancel) && totals {
                        mrr_at(&self.committed, p)
                    } else {
                        0
                    };
                    let (net, contract) = if billing.is_some_and(|b| b.with_contract) {
                        (mrr_at(&self.net, p), mrr_at(&self.contract, p))
                    } else {
                        (0, 0)
                    };
                    let reason = match movement {
                        Some(Movement::Churned) if snapshot && has_reasons => {
                            churn_reason(data, rows, grid.snapshots[p - 1], grid.snapshots[p])
                        }
                        _ => 0,
                    };
                    let cell = self.cell(group, p);
                    if previous > 0 {
                        cell[field::STARTING_MRR] += previous as i128;
                        cell[field::STARTING_CUSTOMERS] += 1;
                        cell[field::RETAINED_GROSS] += previous.min(current) as i128;
                        cell[field::RETAINED_NET] += current as i128;
                    }
                    if current > 0 {
                        cell[field::ENDING_MRR] += current as i128;
                        cell[field::ENDING_CUSTOMERS] += 1;
                    }
                    if current > 0 || (free && active_subs > 0) || held_now {
                        cell[field::ACTIVE_CUSTOMERS] += 1;
                    }
                    if held_now && current == 0 {
                        cell[field::PAUSED_CUSTOMERS] += 1;
                    }
                    cell[field::COMMITTED_MRR] += committed as i128;
                    cell[field::NET_MRR] += net as i128;
                    cell[field::CONTRACT_MRR] += contract as i128;
                    if logo_before {
                        cell[field::LOGO_START] += 1;
                        if !logo_now {
                            cell[field::LOGO_LOST] += 1;
                            cell[field::LOGO_LOST_REASON + lost_reason as usize] += 1;
                        }
                    } else if logo_now {
                        let f = if was_logo_active {
                            field::LOGO_REACTIVATED
                        } else {
                            field::LOGO_NEW
                        };
                        cell[f] += 1;
                    }
                    if base > 0 {
                        cell[field::WINDOW_BASE] += base as i128;
                        cell[field::WINDOW_GROSS] += base.min(current) as i128;
                        cell[field::WINDOW_NET] += current as i128;
                    }
                    if snapshot {
                        if let Some(kind) = movement {
                            let amount = (current - previous).abs() as i128;
                            cell[field::MOVEMENT + kind as usize] += amount;
                            cell[field::MOVEMENT_CUSTOMERS + kind as usize] += 1;
                            if kind == Movement::Churned {
                                cell[field::CHURN_REASON_MRR + reason as usize] += amount;
                                cell[field::CHURN_REASON_CUSTOMERS + reason as usize] += 1;
                            }
                            if self.options.wanted.movements {
                                let cause = match kind {
                                    Movement::New => Cause::New as u8,
                                    Movement::Churned => Cause::Churn as u8,
                                    Movement::Reactivation => Cause::Reactivation as u8,
                                    Movement::Expansion | Movement::Contraction => movement_cause(
                                        data,
                                        rows,
                                        snapshot_before(p),
                                        grid.snapshots[p],
                                        kind == Movement::Expansion,
                                    ),
                                };
                                self.movements.push(MovementRow {
                                    customer,
                                    period: (p - grid.report_first) as u32,
                                    kind,
                                    previous,
                                    current,
                                    cause,
                                    reason,
                                });
                            }
                        }
                    }
                    if self.options.wanted.panel
                        && (current > 0 || (free && active_subs > 0) || held_now)
                    {
                        self.panel.push(PanelRow {
                            customer,
                            period: (p - grid.report_first) as u32,
                            mrr: current,
                        });
                        if billing.is_some() {
                            self.panel_extra
                                .push((net, contract, held_now && current == 0));
                        }
                    }
                }
                was_active |= current > 0;
                was_logo_active |= active_at(&self.mrr, &self.active, &self.held, p);
            }
        }
        if !snapshot {
            let flags: Vec<bool> = (0..self.grid.len())
                .map(|p| active_at(&self.mrr, &self.active, &self.held, p))
                .collect();
            self.events_mode(customer, group, rows, &flags);
        }
    }

    /// Every netted change of the customer's MRR is a movement in the period it happens.
    fn events_mode(&mut self, customer: u32, group: usize, rows: &[u32], active_at_end: &[bool]) {
        let grid = self.grid;
        let data = self.data;
        let billing = data.billing.as_ref();
        let has_reasons = billing.is_some_and(|b| b.has_reasons);
        self.events.clear();
        for &r in rows {
            let r = r as usize;
            let held = i64::from(billing.is_some_and(|b| b.has_status && b.held[r]));
            if (data.units[r] == 0 && held == 0) || data.start[r] > grid.as_of {
                continue;
            }
            let (start_cause, end_cause) =
                billing.map_or((Cause::Plan as u8, Cause::Plan as u8), |b| {
                    let plan = Cause::Plan as u8;
                    let cause = |c: &[u8]| c.get(r).copied().unwrap_or(plan);
                    (cause(&b.start_cause), cause(&b.end_cause))
                });
            self.events.push(Event {
                instant: data.start[r],
                units: data.units[r],
                held,
                cause: start_cause,
                row: r as u32,
            });
            if data.end[r] <= grid.as_of {
                self.events.push(Event {
                    instant: data.end[r],
                    units: -data.units[r],
                    held: -held,
                    cause: end_cause,
                    row: r as u32,
                });
            }
        }
        self.events
            .sort_unstable_by_key(|e| (e.instant, e.units, e.row));
        let mut mrr = 0i64;
        let mut held = 0i64;
        let mut was_active = false;
        let mut counted: (usize, u8) = (usize::MAX, 0); // (period, kinds already counted)
        let mut within_counted = usize::MAX; // last period counted in LOGO_WITHIN
        let mut i = 0;
        while i < self.events.len() {
            let instant = self.events[i].instant;
            let mut change = 0i64;
            let mut held_change = 0i64;
            let mut by_cause = [0i64; 8];
            let mut ending: Option<(i64, u32)> = None;
            while i < self.events.len() && self.events[i].instant == instant {
                let e = self.events[i];
                change += e.units;
                held_change += e.held;
                by_cause[e.cause as usize] += e.units;
                if e.units < 0 || e.held < 0 {
                    let key = (-e.units, e.row);
                    if ending.is_none_or(|x| key > x) {
                        ending = Some(key);
                    }
                }
                i += 1;
            }
            let (previous, current) = (mrr, mrr + change);
            let (held_before, held_now) = (held > 0, held + held_change > 0);
            mrr = current;
            held += held_change;
            if change == 0 && !(held_before && !held_now && current == 0 && previous == 0) {
                continue;
            }
            let kind = Movement::classify(previous, current, was_active, (held_before, held_now));
            was_active |= current > 0;
            let p = grid.period_of(instant);
            if current > 0 && p >= grid.report_first && within_counted != p {
                // Paying at an instant of p, but active neither at its start nor its end.
                let at_start = p > 0 && active_at_end[p - 1];
                if !at_start && !active_at_end[p] {
                    within_counted = p;
                    self.cell(group, p)[field::LOGO_WITHIN] += 1;
                }
            }
            let (Some(kind), true) = (kind, p >= grid.report_first) else {
                continue;
            };
            if counted.0 != p {
                counted = (p, 0);
            }
            let first_of_kind = counted.1 & (1 << kind as u8) == 0;
            counted.1 |= 1 << kind as u8;
            let reason = match (kind, ending, billing) {
                (Movement::Churned, Some((_, row)), Some(b)) if has_reasons => {
                    b.reason[row as usize]
                }
                _ => 0,
            };
            let cause = match kind {
                Movement::New => Cause::New as u8,
                Movement::Churned => Cause::Churn as u8,
                Movement::Reactivation => Cause::Reactivation as u8,
                _ => best_cause(&by_cause, kind == Movement::Expansion),
            };
            let cell = self.cell(group, p);
            let amount = (current - previous).abs() as i128;
            cell[field::MOVEMENT + kind as usize] += amount;
            if first_of_kind {
                cell[field::MOVEMENT_CUSTOMERS + kind as usize] += 1;
            }
            if kind == Movement::Churned {
                cell[field::CHURN_REASON_MRR + reason as usize] += amount;
                if first_of_kind {
                    cell[field::CHURN_REASON_CUSTOMERS + reason as usize] += 1;
                }
            }
            if self.options.wanted.movements {
                self.movements.push(MovementRow {
                    customer,
                    period: (p - grid.report_first) as u32,
                    kind,
                    previous,
                    current,
                    cause,
                    reason,
                });
            }
        }
    }
}
