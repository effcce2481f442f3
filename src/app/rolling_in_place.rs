//! `alb-rollout rolling --in-place`: the flags checked without AWS, the
//! group read live and every input checked against it (all problems at
//! once, exit 2, nothing changed), the planner
//! (`strategy::rolling_in_place`), then a dry run or the executor on a
//! group scope with the command runner for `--deploy` and `--undo`.

use super::group::{DryRun, GroupRun, Shape};
use super::{Live, Parsed};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::{group_record, in_place_record, LoadBalancerPort, Target};
use crate::app::invalid;
use crate::app::runner::{drive, watch};
use crate::cli::{Output, RollingArgs};
use crate::command::grace_for;
use crate::executor::InPlaceRun;
use crate::preflight::InputError;
use crate::strategy::rolling_in_place::{self, InPlaceInput, InPlacePlan};
use std::sync::Arc;

/// Flags that belong to the other kind of rolling run.
pub(super) fn flag_errors(a: &RollingArgs) -> Vec<InputError> {
    let ip = &a.in_place;
    let mut errors = vec![];
    if ip.in_place {
        for (flag, given) in [
            ("--add", !a.add.is_empty()),
            ("--remove", !a.remove.is_empty()),
        ] {
            if given {
                errors.push(InputError::new(flag, "an --in-place run keeps the group's targets and deploys to them: give --targets (or none: every target) instead"));
            }
        }
        if ip.deploy.as_deref().is_none_or(|d| d.trim().is_empty()) {
            errors.push(InputError::new(
                "--deploy",
                "--in-place needs the command that installs the new version on a batch",
            ));
        }
    } else {
        let given = [
            ("--targets", !ip.targets.is_empty()),
            ("--deploy", ip.deploy.is_some()),
            ("--undo", ip.undo.undo.is_some()),
        ];
        for (flag, _) in given.iter().filter(|(_, g)| *g) {
            errors.push(InputError::new(
                *flag,
                "only with --in-place (a run that deploys to the group's own targets)",
            ));
        }
    }
    errors
}

fn validate(a: &RollingArgs, p: &Parsed, live: &Live) -> Result<InPlacePlan, Vec<InputError>> {
    let culprit = format!("--target-group {}", live.group.arn);
    let mut errors = super::checks::group(a, p, live);
    let targets: Vec<Target> =
        crate::target_arg::parse_all("--targets", &a.in_place.targets, &mut errors);
    let input = InPlaceInput {
        group: &live.group.arn,
        live: &live.health,
        targets: &targets,
        batch: p.batch,
        max_unavailable: a.max_unavailable,
        check: p.analysis.interval,
        deploy: a.in_place.deploy.as_deref().unwrap_or(""),
    };
    let plan = rolling_in_place::plan(&input)
        .map_err(|es| errors.extend(es.into_iter().map(|e| InputError::new(&culprit, e))))
        .ok();
    if let Some(plan) = &plan {
        let mine: Vec<Target> = plan.batches.iter().flatten().cloned().collect();
        let extra = in_place_record::tags_needed(&plan.original, &mine);
        let others = group_record::others(&live.tags) + extra;
        if let Err(e) = group_record::check_fit(&plan.original, others, &live.group.arn) {
            errors.push(InputError::new(&culprit, e));
        }
    }
    match plan {
        Some(plan) if errors.is_empty() => Ok(plan),
        _ => Err(errors),
    }
}

pub(super) async fn run(config: &aws_config::SdkConfig, a: &RollingArgs, output: Output) -> i32 {
    let (mut parsed, sdk_expiry) = match super::checked(config, a, output).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let lb: Arc<dyn LoadBalancerPort> = Arc::new(AwsLoadBalancer::new(config));
    let live = match super::read(lb.as_ref(), &a.target_group).await {
        Ok(l) => l,
        Err(e) => {
            let mut all = parsed.err().unwrap_or_default();
            all.push(e);
            return invalid(&all, output);
        }
    };
    let p = match std::mem::replace(&mut parsed, Err(vec![])) {
        Ok(p) => p,
        Err(e) => return invalid(&e, output),
    };
    let plan = match validate(a, &p, &live) {
        Ok(plan) => plan,
        Err(e) => return invalid(&e, output),
    };
    let run = InPlace::new(a, &live, &p, plan);
    let expiry = match run.group.fit(&p, sdk_expiry) {
        Ok(e) => e,
        Err(e) => return invalid(&[e], output),
    };
    if a.dry_run {
        return run.print_dry_run(&p.analysis, output);
    }
    run.execute(config, lb, &p, output, expiry, a.in_place.undo.undo.clone())
        .await
}

struct InPlace {
    group: GroupRun,
    /// `--undo` was given.
    undo: bool,
    plan: InPlacePlan,
}

impl InPlace {
    fn new(a: &RollingArgs, live: &Live, p: &Parsed, plan: InPlacePlan) -> InPlace {
        let shape = Shape::new(&plan.original, plan.per, plan.floor);
        InPlace {
            group: GroupRun::new(a, live, p, shape, plan.actions()),
            undo: a.in_place.undo.undo.is_some(),
            plan,
        }
    }

    fn print_dry_run(&self, an: &crate::settings::Analysis, output: Output) -> i32 {
        let g = &self.group;
        let on_failure = crate::app::calls::in_place_revert_calls(&g.scope, &g.actions, self.undo);
        let plan = &self.plan;
        let shape = format!(
            "in place, {} batches of up to {} targets; at least {} healthy while a batch is out; {} of analysis after each batch",
            plan.batches.len(),
            plan.per,
            plan.floor,
            humantime::format_duration(plan.check)
        );
        let json = serde_json::json!({
            "in_place": true,
            "original_targets": plan.original.len(),
            "plan": plan,
        });
        let d = DryRun {
            shape,
            json,
            facts: None,
            on_failure,
        };
        g.print_dry_run(an, d, output)
    }

    async fn execute(
        self,
        config: &aws_config::SdkConfig,
        lb: Arc<dyn LoadBalancerPort>,
        p: &Parsed,
        output: Output,
        expiry: Option<std::time::SystemTime>,
        undo: Option<String>,
    ) -> i32 {
        let batches = self.plan.batches.clone();
        let (mut cfg, actions, src) = match self.group.start(config, lb, p, output).await {
            Ok(started) => started,
            Err(code) => return code,
        };
        cfg.in_place = Some(InPlaceRun {
            batches,
            undo,
            // The run's runner: streamed like the hooks' output.
            commands: None,
            timeout: p.analysis.hooks.timeout,
            grace: grace_for(p.revert_timeout),
        });
        let (cancel, guard) = watch(config, expiry, p.revert_timeout);
        drive(cfg, actions, src, cancel, guard, output).await
    }
}
