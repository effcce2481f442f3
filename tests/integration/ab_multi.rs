//! `ab` and `dark` over two listeners of one load balancer (`--listener`
//! given twice): a rule on each, so a request with the match reaches green
//! on either listener; the run ends with no rule on either. A green that
//! fails reverts both rules; a CreateRule refused on the second listener
//! (an emulator fault on that listener) removes the first listener's rule;
//! `kill -9` then `rollback --listener FIRST` removes both; a second
//! route that forwards elsewhere, or on another load balancer, is refused
//! with no mutating call; `dark --keep` keeps a rule on each listener.

use crate::ab::ab_args;
use crate::multi_route::second_listener_on;
use crate::support::*;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use serde_json::json;
use std::time::Duration;

/// A second listener of the demo's load balancer forwarding to `tg`.
async fn second_listener(emu: &Emulator, d: &Demo, tg: &str) -> String {
    second_listener_on(emu, d, tg, 8082).await
}

/// The rules of `listener` other than its default.
async fn rules_of(emu: &Emulator, listener: &str) -> Vec<String> {
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let out = client
        .describe_rules()
        .listener_arn(listener)
        .send()
        .await
        .expect("describe rules");
    (out.rules().iter())
        .filter(|r| !r.is_default().unwrap_or(false))
        .map(|r| r.rule_arn().unwrap_or_default().to_string())
        .collect()
}

async fn no_rule_left(emu: &Emulator, listeners: &[&str]) {
    for l in listeners {
        assert_eq!(rules_of(emu, l).await, Vec::<String>::new(), "{l}");
    }
}

/// The version that answered one request to `url` with `headers`.
fn version(url: &str, headers: &[(&str, &str)]) -> String {
    version_at(url, "/", headers)
}

fn version_at(url: &str, path: &str, headers: &[(&str, &str)]) -> String {
    let (_, head, _) = http("GET", &format!("{url}{path}"), None, headers).unwrap();
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(": ")?;
            k.eq_ignore_ascii_case("x-app-version")
                .then(|| v.to_string())
        })
        .unwrap_or_default()
}

const VARIANT: (&str, &str) = ("X-Variant", "b");

#[tokio::test]
async fn ab_over_two_listeners_sends_the_segment_to_green_on_each_and_ends_with_no_rule() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let second = second_listener(&emu, &d, &d.blue).await;
    let second_url = emu.listener_url(&second);
    let mut args = ab_args(&d, "20s");
    args.extend(["--listener", &second, "--cloudwatch", "false"]);
    let probe = format!("{}/", d.listener_url);
    args.extend(["--probe", &probe]);
    let (mut child, _) = spawn_until_line(&emu, &args, "rule rewritten at priority");
    // The second rule's rewrite follows the first's at once.
    std::thread::sleep(Duration::from_secs(1));
    emu.wait_propagated();
    assert_eq!(rules_of(&emu, &d.listener).await.len(), 1);
    assert_eq!(rules_of(&emu, &second).await.len(), 1);
    for url in [d.listener_url.as_str(), second_url.as_str()] {
        assert_eq!(version(url, &[VARIANT]), "v2", "{url}: the segment");
        assert_eq!(version(url, &[]), "v1", "{url}: everyone else");
    }
    let cookie = ("Cookie", "a=1; X-Variant=b");
    assert_eq!(
        version(&second_url, &[cookie]),
        "v1",
        "a header match, not a cookie"
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));
    no_rule_left(&emu, &[&d.listener, &second]).await;
    for l in [&d.listener, &second] {
        let s = emu.run(&["status", "--listener", l]);
        assert!(!s.stdout.contains("run in progress"), "{}", s.stdout);
    }
}

fn dark_args<'a>(d: &'a Demo, second: &'a str, probe: &'a str) -> Vec<&'a str> {
    vec![
        "dark",
        "--listener",
        &d.listener,
        "--listener",
        second,
        "--green",
        &d.green,
        "--match",
        "cookie:variant=b",
        "--probe",
        probe,
        "--interval",
        "2s",
        "--duration",
        "8s",
    ]
}

#[tokio::test]
async fn dark_with_a_bad_green_on_two_listeners_reverts_both_rules() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "1.0"]);
    let second = second_listener(&emu, &d, &d.blue).await;
    let probe = format!("{}/", d.listener_url);
    let r = emu.run(&dark_args(&d, &second, &probe));
    assert_eq!(r.code, 1, "{r:?}");
    let created: Vec<(String, String, u64)> = (emu.calls().into_iter())
        .filter(|(_, a, s)| a == "CreateRule" && *s == 200)
        .collect();
    assert_eq!(created.len(), 2, "a rule on each listener: {created:?}");
    no_rule_left(&emu, &[&d.listener, &second]).await;
}

#[tokio::test]
async fn a_create_rule_refused_on_the_second_listener_removes_the_first_listeners_rule() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let second = second_listener(&emu, &d, &d.blue).await;
    emu.fault(json!({"service": "elasticloadbalancing", "action": "CreateRule", "resource": second, "status": 400, "code": "TooManyRules", "message": "refused", "count": 1}));
    emu.clear_calls();
    let probe = format!("{}/", d.listener_url);
    let r = emu.run(&dark_args(&d, &second, &probe));
    assert_eq!(r.code, 1, "{r:?}");
    let creates: Vec<u64> = (emu.calls().into_iter())
        .filter(|(_, a, _)| a == "CreateRule")
        .map(|(_, _, s)| s)
        .collect();
    assert_eq!(creates, [200, 400], "the first landed, the second refused");
    no_rule_left(&emu, &[&d.listener, &second]).await;
    let s = emu.run(&["status", "--listener", &second, "--output", "json"]);
    assert!(!s.stdout.contains("alb-rollout:run"), "{}", s.stdout);
}

#[tokio::test]
async fn kill_9_then_rollback_given_the_first_listener_removes_both_rules() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let second = second_listener(&emu, &d, &d.blue).await;
    let mut args = ab_args(&d, "120s");
    args.extend(["--listener", &second, "--cloudwatch", "false"]);
    let probe = format!("{}/", d.listener_url);
    args.extend(["--probe", &probe]);
    let (mut child, _) = spawn_until_line(&emu, &args, "rule rewritten at priority");
    std::thread::sleep(Duration::from_secs(1));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(rules_of(&emu, &second).await.len(), 1);
    // `status` on either route shows the run and the route it goes with.
    let s = (emu.run(&["status", "--listener", &second, "--output", "json"])).json();
    assert_eq!(s["runs"][0]["routes"][0], d.listener.as_str(), "{s}");
    let s = (emu.run(&["status", "--listener", &d.listener, "--output", "json"])).json();
    assert_eq!(s["runs"][0]["routes"][0], second.as_str(), "{s}");
    let r = emu.run(&["rollback", "--listener", &d.listener, "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    no_rule_left(&emu, &[&d.listener, &second]).await;
    for l in [&d.listener, &second] {
        let s = emu.run(&["status", "--listener", l, "--output", "json"]);
        assert!(!s.stdout.contains("alb-rollout:run"), "{l}: {}", s.stdout);
    }
}

#[tokio::test]
async fn a_second_route_that_forwards_elsewhere_is_refused_with_nothing_changed() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let second = second_listener(&emu, &d, &d.green).await;
    emu.clear_calls();
    let probe = format!("{}/", d.listener_url);
    let r = emu.run(&dark_args(&d, &second, &probe));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(&second), "{}", r.stderr);
    assert!(r.stderr.contains("same blue"), "{}", r.stderr);
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
    // --priority places one rule: with two routes it is refused too.
    let blue_second = second_listener_on(&emu, &d, &d.blue, 8083).await;
    emu.clear_calls();
    let mut args = dark_args(&d, &blue_second, &probe);
    args.extend(["--priority", "5"]);
    let r = emu.run(&args);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--priority"), "{}", r.stderr);
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_listener_of_another_load_balancer_is_refused_with_nothing_changed() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let other = emu.demo(&["--prefix", "other"]);
    emu.clear_calls();
    let probe = format!("{}/", d.listener_url);
    let r = emu.run(&dark_args(&d, &other.listener, &probe));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(&other.listener), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("a target group belongs to one load balancer"),
        "{}",
        r.stderr
    );
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn dark_keep_over_two_listeners_keeps_a_rule_on_each_listed_and_removed_per_listener() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let second = second_listener(&emu, &d, &d.blue).await;
    let probe = format!("{}/", d.listener_url);
    let mut args = dark_args(&d, &second, &probe);
    args.extend(["--keep", "--output", "json"]);
    let r = emu.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    let run_id = r.json()["run_id"].as_str().unwrap().to_string();
    emu.wait_propagated();
    let second_url = emu.listener_url(&second);
    let cookie = ("Cookie", "variant=b");
    for url in [d.listener_url.as_str(), second_url.as_str()] {
        assert_eq!(version(url, &[cookie]), "v2", "{url}: the toggle is on");
    }
    for l in [&d.listener, &second] {
        let listed = emu.run(&["routes", "list", "--listener", l, "--output", "json"]);
        let listed = listed.json();
        let rules = listed["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 1, "{listed}");
        assert_eq!(rules[0]["run_id"], run_id.as_str());
        let arn = rules[0]["rule_arn"].as_str().unwrap();
        let removed = emu.run(&["routes", "remove", "--listener", l, "--rule", arn]);
        assert_eq!(removed.code, 0, "{removed:?}");
    }
    no_rule_left(&emu, &[&d.listener, &second]).await;
}

#[tokio::test]
async fn dark_over_two_listeners_calls_only_what_its_policy_for_both_allows() {
    use alb_rollout::iam::{build, Request, Strategy};
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let second = second_listener(&emu, &d, &d.blue).await;
    let p = build(&Request {
        strategy: Strategy::Dark,
        listeners: vec![d.listener.clone(), second.clone()],
        rules: vec![],
        target_groups: vec![],
        access_logs: None,
        shadow_first: false,
    })
    .expect("policy");
    let probe = format!("{}/", d.listener_url);
    let args = dark_args(&d, &second, &probe);
    let calls = crate::iam_support::run_logged(&emu, &args, 0);
    let seen = crate::iam_support::allowed(&calls, &[("dark", &p)]);
    for a in ["CreateRule", "ModifyRule", "DeleteRule"] {
        assert!(
            seen.contains(&format!("elasticloadbalancing:{a}")),
            "{a}: {seen:?}"
        );
    }
    let on_second = (calls.iter())
        .filter(|c| c["action"] == "CreateRule")
        .filter(|c| c["resources"][0] == second.as_str())
        .count();
    assert_eq!(on_second, 1, "a rule on the second listener");
}

#[tokio::test]
async fn a_listener_and_a_rule_of_another_get_a_rule_each_and_rollback_from_the_rule_removes_both()
{
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let second = second_listener(&emu, &d, &d.blue).await;
    let api = crate::multi_route::rule_on(&emu, &second, &d.blue).await;
    let second_url = emu.listener_url(&second);
    let mut args = ab_args(&d, "120s");
    args.extend([
        "--listener",
        &second,
        "--rule",
        &api,
        "--cloudwatch",
        "false",
    ]);
    let probe = format!("{}/", d.listener_url);
    args.extend(["--probe", &probe]);
    let (mut child, _) = spawn_until_line(&emu, &args, "rule rewritten at priority");
    std::thread::sleep(Duration::from_secs(1));
    emu.wait_propagated();
    // The second listener's rule splits only the /api/* rule's requests:
    // it goes just before it, with its path condition and the header.
    assert_eq!(version_at(&second_url, "/api/x", &[VARIANT]), "v2");
    assert_eq!(version_at(&second_url, "/api/x", &[]), "v1");
    assert_eq!(
        version_at(&second_url, "/", &[VARIANT]),
        "v1",
        "not a route of the run"
    );
    assert_eq!(version(&d.listener_url, &[VARIANT]), "v2");
    child.kill().unwrap();
    child.wait().unwrap();
    let r = emu.run(&["rollback", "--listener", &second, "--rule", &api, "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    no_rule_left(&emu, &[&d.listener]).await;
    assert_eq!(
        rules_of(&emu, &second).await,
        vec![api.clone()],
        "only the split rule"
    );
    let s = emu.run(&[
        "status",
        "--listener",
        &second,
        "--rule",
        &api,
        "--output",
        "json",
    ]);
    assert!(!s.stdout.contains("alb-rollout:run"), "{}", s.stdout);
}
