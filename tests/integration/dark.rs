//! `dark` and `routes` through the real binary on the emulator: a dark
//! launch with `--keep` leaves an edge toggle that only requests with the
//! header reach, `routes list` shows it as the run left it, `routes
//! remove` takes it away; a rule alb-rollout did not create is refused
//! with exit 2 and no mutating call.

use crate::ab::foreign_rule;
use crate::support::*;
use serde_json::Value;

/// One request through the load balancer: the version that answered.
fn version(d: &Demo, headers: &[(&str, &str)]) -> String {
    let (_, head, _) = http("GET", &format!("{}/", d.listener_url), None, headers).unwrap();
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(": ")?;
            k.eq_ignore_ascii_case("x-app-version")
                .then(|| v.to_string())
        })
        .unwrap_or_default()
}

const PREVIEW: (&str, &str) = ("X-Preview", "1");

#[tokio::test]
async fn dark_keep_then_routes_list_then_routes_remove() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let probe = format!("{}/", d.listener_url);
    let r = emu.run(&[
        "dark",
        "--listener",
        &d.listener,
        "--green",
        &d.green,
        "--match",
        "header:X-Preview=1",
        "--probe",
        &probe,
        "--interval",
        "2s",
        "--duration",
        "6s",
        "--keep",
        "--output",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let run = r.json();
    assert_eq!(
        (run["result"].as_str(), run["strategy"].as_str()),
        (Some("promoted"), Some("dark"))
    );
    let probes: Vec<&Value> = run["steps"][0]["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert!(
        !probes.is_empty(),
        "the probe judged green through the rule: {run}"
    );
    emu.wait_propagated();
    assert_eq!(version(&d, &[]), "v1", "no public request reaches green");
    assert_eq!(version(&d, &[PREVIEW]), "v2", "the header reaches green");

    let listed = emu.run(&[
        "routes",
        "list",
        "--listener",
        &d.listener,
        "--output",
        "json",
    ]);
    assert_eq!(listed.code, 0, "{listed:?}");
    let listed = listed.json();
    let rules = listed["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{listed}");
    assert_eq!(
        rules[0]["matches"],
        serde_json::json!(["header:X-Preview=1"])
    );
    assert_eq!(rules[0]["run_id"], run["run_id"]);
    assert_eq!(rules[0]["run_in_progress"], false);
    assert!(rules[0]["created_unix"].as_u64().is_some(), "{listed}");
    let text = emu.run(&["routes", "list", "--listener", &d.listener]);
    assert!(
        text.stdout.contains("header:X-Preview=1 -> "),
        "{}",
        text.stdout
    );

    let arn = rules[0]["rule_arn"].as_str().unwrap();
    emu.clear_calls();
    let removed = emu.run(&["routes", "remove", "--listener", &d.listener, "--rule", arn]);
    assert_eq!(removed.code, 0, "{removed:?}");
    assert!(
        removed.stdout.starts_with("removed rule"),
        "{}",
        removed.stdout
    );
    assert_eq!(emu.mutating_calls(), vec!["DeleteRule"]);
    emu.wait_propagated();
    assert_eq!(version(&d, &[PREVIEW]), "v1", "the toggle is off");
    let empty = emu.run(&["routes", "list", "--listener", &d.listener]);
    assert!(
        empty.stdout.starts_with("no rules created by alb-rollout"),
        "{empty:?}"
    );
}

#[tokio::test]
async fn routes_remove_refuses_a_rule_alb_rollout_did_not_create() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let foreign = foreign_rule(&emu, &d, 5).await;
    emu.clear_calls();
    let r = emu.run(&[
        "routes",
        "remove",
        "--listener",
        &d.listener,
        "--rule",
        &foreign,
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains(&format!("--rule {foreign}: was not created by alb-rollout")),
        "{}",
        r.stderr
    );
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
    let listed = emu
        .run(&[
            "routes",
            "list",
            "--listener",
            &d.listener,
            "--output",
            "json",
        ])
        .json();
    assert_eq!(
        listed["rules"],
        serde_json::json!([]),
        "foreign rules are not listed"
    );
}

#[tokio::test]
async fn dark_without_keep_removes_its_rule() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    emu.clear_calls();
    let probe = format!("{}/", d.listener_url);
    let r = emu.run(&[
        "dark",
        "--listener",
        &d.listener,
        "--green",
        &d.green,
        "--match",
        "cookie:preview=yes",
        "--probe",
        &probe,
        "--interval",
        "2s",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("rule rewritten at priority 50000: cookie:preview=yes"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("rule deleted at priority 50000"),
        "{}",
        r.stdout
    );
    let writes: Vec<String> = emu
        .mutating_calls()
        .into_iter()
        .filter(|c| c != "AddTags")
        .collect();
    // Created with green at weight 0 (the demo's green is in no route, so
    // AWS does not health-check it), rewritten once green is healthy.
    assert_eq!(
        writes,
        vec!["CreateRule", "ModifyRule", "DeleteRule", "RemoveTags"]
    );
}
