//! Routes on two load balancers moved as one: the demo's public load
//! balancer and a second stack (`--prefix int`: its own load balancer,
//! blue and green, a target group serving one load balancer), one
//! `--green` per load balancer. A good green is promoted on both; a green
//! that fails only behind the second load balancer is caught by CloudWatch
//! (both load balancers in one GetMetricData call per interval, summed per
//! side) and reverted on both, each route equal to its original field for
//! field; one green for two load balancers is refused with nothing
//! changed; `kill -9` then `rollback` given the second load balancer's
//! listener restores both.

use crate::canary::canary_args;
use crate::multi_route::{action_of, green_percent};
use crate::support::*;
use std::time::Duration;

/// The demo and a second stack on a load balancer of its own.
fn two_stacks(emu: &mut Emulator, args: &[&str], int_args: &[&str]) -> (Demo, Demo) {
    let d = emu.demo(args);
    let mut more = vec!["--prefix", "int"];
    more.extend(int_args);
    let int = emu.demo(&more);
    assert_ne!(d.load_balancer, int.load_balancer);
    (d, int)
}

fn greens(d: &Demo, int: &Demo) -> String {
    format!("{},{}", d.green, int.green)
}

/// `args` with the second load balancer's listener and its green.
fn on_both<'a>(mut args: Vec<&'a str>, int: &'a Demo, greens: &'a str) -> Vec<&'a str> {
    let g = args.iter().position(|a| *a == "--green").expect("--green");
    args[g + 1] = greens;
    args.extend(["--listener", &int.listener]);
    args
}

#[tokio::test]
async fn a_good_green_is_promoted_on_both_load_balancers() {
    let mut emu = Emulator::start();
    let (d, int) = two_stacks(&mut emu, &[], &[]);
    let g = greens(&d, &int);
    let r = emu.run(&on_both(canary_args(&d, "50:4s,100"), &int, &g));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        green_percent(&action_of(&emu, &d.listener), &d.green),
        100.0
    );
    assert_eq!(
        green_percent(&action_of(&emu, &int.listener), &int.green),
        100.0
    );
    // The second green was attached on its own load balancer's listener.
    let log = emu.call_log();
    let attached = log
        .iter()
        .any(|c| c["action"] == "ModifyListener" && c["resources"][0] == int.listener.as_str());
    assert!(attached, "{log:?}");
}

#[tokio::test]
async fn a_green_failing_behind_the_second_load_balancer_is_reverted_on_both() {
    let mut emu = Emulator::start_with(FAST_METRICS);
    let (d, int) = two_stacks(&mut emu, &[], &["--green-error-rate", "0.6"]);
    let before = (action_of(&emu, &d.listener), action_of(&emu, &int.listener));
    let max = Duration::from_secs(300);
    let t1 = Traffic::start(&format!("{}/", d.listener_url), 20, max);
    let t2 = Traffic::start(&format!("{}/", int.listener_url), 20, max);
    emu.clear_calls();
    let g = greens(&d, &int);
    let mut args = on_both(
        crate::canary::cloudwatch_args(&d, "50,100", "pause"),
        &int,
        &g,
    );
    args.extend(["--output", "json"]);
    let r = emu.run(&args);
    // The run's calls only (`status` below reads CloudWatch too).
    let gmd: Vec<serde_json::Value> = (emu.call_log().into_iter())
        .filter(|c| c["action"] == "GetMetricData")
        .collect();
    t1.stop();
    t2.stop();
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(action_of(&emu, &d.listener), before.0);
    assert_eq!(action_of(&emu, &int.listener), before.1);
    // One GetMetricData call per judged interval, each naming both.
    let lbs = |arn: &str| arn.split_once(":loadbalancer/").map(|x| x.1.to_string());
    let both = vec![
        lbs(&d.load_balancer).unwrap(),
        lbs(&int.load_balancer).unwrap(),
    ];
    assert!(!gmd.is_empty());
    for c in &gmd {
        let named: Vec<String> = (c["load_balancers"].as_array().into_iter().flatten())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        assert_eq!(named, both, "{c}");
    }
    let report = r.json();
    let intervals: usize = (report["steps"].as_array().into_iter().flatten())
        .map(|s| s["intervals"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(intervals > 0, "{report}");
    // Only the internal green fails: its errors reached the judgement.
    let failed = (report["steps"].as_array().into_iter().flatten())
        .flat_map(|s| s["intervals"].as_array().into_iter().flatten())
        .filter(|i| i["verdict"] == "fail")
        .flat_map(|i| i["checks"].as_array().into_iter().flatten())
        .any(|c| c["check"] == "error-rate" && c["verdict"] == "fail");
    assert!(failed, "{report}");
    assert!(
        gmd.len() <= intervals,
        "{} calls, {intervals} intervals",
        gmd.len()
    );
}

#[tokio::test]
async fn one_green_for_two_load_balancers_is_refused_with_nothing_changed() {
    let mut emu = Emulator::start();
    let (d, int) = two_stacks(&mut emu, &[], &[]);
    emu.clear_calls();
    let mut args = canary_args(&d, "50:4s,100");
    args.extend(["--listener", &int.listener]);
    let r = emu.run(&args);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--green"), "{}", r.stderr);
    assert!(r.stderr.contains("one load balancer"), "{}", r.stderr);
    assert!(r.stderr.contains(&int.load_balancer), "{}", r.stderr);
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
    // Greens swapped: each is the other load balancer's, refused too.
    let swapped = format!("{},{}", int.green, d.green);
    let r = emu.run(&on_both(canary_args(&d, "50:4s,100"), &int, &swapped));
    assert_eq!(r.code, 2, "{r:?}");
    let culprit = format!("--green {}", int.green);
    assert!(r.stderr.contains(&culprit), "{}", r.stderr);
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
    // --register would fill the first green only: refused by name.
    let g = greens(&d, &int);
    let mut args = on_both(canary_args(&d, "50:4s,100"), &int, &g);
    args.extend(["--register", &d.green_target]);
    let r = emu.run(&args);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--register"), "{}", r.stderr);
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn kill_9_then_rollback_given_the_second_load_balancers_listener_restores_both() {
    let mut emu = Emulator::start();
    let (d, int) = two_stacks(&mut emu, &[], &[]);
    let before = (action_of(&emu, &d.listener), action_of(&emu, &int.listener));
    let g = greens(&d, &int);
    let args = on_both(canary_args(&d, "50:60s,100"), &int, &g);
    let (mut child, _) = spawn_until_line(&emu, &args, "step 1/2");
    std::thread::sleep(Duration::from_secs(2));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(green_percent(&action_of(&emu, &int.listener), &int.green) > 0.0);
    let s = emu
        .run(&["status", "--listener", &int.listener, "--output", "json"])
        .json();
    assert_eq!(s["runs"][0]["routes"][0], d.listener.as_str(), "{s}");
    let r = emu.run(&["rollback", "--listener", &int.listener, "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(action_of(&emu, &d.listener), before.0);
    assert_eq!(action_of(&emu, &int.listener), before.1);
    for l in [&d.listener, &int.listener] {
        let status = emu.run(&["status", "--listener", l, "--output", "json"]);
        assert!(
            !status.stdout.contains("alb-rollout:run"),
            "{}",
            status.stdout
        );
    }
}

#[tokio::test]
async fn a_dry_run_lists_each_load_balancers_pair_and_writes_changing_nothing() {
    let mut emu = Emulator::start();
    let (d, int) = two_stacks(&mut emu, &[], &[]);
    emu.clear_calls();
    let g = greens(&d, &int);
    let mut args = on_both(canary_args(&d, "50:4s,100"), &int, &g);
    args.extend(["--dry-run", "--output", "json"]);
    let r = emu.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(emu.mutating_calls(), Vec::<String>::new());
    let j = r.json();
    let o = &j["other_routes"][0];
    assert_eq!(o["route"], int.listener.as_str(), "{j}");
    assert_eq!(o["load_balancer"], int.load_balancer.as_str(), "{j}");
    assert_eq!(o["blue"], int.blue.as_str(), "{j}");
    assert_eq!(o["green"], int.green.as_str(), "{j}");
    let writes: Vec<&serde_json::Value> = (j["calls"].as_array().into_iter().flatten())
        .filter(|c| c["action"] == "ModifyListener" && c["resource"] == int.listener.as_str())
        .collect();
    assert!(writes.len() >= 3, "attach, the step, the promotion: {j}");
    let text = emu.run(
        &on_both(canary_args(&d, "50:4s,100"), &int, &g)
            .into_iter()
            .chain(["--dry-run"])
            .collect::<Vec<_>>(),
    );
    assert!(text.stdout.contains("also:    the "), "{}", text.stdout);
}

#[tokio::test]
async fn blue_green_with_green_only_ends_each_load_balancer_on_its_own_green() {
    let mut emu = Emulator::start();
    let (d, int) = two_stacks(&mut emu, &[], &[]);
    let g = greens(&d, &int);
    let r = emu.run(&[
        "blue-green",
        "--listener",
        &d.listener,
        "--listener",
        &int.listener,
        "--blue",
        &d.blue,
        "--green",
        &g,
        "--bake",
        "4s",
        "--interval",
        "2s",
        "--cloudwatch",
        "false",
        "--probe",
        &d.green_probe,
        "--final-route",
        "green-only",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    for (l, green) in [(&d.listener, &d.green), (&int.listener, &int.green)] {
        let a = action_of(&emu, l);
        assert_eq!(a["shape"], "single", "{l}: {a}");
        assert_eq!(a["groups"][0]["target_group_arn"], green.as_str(), "{a}");
    }
}
