//! Hand-computed checks of the feedback family.

use polars::prelude::*;

use super::*;
use crate::error::CsError;

fn words(options: &TokenOptions, text: &str) -> Vec<String> {
    tokenize(text, options).unwrap_or_default()
}

fn plain(ngrams: usize) -> TokenOptions {
    TokenOptions {
        ngrams,
        stop_words: StopWords::None,
    }
}

#[test]
fn tokens_fold_case_keep_accents_and_stop_at_sentences() {
    assert_eq!(
        words(&plain(2), "Straße ist GROSS. Ça marche!"),
        [
            "strasse",
            "ist",
            "gross",
            "strasse ist",
            "ist gross",
            "ça",
            "marche",
            "ça marche"
        ]
    );
    assert_eq!(
        words(&plain(1), "Não consegui acessar o relatório"),
        ["não", "consegui", "acessar", "o", "relatório"]
    );
    assert_eq!(
        words(&plain(1), "Aplicația se BLOCHEAZĂ des"),
        ["aplicația", "se", "blochează", "des"]
    );
    assert_eq!(
        words(&plain(1), "الخدمة ممتازة جدا، شكرا"),
        ["الخدمة", "ممتازة", "جدا", "شكرا"]
    );
    // Digits and punctuation alone are dropped; a word with a digit in it stays.
    assert_eq!(
        words(&plain(1), "Version 2 costs $30 on v2"),
        ["version", "costs", "on", "v2"]
    );
    // English stop words go, negations stay, and bigrams join the tokens that remain.
    assert_eq!(
        words(&TokenOptions::default(), "The app is not working"),
        ["app", "not", "working", "app not", "not working"]
    );
    let custom = TokenOptions {
        ngrams: 1,
        stop_words: StopWords::Custom(vec!["APP".into()]),
    };
    assert_eq!(words(&custom, "The app works"), ["the", "works"]);
    assert!(matches!(
        tokenize("x", &plain(0)),
        Err(CsError::InvalidOption { .. })
    ));
}

fn responses() -> DataFrame {
    df!(
        "score" => [10, 9, 3, 2, 8, 10],
        "comment" => [
            Some("great support"),
            Some("fast"),
            Some("SUPPORT was slow"),
            Some("billing error"),
            Some("supportive team"),
            None,
        ],
        "segment" => ["a", "a", "a", "b", "b", "b"],
    )
    .unwrap_or_default()
}

fn dictionary() -> Vec<(String, Vec<String>)> {
    vec![
        ("support".into(), vec!["support".into()]),
        ("billing".into(), vec!["billing".into(), "invoices?".into()]),
        ("anything".into(), vec![r"\w+".into()]),
    ]
}

fn floats(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
    frame
        .column(name)
        .and_then(|c| c.f64().map(|c| c.iter().collect()))
        .unwrap_or_default()
}

fn strings(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    frame
        .column(name)
        .and_then(|c| {
            c.str()
                .map(|c| c.iter().map(|v| v.map(String::from)).collect())
        })
        .unwrap_or_default()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn themes_impact_matches_its_identity() -> crate::Result<()> {
    let result = themes(&responses(), &dictionary(), &ThemeOptions::default())?;
    // Overall 3 promoters, 2 detractors of 6: 16.67. Anything (\w+): rows 0-4 (row 5 has no
    // comment): 2 promoters, 2 detractors: 0; without it, row 5 alone: 100; impact -83.33.
    // Billing: row 3 alone (a detractor): -100; the other five: 3 promoters, 1 detractor = 40;
    // impact -23.33. Support: rows 0 and 2 ("supportive" is another word): 0; the rest 25.
    assert_eq!(
        strings(&result, "theme"),
        [
            Some("anything".into()),
            Some("billing".into()),
            Some("support".into())
        ]
    );
    let overall = 100.0 / 6.0;
    let nps = floats(&result, "nps");
    let impact = floats(&result, "nps_impact");
    assert!(close(nps[0], 0.0) && close(impact[0], overall - 100.0));
    assert!(close(nps[1], -100.0) && close(impact[1], overall - 40.0));
    assert!(close(nps[2], 0.0) && close(impact[2], overall - 25.0));
    let mentions: Vec<Option<i64>> = result.column("mentions")?.i64()?.iter().collect();
    assert_eq!(mentions, [Some(5), Some(1), Some(2)]);
    // The identity of the contract: impact = n_t (NPS_t - NPS) / (N - n_t).
    for (i, n_t) in [5.0, 1.0, 2.0].iter().enumerate() {
        let identity = n_t * (nps[i].unwrap_or(f64::NAN) - overall) / (6.0 - n_t);
        assert!(close(impact[i], identity));
    }
    Ok(())
}

#[test]
fn themes_by_segment_and_null_impact_when_all_mention() -> crate::Result<()> {
    let options = ThemeOptions {
        by: vec!["segment".into()],
        ..Default::default()
    };
    let result = themes(&responses(), &dictionary(), &options)?;
    assert_eq!(result.height(), 6);
    // Segment a: rows 0-2, all commented: "anything" is mentioned by all, impact null (last).
    let impact = floats(&result, "nps_impact");
    assert_eq!(strings(&result, "theme")[2], Some("anything".into()));
    assert_eq!(impact[2], None);
    // Segment a, support: rows 0 (10) and 2 (3): 0; without: row 1 (9): 100; overall 33.33.
    assert_eq!(strings(&result, "theme")[0], Some("support".into()));
    assert!(close(impact[0], 100.0 / 3.0 - 100.0));
    Ok(())
}

#[test]
fn themes_csat_mean_and_top_box() -> crate::Result<()> {
    let frame =
        df!("score" => [5, 4, 1, 2], "comment" => ["slow app", "fine", "app crashed", "ok"])?;
    let options = ThemeOptions {
        score_type: ScoreKind::Csat,
        ..Default::default()
    };
    let dictionary = vec![("app".to_string(), vec!["app".to_string()])];
    let result = themes(&frame, &dictionary, &options)?;
    // App: scores 5 and 1: mean 3, top-two share 1/2; overall 2/4; the rest (4, 2): 1/2.
    assert!(close(floats(&result, "mean_score")[0], 3.0));
    assert!(close(floats(&result, "csat")[0], 0.5));
    assert!(close(floats(&result, "csat_impact")[0], 0.0));
    assert!(close(floats(&result, "mean_score_overall")[0], 3.0));
    Ok(())
}

#[test]
fn bad_dictionaries_name_the_pattern() {
    let frame = responses();
    let empty: Vec<(String, Vec<String>)> = Vec::new();
    let message = |d: &[(String, Vec<String>)]| match themes(&frame, d, &ThemeOptions::default()) {
        Err(e) => e.to_string(),
        Ok(_) => String::new(),
    };
    assert!(message(&empty).contains("at least one theme"));
    let broken = vec![("billing".to_string(), vec!["invoice(".to_string()])];
    let text = message(&broken);
    assert!(
        text.contains("invoice(") && text.contains("billing"),
        "{text}"
    );
    let numbers = df!("score" => [9], "comment" => [3])
        .map(|f| themes(&f, &dictionary(), &ThemeOptions::default()));
    assert!(matches!(numbers, Ok(Err(CsError::InvalidType { .. }))));
}

#[test]
fn log_odds_check_value_of_the_contract() -> crate::Result<()> {
    let frame = df!(
        "comment" => [
            "the quick brown fox jumps over the lazy pig",
            "the lazy purple pig jumps over the lazier donkey",
        ],
        "g" => ["i", "j"],
    )?;
    let options = TermOptions {
        between: Between::Column("g".into()),
        prior: Prior::Constant(0.05),
        tokens: plain(1),
        top: None,
        ..Default::default()
    };
    let result = distinctive_terms(&frame, &options)?;
    let terms = strings(&result, "term");
    let z = floats(&result, "z");
    let z_of = |t: &str| {
        terms
            .iter()
            .position(|x| x.as_deref() == Some(t))
            .and_then(|i| z[i])
    };
    for word in ["quick", "brown", "fox"] {
        assert!((z_of(word).unwrap_or(0.0) - 0.6894227887).abs() < 1e-9);
    }
    for word in ["purple", "lazier", "donkey"] {
        assert!((z_of(word).unwrap_or(0.0) + 0.6894227887).abs() < 1e-9);
    }
    for word in ["the", "lazy", "pig", "jumps", "over"] {
        assert_eq!(z_of(word), Some(0.0));
    }
    assert_eq!(result.height(), 11);
    Ok(())
}

#[test]
fn log_odds_informative_prior_by_hand() -> crate::Result<()> {
    // Detractor "good good", promoter "bad", passive "meh". good: counts 2 / 0, prior 2;
    // bad: 0 / 1, prior 1; n_a = 2, n_b = 1; var 1/4 + 1/2 and 1 + 1/2.
    let frame = df!("comment" => ["good good", "bad", "meh"], "score" => [1, 10, 8])?;
    let options = TermOptions {
        tokens: plain(1),
        ..Default::default()
    };
    let result = distinctive_terms(&frame, &options)?;
    assert_eq!(
        strings(&result, "term"),
        [Some("good".into()), Some("bad".into())]
    );
    assert_eq!(
        strings(&result, "side"),
        [Some("detractor".into()), Some("promoter".into())]
    );
    // "meh" (a passive's) is in the background: a0 = 4; it is in neither group, so not listed.
    let good = (4.0f64 / (2.0 + 4.0 - 4.0)).ln() - (2.0f64 / (1.0 + 4.0 - 2.0)).ln();
    let bad = (1.0f64 / (2.0 + 4.0 - 1.0)).ln() - (2.0f64 / (1.0 + 4.0 - 2.0)).ln();
    let z = floats(&result, "z");
    assert!(close(z[0], good / (0.75f64).sqrt()));
    assert!(close(z[1], bad / (1.5f64).sqrt()));
    Ok(())
}

#[test]
fn vader_compound_of_known_sentences() {
    // "good" is 1.9 in the lexicon: 1.9 / sqrt(1.9^2 + 15).
    let norm = |x: f64| x / (x * x + 15.0).sqrt();
    assert!((compound("The book was good.") - norm(1.9)).abs() < 1e-12);
    assert!((compound("The book was not good.") - norm(1.9 * -0.74)).abs() < 1e-12);
    assert!((compound("The book was good!") - norm(1.9 + 0.292)).abs() < 1e-12);
    // "very" boosts by 0.293; ALL CAPS among lower-case words adds 0.733.
    assert!((compound("very good") - norm(1.9 + 0.293)).abs() < 1e-12);
    assert!((compound("the book was GOOD") - norm(1.9 + 0.733)).abs() < 1e-12);
    // "but": the clause before counts half, the one after one and a half.
    assert!((compound("good but bad") - norm(0.5 * 1.9 + 1.5 * -2.5)).abs() < 1e-12);
    assert_eq!(compound(""), 0.0);
    assert_eq!(compound("the table"), 0.0);
}

#[test]
fn sentiment_flags_mismatches() -> crate::Result<()> {
    let frame = df!(
        "comment" => [Some("terrible, awful support"), Some("I love it"), None, Some("great")],
        "score" => [Some(10), Some(2), Some(9), None],
    )?;
    let result = sentiment(&frame, &SentimentOptions::default())?;
    let labels = strings(&result, "sentiment");
    assert_eq!(
        labels,
        [
            Some("negative".into()),
            Some("positive".into()),
            None,
            Some("positive".into())
        ]
    );
    let mismatch: Vec<Option<bool>> = result.column("mismatch")?.bool()?.iter().collect();
    assert_eq!(mismatch, [Some(true), Some(true), None, None]);
    Ok(())
}

#[test]
fn quotes_pick_the_most_distinctive_then_shortest() -> crate::Result<()> {
    let frame = df!(
        "comment" => [
            "billing invoice wrong",
            "billing wrong",
            "billing",
            "fast support",
            "billing invoice wrong again twice",
        ],
        "score" => [1, 2, 3, 10, 0],
    )?;
    let dictionary = vec![("billing".to_string(), vec!["billing".to_string()])];
    let options = QuoteOptions {
        k: 2,
        tokens: plain(1),
        ..Default::default()
    };
    let result = quotes(&frame, &dictionary, &options)?;
    // Detractors mentioning billing: rows 0, 1, 2, 4. Every word of theirs but "fast" and
    // "support" leans to the theme; row 4 has the most (5 terms), then row 0 (3).
    let rows: Vec<Option<i64>> = result.column("row")?.i64()?.iter().collect();
    assert_eq!(rows, [Some(4), Some(0)]);
    let matched: Vec<Option<i64>> = result.column("matched")?.i64()?.iter().collect();
    assert_eq!(matched, [Some(5), Some(3)]);
    Ok(())
}
