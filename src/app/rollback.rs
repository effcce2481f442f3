//! `alb-rollout rollback`: after a crash or `kill -9`, restore the route a
//! run recorded in its tags, deregister what it registered, remove the record.

use super::{failed, invalid, print_json, EXIT_INCOMPLETE};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::state_tags::{self, RunRecord};
use crate::alb::{LoadBalancerPort, RouteRef};
use crate::cli::{Output, RollbackArgs};
use crate::executor::apply::{self, ApplyPolicy};
use crate::preflight::InputError;

/// Restore `record` on `route`. Returns what was done, or what is left.
pub async fn restore(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    record: &RunRecord,
    keys: &[String],
) -> Result<Vec<String>, String> {
    let p = ApplyPolicy::default();
    let mut done = Vec::new();
    apply::apply(lb, route, &record.original, p)
        .await
        .map_err(|e| format!("the route was not restored: {e}"))?;
    done.push(format!(
        "restored the {route}: {}",
        super::dry_run::forward_text(&record.original)
    ));
    if !record.registered.is_empty() {
        apply::retry(p.write_attempts, p.backoff, || {
            lb.deregister_targets(&record.green_arn, &record.registered)
        })
        .await
        .map_err(|e| {
            format!(
                "route restored, but targets are still registered in {}: {e}",
                record.green_arn
            )
        })?;
        done.push(format!(
            "deregistered {} target(s) from {}",
            record.registered.len(),
            record.green_arn
        ));
    }
    apply::retry(p.write_attempts, p.backoff, || {
        lb.remove_tags(route.owner_arn(), keys)
    })
    .await
    .map_err(|e| {
        format!(
            "route restored, but the run record tags remain on {}: {e}",
            route.owner_arn()
        )
    })?;
    done.push(format!(
        "removed run record {} from {}",
        record.run_id,
        route.owner_arn()
    ));
    Ok(done)
}

pub async fn run(config: &aws_config::SdkConfig, a: &RollbackArgs, output: Output) -> i32 {
    let env = crate::aws_env::check(config).await;
    if !env.is_empty() {
        return invalid(&env, output);
    }
    let lb = AwsLoadBalancer::new(config);
    let route = RouteRef::new(&a.listener, a.rule.as_deref());
    let culprit = format!(
        "{} {}",
        if a.rule.is_some() {
            "--rule"
        } else {
            "--listener"
        },
        route.owner_arn()
    );
    let tags = match lb.tags(route.owner_arn()).await {
        Ok(t) => t,
        Err(e) => return invalid(&[InputError::new(culprit, e.to_string())], output),
    };
    let record = match state_tags::decode(&tags) {
        Ok(Some(r)) => r,
        Ok(None) => {
            let msg = format!(
                "no alb-rollout run is recorded on {}; nothing to roll back",
                route.owner_arn()
            );
            match output {
                Output::Json => print_json(
                    &serde_json::json!({"result": "nothing-to-do", "exit_code": 0, "message": msg}),
                ),
                Output::Text => println!("{msg}"),
            }
            return 0;
        }
        Err(e) => {
            return invalid(
                &[InputError::new(
                    culprit,
                    format!("the run record is damaged: {e}"),
                )],
                output,
            )
        }
    };
    if a.dry_run {
        println!(
            "dry run: would restore the {} to {} and remove run record {}",
            route,
            super::dry_run::forward_text(&record.original),
            record.run_id
        );
        return 0;
    }
    match restore(&lb, &route, &record, &state_tags::record_keys(&tags)).await {
        Ok(done) => {
            match output {
                Output::Json => print_json(
                    &serde_json::json!({"result": "rolled-back", "exit_code": 0, "run_id": record.run_id, "done": done}),
                ),
                Output::Text => done.iter().for_each(|d| println!("{d}")),
            }
            0
        }
        Err(e) => {
            failed(&e, output);
            EXIT_INCOMPLETE
        }
    }
}
