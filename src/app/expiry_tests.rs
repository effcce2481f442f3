//! Credential lifetime: the decisions as pure functions, and the timer on
//! a paused clock.

use super::*;
use crate::report::summary::tests::report;

const MIN: Duration = Duration::from_secs(60);

fn t0() -> SystemTime {
    humantime::parse_rfc3339("2026-11-28T18:00:00Z").unwrap()
}

#[test]
fn the_plan_counts_holds_cloudwatch_lag_and_health() {
    let bakes = [MIN * 5, MIN * 10, Duration::ZERO];
    let h = MIN * 5;
    assert_eq!(planned(&bakes, false, h), MIN * 20);
    assert_eq!(planned(&bakes, true, h), MIN * 26, "3 min per judged step");
    assert_eq!(margin(Duration::from_secs(10)), Duration::from_secs(50));
}

#[test]
fn preflight_refuses_a_run_that_outlives_its_credentials_with_the_numbers() {
    let m = margin(Duration::from_secs(10));
    let expiry = t0() + MIN * 60;
    assert!(at_preflight(expiry, t0(), MIN * 59, Duration::ZERO).is_ok());
    let fits = MIN * 60 - m;
    assert!(at_preflight(expiry, t0(), fits, m).is_ok(), "exactly fits");
    assert!(at_preflight(expiry, t0(), fits + Duration::from_secs(1), m).is_err());
    let e = at_preflight(expiry, t0(), MIN * 70, m).unwrap_err();
    assert_eq!(e.culprit, "credentials");
    for part in [
        "expire at 2026-11-28T19:00:00Z (in 1h)",
        "may take 1h 10m",
        "revert for 50s",
        "role-duration-seconds",
        "fewer or shorter steps",
    ] {
        assert!(e.message.contains(part), "{part}: {}", e.message);
    }
    let past = at_preflight(t0(), t0() + MIN, MIN, m).unwrap_err();
    assert!(past.message.contains("(in 0s)"), "{}", past.message);
}

#[test]
fn a_run_reverts_once_the_expiry_is_closer_than_the_revert_needs() {
    let m = Duration::from_secs(50);
    let expiry = t0() + MIN * 10;
    assert_eq!(revert_due(expiry, t0(), m), None);
    assert_eq!(revert_due(expiry, expiry - m, m), None);
    let why = revert_due(expiry, expiry - Duration::from_secs(49), m).unwrap();
    assert_eq!(why, "the AWS credentials expire at 2026-11-28T18:10:00Z (in 49s), and a revert needs up to 50s: reverting while they still work");
}

#[test]
fn the_expiry_comes_from_the_sdk_or_the_environment() {
    assert_eq!(expiry(Some(t0()), Some("garbage")).unwrap(), Some(t0()));
    assert_eq!(expiry(None, None).unwrap(), None);
    assert_eq!(expiry(None, Some(" ")).unwrap(), None);
    assert_eq!(
        expiry(None, Some("2026-11-28T18:00:00Z")).unwrap(),
        Some(t0())
    );
    assert_eq!(
        expiry(None, Some("2026-11-28T18:00:00+00:00")).unwrap(),
        Some(t0())
    );
    assert_eq!(
        expiry(None, Some("\"2026-11-28T18:00:00.000Z\"")).unwrap(),
        Some(t0()),
        "configure-aws-credentials' output, JSON-encoded"
    );
    let e = expiry(None, Some("tomorrow")).unwrap_err();
    assert_eq!(e.culprit, EXPIRY_ENV);
}

#[tokio::test(start_paused = true)]
async fn the_guard_cancels_unless_the_credentials_were_refreshed() {
    let m = Duration::from_secs(50);
    let cancel = Cancel::new();
    let g = guard(
        cancel.clone(),
        SystemTime::now() + m + Duration::from_secs(30),
        m,
        || async { None },
    );
    tokio::time::sleep(Duration::from_secs(29)).await;
    assert!(!cancel.is_cancelled());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(cancel.is_cancelled());
    assert!(
        cancel.reason().starts_with("the AWS credentials expire at"),
        "{}",
        cancel.reason()
    );
    let _ = g.await;

    let cancel = Cancel::new();
    let later = SystemTime::now() + Duration::from_secs(3600);
    let g = guard(
        cancel.clone(),
        SystemTime::now() + m,
        m,
        move || async move { Some(later) },
    );
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert!(
        !cancel.is_cancelled(),
        "refreshed credentials move the timer on"
    );
    g.abort();
}

#[test]
fn a_guarded_cancel_is_reported_as_a_revert() {
    let mut r = report(false);
    r.result = "cancelled";
    r.exit_code = 130;
    r.reason = Some(Reason::Cancelled(revert_due(t0(), t0(), MIN).unwrap()));
    relabel(&mut r);
    assert_eq!((r.result, r.exit_code), ("reverted", 1));
    assert!(matches!(r.reason, Some(Reason::Error(_))));
    let mut sig = report(false);
    sig.result = "cancelled";
    sig.exit_code = 130;
    sig.reason = Some(Reason::Cancelled("received SIGTERM".into()));
    relabel(&mut sig);
    assert_eq!((sig.result, sig.exit_code), ("cancelled", 130));
}

#[test]
fn a_guarded_cancel_that_left_an_in_place_batch_out_reads_failed() {
    let mut r = report(false);
    r.result = "cancelled";
    r.exit_code = 130;
    r.reason = Some(Reason::Cancelled(revert_due(t0(), t0(), MIN).unwrap()));
    r.left_behind = Some("10.0.1.3:80: --deploy started or failed, out of the group".into());
    relabel(&mut r);
    assert_eq!((r.result, r.exit_code), ("failed", 1));
}

#[test]
fn an_in_place_plan_counts_the_hook_timeout_once_per_deploy() {
    use crate::engine::{Action, DeploySpec};
    let deploy = |index| {
        Action::Deploy(DeploySpec {
            index,
            of: 3,
            targets: vec![],
            command: "./install.sh".into(),
        })
    };
    let actions = [
        Action::Record,
        deploy(0),
        deploy(1),
        deploy(2),
        Action::Unrecord,
    ];
    assert_eq!(deploys(&actions, MIN * 10), MIN * 30);
    assert_eq!(deploys(&[Action::Record], MIN * 10), Duration::ZERO);
}
