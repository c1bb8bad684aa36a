//! The one-pass path of [`super::rfm_summary`]: most logs list each customer's purchases in
//! time order, and then one pass per range of customers accumulates the summary in place, with
//! no grouping of the rows. A purchase out of order sends the whole log down the general path
//! ([`super::grouped`]). `tests/clv.rs` (`rfm_summary_agrees_with_a_brute_force_summary_on_a_large_shuffled_log`)
//! checks both paths, on a log in time order and on the same log shuffled, against a summary
//! worked out purchase by purchase.

use super::{Log, Row, SummaryPart};
use crate::alloc::filled_buffer;
use crate::parallel::{parallel, work_ranges};

/// The summary parts of a log in time order per customer; None when a purchase is out of order.
pub(super) fn in_order(log: &Log<'_>) -> Option<Vec<SummaryPart>> {
    #[derive(Clone, Copy, Default)]
    struct State {
        seen: bool,
        first: i64,
        last: i64,
        row: Row,
        dropped: u32,
    }
    let parts = parallel(work_ranges(log.customers), |range| {
        let mut states = filled_buffer(range.len(), State::default());
        for (row, &s) in log.slots.iter().enumerate() {
            let s = s as usize;
            if !range.contains(&s) {
                continue;
            }
            let state = &mut states[s - range.start];
            if log.after(row) {
                state.dropped += 1;
                continue;
            }
            let position = log.merge.position(i64::from(log.days[row]));
            let value = log.amounts.map_or(0.0, |a| a[row]);
            if !state.seen {
                state.seen = true;
                state.first = position;
                state.last = position;
                continue;
            }
            if position < state.last {
                return None;
            }
            if position != state.last {
                state.last = position;
                if position <= log.split {
                    state.row.frequency += 1;
                    state.row.recency = position - state.first;
                } else {
                    state.row.holdout_frequency += 1;
                }
            }
            if position != state.first {
                if position <= log.split {
                    state.row.repeat_value += value;
                } else {
                    state.row.holdout_value += value;
                }
            }
        }
        let mut part = SummaryPart::with_capacity(range.len(), log.amounts.is_some(), log.holdout);
        for (i, state) in states.iter_mut().enumerate() {
            if state.seen && state.first <= log.split {
                state.row.age = log.split - state.first;
                part.push(
                    range.start + i,
                    &state.row,
                    log.unit,
                    log.count_dropped.then_some(state.dropped),
                );
            }
        }
        Some(part)
    });
    parts.into_iter().collect()
}
