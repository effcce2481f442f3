use super::*;

fn o(path: &str, blue: u16, bs: f64, green: Result<(u16, f64), String>) -> Outcome {
    Outcome {
        path: path.into(),
        blue_status: blue,
        blue_seconds: Some(bs),
        green,
        timed: true,
    }
}

const B: Bounds = Bounds {
    max_mismatch_bp: 500,
    max_latency_ratio_pct: 200,
};

#[test]
fn a_green_that_answers_like_blue_passes() {
    let v: Vec<Outcome> = (0..100)
        .map(|i| {
            o(
                &format!("/p{}", i % 3),
                200 + i % 4,
                0.004,
                Ok((200, 0.006)),
            )
        })
        .collect();
    let j = judge(&v, B);
    assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
    assert_eq!((j.replayed, j.mismatched), (100, 0));
    let l = j.latency.unwrap();
    assert_eq!(l.ratio, 1.0, "both under the floor: no difference");
    assert_eq!((l.blue_p50_ms, l.green_p50_ms), (4.0, 6.0));
}

#[test]
fn a_failing_path_comes_first_and_fails_the_run() {
    let mut v: Vec<Outcome> = (0..90)
        .map(|_| o("/ok", 200, 0.02, Ok((200, 0.02))))
        .collect();
    v.extend((0..8).map(|_| o("/broken", 200, 0.02, Ok((500, 0.02)))));
    v.extend((0..2).map(|_| o("/gone", 200, 0.02, Err("connection reset".into()))));
    v.push(o("/also-4xx", 404, 0.02, Ok((404, 0.02))));
    let j = judge(&v, B);
    assert_eq!(j.verdict, Verdict::Fail);
    assert_eq!(j.top_mismatching_paths[0].path, "/broken");
    assert_eq!(j.top_mismatching_paths[1].path, "/gone");
    assert_eq!(j.mismatched, 10);
    let reason = j.reason.unwrap();
    assert!(
        reason.contains("10 of 101") && reason.contains("/broken"),
        "{reason}"
    );
    let two = &j.by_class[0];
    assert_eq!(
        (two.class.as_str(), two.replayed, two.mismatched),
        ("2xx", 100, 10)
    );
    assert_eq!(j.by_class[1].mismatched, 0);
}

#[test]
fn mismatches_within_the_bound_pass() {
    let mut v: Vec<Outcome> = (0..96)
        .map(|_| o("/ok", 200, 0.02, Ok((201, 0.02))))
        .collect();
    v.extend((0..4).map(|_| o("/x", 200, 0.02, Ok((503, 0.02)))));
    assert_eq!(judge(&v, B).verdict, Verdict::Pass);
}

#[test]
fn slow_green_fails_on_the_ratio_above_the_floor() {
    let v: Vec<Outcome> = (0..50)
        .map(|_| o("/a", 200, 0.050, Ok((200, 0.150))))
        .collect();
    let j = judge(&v, B);
    assert_eq!(j.verdict, Verdict::Fail);
    assert_eq!(j.latency.as_ref().unwrap().ratio, 3.0);
    assert!(j.reason.unwrap().contains("3.00x"));
    let tiny: Vec<Outcome> = (0..50)
        .map(|_| o("/a", 200, 0.001, Ok((200, 0.009))))
        .collect();
    assert_eq!(
        judge(&tiny, B).verdict,
        Verdict::Pass,
        "9x of nothing is nothing"
    );
}

#[test]
fn p99_is_judged_only_with_enough_samples_and_the_first_request_is_not_timed() {
    let mut few: Vec<Outcome> = (0..50)
        .map(|_| o("/a", 200, 0.020, Ok((200, 0.020))))
        .collect();
    few[3].green = Ok((200, 0.500));
    assert_eq!(
        judge(&few, B).verdict,
        Verdict::Pass,
        "one slow request of 50"
    );
    let mut many: Vec<Outcome> = (0..200)
        .map(|_| o("/a", 200, 0.020, Ok((200, 0.020))))
        .collect();
    for m in many.iter_mut().take(10) {
        m.green = Ok((200, 0.500));
    }
    assert_eq!(
        judge(&many, B).verdict,
        Verdict::Fail,
        "5% slow: p99 counts"
    );
    let mut cold: Vec<Outcome> = (0..50)
        .map(|_| o("/a", 200, 0.020, Ok((200, 0.020))))
        .collect();
    cold[0].green = Ok((200, 9.0));
    cold[0].timed = false;
    let l = judge(&cold, B).latency.unwrap();
    assert_eq!((l.samples, l.green_p99_ms), (49, 20.0));
}

#[test]
fn nothing_replayed_is_no_data() {
    let j = judge(&[], B);
    assert_eq!(j.verdict, Verdict::NoData);
    assert!(j.reason.unwrap().starts_with("no data"));
    assert_eq!(j.latency, None);
}

#[test]
fn quantiles_by_nearest_rank() {
    let v: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(quantile(&v, 0.5), Some(50.0));
    assert_eq!(quantile(&v, 0.99), Some(99.0));
    assert_eq!(quantile(&[7.0], 0.99), Some(7.0));
    assert_eq!(quantile(&[], 0.5), None);
}

#[test]
fn only_ten_paths_are_listed() {
    let v: Vec<Outcome> = (0..30)
        .map(|i| o(&format!("/p{i:02}"), 200, 0.01, Ok((500, 0.01))))
        .collect();
    let j = judge(&v, B);
    assert_eq!(j.top_mismatching_paths.len(), 10);
    assert_eq!(j.top_mismatching_paths[0].path, "/p00");
}
