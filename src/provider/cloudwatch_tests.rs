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
        response_avg: series(avg),
        response_count: series(count),
    }
}

/// Expected (requests, 5xx, average response seconds).
type Want = (f64, f64, Option<f64>);

#[test]
fn aggregate_table() {
    const NAN: f64 = f64::NAN;
    // (name, raw, Some((requests, 5xx, avg response seconds)) or None)
    let cases: Vec<(&str, RawTraffic, Option<Want>)> = vec![
        ("no datapoints", RawTraffic::default(), None),
        (
            "5xx/latency without requests",
            raw(&[], &[(60, 3.0)], &[(60, 0.2)], &[]),
            None,
        ),
        (
            "zero requests is data",
            raw(&[(60, 0.0)], &[], &[], &[]),
            Some((0.0, 0.0, None)),
        ),
        (
            "sums across buckets, 5xx missing is 0",
            raw(&[(120, 7.0), (60, 3.0)], &[], &[], &[]),
            Some((10.0, 0.0, None)),
        ),
        (
            "5xx summed across buckets",
            raw(
                &[(120, 70.0), (60, 30.0)],
                &[(60, 2.0), (120, 1.0)],
                &[],
                &[],
            ),
            Some((100.0, 3.0, None)),
        ),
        (
            "average weighted by sample count",
            raw(
                &[(120, 100.0), (60, 100.0)],
                &[],
                &[(120, 1.0), (60, 0.1)],
                &[(120, 1.0), (60, 9.0)],
            ),
            Some((200.0, 0.0, Some(0.19))),
        ),
        (
            "average weighted by request count without sample count",
            raw(&[(120, 3.0), (60, 1.0)], &[], &[(120, 0.2), (60, 0.6)], &[]),
            Some((4.0, 0.0, Some(0.3))),
        ),
        (
            "non-finite values are ignored",
            raw(
                &[(60, 5.0), (120, NAN)],
                &[],
                &[(60, NAN), (120, 0.4)],
                &[(60, 5.0)],
            ),
            Some((5.0, 0.0, Some(0.4))),
        ),
    ];
    for (name, raw, want) in cases {
        let got = aggregate(&raw).map(|g| (g.requests, g.target_5xx, g.avg_response_seconds));
        let close = match (got, want) {
            (Some((r, e, a)), Some((wr, we, wa))) => {
                r == wr && e == we && a.zip(wa).map_or(a == wa, |(a, b)| (a - b).abs() < 1e-9)
            }
            (g, w) => g.is_none() && w.is_none(),
        };
        assert!(close, "{name}: got {got:?}, want {want:?}");
    }
}

#[test]
fn period_rounds_up_with_minimum_one() {
    let cases = [
        (Duration::ZERO, 1),
        (Duration::from_millis(1), 1),
        (Duration::from_millis(1500), 2),
        (Duration::from_secs(60), 60),
        (Duration::from_secs(u64::MAX), i32::MAX),
    ];
    for (window, want) in cases {
        assert_eq!(period_seconds(window), want, "{window:?}");
    }
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
    let got: Vec<String> = build_queries(&[target(), other], 30)
        .iter()
        .map(describe)
        .collect();
    let want = [
        "requests_0 AWS/ApplicationELB/RequestCount Sum",
        "target_5xx_0 AWS/ApplicationELB/HTTPCode_Target_5XX_Count Sum",
        "response_avg_0 AWS/ApplicationELB/TargetResponseTime Average",
        "response_count_0 AWS/ApplicationELB/TargetResponseTime SampleCount",
    ]
    .map(|q| format!("{q} Some(30) {dims} math=false"));
    assert_eq!(got[..4], want);
    assert_eq!(got.len(), 8, "one request covers both groups");
    assert!(
        got[4].starts_with("requests_1 ") && got[4].contains("TargetGroup=targetgroup/stable/def"),
        "{}",
        got[4]
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
    let mut raws = vec![RawTraffic::default(); 2];
    absorb(&mut raws, &page(120, 4.0)).expect("page 1");
    absorb(&mut raws, &page(60, 6.0)).expect("page 2");
    assert_eq!(raws[1].requests, series(&[(120, 4.0), (60, 6.0)]));
    assert_eq!(
        raws[0],
        RawTraffic::default(),
        "each id lands in its own group"
    );

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
