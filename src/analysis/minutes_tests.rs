//! Table tests for choosing the minutes a step judges.

use super::*;

const T0: i64 = 1_800_000_000;

/// Minute `k` of the step with `requests` and `errors` for one group.
fn m(k: i64, requests: f64, errors: f64) -> Minute {
    Minute {
        start: T0 + k * 60,
        stats: vec![TrafficStats {
            requests,
            target_5xx: errors,
            connection_errors: 0.0,
            avg_response_seconds: Some(0.01),
        }],
    }
}

fn judge_all(each: &[Minute], judged: &mut Judged, per: u32) -> Vec<Batch> {
    let batches = next_batches(each, judged, per, 1);
    for b in &batches {
        judged.minutes.extend(&b.minutes);
    }
    batches
}

#[test]
fn two_minutes_arriving_together_are_each_judged_so_a_bad_one_is_not_skipped() {
    let mut j = Judged::new(T0);
    let each = [m(0, 100.0, 30.0), m(1, 100.0, 0.0)];
    let got = judge_all(&each, &mut j, 1);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].minutes, vec![T0]);
    assert_eq!(got[0].stats[0].target_5xx, 30.0, "the bad minute is judged");
    assert_eq!(got[1].stats[0].target_5xx, 0.0);
    assert!(j.settled());
    assert!(judge_all(&each, &mut j, 1).is_empty(), "never judged twice");
}

#[test]
fn a_late_minute_is_judged_when_it_arrives_and_the_step_is_not_settled_before() {
    let mut j = Judged::new(T0);
    let early = [m(0, 100.0, 0.0), m(1, 100.0, 0.0), m(3, 100.0, 0.0)];
    assert_eq!(judge_all(&early, &mut j, 1).len(), 3);
    assert!(!j.settled(), "minute 2 is still missing behind minute 3");
    let late = [
        m(0, 100.0, 0.0),
        m(1, 100.0, 0.0),
        m(2, 100.0, 50.0),
        m(3, 100.0, 0.0),
    ];
    let got = judge_all(&late, &mut j, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].minutes, vec![T0 + 120]);
    assert_eq!(got[0].stats[0].target_5xx, 50.0);
    assert!(j.settled());
}

#[test]
fn a_minute_still_missing_behind_three_newer_ones_is_judged_as_a_gap() {
    let mut j = Judged::new(T0);
    let each = [m(0, 100.0, 0.0), m(2, 100.0, 0.0), m(3, 100.0, 0.0)];
    judge_all(&each, &mut j, 1);
    assert!(
        !j.settled(),
        "two newer minutes are not enough to call it a gap"
    );
    let each = [
        m(0, 100.0, 0.0),
        m(2, 100.0, 0.0),
        m(3, 100.0, 0.0),
        m(4, 100.0, 0.0),
    ];
    let got = judge_all(&each, &mut j, 1);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].minutes, vec![T0 + 60]);
    assert_eq!(got[0].stats[0].requests, 0.0, "a gap has no requests");
    assert!(j.settled());
}

#[test]
fn with_a_two_minute_period_minutes_are_judged_in_full_pairs_each_once() {
    let mut j = Judged::new(T0);
    let three = [m(0, 10.0, 0.0), m(1, 10.0, 1.0), m(2, 10.0, 0.0)];
    let got = judge_all(&three, &mut j, 2);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].minutes, vec![T0, T0 + 60]);
    assert_eq!(
        (got[0].stats[0].requests, got[0].stats[0].target_5xx),
        (20.0, 1.0)
    );
    let four = [
        m(0, 10.0, 0.0),
        m(1, 10.0, 1.0),
        m(2, 10.0, 0.0),
        m(3, 10.0, 0.0),
    ];
    let got = judge_all(&four, &mut j, 2);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].minutes, vec![T0 + 120, T0 + 180]);
}

#[test]
fn minutes_before_the_steps_first_whole_minute_are_never_judged() {
    let mut j = Judged::new(T0 + 60);
    let each = [m(0, 100.0, 90.0), m(1, 100.0, 0.0)];
    let got = judge_all(&each, &mut j, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].minutes, vec![T0 + 60]);
}
