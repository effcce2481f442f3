//! Table tests for judging one interval.

use super::*;

fn stats(requests: f64, errors: f64) -> Option<Result<Option<TrafficStats>, String>> {
    Some(Ok(Some(TrafficStats {
        requests,
        target_5xx: errors,
        connection_errors: 0.0,
        avg_response_seconds: Some(0.05),
    })))
}

fn healthy(n: usize) -> Option<Result<HealthCounts, String>> {
    Some(Ok(HealthCounts {
        healthy: n,
        ..Default::default()
    }))
}

type Case = (
    &'static str,
    Option<Measured<Option<TrafficStats>>>,
    Verdict,
);

#[test]
fn error_rate_table() {
    let t = Thresholds {
        max_error_rate: 0.01,
        min_requests: 50,
        ..Default::default()
    };
    let cases: Vec<Case> = vec![
        ("clean", stats(1000.0, 0.0), Verdict::Pass),
        (
            "at the threshold passes",
            stats(1000.0, 10.0),
            Verdict::Pass,
        ),
        ("above fails", stats(1000.0, 11.0), Verdict::Fail),
        (
            "too few requests is no data",
            stats(49.0, 49.0),
            Verdict::NoData,
        ),
        ("no datapoints is no data", Some(Ok(None)), Verdict::NoData),
        (
            "provider error is no data",
            Some(Err("Throttling".into())),
            Verdict::NoData,
        ),
    ];
    for (name, green, want) in cases {
        let s = Sample {
            green,
            ..Default::default()
        };
        assert_eq!(judge(&s, &t).verdict, want, "{name}");
    }
}

#[test]
fn compare_to_blue_forgives_a_platform_incident() {
    let mut t = Thresholds {
        max_error_rate: 0.01,
        ..Default::default()
    };
    let s = Sample {
        green: stats(1000.0, 100.0),
        blue: stats(10000.0, 1000.0),
        ..Default::default()
    };
    assert_eq!(
        judge(&s, &t).verdict,
        Verdict::Fail,
        "absolute judging fails"
    );
    t.compare_to_blue = true;
    let out = judge(&s, &t);
    assert_eq!(out.verdict, Verdict::Pass, "{}", out.checks[0].detail);
    assert!(out.checks[0].detail.contains("blue 10.00%"));
    let worse = Sample {
        green: stats(1000.0, 200.0),
        blue: stats(10000.0, 1000.0),
        ..Default::default()
    };
    assert_eq!(judge(&worse, &t).verdict, Verdict::Fail);
}

#[test]
fn health_table() {
    let t = Thresholds::default();
    let with = |h| Sample {
        green_health: h,
        ..Default::default()
    };
    assert_eq!(judge(&with(healthy(2)), &t).verdict, Verdict::Pass);
    assert_eq!(judge(&with(healthy(0)), &t).verdict, Verdict::Fail);
    let one_bad = Some(Ok(HealthCounts {
        healthy: 2,
        unhealthy: 1,
        ..Default::default()
    }));
    assert_eq!(judge(&with(one_bad.clone()), &t).verdict, Verdict::Fail);
    let lenient = Thresholds {
        fail_on_unhealthy: false,
        ..Default::default()
    };
    assert_eq!(judge(&with(one_bad), &lenient).verdict, Verdict::Pass);
    assert_eq!(
        judge(&with(Some(Err("x".into()))), &t).verdict,
        Verdict::NoData
    );
}

#[test]
fn worst_check_wins_and_summary_names_it() {
    let t = Thresholds {
        max_latency: Some(Duration::from_millis(20)),
        ..Default::default()
    };
    let s = Sample {
        green_health: healthy(1),
        green: stats(100.0, 0.0),
        ..Default::default()
    };
    let out = judge(&s, &t);
    assert_eq!(out.verdict, Verdict::Fail);
    assert!(
        out.summary().starts_with("latency: green average 50 ms"),
        "{}",
        out.summary()
    );
}

#[test]
fn probe_and_prometheus() {
    let t = Thresholds {
        prometheus_max: Some(0.5),
        probe_status: Some((200, 200)),
        ..Default::default()
    };
    let probe = |status| {
        Some(ProbeOutcome {
            status,
            latency_ms: 3,
            error: None,
        })
    };
    let s = Sample {
        probe: probe(Some(200)),
        prometheus: Some(Ok(Some(0.2))),
        ..Default::default()
    };
    assert_eq!(judge(&s, &t).verdict, Verdict::Pass);
    let s = Sample {
        probe: probe(Some(503)),
        prometheus: Some(Ok(Some(0.2))),
        ..Default::default()
    };
    assert_eq!(judge(&s, &t).verdict, Verdict::Fail);
    let s = Sample {
        probe: probe(None),
        ..Default::default()
    };
    assert_eq!(judge(&s, &t).verdict, Verdict::Fail);
    let s = Sample {
        prometheus: Some(Ok(Some(0.9))),
        ..Default::default()
    };
    assert!(judge(&s, &t).summary().contains("0.9 above max 0.5"));
    let s = Sample {
        prometheus: Some(Ok(None)),
        ..Default::default()
    };
    assert_eq!(judge(&s, &t).verdict, Verdict::NoData);
}

#[test]
fn an_empty_sample_is_no_data_never_a_pass() {
    assert_eq!(
        judge(&Sample::default(), &Thresholds::default()).verdict,
        Verdict::NoData
    );
}

/// `--compare-blue` with blue's sample below `--min-requests`: green is
/// judged alone, and over the maximum that is "no data", never a pass.
#[test]
fn compare_to_blue_needs_blue_to_have_min_requests() {
    let t = Thresholds {
        max_error_rate: 0.01,
        min_requests: 20,
        compare_to_blue: true,
        ..Default::default()
    };
    type BlueCase = (
        &'static str,
        Option<Measured<Option<TrafficStats>>>,
        Option<Measured<Option<TrafficStats>>>,
        Verdict,
        &'static str,
    );
    let few = "fewer than --min-requests 20, too few to compare";
    let cases: Vec<BlueCase> = vec![
        (
            "1 failure in 2 blue requests no longer hides a green at 50%",
            stats(100.0, 50.0),
            stats(2.0, 1.0),
            Verdict::NoData,
            "blue had 2 requests, fewer than --min-requests 20",
        ),
        (
            "19 blue requests are one too few",
            stats(100.0, 50.0),
            stats(19.0, 19.0),
            Verdict::NoData,
            few,
        ),
        (
            "20 blue requests are a baseline",
            stats(100.0, 50.0),
            stats(20.0, 10.0),
            Verdict::Pass,
            "green's excess over blue 0.00%",
        ),
        (
            "a baseline still fails a worse green",
            stats(100.0, 50.0),
            stats(1000.0, 100.0),
            Verdict::Fail,
            "green's excess over blue 40.00%",
        ),
        (
            "no blue datapoints: a bad green is no data",
            stats(100.0, 50.0),
            Some(Ok(None)),
            Verdict::NoData,
            "blue had 0 requests",
        ),
        (
            "blue metrics failed: a bad green is no data",
            stats(100.0, 50.0),
            Some(Err("Throttling".into())),
            Verdict::NoData,
            few,
        ),
        (
            "a clean green passes alone (e.g. blue idle at the 100% step)",
            stats(100.0, 1.0),
            stats(0.0, 0.0),
            Verdict::Pass,
            "green alone 1.00% vs max 1.00%",
        ),
        (
            "a green over the max alone is not a pass",
            stats(100.0, 2.0),
            stats(5.0, 5.0),
            Verdict::NoData,
            "green alone 2.00% vs max 1.00%",
        ),
    ];
    for (name, green, blue, want, part) in cases {
        let s = Sample {
            green,
            blue,
            ..Default::default()
        };
        let out = judge(&s, &t);
        assert_eq!(out.verdict, want, "{name}: {}", out.checks[0].detail);
        assert!(
            out.checks[0].detail.contains(part),
            "{name}: {}",
            out.checks[0].detail
        );
    }
    // Without --compare-blue, blue's sample does not matter.
    let alone = Thresholds {
        compare_to_blue: false,
        ..t
    };
    let s = Sample {
        green: stats(100.0, 0.0),
        blue: stats(2.0, 1.0),
        ..Default::default()
    };
    assert_eq!(judge(&s, &alone).verdict, Verdict::Pass);
}

#[test]
fn one_group_judged_alone_is_named_the_group_with_no_blue() {
    let t = Thresholds {
        max_error_rate: 0.01,
        min_requests: 50,
        ..Default::default()
    };
    let s = Sample {
        green_health: healthy(4),
        green: stats(1000.0, 50.0),
        single: true,
        ..Sample::default()
    };
    let out = judge(&s, &t);
    assert_eq!(out.verdict, Verdict::Fail);
    let details: Vec<&str> = out.checks.iter().map(|c| c.detail.as_str()).collect();
    assert_eq!(details[0], "the group 4 healthy");
    assert!(
        details[1].starts_with("the group 5.00% of 1000 requests; the group 5.00% vs max 1.00%"),
        "{details:?}"
    );
    assert!(!details[1].contains("blue"), "{details:?}");
}

#[test]
fn requests_alb_could_not_connect_for_count_as_green_errors() {
    let refused = TrafficStats {
        requests: 300.0,
        target_5xx: 0.0,
        connection_errors: 100.0,
        avg_response_seconds: Some(0.01),
    };
    let s = Sample {
        green_health: healthy(3),
        green: Some(Ok(Some(refused))),
        blue: stats(300.0, 0.0),
        ..Sample::default()
    };
    let out = judge(&s, &Thresholds::default());
    assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
    let detail = &out.checks[1].detail;
    assert!(
        detail.contains("green 33.33% of 300 requests (100 of them 502s"),
        "{detail}"
    );
    let capped = TrafficStats {
        connection_errors: 500.0,
        ..refused
    };
    assert_eq!(
        capped.error_rate(),
        Some(1.0),
        "attempts beyond the requests"
    );
}

fn command(exit_status: Option<i32>, outcome: &str) -> Sample {
    Sample {
        commands: vec![CommandCheck {
            command: "./conversion.sh".into(),
            exit_status,
            outcome: outcome.into(),
            last_line: Some("conversion 2.1%".into()),
        }],
        ..Sample::default()
    }
}

#[test]
fn a_check_command_passes_on_0_fails_on_1_and_is_no_data_otherwise() {
    let t = Thresholds::default();
    let cases = [
        (Some(0), "exit 0", Verdict::Pass),
        (Some(1), "exit 1", Verdict::Fail),
        (Some(2), "exit 2", Verdict::NoData),
        (None, "timed out after 30s", Verdict::NoData),
    ];
    for (code, outcome, want) in cases {
        let o = judge(&command(code, outcome), &t);
        let c = &o.checks[0];
        assert_eq!((c.check, c.verdict), ("command", want), "{outcome}");
        assert_eq!(c.command.as_deref(), Some("./conversion.sh"));
        assert!(c.detail.contains(outcome), "{}", c.detail);
        assert!(c.detail.ends_with(": conversion 2.1%"), "{}", c.detail);
    }
}
