use super::*;
use crate::analysis::collect::LbMetrics;
use crate::provider::ArrivedTraffic;

fn mt(tg: &str, lb: &str) -> MetricTarget {
    MetricTarget {
        target_group: tg.into(),
        load_balancer: lb.into(),
    }
}

fn two_lbs() -> Subjects {
    Subjects {
        green_arn: "arn:green".into(),
        green: mt("tg/green", "app/pub"),
        blue: Some(mt("tg/blue", "app/pub")),
        other_lbs: vec![LbMetrics {
            green_arn: "arn:green2".into(),
            green: mt("tg/green2", "app/int"),
            blue: mt("tg/blue2", "app/int"),
        }],
    }
}

fn stats(requests: f64, e5xx: f64, rt: Option<f64>) -> TrafficStats {
    TrafficStats {
        requests,
        target_5xx: e5xx,
        connection_errors: 1.0,
        avg_response_seconds: rt,
    }
}

#[test]
fn every_load_balancers_pair_is_queried_and_put_on_its_side() {
    let s = two_lbs();
    let names: Vec<String> = targets(&s).into_iter().map(|t| t.target_group).collect();
    assert_eq!(names, ["tg/green", "tg/blue", "tg/green2", "tg/blue2"]);
    assert_eq!(sides(&s), [0, 1, 0, 1]);
    let single = Subjects {
        blue: None,
        ..two_lbs()
    };
    assert_eq!(targets(&single).len(), 2);
    assert_eq!(sides(&single), [0, 0]);
}

#[test]
fn counts_add_up_per_side_and_latency_is_the_slowest_load_balancers() {
    let each = [
        stats(100.0, 1.0, Some(0.1)),
        stats(900.0, 0.0, Some(0.05)),
        stats(10.0, 5.0, Some(0.4)),
        stats(90.0, 0.0, None),
    ];
    let got = fold_stats(&each, &[0, 1, 0, 1], 2);
    let green = TrafficStats {
        connection_errors: 2.0,
        ..stats(110.0, 6.0, Some(0.4))
    };
    assert_eq!(got[0], green);
    assert_eq!(got[1].requests, 990.0);
    assert_eq!(got[1].connection_errors, 2.0);
    assert_eq!(got[1].avg_response_seconds, Some(0.05));
    let a = Arrival::Arrived(ArrivedTraffic {
        each: vec![Minute {
            start: 60,
            stats: each.to_vec(),
        }],
        stats: each.to_vec(),
        newest: 60,
        minutes: 1,
        lag_seconds: 0,
    });
    let Arrival::Arrived(f) = fold(a, &[0, 1, 0, 1]) else {
        panic!("arrived")
    };
    assert_eq!(f.stats, got);
    assert_eq!(f.each[0].stats, got);
}

#[test]
fn one_load_balancer_is_left_as_measured() {
    let each = vec![stats(1.0, 0.0, None), stats(2.0, 0.0, None)];
    let a = Arrival::Arrived(ArrivedTraffic {
        each: vec![],
        stats: each.clone(),
        newest: 60,
        minutes: 1,
        lag_seconds: 0,
    });
    assert_eq!(fold(a.clone(), &[0, 1]), a);
}
