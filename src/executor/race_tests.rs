//! Races and cancels on the fake, under paused time: a signal after every
//! single call of a run, and a kill after every single call followed by
//! `rollback`. Each must end in a state a user can rely on.

use super::scripted::Scripted;
use super::tests::{config, rig, route, run_on, Rig};
use super::*;
use crate::alb::fake::*;
use crate::alb::{Forward, LoadBalancerPort, RouteAction};
use std::sync::Arc;

fn added() -> Target {
    Target {
        id: "10.0.0.7".into(),
        port: None,
        az: None,
    }
}

/// Port calls of an uncancelled run, so the tables cover every boundary,
/// and the call number of its promote write (its last route write).
async fn calls_of_a_whole_run() -> (usize, usize) {
    let r = rig();
    let lb = Arc::new(Scripted::new(r.lb.clone()));
    let report = run_on(&r, lb.clone(), config("10:1m,100", vec![added()])).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    let promote = lb.writes().last().map(|(i, _)| *i).unwrap_or(0);
    (lb.calls(), promote)
}

fn green_has_added(r: &Rig) -> bool {
    r.lb.targets_of(DEMO_GREEN)
        .iter()
        .any(|h| h.target == added())
}

#[tokio::test(start_paused = true)]
async fn a_signal_after_any_call_reverts_unless_the_promote_write_was_sent() {
    let (total, promote) = calls_of_a_whole_run().await;
    assert!(total > 15, "a run makes many calls: {total}");
    let cfg = || config("10:1m,100", vec![added()]);
    let promoted = cfg().plan.promoted.clone();
    let original = cfg().plan.original.clone();
    for n in 0..=total {
        let r = rig();
        let lb = Arc::new(Scripted::new(r.lb.clone()).cancel_after(n, r.cancel.clone()));
        let report = run_on(&r, lb.clone(), cfg()).await;
        let writes = lb.writes();
        // Runs are deterministic on the fake: the promote write is call `promote`.
        if n >= promote {
            assert_eq!(report.exit_code, 0, "signal after call {n}: {report:?}");
            assert_eq!(r.lb.route(&route()), RouteAction::Forward(promoted.clone()));
            continue;
        }
        assert_eq!(
            report.exit_code, 130,
            "signal after call {n}: {} {:?}",
            report.result, report.reason
        );
        assert_eq!(
            r.lb.route(&route()),
            RouteAction::Forward(original.clone()),
            "signal after call {n}"
        );
        let late: Vec<_> = writes.iter().filter(|(i, _)| *i > n).collect();
        assert!(
            late.iter().all(|(_, f)| *f == original),
            "signal after call {n}: only the revert writes after it: {late:?}"
        );
        assert!(!green_has_added(&r), "signal after call {n}: target left");
        assert!(
            r.lb.tags_of(DEMO_LISTENER).is_empty(),
            "signal after call {n}: record left"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_signal_during_the_last_shift_reverts() {
    let r = rig();
    let cancel = r.cancel.clone();
    let lb = Arc::new(Scripted::new(r.lb.clone()));
    let fake = r.lb.clone();
    // The last step (100%) has no bake: only a check before the promote
    // write can notice a signal that arrived during its shift.
    fake.set_lag(Duration::from_secs(1));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let f = fake.route(&route());
            if f.as_forward().and_then(|f| f.weight_of(DEMO_GREEN)) == Some(100) {
                cancel.cancel("received SIGTERM");
                return;
            }
        }
    });
    let lbd: Arc<dyn LoadBalancerPort> = lb.clone();
    let report = run_on(&r, lbd, config("10:1m,100", vec![])).await;
    assert_eq!(report.exit_code, 130, "{report:?}");
    assert_eq!(
        r.lb.route(&route()),
        RouteAction::Forward(Forward::single(DEMO_BLUE))
    );
}

#[tokio::test(start_paused = true)]
async fn force_replaces_a_leftover_record_whole() {
    let r = rig();
    // A crashed run's record with keys the new one does not have: a
    // `registered` list and an original long enough to need `original.1`.
    let groups = (0..5)
        .map(|i| crate::alb::WeightedGroup {
            target_group_arn: format!("{DEMO_BLUE}-{i}-padding-padding-padding"),
            weight: 1,
        })
        .collect();
    let leftover = crate::alb::state_tags::RunRecord {
        run_id: "r-crashed".into(),
        strategy: "canary".into(),
        started: 1,
        generation: 0,
        step: "1 of 2 at 10".into(),
        green_arn: DEMO_GREEN.into(),
        original: Forward {
            groups,
            stickiness: Default::default(),
            shape: crate::alb::ForwardShape::Weighted,
        },
        registered: vec![added()],
        deregistered: None,
        rules: vec![],
        routes: vec![],
    };
    let old = crate::alb::state_tags::encode(&leftover);
    assert!(old.contains_key("alb-rollout:original.1"));
    r.lb.add_tags(DEMO_LISTENER, &old).await.unwrap();
    let report = run_on(&r, r.lb.clone(), config("10:1m,100", vec![])).await;
    assert_eq!(report.result, "promoted", "{report:?}");
    assert!(
        r.lb.tags_of(DEMO_LISTENER).is_empty(),
        "no key of either record is left"
    );
}

#[tokio::test(start_paused = true)]
async fn a_registered_target_green_already_had_is_kept_on_revert() {
    let r = rig();
    r.traffic.set(super::tests::GREEN_DIM, 100.0, 50.0);
    let had = Target {
        id: "10.0.0.2".into(),
        port: None,
        az: None,
    };
    let fake = r.lb.clone();
    let recorded = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        crate::alb::state_tags::decode(&fake.tags_of(DEMO_LISTENER))
    });
    let report = run_on(&r, r.lb.clone(), config("10:1m,100", vec![had, added()])).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    let during = recorded.await.unwrap().unwrap().unwrap();
    assert_eq!(during.registered, vec![added()], "only the new target");
    let ids: Vec<_> =
        r.lb.targets_of(DEMO_GREEN)
            .into_iter()
            .map(|h| h.target.id)
            .collect();
    assert_eq!(ids, vec!["10.0.0.2"], "the run removes only what it added");
}

/// Kill the run after call `n` (every later call hangs), then run
/// `rollback`'s restore on what the tags say.
async fn kill_then_rollback(n: usize) -> (Rig, Option<String>) {
    let r = rig();
    let lb = Arc::new(Scripted::new(r.lb.clone()).kill_after(n));
    let run = run_on(&r, lb, config("10:1m,100", vec![added()]));
    // No record means killed before it was written or after the run ended;
    // the caller checks the route either way.
    let _ = tokio::time::timeout(Duration::from_secs(3600), run).await;
    let tags = r.lb.tags_of(DEMO_LISTENER);
    let Some(rec) = crate::alb::state_tags::decode(&tags).unwrap() else {
        return (r, None);
    };
    let keys = crate::alb::state_tags::record_keys(&tags);
    crate::app::rollback::restore(r.lb.as_ref(), &route(), &rec, &keys)
        .await
        .unwrap_or_else(|e| panic!("killed after call {n}: {e}"));
    (r, Some(rec.step))
}

#[tokio::test(start_paused = true)]
async fn a_kill_after_any_call_is_undone_by_rollback_unless_the_promotion_was_confirmed() {
    let (total, promote) = calls_of_a_whole_run().await;
    let cfg = config("10:1m,100", vec![]);
    for n in 0..=total {
        let (r, step) = kill_then_rollback(n).await;
        let now = r.lb.route(&route());
        let confirmed = step.as_deref() == Some(crate::alb::state_tags::PROMOTED_STEP)
            || (step.is_none() && n > promote);
        let want = if confirmed {
            &cfg.plan.promoted
        } else {
            &cfg.plan.original
        };
        assert_eq!(
            now,
            RouteAction::Forward(want.clone()),
            "killed after call {n}: {step:?}"
        );
        assert!(
            r.lb.tags_of(DEMO_LISTENER).is_empty(),
            "killed after call {n}"
        );
        assert_eq!(green_has_added(&r), confirmed, "killed after call {n}");
    }
    let (_, step) = kill_then_rollback(promote).await;
    assert_eq!(
        step.as_deref(),
        Some(crate::alb::state_tags::PROMOTING_STEP),
        "killed right after the promote write"
    );
}
