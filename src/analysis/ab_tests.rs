//! erfc against reference values, the z-test against hand-computed cases,
//! and the verdict table (significant either way, not significant, no
//! errors, no requests, weak approximation), text and JSON.

use super::*;

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs()
}

#[test]
fn erfc_matches_reference_values() {
    // Reference values: erfc from a 50-digit evaluation (mpmath), rounded.
    let table = [
        (0.0, 1.0),
        (0.1, 0.887_537_083_981_715),
        (0.5, 0.479_500_122_186_953),
        (1.0, 0.157_299_207_050_285),
        (2.0, 4.677_734_981_047_266e-3),
        (3.0, 2.209_049_699_858_544e-5),
        (5.0, 1.537_459_794_428_035e-12),
        (-1.0, 1.842_700_792_949_715),
        (-3.0, 1.999_977_909_503_001),
    ];
    for (x, want) in table {
        assert!(
            close(erfc(x), want, 1.2e-7),
            "erfc({x}) = {} want {want}",
            erfc(x)
        );
    }
}

#[test]
fn z_test_known_case() {
    // 50/1000 vs 80/1000: pooled 0.065, se = sqrt(0.065*0.935*0.002) = 0.0110250,
    // z = -0.03 / 0.0110250 = -2.72109, p = erfc(2.72109/sqrt 2) = 0.0065066.
    let (z, p) = two_proportion_z(50, 1000, 80, 1000).unwrap();
    let z = z.unwrap();
    assert!(close(z, -2.721_09, 1e-5), "z = {z}");
    assert!(close(p, 0.006_506_6, 1e-4), "p = {p}");
    let (z2, p2) = two_proportion_z(80, 1000, 50, 1000).unwrap();
    assert!(
        close(z2.unwrap(), 2.721_09, 1e-5) && close(p2, p, 1e-12),
        "symmetric"
    );
}

#[test]
fn z_test_edges() {
    assert_eq!(two_proportion_z(0, 0, 1, 10), None);
    assert_eq!(two_proportion_z(0, 10, 0, 10), Some((None, 1.0)));
    assert_eq!(two_proportion_z(10, 10, 5, 5), Some((None, 1.0)));
    let (z, p) = two_proportion_z(5, 100, 5, 100).unwrap();
    assert_eq!((z, p), (Some(0.0), 1.0));
}

fn counts(requests: u64, errors_5xx: u64) -> VariantCounts {
    VariantCounts {
        requests,
        errors_5xx,
        ..Default::default()
    }
}

fn judge(b: VariantCounts, g: VariantCounts) -> AbReport {
    report(("tg-blue", &b), ("tg-green", &g), DEFAULT_ALPHA).unwrap()
}

#[test]
fn verdict_table() {
    let table = [
        (
            counts(1000, 80),
            counts(1000, 50),
            Outcome::GreenBetter,
            "green did better",
        ),
        (
            counts(1000, 50),
            counts(1000, 80),
            Outcome::BlueBetter,
            "blue did better",
        ),
        (
            counts(1000, 50),
            counts(1000, 60),
            Outcome::NoSignificantDifference,
            "no significant",
        ),
        (
            counts(1000, 0),
            counts(1000, 0),
            Outcome::NoSignificantDifference,
            "no errors in either",
        ),
        (
            counts(0, 0),
            counts(1000, 5),
            Outcome::InsufficientData,
            "blue received no requests",
        ),
        (
            counts(0, 0),
            counts(0, 0),
            Outcome::InsufficientData,
            "blue and green",
        ),
        (
            counts(10, 10),
            counts(10, 10),
            Outcome::NoSignificantDifference,
            "every request failed",
        ),
    ];
    for (b, g, outcome, text) in table {
        let r = judge(b, g);
        assert_eq!(r.outcome, outcome, "{b:?} {g:?}: {}", r.verdict);
        assert!(r.verdict.contains(text), "{}", r.verdict);
    }
}

#[test]
fn no_errors_in_either_is_p_one() {
    let r = judge(counts(500, 0), counts(700, 0));
    assert_eq!(r.test.p_value, Some(1.0));
    assert!(!r.test.significant);
}

#[test]
fn alpha_decides_significance() {
    let (b, g) = (counts(1000, 50), counts(1000, 80));
    let strict = report(("b", &b), ("g", &g), 0.001).unwrap();
    assert_eq!(strict.outcome, Outcome::NoSignificantDifference);
    assert!(report(("b", &b), ("g", &g), 0.01).unwrap().test.significant);
    for bad in [0.0, 1.0, -0.1, f64::NAN] {
        let e = report(("b", &b), ("g", &g), bad).unwrap_err();
        assert!(e.contains("between 0 and 1"), "{e}");
    }
}

#[test]
fn weak_approximation_is_flagged() {
    let small = judge(counts(40, 1), counts(40, 6));
    assert!(small.test.weak_approximation);
    assert!(small.notes[0].contains("normal approximation is weak"));
    let big = judge(counts(1000, 50), counts(1000, 80));
    assert!(!big.test.weak_approximation && big.notes.is_empty());
    assert!(
        !judge(counts(0, 0), counts(10, 1)).test.weak_approximation,
        "no test, no note"
    );
}

#[test]
fn errors_above_requests_are_capped() {
    let r = judge(counts(10, 20), counts(10, 0));
    assert_eq!((r.blue.errors_5xx, r.blue.error_rate), (10, Some(1.0)));
}

#[test]
fn text_is_side_by_side() {
    let mut b = counts(1000, 50);
    b.p50_ms = Some(12.4);
    b.p99_ms = Some(250.0);
    let r = judge(b, counts(1000, 80));
    let text = render_text(&r);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("blue") && lines[0].contains("green"));
    assert!(text.contains("5xx rate       5.00%"), "{text}");
    assert!(text.contains("latency p50    12 ms"), "{text}");
    assert!(text.contains("unknown"), "green latency unknown: {text}");
    assert!(text.contains("z = -2.72, p = 0.0065"), "{text}");
    assert!(text.contains("verdict: blue did better"), "{text}");
}

#[test]
fn json_shape() {
    let r = judge(counts(1000, 50), counts(1000, 80));
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["outcome"], "blue-better");
    assert_eq!(v["blue"]["requests"], 1000);
    assert_eq!(v["green"]["error_rate"], 0.08);
    assert!(v["green"]["p50_ms"].is_null());
    assert!((v["test"]["p_value"].as_f64().unwrap() - 0.0065).abs() < 1e-4);
}

#[test]
fn p_values_keep_their_magnitude() {
    assert_eq!(fmt_p(0.006_508), "0.0065");
    assert_eq!(fmt_p(3.1e-9), "3.1e-9");
}
