//! `--abort gradual` on the fake under paused time: the route steps back
//! through the applied weights, each step verified and paced; after a
//! cancel the ramp runs without pauses if it fits `--revert-timeout`, and
//! becomes one write of the original when it does not.

use super::scripted::Scripted;
use super::tests::{config, rig, route, run_on, Rig, TestRun, GREEN_DIM};
use super::*;
use crate::alb::fake::*;
use crate::alb::{Forward, RouteAction};
use crate::engine::AbortMode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Green's weight each time the route changes, with when it changed.
type Seen = Arc<Mutex<Vec<(Instant, Option<u16>)>>>;

/// Watch the route; while green is at weight `at`, call `then` until it
/// says it is done.
fn watch(r: &Rig, at: u16, mut then: impl FnMut() -> bool + Send + 'static) -> Seen {
    let (fake, seen) = (r.lb.clone(), Seen::default());
    let log = seen.clone();
    tokio::spawn(async move {
        let mut done = false;
        loop {
            let w = fake
                .route(&route())
                .as_forward()
                .and_then(|f| f.weight_of(DEMO_GREEN));
            {
                let mut l = log.lock().expect("lock");
                if l.last().map(|(_, x)| *x) != Some(w) {
                    l.push((Instant::now(), w));
                }
            }
            if w == Some(at) && !done {
                done = then();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    seen
}

fn gradual(steps: &str) -> TestRun {
    let mut cfg = config(steps, vec![]);
    cfg.plan.abort = AbortMode::Gradual;
    cfg
}

fn blue_only() -> RouteAction {
    RouteAction::Forward(Forward::single(DEMO_BLUE))
}

/// Green's weights written after call `after`.
fn weights_after(lb: &Scripted, after: usize) -> Vec<Option<u16>> {
    lb.writes()
        .into_iter()
        .filter(|(i, _)| *i > after)
        .map(|(_, f)| f.weight_of(DEMO_GREEN))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_gradual_abort_steps_back_through_each_weight_verified_and_paced() {
    let r = rig();
    let traffic = r.traffic.clone();
    let seen = watch(&r, 500, move || {
        traffic.set(GREEN_DIM, 100.0, 30.0);
        true
    });
    let lb = Arc::new(Scripted::new(r.lb.clone()));
    let report = run_on(&r, lb.clone(), gradual("10:1m,25:1m,50:5m,100")).await;
    assert_eq!(report.result, "reverted", "{report:?}");
    assert_eq!(r.lb.route(&route()), blue_only());
    assert_eq!(
        weights_after(&lb, 0),
        vec![Some(100), Some(250), Some(500), Some(250), Some(100), None],
        "up the steps, then back down them to the original"
    );
    // Every revert write is read back before the next call that changes anything.
    let ops: Vec<&str> = r.lb.calls().iter().map(|c| c.op).collect();
    let writes: Vec<usize> = (0..ops.len())
        .filter(|i| ops[*i] == "ModifyListener")
        .collect();
    for w in &writes[3..] {
        assert_eq!(ops.get(w + 1), Some(&"DescribeListeners"), "{ops:?}");
    }
    // Let the watcher see the last write.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = seen.lock().expect("lock").clone();
    let back: Vec<_> = seen.iter().skip_while(|(_, w)| *w != Some(500)).collect();
    assert_eq!(back.len(), 4, "{seen:?}");
    for pair in back[1..].windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(
            gap >= abort_pause() && gap < abort_pause() + Duration::from_secs(2),
            "{gap:?}"
        );
    }
    assert!(r.lb.tags_of(DEMO_LISTENER).is_empty(), "record removed");
}

fn abort_pause() -> Duration {
    crate::executor::converge::RAMP_PAUSE
}

/// Cancel once green reaches 50%; the run's call count then, and the report.
async fn cancelled_at_50(revert_timeout: Duration) -> (Rig, Arc<Scripted>, RunReport, Instant) {
    let r = rig();
    let lb = Arc::new(Scripted::new(r.lb.clone()));
    let c = r.cancel.clone();
    watch(&r, 500, move || {
        c.cancel("received SIGTERM");
        true
    });
    let mut cfg = gradual("10:1m,25:1m,50:5m,100");
    cfg.revert_timeout = revert_timeout;
    let report = run_on(&r, lb.clone(), cfg).await;
    let end = Instant::now();
    (r, lb, report, end)
}

#[tokio::test(start_paused = true)]
async fn after_a_cancel_a_ramp_that_fits_the_budget_runs_without_pauses() {
    let (r, lb, report, end) = cancelled_at_50(Duration::from_secs(8)).await;
    assert_eq!(report.exit_code, 130, "{report:?}");
    assert_eq!(r.lb.route(&route()), blue_only());
    let signal = r.cancel.at().expect("cancelled");
    assert!(end - signal <= Duration::from_secs(8), "{:?}", end - signal);
    let w = weights_after(&lb, 0);
    assert_eq!(&w[3..], &[Some(250), Some(100), None], "{w:?}");
    assert!(end - signal < abort_pause(), "no pause after a cancel");
}

#[tokio::test(start_paused = true)]
async fn after_a_cancel_a_ramp_that_does_not_fit_becomes_one_flip() {
    // Two ramp writes and the record's removal are budgeted at 3 s.
    let (r, lb, report, end) = cancelled_at_50(Duration::from_secs(2)).await;
    assert_eq!(report.exit_code, 130, "{report:?}");
    assert_eq!(r.lb.route(&route()), blue_only());
    let w = weights_after(&lb, 0);
    assert_eq!(&w[3..], &[None], "one write of the original: {w:?}");
    let signal = r.cancel.at().expect("cancelled");
    assert!(end - signal <= Duration::from_secs(2), "{:?}", end - signal);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("one write of the original")),
        "{:?}",
        report.warnings
    );
}

#[tokio::test(start_paused = true)]
async fn a_signal_during_a_paced_ramp_flips_the_rest() {
    let r = rig();
    let (traffic, bad) = (r.traffic.clone(), Arc::new(AtomicBool::new(false)));
    let b = bad.clone();
    watch(&r, 500, move || {
        traffic.set(GREEN_DIM, 100.0, 30.0);
        b.store(true, Ordering::SeqCst);
        true
    });
    // The first ramp write lands (back at 25%), then a signal arrives
    // during the pause before the next.
    let c = r.cancel.clone();
    watch(&r, 250, move || {
        let down = bad.load(Ordering::SeqCst);
        if down {
            c.cancel("received SIGTERM");
        }
        down
    });
    let lb = Arc::new(Scripted::new(r.lb.clone()));
    let mut cfg = gradual("10:1m,25:1m,50:5m,100");
    cfg.revert_timeout = Duration::from_secs(1);
    let report = run_on(&r, lb.clone(), cfg).await;
    assert_eq!(
        report.result, "reverted",
        "a failed check started it: {report:?}"
    );
    assert_eq!(r.lb.route(&route()), blue_only());
    let w = weights_after(&lb, 0);
    assert_eq!(&w[3..], &[Some(250), None], "{w:?}");
}
