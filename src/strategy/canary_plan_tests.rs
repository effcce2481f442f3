//! The canary planner as a table: input (steps, `--register`, final
//! route, `--abort`) to the run's actions.

use super::*;
use crate::plan::parse_steps;

fn kind(a: &Action) -> String {
    match a {
        Action::Record => "record".into(),
        Action::Register { targets, .. } => format!("register {}", targets.len()),
        Action::AwaitHealthy { targets, .. } => format!("await-healthy {}", targets.len()),
        Action::WriteRoute(w) => match &w.purpose {
            Purpose::Step { index, of, percent } => {
                format!("write step {}/{of} {percent}", index + 1)
            }
            Purpose::Promote { after_steps } => format!("write promote after {after_steps}"),
            other => format!("write {other:?}"),
        },
        Action::Bake(b) => format!("bake {} {}s", b.step + 1, b.duration.as_secs()),
        Action::Unrecord => "unrecord".into(),
        other => format!("{other:?}"),
    }
}

fn target(id: &str) -> Target {
    Target {
        id: id.into(),
        port: None,
        az: None,
    }
}

#[test]
fn the_canary_plans_its_actions() {
    let cases: Vec<(&str, Vec<Target>, Vec<&str>)> = vec![
        (
            "10,100",
            vec![],
            vec![
                "record",
                "await-healthy 0",
                "write step 1/2 10%",
                "bake 1 30s",
                "write step 2/2 100%",
                "bake 2 0s",
                "write promote after 2",
                "unrecord",
            ],
        ),
        (
            "0.5:1m,50:2m,100:5m",
            vec![target("10.0.0.7"), target("10.0.0.8")],
            vec![
                "record",
                "register 2",
                "await-healthy 2",
                "write step 1/3 0.5%",
                "bake 1 60s",
                "write step 2/3 50%",
                "bake 2 120s",
                "write step 3/3 100%",
                "bake 3 300s",
                "write promote after 3",
                "unrecord",
            ],
        ),
    ];
    let original = Forward::single("blue");
    for (steps, register, want) in cases {
        let s = parse_steps(steps).unwrap();
        let canary = plan(&CanaryInput {
            original: &original,
            blue: "blue",
            green: "green",
            steps: &s,
            default_bake: Duration::from_secs(30),
            stickiness: None,
            final_route: FinalRoute::KeepBlue,
        });
        let p = canary.actions(&register);
        let got: Vec<String> = p.actions.iter().map(kind).collect();
        assert_eq!(got, want, "{steps}");
        assert_eq!(p.registered(), register, "{steps}");
        assert_eq!((p.strategy, p.abort), ("canary", AbortMode::Flip));
        assert_eq!(p.original, original);
        // The writes chain: each expects what the one before wrote.
        let writes: Vec<&RouteWrite> = p.actions.iter().filter_map(Action::route_write).collect();
        assert_eq!(writes[0].from, original, "{steps}");
        for w in writes.windows(2) {
            assert_eq!(w[1].from, w[0].to, "{steps}");
        }
        assert_eq!(writes.last().map(|w| &w.to), Some(&canary.promoted));
        for (w, step) in writes.iter().zip(&canary.steps) {
            assert_eq!(w.to, step.forward, "{steps}");
        }
    }
}

#[test]
fn final_route_and_abort_shape_the_plan() {
    let original = Forward::single("blue");
    let s = parse_steps("50,100").unwrap();
    let p = plan(&CanaryInput {
        original: &original,
        blue: "blue",
        green: "green",
        steps: &s,
        default_bake: Duration::from_secs(30),
        stickiness: None,
        final_route: FinalRoute::GreenOnly,
    })
    .with_abort(AbortMode::Gradual)
    .actions(&[]);
    assert_eq!(p.abort, AbortMode::Gradual);
    let promote = p
        .actions
        .iter()
        .rev()
        .find_map(Action::route_write)
        .unwrap();
    assert_eq!(promote.to, Forward::single("green"));
}
