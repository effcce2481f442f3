//! `alb-rollout rolling --in-place`: the flags checked without AWS, the
//! group read live and every input checked against it (all problems at
//! once, exit 2, nothing changed), the planner
//! (`strategy::rolling_in_place`), then a dry run or the executor on a
//! group scope with the command runner for `--deploy` and `--undo`.

use super::{Live, Parsed};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::{group_record, in_place_record, LoadBalancerPort, Target};
use crate::analysis::collect::Subjects;
use crate::app::runner::{credentials_fit, drive, run_config, sources, watch, Timing};
use crate::app::{dry_run, invalid, print_json};
use crate::cli::{Output, RollingArgs};
use crate::command::grace_for;
use crate::engine::{AbortMode, GroupScope, Plan, Scope};
use crate::executor::InPlaceRun;
use crate::preflight::InputError;
use crate::provider::MetricTarget;
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
    let mut parsed = super::parse(a);
    let flags = flag_errors(a);
    if !flags.is_empty() {
        let mut all = parsed.err().unwrap_or_default();
        all.extend(flags);
        return invalid(&all, output);
    }
    let (env_errors, sdk_expiry) = crate::aws_env::check_with_expiry(config).await;
    if !env_errors.is_empty() {
        let mut all = parsed.err().unwrap_or_default();
        all.extend(env_errors);
        return invalid(&all, output);
    }
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
    let mut run = InPlace::new(a, &live, plan);
    run.actions = crate::strategy::hooks::place(run.actions, &p.analysis.hooks, None);
    let timing = Timing {
        analysis: &p.analysis,
        health_timeout: p.health_timeout,
        revert_timeout: p.revert_timeout,
    };
    // A dry run refuses a plan that outlives the session, as the run would.
    let expiry = match credentials_fit(sdk_expiry, &run.actions, timing) {
        Ok(e) => e,
        Err(e) => return invalid(&[e], output),
    };
    if a.dry_run {
        let code = run.print_dry_run(&p.analysis, output);
        crate::report::github::result_only("dry-run", None);
        return code;
    }
    run.execute(config, lb, &p, output, expiry, a.in_place.undo.undo.clone())
        .await
}

struct InPlace {
    scope: Scope,
    /// `--undo` was given.
    undo: bool,
    plan: InPlacePlan,
    actions: Plan,
    load_balancer: Option<String>,
}

impl InPlace {
    fn new(a: &RollingArgs, live: &Live, plan: InPlacePlan) -> InPlace {
        let arn = live.group.arn.clone();
        let scope = Scope::Group(GroupScope {
            arn: arn.clone(),
            original: plan.original.clone(),
            batch: plan.per,
            max_unavailable: a.max_unavailable,
            floor: plan.floor,
        });
        let actions = Plan {
            strategy: "rolling",
            original: crate::alb::Forward::single(&arn),
            blue: arn.clone(),
            green: arn,
            abort: AbortMode::Flip,
            actions: plan.actions(),
        };
        InPlace {
            scope,
            undo: a.in_place.undo.undo.is_some(),
            plan,
            actions,
            load_balancer: live.group.load_balancer_arns.first().cloned(),
        }
    }

    fn print_dry_run(&self, an: &crate::settings::Analysis, output: Output) -> i32 {
        let calls = crate::app::calls::calls(&self.scope, &self.actions, an);
        let on_failure =
            crate::app::calls::in_place_revert_calls(&self.scope, &self.actions, self.undo);
        match output {
            Output::Json => print_json(&serde_json::json!({
                "result": "dry-run",
                "exit_code": 0,
                "strategy": "rolling",
                "in_place": true,
                "target_group": self.plan.group,
                "original_targets": self.plan.original.len(),
                "plan": self.plan,
                "actions": self.actions.actions,
                "calls": calls,
                "on_failure": on_failure,
            })),
            Output::Text => {
                println!("dry run: preflight passed, nothing was changed");
                println!("group:   {}", self.plan.group);
                println!(
                    "plan:    in place, {} batches of up to {} targets; at least {} healthy while a batch is out; {} of analysis after each batch",
                    self.plan.batches.len(),
                    self.plan.per,
                    self.plan.floor,
                    humantime::format_duration(self.plan.check)
                );
                dry_run::print_calls(&calls, &on_failure);
            }
        }
        0
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
        let lb_dns =
            crate::app::runner::lb_dns(lb.as_ref(), self.load_balancer.as_deref(), &p.analysis)
                .await;
        let mut src = match sources(config, lb, &p.analysis) {
            Ok(s) => s,
            Err(e) => return invalid(&e, output),
        };
        src.commands.lb_dns = lb_dns;
        let arn = &self.plan.group;
        let metrics = MetricTarget::from_arns(arn, self.load_balancer.as_deref().unwrap_or(""));
        let subjects = Subjects {
            green_arn: arn.clone(),
            green: metrics,
            blue: None,
            other_lbs: vec![],
        };
        let timing = Timing {
            analysis: &p.analysis,
            health_timeout: p.health_timeout,
            revert_timeout: p.revert_timeout,
        };
        let mut cfg = run_config(self.scope, timing, p.drain_timeout, subjects);
        cfg.in_place = Some(InPlaceRun {
            batches: self.plan.batches.clone(),
            undo,
            // The run's runner: streamed like the hooks' output.
            commands: None,
            timeout: p.analysis.hooks.timeout,
            grace: grace_for(p.revert_timeout),
        });
        let (cancel, guard) = watch(config, expiry, p.revert_timeout);
        drive(cfg, self.actions, src, cancel, guard, output).await
    }
}
