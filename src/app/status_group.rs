//! `alb-rollout status --target-group TG`: one group's targets and health,
//! and the `rolling` run recorded on it, if any: for a group no listener
//! forwards to (the listener view finds the others). Read-only.

use super::status::{group_statuses, recorded_runs, GatherError, GroupStatus, RunStatus};
use super::{failed, invalid, print_json};
use crate::alb::{group_record, LoadBalancerPort};
use crate::cli::Output;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct GroupView {
    pub target_group: GroupStatus,
    /// The group's targets before the recorded run (`rollback
    /// --target-group` restores them), when a run is recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_targets: Option<usize>,
    pub runs: Vec<RunStatus>,
}

pub async fn gather(lb: &dyn LoadBalancerPort, reference: &str) -> Result<GroupView, GatherError> {
    let culprit = format!("--target-group {reference}");
    let arn = lb
        .target_group(reference)
        .await
        .map_err(super::status::lookup(&culprit))?
        .arn;
    let mut groups = group_statuses(lb, vec![arn.clone()]).await?;
    let runs = recorded_runs(lb, std::iter::once(arn.clone())).await;
    let original_targets = match lb.tags(&arn).await.map(|t| group_record::decode(&t)) {
        Ok(Ok(Some(r))) => Some(r.original.len()),
        _ => None,
    };
    Ok(GroupView {
        target_group: groups.remove(0),
        original_targets,
        runs,
    })
}

fn print_text(v: &GroupView) {
    let g = &v.target_group;
    println!(
        "target group {} ({}, {}): {}",
        g.name, g.arn, g.target_type, g.health
    );
    for t in &g.targets {
        println!("  {:<28} {}", t.target.to_string(), t.state.as_str());
    }
    if let Some(why) = &g.unused {
        println!("unused: {why}");
    }
    for r in &v.runs {
        let original = v
            .original_targets
            .map(|n| format!("; {n} original targets recorded"))
            .unwrap_or_default();
        let beat = match (r.heartbeat_age_seconds, r.stale) {
            (Some(age), false) => format!("alive (last heartbeat {age} s ago)"),
            (Some(age), true) => format!(
                "no heartbeat for {age} s: the run is gone, `alb-rollout rollback --target-group {}` restores",
                g.arn
            ),
            (None, _) => "no heartbeat recorded".to_string(),
        };
        println!(
            "\nrun in progress: {} ({}, step {}){original}; {beat}",
            r.run_id, r.strategy, r.step
        );
    }
}

pub async fn run(lb: &dyn LoadBalancerPort, reference: &str, output: Output) -> i32 {
    match gather(lb, reference).await {
        Ok(v) => {
            match output {
                Output::Json => print_json(&v),
                Output::Text => print_text(&v),
            }
            0
        }
        Err(GatherError {
            error,
            is_input: true,
        }) => invalid(&[error], output),
        Err(GatherError { error, .. }) => failed(&error.to_string(), super::EXIT_REVERTED, output),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::fake::*;
    use crate::alb::{Forward, RouteAction, RouteRef};

    #[tokio::test]
    async fn status_names_a_group_nothing_forwards_to_as_unused_and_why() {
        let fake = FakeLoadBalancer::demo();
        let v = gather(&fake, DEMO_GREEN).await.ok().unwrap();
        let why = v.target_group.unused.expect("green is unused");
        assert!(why.contains("no listener or rule"), "{why}");
        assert!(why.contains("AWS does not health-check it"), "{why}");
        let blue = gather(&fake, DEMO_BLUE).await.ok().unwrap();
        assert_eq!(blue.target_group.unused, None);
        let attached = Forward::weighted(&[(DEMO_BLUE, 999), (DEMO_GREEN, 0)]);
        let route = RouteRef::new(DEMO_LISTENER, None);
        fake.force_route(&route, RouteAction::Forward(attached));
        let v = gather(&fake, DEMO_GREEN).await.ok().unwrap();
        assert_eq!(v.target_group.unused, None, "weight 0 puts it in use");
    }
}
