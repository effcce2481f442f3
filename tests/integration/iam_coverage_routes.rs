//! The policy `iam-policy --strategy canary --listener A --listener B
//! --rule R` builds, held against `canary` given the same flags: two
//! listeners of one load balancer and a rule R of the second, all
//! forwarding to the same blue, so the routes moved as one are A's default
//! action and R (B hosts R). Runs: `kill -9` mid-step then `rollback
//! --listener A` (which restores both), a good green promoted, and a bad
//! green reverted on a stack of its own. Every (action, ARN) in the
//! emulator's call log must be allowed by that policy (and the rollback's
//! by the rollback policy for the same flags too).

use crate::canary::canary_args;
use crate::iam_support::*;
use crate::multi_route::{rule_on, second_listener};
use crate::support::*;
use alb_rollout::iam::Strategy;
use std::time::{Duration, Instant};

/// A second listener of the demo's load balancer and a rule of it, both
/// forwarding to blue: (second listener, rule).
async fn second_listener_and_rule(emu: &Emulator, d: &Demo) -> (String, String) {
    let second = second_listener(emu, d, &d.blue).await;
    let rule = rule_on(emu, &second, &d.blue).await;
    (second, rule)
}

fn args<'a>(d: &'a Demo, second: &'a str, rule: &'a str, steps: &'a str) -> Vec<&'a str> {
    let mut a = canary_args(d, steps);
    a.extend(["--listener", second, "--rule", rule]);
    a
}

/// Successful writes of `action` in the emulator's log so far.
fn writes(emu: &Emulator, action: &str) -> usize {
    let calls = emu.calls();
    (calls.iter())
        .filter(|(_, a, s)| a == action && *s == 200)
        .count()
}

#[tokio::test]
async fn a_canary_over_two_listeners_and_a_rule_calls_only_what_its_policy_allows() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let (second, rule) = second_listener_and_rule(&emu, &d).await;
    let listeners = [d.listener.as_str(), second.as_str()];
    let groups = [d.blue.as_str(), d.green.as_str()];
    let p = policy_with_rules(Strategy::Canary, &listeners, &[&rule], &groups);
    let rb_policy = policy_with_rules(Strategy::Rollback, &listeners, &[&rule], &groups);

    // Killed once step 1 is written on both routes (the rule is written
    // after the listener).
    emu.clear_calls();
    let (mut child, _) =
        spawn_until_line(&emu, &args(&d, &second, &rule, "50:60s,100"), "step 1/2");
    let deadline = Instant::now() + Duration::from_secs(30);
    while writes(&emu, "ModifyRule") == 0 {
        assert!(
            Instant::now() < deadline,
            "step 1 never wrote the rule: {:?}",
            emu.calls()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut seen = allowed(&emu.call_log(), &[("canary", &p)]);
    emu.clear_calls();
    let r = emu.run(&["rollback", "--force", "--listener", &d.listener]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        writes(&emu, "ModifyListener"),
        1,
        "the first listener restored"
    );
    assert_eq!(writes(&emu, "ModifyRule"), 1, "the rule restored");
    allowed(&emu.call_log(), &[("rollback", &rb_policy), ("canary", &p)]);

    // The restored routes take a good green to the end.
    let good = args(&d, &second, &rule, "50:4s,100");
    seen.extend(allowed(&run_logged(&emu, &good, 0), &[("canary", &p)]));

    // A bad green on a stack of its own: reverted on both routes.
    let mut bad = Emulator::start();
    let b = bad.demo(&["--green-error-rate", "0.5"]);
    let (b_second, b_rule) = second_listener_and_rule(&bad, &b).await;
    let b_listeners = [b.listener.as_str(), b_second.as_str()];
    let b_groups = [b.blue.as_str(), b.green.as_str()];
    let bp = policy_with_rules(Strategy::Canary, &b_listeners, &[&b_rule], &b_groups);
    // 15 probes of a green failing half its requests (all pass one run in
    // 32768; at a 10 s hold, 5 probes passed one run in 32).
    let failing = args(&b, &b_second, &b_rule, "50:30s,100");
    seen.extend(allowed(&run_logged(&bad, &failing, 1), &[("canary", &bp)]));
    assert!(
        writes(&bad, "ModifyRule") >= 2,
        "the rule was shifted and put back"
    );

    for a in ["ModifyListener", "ModifyRule", "AddTags", "RemoveTags"] {
        let a = format!("elasticloadbalancing:{a}");
        assert!(seen.contains(&a), "the runs called {a}: {seen:?}");
    }
}
