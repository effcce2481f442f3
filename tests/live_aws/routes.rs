//! Live-AWS tests of several routes moved as one: a second listener
//! (`ALB_ROLLOUT_LIVE_LISTENER2`, e.g. HTTP:80 beside an HTTPS:443 one) of
//! the same load balancer whose default action forwards to the same blue.
//! Both change listeners of the account and put them back.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use super::{bin, default_action_of, live, Live};

fn second() -> String {
    std::env::var("ALB_ROLLOUT_LIVE_LISTENER2")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            panic!("ALB_ROLLOUT_LIVE_LISTENER2 is not set; needs a second listener forwarding to blue (run with --ignored)")
        })
}

/// A two-listener canary stopped at its first step (1% to green).
fn canary_at_step_one(l: &Live, second: &str) -> Child {
    let mut child = bin()
        .args(["canary", "--listener", &l.listener, "--listener", second])
        .args(["--blue", &l.blue, "--green", &l.green])
        .args(["--steps", "1:30m,100", "--metric-period", "60s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let shifted = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.starts_with("step 1/2"));
    std::thread::spawn(move || for _ in lines {});
    assert!(shifted, "the canary never reached step 1");
    child
}

#[test]
#[ignore = "changes two listeners in an AWS account: ALB_ROLLOUT_LIVE_*, ALB_ROLLOUT_LIVE_LISTENER2 and credentials (run with --ignored)"]
fn live_mutating_two_listeners_shift_then_cancel_restores_both() {
    let (l, second) = (live(), second());
    let before = (default_action_of(&l.listener), default_action_of(&second));
    let mut child = canary_at_step_one(&l, &second);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let after = (default_action_of(&l.listener), default_action_of(&second));
    assert_eq!(after, before, "both routes restored exactly");
}

#[test]
#[ignore = "changes two listeners in an AWS account: ALB_ROLLOUT_LIVE_*, ALB_ROLLOUT_LIVE_LISTENER2 and credentials (run with --ignored)"]
fn live_mutating_two_listeners_kill_9_then_rollback_from_the_second_restores_both() {
    let (l, second) = (live(), second());
    let before = (default_action_of(&l.listener), default_action_of(&second));
    let mut child = canary_at_step_one(&l, &second);
    child.kill().unwrap();
    child.wait().unwrap();
    let out = bin()
        .args(["rollback", "--listener", &second, "--wait", "2m"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = (default_action_of(&l.listener), default_action_of(&second));
    assert_eq!(after, before, "both routes restored exactly");
}
