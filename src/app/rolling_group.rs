//! What a rolling run and an in-place one share once planned: the group
//! scope and plan of actions built from the plan's numbers, the dry-run
//! printer (each kind gives its plan's shape line and its JSON), and the
//! start of the run (the hooks' load balancer DNS name, the sources, the
//! run's configuration). Each kind keeps only what differs.

use super::{Live, Parsed};
use crate::alb::{LoadBalancerPort, Target};
use crate::analysis::collect::{Sources, Subjects};
use crate::app::calls::PlannedCall;
use crate::app::runner::{credentials_fit, run_config, sources, Timing};
use crate::app::{dry_run, invalid, print_json};
use crate::cli::{Output, RollingArgs};
use crate::engine::{AbortMode, Action, GroupScope, Plan, Scope};
use crate::executor::RunConfig;
use crate::preflight::InputError;
use crate::provider::MetricTarget;
use crate::settings::Analysis;
use serde_json::Value;
use std::sync::Arc;
use std::time::SystemTime;

/// A planned run on one group: its scope, its actions, the group's load
/// balancer (metrics and the hooks' DNS name).
pub(super) struct GroupRun {
    pub scope: Scope,
    pub actions: Plan,
    pub load_balancer: Option<String>,
}

/// The plan's numbers the scope is built from.
pub(super) struct Shape {
    pub original: Vec<Target>,
    pub per: usize,
    pub floor: usize,
}

impl Shape {
    pub fn new(original: &[Target], per: usize, floor: usize) -> Shape {
        Shape {
            original: original.to_vec(),
            per,
            floor,
        }
    }
}

impl GroupRun {
    /// The plan of `actions` with `p`'s hooks placed in it.
    pub fn new(
        a: &RollingArgs,
        live: &Live,
        p: &Parsed,
        shape: Shape,
        actions: Vec<Action>,
    ) -> GroupRun {
        let arn = live.group.arn.clone();
        let scope = Scope::Group(GroupScope {
            arn: arn.clone(),
            original: shape.original,
            batch: shape.per,
            max_unavailable: a.max_unavailable,
            floor: shape.floor,
        });
        let plan = Plan {
            strategy: "rolling",
            original: crate::alb::Forward::single(&arn),
            blue: arn.clone(),
            green: arn,
            abort: AbortMode::Flip,
            actions,
        };
        GroupRun {
            scope,
            actions: crate::strategy::hooks::place(plan, &p.analysis.hooks, None),
            load_balancer: live.group.load_balancer_arns.first().cloned(),
        }
    }

    /// The plan held against the session's expiry: the expiry the run
    /// watches, or why it cannot run. A dry run refuses a plan that
    /// outlives the session, as the run would.
    pub fn fit(
        &self,
        p: &Parsed,
        sdk_expiry: Option<SystemTime>,
    ) -> Result<Option<SystemTime>, InputError> {
        credentials_fit(sdk_expiry, &self.actions, timing(p))
    }

    /// The dry run: the plan's calls, and `d`, what the kind adds; the
    /// step's `result` output is `dry-run`.
    pub fn print_dry_run(&self, an: &Analysis, d: DryRun, output: Output) -> i32 {
        let calls = crate::app::calls::calls(&self.scope, &self.actions, an);
        if let Some(facts) = d.facts {
            dry_run::summarize("rolling", facts, &calls, &d.on_failure);
        }
        match output {
            Output::Json => {
                let mut doc = serde_json::json!({
                    "result": "dry-run",
                    "exit_code": 0,
                    "strategy": "rolling",
                    "target_group": self.actions.green,
                    "actions": self.actions.actions,
                    "calls": calls,
                    "on_failure": d.on_failure,
                });
                if let (Some(doc), Value::Object(own)) = (doc.as_object_mut(), d.json) {
                    doc.extend(own);
                }
                print_json(&doc)
            }
            Output::Text => {
                println!("dry run: preflight passed, nothing was changed");
                println!("group:   {}", self.actions.green);
                println!("plan:    {}", d.shape);
                dry_run::print_calls(&calls, &d.on_failure);
            }
        }
        crate::report::github::result_only("dry-run", None);
        0
    }

    /// The run's configuration, actions and sources; or the exit code of a
    /// source that cannot be built.
    pub async fn start(
        self,
        config: &aws_config::SdkConfig,
        lb: Arc<dyn LoadBalancerPort>,
        p: &Parsed,
        output: Output,
    ) -> Result<(RunConfig, Plan, Sources), i32> {
        let lb_dns =
            crate::app::runner::lb_dns(lb.as_ref(), self.load_balancer.as_deref(), &p.analysis)
                .await;
        let mut src = sources(config, lb, &p.analysis).map_err(|e| invalid(&e, output))?;
        src.commands.lb_dns = lb_dns;
        let arn = self.actions.green.clone();
        let metrics = MetricTarget::from_arns(&arn, self.load_balancer.as_deref().unwrap_or(""));
        let subjects = Subjects {
            green_arn: arn,
            green: metrics,
            blue: None,
            other_lbs: vec![],
        };
        let cfg = run_config(self.scope, timing(p), p.drain_timeout, subjects);
        Ok((cfg, self.actions, src))
    }
}

fn timing(p: &Parsed) -> Timing<'_> {
    Timing {
        analysis: &p.analysis,
        health_timeout: p.health_timeout,
        revert_timeout: p.revert_timeout,
    }
}

/// What a kind of run adds to its dry run: its plan's shape line, its
/// own JSON fields (the plan, and what else it reports), the step
/// summary's facts (none: no summary), and what a revert calls.
pub(super) struct DryRun {
    pub shape: String,
    pub json: Value,
    pub facts: Option<Vec<(String, String)>>,
    pub on_failure: Vec<PlannedCall>,
}
