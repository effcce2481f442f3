//! What the IAM coverage tests share: the policy `iam-policy` builds for
//! a request, and the check that every (action, ARN) of an emulator call
//! log is allowed by it (a CreateRule's tags as AddTags on the new rule,
//! with CreateAction), with the runs whose calls are held against it.

use crate::support::*;
use alb_rollout::iam::policy::CREATE_ACTION;
use alb_rollout::iam::{build, Policy, Request, Strategy};
use serde_json::Value;
use std::collections::BTreeSet;

pub fn policy(strategy: Strategy, listeners: &[&str], groups: &[&str]) -> Policy {
    policy_with_rules(strategy, listeners, &[], groups)
}

/// `iam-policy --strategy S --listener L... --rule R... --target-group G...`.
pub fn policy_with_rules(
    strategy: Strategy,
    listeners: &[&str],
    rules: &[&str],
    groups: &[&str],
) -> Policy {
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
    build(&Request {
        strategy,
        listeners: v(listeners),
        rules: v(rules),
        target_groups: v(groups),
        access_logs: None,
        shadow_first: false,
    })
    .expect("policy")
}

/// The IAM action of a logged call.
fn action(c: &Value) -> String {
    let prefix = match c["service"].as_str().unwrap_or("") {
        "elasticloadbalancing" => "elasticloadbalancing",
        "monitoring" => "cloudwatch",
        other => panic!("a call to {other} no policy grants: {c}"),
    };
    format!("{prefix}:{}", c["action"].as_str().unwrap_or(""))
}

/// Assert every call in `calls` is allowed by each of `policies`; the
/// actions called.
pub fn allowed(calls: &[Value], policies: &[(&str, &Policy)]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for c in calls {
        let a = action(c);
        let named: Vec<&str> = (c["resources"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        let resources = if named.is_empty() { vec!["*"] } else { named };
        for (label, p) in policies {
            for r in &resources {
                assert!(
                    p.allows(&a, r, &[]),
                    "{label} policy denies {a} on {r}: {c}"
                );
            }
            let created = c["created"].as_array().into_iter().flatten();
            if c["tags"] == true {
                for rule in created.filter_map(Value::as_str) {
                    let ctx = [(CREATE_ACTION, "CreateRule")];
                    let tags = "elasticloadbalancing:AddTags";
                    assert!(
                        p.allows(tags, rule, &ctx),
                        "{label} policy denies the CreateRule's tags on {rule}"
                    );
                }
            }
        }
        seen.insert(a);
    }
    seen
}

pub fn granted(p: &Policy) -> BTreeSet<String> {
    p.statements
        .iter()
        .flat_map(|s| s.actions.clone())
        .collect()
}

/// Run to the end; the calls it made (the log is cleared first).
pub fn run_logged(emu: &Emulator, args: &[&str], code: i32) -> Vec<Value> {
    emu.clear_calls();
    let r = emu.run(args);
    assert_eq!(r.code, code, "{args:?}: {r:?}");
    emu.call_log()
}

/// Start, `kill -9` once `marker` shows, `rollback --force`: the calls of
/// the run and of the rollback.
pub fn killed_then_rolled_back(
    emu: &Emulator,
    args: &[&str],
    marker: &str,
    rollback: &[&str],
) -> (Vec<Value>, Vec<Value>) {
    emu.clear_calls();
    let (mut child, _) = spawn_until_line(emu, args, marker);
    child.kill().unwrap();
    child.wait().unwrap();
    let run = emu.call_log();
    emu.clear_calls();
    let mut rb = vec!["rollback", "--force"];
    rb.extend(rollback);
    let r = emu.run(&rb);
    assert_eq!(r.code, 0, "{r:?}");
    (run, emu.call_log())
}
