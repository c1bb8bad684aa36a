//! Unit tests of block counting's key reading.

use polars::prelude::*;

use super::*;

#[test]
fn pieces_cut_at_every_chunk_boundary() {
    let mut a = Series::new("a".into(), [1i32, 2, 3]);
    a.append(&Series::new("a".into(), [4i32, 5])).unwrap();
    let mut b = Series::new("b".into(), [1i64]);
    b.append(&Series::new("b".into(), [2i64, 3, 4, 5])).unwrap();
    type Cut = (usize, usize, Vec<(usize, usize)>);
    let got: Vec<Cut> = pieces(&[&a, &b], 2)
        .into_iter()
        .map(|p| (p.start, p.len, p.at))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 1, vec![(0, 0), (0, 0)]),
            (1, 2, vec![(0, 1), (1, 0)]),
            (3, 2, vec![(1, 0), (1, 2)]),
        ]
    );
}
