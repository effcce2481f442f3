//! `alb-rollout rolling`: flags checked without AWS, then the group read
//! live (DescribeTargetGroups, DescribeTargetHealth, DescribeTags) and
//! every input checked against it, all problems at once and exit 2 before
//! any change; then the planner (`strategy::rolling`), and a dry run or
//! the executor on a group scope (the record on the group's tags).

use super::invalid;
use super::runner::{drive, watch};
use crate::alb::aws::AwsLoadBalancer;
use crate::alb::group_record;
use crate::alb::state_tags::Heartbeat;
use crate::alb::{LoadBalancerPort, Target, TargetGroup, TargetHealth};
use crate::cli::{Output, RollingArgs};
use crate::plan::parse_duration;
use crate::preflight::InputError;
use crate::settings::{self, Analysis};
use crate::strategy::drain_blue::{parse_batch, BatchSize};
use crate::strategy::rolling::{self, RollingInput, RollingPlan};
use group::{DryRun, GroupRun, Shape};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[path = "rolling_checks.rs"]
mod checks;
#[path = "rolling_group.rs"]
mod group;
#[path = "rolling_in_place.rs"]
mod in_place;

/// The flags, parsed.
struct Parsed {
    add: Vec<Target>,
    remove: Vec<Target>,
    batch: BatchSize,
    analysis: Analysis,
    health_timeout: Duration,
    drain_timeout: Duration,
    revert_timeout: Duration,
}

/// `--add`/`--remove` values: comma-separated by clap, and also split on
/// whitespace here (a multi-line action input).
/// The targets of `flag` that parse; `parse` reports the others.
fn targets(flag: &str, values: &[String]) -> Vec<Target> {
    crate::target_arg::parse_all(flag, values, &mut Vec::new())
}

fn parse(a: &RollingArgs) -> Result<Parsed, Vec<InputError>> {
    let mut errors = Vec::new();
    let analysis = settings::from_flags_and_file(a.config.as_deref(), &a.analysis, &mut errors);
    if analysis
        .as_ref()
        .is_some_and(|an| an.thresholds.compare_to_blue)
    {
        errors.push(InputError::new(
            "--compare-blue",
            "a rolling run has one group and no blue to compare with: leave it off",
        ));
    }
    let batch = parse_batch(&a.batch)
        .map_err(|e| errors.push(InputError::new("--batch", e)))
        .ok();
    let mut dur = |flag: &str, v: &str| {
        parse_duration(flag, v)
            .map_err(|e| errors.push(InputError::for_flag(flag, &e)))
            .ok()
    };
    let health = dur("--health-timeout", &a.health_timeout);
    let drain = dur("--drain-timeout", &a.drain_timeout);
    let revert = dur("--revert-timeout", &a.revert_timeout);
    let add = crate::target_arg::parse_all("--add", &a.add, &mut errors);
    let remove = crate::target_arg::parse_all("--remove", &a.remove, &mut errors);
    match (analysis, batch, health, drain, revert) {
        (Some(analysis), Some(batch), Some(health), Some(drain), Some(revert))
            if errors.is_empty() =>
        {
            Ok(Parsed {
                add,
                remove,
                batch,
                analysis,
                health_timeout: health,
                drain_timeout: drain,
                revert_timeout: revert,
            })
        }
        _ => Err(errors),
    }
}

/// The group as preflight read it.
struct Live {
    group: TargetGroup,
    health: Vec<TargetHealth>,
    tags: BTreeMap<String, String>,
    /// How many targets the group may hold, and why (`checks::room`).
    limit: usize,
    limit_why: String,
}

async fn read(lb: &dyn LoadBalancerPort, reference: &str) -> Result<Live, InputError> {
    let culprit = format!("--target-group {reference}");
    let err = |e: crate::alb::AlbError| InputError::new(culprit.clone(), e.to_string());
    let group = lb.target_group(reference).await.map_err(err)?;
    let health = lb.target_health(&group.arn).await.map_err(err)?;
    let tags = lb.tags(&group.arn).await.map_err(err)?;
    let (limit, limit_why) = checks::room(lb, &group).await.map_err(err)?;
    Ok(Live {
        group,
        health,
        tags,
        limit,
        limit_why,
    })
}

/// The target lists against the live group, without the other flags.
fn target_errors(a: &RollingArgs, live: &Live) -> Vec<InputError> {
    let culprit = format!("--target-group {}", live.group.arn);
    let (add, remove) = (targets("--add", &a.add), targets("--remove", &a.remove));
    let mut errors = checks::target_kinds(&live.group, &add);
    let input = RollingInput {
        group: &live.group.arn,
        live: &live.health,
        add: &add,
        remove: &remove,
        batch: BatchSize::Count(1),
        max_unavailable: a.max_unavailable,
        check: Duration::ZERO,
        limit: live.limit,
        limit_why: &live.limit_why,
    };
    if let Err(es) = rolling::check_targets(&input) {
        errors.extend(es.into_iter().map(|e| InputError::new(&culprit, e)));
    }
    errors
}

/// Everything checked against the live group: the plan, or every problem.
fn validate(a: &RollingArgs, p: &Parsed, live: &Live) -> Result<RollingPlan, Vec<InputError>> {
    let culprit = format!("--target-group {}", live.group.arn);
    let mut errors = checks::group(a, p, live);
    errors.extend(checks::target_kinds(&live.group, &p.add));
    let input = RollingInput {
        group: &live.group.arn,
        live: &live.health,
        add: &p.add,
        remove: &p.remove,
        batch: p.batch,
        max_unavailable: a.max_unavailable,
        check: p.analysis.interval,
        limit: live.limit,
        limit_why: &live.limit_why,
    };
    let plan = rolling::plan(&input)
        .map_err(|es| errors.extend(es.into_iter().map(|e| InputError::new(&culprit, e))))
        .ok();
    let others = group_record::others(&live.tags);
    let original: Vec<Target> = live.health.iter().map(|h| h.target.clone()).collect();
    if let Err(e) = group_record::check_fit(&original, others, &live.group.arn) {
        errors.push(InputError::new(&culprit, e));
    }
    match plan {
        Some(plan) if errors.is_empty() => Ok(plan),
        _ => Err(errors),
    }
}

/// The flags parsed, with the session's expiry; or, on a flag of the
/// other kind of rolling run or a bad AWS environment, the exit code
/// (every problem at once, the parse's too).
async fn checked(
    config: &aws_config::SdkConfig,
    a: &RollingArgs,
    output: Output,
) -> Result<(Result<Parsed, Vec<InputError>>, Option<SystemTime>), i32> {
    let parsed = parse(a);
    let flags = in_place::flag_errors(a);
    if !flags.is_empty() {
        let mut all = parsed.err().unwrap_or_default();
        all.extend(flags);
        return Err(invalid(&all, output));
    }
    let (env_errors, sdk_expiry) = crate::aws_env::check_with_expiry(config).await;
    if !env_errors.is_empty() {
        let mut all = parsed.err().unwrap_or_default();
        all.extend(env_errors);
        return Err(invalid(&all, output));
    }
    Ok((parsed, sdk_expiry))
}

pub async fn run(config: &aws_config::SdkConfig, a: &RollingArgs, output: Output) -> i32 {
    if a.in_place.in_place {
        return in_place::run(config, a, output).await;
    }
    let (parsed, sdk_expiry) = match checked(config, a, output).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let lb: Arc<dyn LoadBalancerPort> = Arc::new(AwsLoadBalancer::new(config));
    let live = read(lb.as_ref(), &a.target_group).await;
    let (p, live, plan) = match (parsed, live) {
        (Ok(p), Ok(live)) => match validate(a, &p, &live) {
            Ok(plan) => (p, live, plan),
            Err(e) => return invalid(&e, output),
        },
        (p, l) => {
            let mut all = p.err().unwrap_or_default();
            match l {
                // Bad flags: still check the targets against the group.
                Ok(live) => all.extend(target_errors(a, &live)),
                Err(e) => all.push(e),
            }
            return invalid(&all, output);
        }
    };
    let run = Rolling::new(a, &live, &p, plan);
    let expiry = match run.group.fit(&p, sdk_expiry) {
        Ok(e) => e,
        Err(e) => return invalid(&[e], output),
    };
    if a.dry_run {
        return run.print_dry_run(&p.analysis, output);
    }
    run.execute(config, lb, &p, output, expiry).await
}

/// A validated rolling run: the group run and its plan.
struct Rolling {
    group: GroupRun,
    plan: RollingPlan,
}

impl Rolling {
    fn new(a: &RollingArgs, live: &Live, p: &Parsed, plan: RollingPlan) -> Rolling {
        let shape = Shape::new(&plan.original, plan.per, plan.floor);
        Rolling {
            group: GroupRun::new(a, live, p, shape, plan.actions()),
            plan,
        }
    }

    fn print_dry_run(&self, an: &Analysis, output: Output) -> i32 {
        let g = &self.group;
        let on_failure = super::calls::revert_calls(&g.scope, &g.actions, an);
        let plan = &self.plan;
        let facts = vec![
            ("target group".to_string(), plan.group.clone()),
            (
                "plan".to_string(),
                format!(
                    "{} rounds of up to {} targets, {} original targets",
                    plan.rounds.len(),
                    plan.per,
                    plan.original.len()
                ),
            ),
        ];
        let shape = format!(
            "{} rounds of up to {} targets; at least {} healthy and at most {} registered at any time; {} of analysis after each round",
            plan.rounds.len(),
            plan.per,
            plan.floor,
            plan.peak,
            humantime::format_duration(plan.check)
        );
        let json = serde_json::json!({
            "original_targets": plan.original.len(),
            "plan": plan,
            "thresholds": an.thresholds,
        });
        let d = DryRun {
            shape,
            json,
            facts: Some(facts),
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
        expiry: Option<SystemTime>,
    ) -> i32 {
        let (cfg, actions, src) = match self.group.start(config, lb, p, output).await {
            Ok(started) => started,
            Err(code) => return code,
        };
        let (cancel, guard) = watch(config, expiry, p.revert_timeout);
        drive(cfg, actions, src, cancel, guard, output).await
    }
}

/// Why the group cannot take a new run now: a run recorded on it whose
/// heartbeat is fresh (or any record, unless `--force`).
fn locked(tags: &BTreeMap<String, String>, arn: &str, force: bool) -> Option<String> {
    let run = tags.get("alb-rollout:run")?;
    if force {
        return None;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let alive = Heartbeat::read(tags)
        .filter(|b| !b.stale(now))
        .map(|b| format!(" (heartbeat {}s ago: it is running)", b.age(now)))
        .unwrap_or_default();
    Some(format!(
        "{arn} records run `{run}`{alive}: wait for it, undo it with `alb-rollout rollback --target-group {arn}` (after an in-place run, with --undo COMMAND to put the old version back), or pass --force to replace its record"
    ))
}
