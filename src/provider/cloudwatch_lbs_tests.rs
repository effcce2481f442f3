//! Unit tests for CloudWatch over groups on several load balancers: one
//! call's queries (ids, dimensions) and which minutes count as ingested.

use super::*;

fn t(tg: &str, lb: &str) -> MetricTarget {
    MetricTarget {
        target_group: format!("targetgroup/{tg}/1"),
        load_balancer: format!("app/{lb}/1"),
    }
}

fn dims(q: &MetricDataQuery) -> String {
    let m = q
        .metric_stat()
        .and_then(|s| s.metric())
        .expect("a metric stat");
    let d: Vec<String> = (m.dimensions().iter())
        .map(|d| format!("{}={}", d.name().unwrap_or(""), d.value().unwrap_or("")))
        .collect();
    format!(
        "{} {} {}",
        q.id().unwrap_or(""),
        m.metric_name().unwrap_or(""),
        d.join(",")
    )
}

fn series(points: &[(i64, f64)]) -> Series {
    Series {
        timestamps: points.iter().map(|p| p.0).collect(),
        values: points.iter().map(|p| p.1).collect(),
    }
}

#[test]
fn groups_on_two_load_balancers_are_one_call_each_with_its_own_load_balancer() {
    let targets = [
        t("green", "pub"),
        t("blue", "pub"),
        t("green2", "int"),
        t("blue2", "int"),
    ];
    let got: Vec<String> = build_queries(&targets).iter().map(dims).collect();
    assert_eq!(got.len(), 4 * 5 + 2, "{got:#?}");
    assert_eq!(
        got[10],
        "requests_2 RequestCount TargetGroup=targetgroup/green2/1,LoadBalancer=app/int/1"
    );
    assert_eq!(
        got[19],
        "response_count_3 TargetResponseTime TargetGroup=targetgroup/blue2/1,LoadBalancer=app/int/1"
    );
    assert_eq!(got[20], "lbrequests RequestCount LoadBalancer=app/pub/1");
    assert_eq!(got[21], "lbrequests_1 RequestCount LoadBalancer=app/int/1");
    let ids: std::collections::BTreeSet<&str> = got
        .iter()
        .map(|g| g.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(ids.len(), got.len(), "ids are unique in one request");
}

#[test]
fn the_second_load_balancers_own_count_is_absorbed_into_its_series() {
    let mut raw = RawAnswer {
        targets: vec![RawTraffic::default(); 4],
        other_load_balancers: vec![Series::default()],
        ..RawAnswer::default()
    };
    let r = MetricDataResult::builder()
        .id("lbrequests_1")
        .timestamps(DateTime::from_secs(60))
        .values(5.0)
        .build();
    absorb(&mut raw, &r).expect("absorbed");
    assert_eq!(raw.other_load_balancers[0], series(&[(60, 5.0)]));
    assert_eq!(raw.load_balancer, Series::default());
}

#[test]
fn a_minute_counts_once_every_load_balancer_has_reached_it() {
    let raw = RawAnswer {
        targets: vec![RawTraffic {
            requests: series(&[(600, 1.0), (660, 2.0), (720, 3.0)]),
            ..RawTraffic::default()
        }],
        load_balancer: series(&[(600, 9.0), (660, 9.0), (720, 9.0)]),
        // The internal load balancer is a minute behind, and was quiet at 600.
        other_load_balancers: vec![series(&[(660, 4.0)])],
    };
    let q = TrafficQuery {
        since: UNIX_EPOCH + std::time::Duration::from_secs(600),
        minutes: 5,
        after: None,
    };
    let Arrival::Arrived(a) = arrival(&raw, &q, 900) else {
        panic!("arrived")
    };
    let starts: Vec<i64> = a.each.iter().map(|m| m.start).collect();
    assert_eq!(
        starts,
        [600, 660],
        "720 waits for the internal load balancer"
    );
    assert_eq!(a.stats[0].requests, 3.0);
    let silent = RawAnswer {
        other_load_balancers: vec![Series::default()],
        ..raw
    };
    assert!(matches!(arrival(&silent, &q, 900), Arrival::Waiting { .. }));
}
