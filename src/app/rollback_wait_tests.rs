//! `rollback --wait`: the pure decision after each read, and the loop on
//! the fake under paused time (a run that goes stale, one that keeps
//! beating, one that removes its own record).

use super::*;
use crate::alb::fake::*;
use crate::alb::state_tags;

fn seen(run: Option<&str>, at: u64) -> Seen {
    Seen {
        run_id: run.map(str::to_string),
        beat: Some(Heartbeat { at, every: 30 }),
    }
}

#[test]
fn a_run_without_a_fresh_heartbeat_is_restored_at_once() {
    let none = Seen {
        run_id: Some("r-9".into()),
        beat: None,
    };
    assert_eq!(
        next("r-9", &none, 5000, Duration::ZERO, Duration::ZERO),
        Next::Restore
    );
    let stale = seen(Some("r-9"), 1000);
    assert_eq!(
        next("r-9", &stale, 1061, Duration::ZERO, Duration::ZERO),
        Next::Restore
    );
}

#[test]
fn a_live_run_is_refused_without_wait_naming_its_age_and_force() {
    let Next::GiveUp(why) = next(
        "r-9",
        &seen(Some("r-9"), 1000),
        1012,
        Duration::ZERO,
        Duration::ZERO,
    ) else {
        panic!("not refused")
    };
    for part in [
        "run r-9",
        "12s ago",
        "every 30s",
        "over 60s old",
        "--wait 49s",
        "--force",
    ] {
        assert!(why.contains(part), "{part}: {why}");
    }
    assert!(matches!(
        next(
            "r-9",
            &seen(Some("r-9"), 1000),
            1060,
            Duration::ZERO,
            Duration::ZERO
        ),
        Next::GiveUp(_)
    ));
}

#[test]
fn a_live_run_within_the_wait_is_polled_until_it_would_be_stale() {
    let s = seen(Some("r-9"), 1000);
    let left = Duration::from_secs(120);
    assert_eq!(
        next("r-9", &s, 1012, left, Duration::ZERO),
        Next::Sleep(POLL)
    );
    assert_eq!(
        next("r-9", &s, 1058, left, Duration::ZERO),
        Next::Sleep(Duration::from_secs(3))
    );
    assert_eq!(
        next("r-9", &s, 1012, Duration::from_secs(2), Duration::ZERO),
        Next::Sleep(Duration::from_secs(2))
    );
}

#[test]
fn a_record_gone_or_replaced_ends_the_wait_with_nothing_to_do() {
    let Next::Gone(m) = next("r-9", &seen(None, 1000), 1012, POLL, POLL) else {
        panic!("not gone")
    };
    assert!(m.contains("run r-9 removed its own record"), "{m}");
    let Next::Gone(m) = next("r-9", &seen(Some("r-10"), 1000), 1012, POLL, POLL) else {
        panic!("not gone")
    };
    assert!(
        m.contains("run r-10 is recorded now and is left alone"),
        "{m}"
    );
}

async fn beating(fake: &FakeLoadBalancer, at: u64) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::from([(state_tags::RUN.to_string(), "r-9".to_string())]);
    tags.extend(Heartbeat { at, every: 30 }.tag());
    fake.add_tags(DEMO_LISTENER, &tags).await.unwrap();
    tags
}

fn run_of(t: &BTreeMap<String, String>) -> Option<String> {
    t.get(state_tags::RUN).cloned()
}

async fn wait_on(fake: &FakeLoadBalancer, limit: Duration, lines: &mut Vec<String>) -> Waited {
    let first = fake.tags(DEMO_LISTENER).await.unwrap();
    let w = Watch {
        owner: DEMO_LISTENER,
        run_id: "r-9",
        run_of: &run_of,
        first,
    };
    wait(fake, w, limit, 1005, &mut |m| lines.push(m)).await
}

#[tokio::test(start_paused = true)]
async fn wait_restores_once_the_dead_runs_heartbeat_goes_stale() {
    let fake = FakeLoadBalancer::demo();
    beating(&fake, 1000).await;
    let t0 = tokio::time::Instant::now();
    let mut lines = vec![];
    let out = wait_on(&fake, Duration::from_secs(120), &mut lines).await;
    assert!(matches!(out, Waited::Free(_)), "{out:?}");
    assert_eq!(t0.elapsed().as_secs(), 56, "stale at 1061, began at 1005");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("waiting up to 2m"), "{lines:?}");
}

#[tokio::test(start_paused = true)]
async fn wait_gives_up_while_the_run_keeps_beating() {
    let fake = FakeLoadBalancer::demo();
    beating(&fake, 1000).await;
    let mut lines = vec![];
    let beats = async {
        for i in 1..=6 {
            tokio::time::sleep(Duration::from_secs(10)).await;
            fake.add_tags(
                DEMO_LISTENER,
                &Heartbeat {
                    at: 1005 + i * 10,
                    every: 30,
                }
                .tag(),
            )
            .await
            .unwrap();
        }
    };
    let (out, ()) = tokio::join!(wait_on(&fake, Duration::from_secs(30), &mut lines), beats);
    let Waited::GiveUp(why) = out else {
        panic!("{out:?}")
    };
    for part in ["after waiting 30s", "run r-9 is still alive", "--force"] {
        assert!(why.contains(part), "{part}: {why}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_record_removed_while_waiting_ends_the_wait() {
    let fake = FakeLoadBalancer::demo();
    let tags = beating(&fake, 1000).await;
    let mut lines = vec![];
    let finish = async {
        tokio::time::sleep(Duration::from_secs(12)).await;
        let keys: Vec<String> = tags.keys().cloned().collect();
        fake.remove_tags(DEMO_LISTENER, &keys).await.unwrap();
    };
    let (out, ()) = tokio::join!(wait_on(&fake, Duration::from_secs(120), &mut lines), finish);
    assert!(
        matches!(out, Waited::Gone(ref m) if m.contains("r-9")),
        "{out:?}"
    );
}
