//! Unit tests of the key encodings and the grouping.

use polars::prelude::*;

use super::encode::encode_column;
use super::ranked::{key_in_value_order, ranked_integer_codes};
use super::strings::dictionary_by_label;
use super::*;
use crate::parallel::chunks;

#[test]
fn string_keys_read_in_their_chunks_code_as_in_one() {
    // Sorted, shuffled mostly distinct, and repeating values (with a long string and a
    // null), each split into uneven chunks (one empty): the codes and labels of one chunk.
    let long = "a string longer than twelve bytes";
    let cases: Vec<Vec<Option<String>>> = vec![
        (0..9000).map(|i| Some(format!("id{i:05}"))).collect(),
        (0..9000)
            .map(|i| Some(format!("id{:05}", (i * 7919) % 9000)))
            .collect(),
        (0..9000)
            .map(|i| match i % 5 {
                0 => None,
                1 => Some(long.to_string()),
                _ => Some(format!("s{}", i % 37)),
            })
            .collect(),
    ];
    for values in cases {
        let whole = StringChunked::new("k".into(), &values);
        let mut chunked = StringChunked::new("k".into(), &values[..10]);
        for (lo, hi) in [(10, 10), (10, 4100), (4100, 4101), (4101, 9000)] {
            chunked
                .append(&StringChunked::new("k".into(), &values[lo..hi]))
                .unwrap();
        }
        assert!(chunked.chunks().len() > 3);
        let (a, b) = (whole.into_column(), chunked.into_column());
        let (x, y) = (
            key_in_value_order(&a).unwrap(),
            key_in_value_order(&b).unwrap(),
        );
        assert_eq!(x.codes, y.codes);
        assert!(x
            .labels
            .as_materialized_series()
            .equals_missing(y.labels.as_materialized_series()));
        let (x, y) = (encode_column(&a).unwrap(), encode_column(&b).unwrap());
        assert_eq!(x.codes, y.codes);
        assert!(x
            .labels
            .as_materialized_series()
            .equals_missing(y.labels.as_materialized_series()));
    }
    // Integer ids in chunks rank as in one.
    let ids: Vec<u32> = (0..9000).map(|i| (i * 7919) % 9001).collect();
    let whole = UInt32Chunked::from_vec("id".into(), ids.clone()).into_column();
    let mut chunked = UInt32Chunked::from_vec("id".into(), ids[..5000].to_vec());
    chunked
        .append(&UInt32Chunked::from_vec("id".into(), ids[5000..].to_vec()))
        .unwrap();
    let (x, y) = (
        ranked_integer_codes(&whole).unwrap().unwrap(),
        ranked_integer_codes(&chunked.into_column())
            .unwrap()
            .unwrap(),
    );
    assert_eq!(x.0, y.0);
    assert_eq!(x.0[0], 0); // id 0 has rank 0
    assert!(x
        .1
        .as_materialized_series()
        .equals(y.1.as_materialized_series()));
}

#[test]
fn dictionary_codes_renumbered_by_label() {
    // Codes 7, 2, 5 hold "pear", "apple", "fig"; code 3 is not in the dictionary (null).
    let codes = UInt32Chunked::from_vec("".into(), vec![7, 2, 5, 3]);
    let labels = StringChunked::new("".into(), &[Some("pear"), Some("apple"), Some("fig"), None]);
    let mut rows = UInt32Chunked::new("id".into(), &[Some(7), None, Some(2), Some(5), Some(7)]);
    rows.append(&UInt32Chunked::new("id".into(), &[Some(5)]))
        .unwrap();
    let (ranked, order) = dictionary_by_label(&rows, &codes, &labels).unwrap();
    // apple < fig < pear: ranks 0, 1, 2.
    assert_eq!(ranked.dtype(), &DataType::UInt8);
    let ranked = ranked.cast(&DataType::UInt32).unwrap();
    let got: Vec<Option<u32>> = ranked.u32().unwrap().iter().collect();
    assert_eq!(got, vec![Some(2), None, Some(0), Some(1), Some(2), Some(1)]);
    assert_eq!(ranked.chunks().len(), 2);
    assert_eq!(order.into_no_null_iter().collect::<Vec<_>>(), vec![2, 5, 7]);
    // A row code outside the dictionary is an error, not a panic.
    let stray = UInt32Chunked::from_vec("id".into(), vec![3]);
    assert!(dictionary_by_label(&stray, &codes, &labels).is_err());
}

fn ids(columns: &[Column]) -> Vec<u32> {
    let keys: Vec<EncodedKey> = columns.iter().map(|c| encode_column(c).unwrap()).collect();
    group_rows(&keys, columns[0].len()).ids
}

#[test]
fn ids_follow_first_appearance_and_combine_columns() {
    let a = Column::new("a".into(), ["x", "y", "x", "y", "x"]);
    let b = Column::new("b".into(), [Some(1i64), Some(1), Some(2), Some(1), None]);
    let keys = vec![encode_column(&a).unwrap(), encode_column(&b).unwrap()];
    let groups = group_rows(&keys, 5);
    // Codes: a x=0 y=1; b 1=0 2=1 null=2. Cells a*3+b: 0, 3, 1, 3, 2 -> dense 0, 3, 1, 3, 2.
    assert_eq!(groups.ids, vec![0, 3, 1, 3, 2]);
    let (frame, order) = sorted_keys(&keys, &groups).unwrap();
    // (x,1) (x,2) (x,null) (y,1)
    assert_eq!(order, vec![0, 1, 2, 3]);
    assert_eq!(frame.height(), 4);
    let b_sorted: Vec<Option<i64>> = frame.column("b").unwrap().i64().unwrap().iter().collect();
    assert_eq!(b_sorted, vec![Some(1), Some(2), None, Some(1)]);
}

#[test]
fn floats_and_booleans_group_by_value() {
    assert_eq!(
        ids(&[Column::new(
            "f".into(),
            [0.0f64, -0.0, f64::NAN, f64::NAN, 1.5]
        )]),
        vec![0, 0, 1, 1, 2]
    );
    assert_eq!(
        ids(&[Column::new("b".into(), [true, false, true])]),
        vec![0, 1, 0]
    );
}

#[test]
fn parallel_encoding_equals_sequential_numbering() {
    // Large enough to be split across threads; codes must be numbered by first appearance.
    let rows = 200_000;
    let values: Vec<String> = (0..rows)
        .map(|i| format!("v{}", (i * 7919) % 1013))
        .collect();
    let key = encode_column(&Column::new("s".into(), values.clone())).unwrap();
    let mut seen = std::collections::HashMap::new();
    let expected: Vec<u32> = values
        .iter()
        .map(|v| {
            let next = seen.len() as u32;
            *seen.entry(v.clone()).or_insert(next)
        })
        .collect();
    assert_eq!(key.codes, expected);
    assert_eq!(key.labels.len(), 1013);
}

#[test]
fn many_columns_fall_back_to_hashing() {
    let rows = 1000;
    let cols: Vec<Column> = (0..4)
        .map(|k| {
            Column::new(
                format!("c{k}").into(),
                (0..rows as i64)
                    .map(|i| i * (k + 7) % 997)
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let keys: Vec<EncodedKey> = cols.iter().map(|c| encode_column(c).unwrap()).collect();
    assert_eq!(group_rows(&keys, rows).count(), 997);
}

#[test]
fn chunking_covers_all_rows() {
    assert_eq!(chunks(10, 3), vec![0..4, 4..8, 8..10]);
    assert!(chunks(0, 2).is_empty());
}

#[test]
fn short_and_long_string_keys_rank_in_byte_order() {
    // Mostly distinct values (the sorting path), all of at most 8 bytes (one integer key per
    // row) or some longer: either way each row's code is the rank of its value among the
    // distinct values in byte order, NUL bytes and prefixes of each other included.
    let short: Vec<String> = (0..6000u32)
        .map(|i| match i % 7 {
            0 => format!("{}", i * 13 % 5000),
            1 => format!("{}\0", i * 13 % 5000),
            2 => String::new(),
            _ => format!("{:x}", (i * 7919) % 6007),
        })
        .collect();
    let long: Vec<String> = short
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i % 11 == 0 {
                format!("{s}-a-longer-value")
            } else {
                s.clone()
            }
        })
        .collect();
    for values in [short, long] {
        let column = StringChunked::new("k".into(), &values).into_column();
        let key = key_in_value_order(&column).unwrap();
        let mut distinct: Vec<&str> = values.iter().map(String::as_str).collect();
        distinct.sort_unstable();
        distinct.dedup();
        for (row, value) in values.iter().enumerate() {
            let rank = distinct.binary_search(&value.as_str()).unwrap();
            assert_eq!(key.codes[row] as usize, rank, "row {row}: {value:?}");
        }
        let labels: Vec<Option<&str>> = key.labels.str().unwrap().iter().collect();
        assert_eq!(
            labels,
            distinct.iter().map(|s| Some(*s)).collect::<Vec<_>>()
        );
    }
}

#[test]
fn many_rows_of_short_strings_code_in_order_of_first_appearance_through_partitions() {
    // 1.2M rows (past the partitioned coding's threshold) of 50,000 short ids in a scrambled
    // order, in three chunks: the codes of a plain first-appearance numbering.
    fn first_appearance(values: &[String]) -> (Vec<u32>, Vec<String>) {
        let mut seen = std::collections::HashMap::new();
        let mut labels = Vec::new();
        let codes = values
            .iter()
            .map(|v| {
                let next = seen.len() as u32;
                *seen.entry(v.as_str()).or_insert_with(|| {
                    labels.push(v.clone());
                    next
                })
            })
            .collect();
        (codes, labels)
    }
    fn labels_of(key: &EncodedKey) -> Vec<String> {
        let labels = key.labels.str().unwrap();
        labels
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect()
    }
    let rows = 1_200_000usize;
    let values: Vec<String> = (0..rows)
        .map(|i| format!("c{}", (i.wrapping_mul(2_654_435_761) >> 7) % 50_000))
        .collect();
    let (expected, labels) = first_appearance(&values);
    let mut ca = StringChunked::new("k".into(), &values[..400_000]);
    ca.append(&StringChunked::new("k".into(), &values[400_000..1_000_000]))
        .unwrap();
    ca.append(&StringChunked::new("k".into(), &values[1_000_000..]))
        .unwrap();
    assert_eq!(ca.chunks().len(), 3);
    let column = ca.into_series().into_column();
    let key = encode_column(&column).unwrap();
    assert_eq!(key.codes, expected);
    assert_eq!(labels_of(&key), labels);
    // In value order: codes are the ranks of the sorted labels.
    let ranked = key_in_value_order(&column).unwrap();
    let mut sorted = labels.clone();
    sorted.sort();
    let rank: std::collections::HashMap<&str, u32> = sorted
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let by_rank: Vec<u32> = values.iter().map(|v| rank[v.as_str()]).collect();
    assert_eq!(ranked.codes, by_rank);
    // One long string among them: the hashed path, the same numbering.
    let mut with_long = values.clone();
    with_long[7] = "a string longer than twelve bytes".into();
    let (expected, labels) = first_appearance(&with_long);
    let long_key = encode_column(&Column::new("k".into(), &with_long)).unwrap();
    assert_eq!(long_key.codes, expected);
    assert_eq!(labels_of(&long_key), labels);
}
