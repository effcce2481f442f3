//! Unit tests for the CloudWatch provider: query building and aggregation.

use super::*;

fn series(points: &[(i64, f64)]) -> Series {
    Series {
        timestamps: points.iter().map(|p| p.0).collect(),
        values: points.iter().map(|p| p.1).collect(),
    }
}

fn target() -> MetricTarget {
    MetricTarget {
        target_group: "targetgroup/canary/abc".into(),
        load_balancer: "app/front/123".into(),
    }
}

type Points<'a> = &'a [(i64, f64)];

/// Raw series in `RawTraffic` field order: requests, 5xx, avg, count.
fn raw(req: Points, e5xx: Points, avg: Points, count: Points) -> RawTraffic {
    RawTraffic {
        requests: series(req),
        target_5xx: series(e5xx),
        connection_errors: Series::default(),
        response_avg: series(avg),
        response_count: series(count),
    }
}

/// Expected (requests, 5xx, average response seconds).
type Want = (f64, f64, Option<f64>);

#[test]
fn aggregate_table() {
    const NAN: f64 = f64::NAN;
    let both = [60, 120];
    // (name, raw, minutes judged, (requests, 5xx, avg response seconds))
    let cases: Vec<(&str, RawTraffic, &[i64], Want)> = vec![
        (
            "no datapoints in ingested minutes is zero",
            RawTraffic::default(),
            &both,
            (0.0, 0.0, None),
        ),
        (
            "sums across minutes, 5xx missing is 0",
            raw(&[(120, 7.0), (60, 3.0)], &[], &[], &[]),
            &both,
            (10.0, 0.0, None),
        ),
        (
            "only the judged minutes count",
            raw(
                &[(120, 7.0), (60, 3.0), (180, 100.0)],
                &[(180, 50.0)],
                &[],
                &[],
            ),
            &both,
            (10.0, 0.0, None),
        ),
        (
            "5xx summed across minutes",
            raw(
                &[(120, 70.0), (60, 30.0)],
                &[(60, 2.0), (120, 1.0)],
                &[],
                &[],
            ),
            &both,
            (100.0, 3.0, None),
        ),
        (
            "average weighted by sample count",
            raw(
                &[(120, 100.0), (60, 100.0)],
                &[],
                &[(120, 1.0), (60, 0.1)],
                &[(120, 1.0), (60, 9.0)],
            ),
            &both,
            (200.0, 0.0, Some(0.19)),
        ),
        (
            "average weighted by request count without sample count",
            raw(&[(120, 3.0), (60, 1.0)], &[], &[(120, 0.2), (60, 0.6)], &[]),
            &both,
            (4.0, 0.0, Some(0.3)),
        ),
        (
            "non-finite values are ignored",
            raw(
                &[(60, 5.0), (120, NAN)],
                &[],
                &[(60, NAN), (120, 0.4)],
                &[(60, 5.0)],
            ),
            &both,
            (5.0, 0.0, Some(0.4)),
        ),
    ];
    for (name, raw, minutes, (wr, we, wa)) in cases {
        let g = aggregate(&raw, minutes);
        let avg_ok = g
            .avg_response_seconds
            .zip(wa)
            .map_or(g.avg_response_seconds == wa, |(a, b)| (a - b).abs() < 1e-9);
        assert!(
            g.requests == wr && g.target_5xx == we && avg_ok,
            "{name}: got {g:?}"
        );
    }
}

fn at(secs: i64) -> std::time::SystemTime {
    UNIX_EPOCH + std::time::Duration::from_secs(secs as u64)
}

fn q(since: i64, minutes: u32, after: Option<i64>) -> TrafficQuery {
    TrafficQuery {
        since: at(since),
        minutes,
        after,
    }
}

/// Green and blue with requests in minutes 600, 660 and 720; the load
/// balancer's own count says which minutes CloudWatch has ingested.
fn answer(lb: Points) -> RawAnswer {
    RawAnswer {
        targets: vec![
            raw(
                &[(600, 10.0), (660, 20.0), (720, 40.0)],
                &[(660, 2.0)],
                &[],
                &[],
            ),
            raw(&[(600, 90.0), (720, 60.0)], &[], &[], &[]),
        ],
        load_balancer: series(lb),
        other_load_balancers: vec![],
    }
}

fn arrived(a: Arrival) -> ArrivedTraffic {
    match a {
        Arrival::Arrived(t) => t,
        other => panic!("expected arrived, got {other:?}"),
    }
}

#[test]
fn minutes_not_yet_ingested_are_waited_for_not_judged() {
    // Shift at 605: minute 600 straddles it, 660 has not arrived at 800.
    let a = arrival(&answer(&[(540, 5.0), (600, 100.0)]), &q(605, 1, None), 800);
    assert_eq!(
        a,
        Arrival::Waiting {
            lag_seconds: Some(140)
        }
    );
    // No load balancer datapoint at all in the lookback: lag unknown.
    let a = arrival(&answer(&[]), &q(605, 1, None), 800);
    assert_eq!(a, Arrival::Waiting { lag_seconds: None });
    assert!(Arrival::waiting_text(Some(140)).contains("data lags ~140 s"));
}

#[test]
fn an_ingested_minute_without_a_group_datapoint_is_zero_for_that_group() {
    let a = arrived(arrival(
        &answer(&[(600, 100.0), (660, 20.0)]),
        &q(600, 1, None),
        790,
    ));
    assert_eq!((a.newest, a.minutes, a.lag_seconds), (660, 1, 70));
    assert_eq!(a.stats[0].requests, 20.0);
    assert_eq!(a.stats[0].target_5xx, 2.0);
    assert_eq!(
        a.stats[1].requests, 0.0,
        "blue had no datapoint: zero, not late"
    );
}

#[test]
fn judgement_sums_the_newest_minutes_since_the_shift_and_never_repeats_one() {
    let lb: Points = &[(600, 100.0), (660, 20.0), (720, 100.0)];
    let a = arrived(arrival(&answer(lb), &q(600, 2, None), 900));
    assert_eq!((a.newest, a.minutes), (720, 2));
    assert_eq!(a.stats[0].requests, 60.0);
    let a = arrived(arrival(&answer(lb), &q(600, 5, None), 900));
    assert_eq!(a.minutes, 3, "at most what has arrived");
    let a = arrival(&answer(lb), &q(600, 1, Some(720)), 900);
    assert!(
        matches!(a, Arrival::Waiting { .. }),
        "720 was judged already"
    );
    let a = arrived(arrival(&answer(lb), &q(661, 5, None), 900));
    assert_eq!(
        (a.newest, a.minutes),
        (720, 1),
        "660 began before the shift at 661"
    );
}

#[test]
fn a_minute_still_in_progress_is_never_judged() {
    // A (buggy or early) datapoint for the current minute is ignored.
    let a = arrived(arrival(
        &answer(&[(600, 1.0), (660, 1.0)]),
        &q(600, 5, None),
        700,
    ));
    assert_eq!((a.newest, a.minutes), (600, 1));
}

#[test]
fn query_span_covers_whole_minutes_up_to_now_and_the_lag_lookback() {
    assert_eq!(query_span(3605, 3700), (3600 - 840, 3660));
    assert_eq!(query_span(0, 7200), (0, 7200));
    assert_eq!(first_minute(3600), 3600);
    assert_eq!(first_minute(3601), 3660);
}

/// One line per query: id, namespace/metric, stat, period, dimensions,
/// and whether it is (wrongly) metric math.
fn describe(q: &MetricDataQuery) -> String {
    let ms = q
        .metric_stat()
        .cloned()
        .unwrap_or_else(|| MetricStat::builder().build());
    let m = ms
        .metric()
        .cloned()
        .unwrap_or_else(|| Metric::builder().build());
    let dims: Vec<String> = m
        .dimensions()
        .iter()
        .map(|d| format!("{}={}", d.name().unwrap_or(""), d.value().unwrap_or("")))
        .collect();
    format!(
        "{} {}/{} {} {:?} {} math={}",
        q.id().unwrap_or(""),
        m.namespace().unwrap_or(""),
        m.metric_name().unwrap_or(""),
        ms.stat().unwrap_or(""),
        ms.period(),
        dims.join(","),
        q.expression().is_some()
    )
}

#[test]
fn queries_are_raw_metric_stats_on_both_dimensions() {
    let dims = "TargetGroup=targetgroup/canary/abc,LoadBalancer=app/front/123";
    let other = MetricTarget {
        target_group: "targetgroup/stable/def".into(),
        load_balancer: "app/front/123".into(),
    };
    let got: Vec<String> = build_queries(&[target(), other])
        .iter()
        .map(describe)
        .collect();
    let want = [
        "requests_0 AWS/ApplicationELB/RequestCount Sum",
        "target_5xx_0 AWS/ApplicationELB/HTTPCode_Target_5XX_Count Sum",
        "connection_errors_0 AWS/ApplicationELB/TargetConnectionErrorCount Sum",
        "response_avg_0 AWS/ApplicationELB/TargetResponseTime Average",
        "response_count_0 AWS/ApplicationELB/TargetResponseTime SampleCount",
    ]
    .map(|q| format!("{q} Some(60) {dims} math=false"));
    assert_eq!(got[..5], want);
    assert_eq!(
        got.len(),
        11,
        "one request covers both groups and the load balancer"
    );
    assert_eq!(
        got[10],
        "lbrequests AWS/ApplicationELB/RequestCount Sum Some(60) LoadBalancer=app/front/123 math=false"
    );
    assert!(
        got[5].starts_with("requests_1 ") && got[5].contains("TargetGroup=targetgroup/stable/def"),
        "{}",
        got[5]
    );
}

#[test]
fn absorb_appends_pages_and_rejects_forbidden() {
    let page = |ts: i64, v: f64| {
        MetricDataResult::builder()
            .id("requests_1")
            .timestamps(DateTime::from_secs(ts))
            .values(v)
            .status_code(StatusCode::PartialData)
            .build()
    };
    let mut raws = RawAnswer {
        targets: vec![RawTraffic::default(); 2],
        ..RawAnswer::default()
    };
    absorb(&mut raws, &page(120, 4.0)).expect("page 1");
    absorb(&mut raws, &page(60, 6.0)).expect("page 2");
    assert_eq!(raws.targets[1].requests, series(&[(120, 4.0), (60, 6.0)]));
    assert_eq!(
        raws.targets[0],
        RawTraffic::default(),
        "each id lands in its own group"
    );
    let lb = MetricDataResult::builder()
        .id("lbrequests")
        .timestamps(DateTime::from_secs(60))
        .values(9.0)
        .build();
    absorb(&mut raws, &lb).expect("lb");
    assert_eq!(raws.load_balancer, series(&[(60, 9.0)]));

    let forbidden = MetricDataResult::builder()
        .id("target_5xx_0")
        .status_code(StatusCode::Forbidden)
        .build();
    let err = absorb(&mut raws, &forbidden).expect_err("forbidden");
    assert!(
        err.contains("HTTPCode_Target_5XX_Count") && err.contains("Forbidden"),
        "{err}"
    );
}

#[test]
fn errors_name_the_target_group_and_metrics() {
    let e = error(&[target()], "ThrottlingException: Rate exceeded");
    assert_eq!(e.provider, "cloudwatch");
    for part in ["targetgroup/canary/abc", "RequestCount", "Throttling"] {
        assert!(e.message.contains(part), "{}", e.message);
    }
}

#[test]
fn connection_errors_are_summed_per_group_over_the_judged_minutes() {
    let mut r = raw(&[(60, 100.0), (120, 90.0)], &[(60, 1.0)], &[], &[]);
    r.connection_errors = series(&[(60, 30.0), (120, 4.0), (180, 9.0)]);
    let got = aggregate(&r, &[60, 120]);
    assert_eq!(
        (got.requests, got.target_5xx, got.connection_errors),
        (190.0, 1.0, 34.0)
    );
    assert_eq!(got.error_rate(), Some(35.0 / 190.0));
}
