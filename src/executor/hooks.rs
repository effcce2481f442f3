//! Running a planned hook through the command port: its variables, its
//! record in the report, and what its end means as an event. A hook is a
//! wait like a bake: a cancel stops its process group (SIGTERM, then
//! SIGKILL after a grace that leaves the revert most of its budget). A
//! `post-revert` hook runs after the revert, so after a cancel it gets only
//! what is left of `--revert-timeout` and is not stopped by the cancel that
//! already happened.

use super::Executor;
use crate::command::{grace_for, CommandResult, CommandSpec, Exit};
use crate::engine::{BakeSpec, HookSpec, HookStage, Reason};
use crate::report::result::HookRecord;
use crate::signal::Cancel;
use std::time::Duration;
use tokio::time::Instant;

/// `10`, `0.5`: green's share as the variable gives it.
fn percent_text(h: &HookSpec) -> String {
    let p = h.green_percent.as_percent();
    match p.fract() == 0.0 {
        true => format!("{p:.0}"),
        false => format!("{p}"),
    }
}

impl Executor<'_> {
    /// The variables the hook is given on top of the job's environment.
    fn hook_env(&self, h: &HookSpec) -> Vec<(String, String)> {
        let mut env = vec![
            ("ALB_ROLLOUT_HOOK", h.stage.name().to_string()),
            ("ALB_ROLLOUT_RUN_ID", self.cfg.run_id.clone()),
            ("ALB_ROLLOUT_STRATEGY", self.plan.strategy.to_string()),
            ("ALB_ROLLOUT_STEP", h.step.to_string()),
            ("ALB_ROLLOUT_GREEN_PERCENT", percent_text(h)),
            ("ALB_ROLLOUT_GREEN", self.plan.green.clone()),
            ("ALB_ROLLOUT_BLUE", self.plan.blue.clone()),
        ];
        if let Some(dns) = &self.src.commands.lb_dns {
            env.push(("ALB_ROLLOUT_LB_DNS", dns.clone()));
        }
        if let Some(p) = &h.preview_header {
            env.push(("ALB_ROLLOUT_PREVIEW_HEADER", p.clone()));
        }
        if !h.targets.is_empty() {
            let words: Vec<String> = h.targets.iter().map(|t| t.to_string()).collect();
            env.push(("ALB_ROLLOUT_TARGETS", words.join(",")));
        }
        env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// The `--check` commands of this hold, told where the run is (the
    /// hooks' variables but `ALB_ROLLOUT_HOOK`).
    pub(super) fn with_check_env(&self, src: &mut crate::analysis::collect::Sources, b: &BakeSpec) {
        let at = HookSpec {
            stage: HookStage::PostStep,
            command: String::new(),
            timeout: Duration::ZERO,
            step: b.step + 1,
            green_percent: b.percent,
            targets: vec![],
            preview_header: None,
        };
        let env: Vec<(String, String)> = (self.hook_env(&at).into_iter())
            .filter(|(k, _)| k != "ALB_ROLLOUT_HOOK")
            .collect();
        for c in src.commands.checks.iter_mut() {
            c.env = env.clone();
        }
    }

    /// The cancel and timeout a hook runs under: after a cancel, a
    /// `post-revert` hook has only the rest of the revert's budget.
    fn hook_bounds(&self, h: &HookSpec) -> (Cancel, Duration) {
        if h.stage != HookStage::PostRevert {
            return (self.cancel.clone(), h.timeout);
        }
        let left = match self.cancel.at() {
            Some(at) => (at + self.cfg.revert_timeout).saturating_duration_since(Instant::now()),
            None => h.timeout,
        };
        (Cancel::new(), h.timeout.min(left))
    }

    pub(super) async fn hook(&mut self, h: &HookSpec) -> Result<(), Reason> {
        let Some(runner) = self.src.commands.runner.clone() else {
            return Err(Reason::Error(format!(
                "{}: no command runner was set up for the run",
                h.label()
            )));
        };
        let (cancel, timeout) = self.hook_bounds(h);
        let spec = CommandSpec::new(&h.label(), &h.command, timeout)
            .with_env(self.hook_env(h))
            .with_grace(grace_for(self.cfg.revert_timeout));
        let res = runner.run(&spec, &cancel).await;
        let outcome = res.exit.describe(timeout);
        self.report.hooks.push(record(h, &res, &outcome));
        let cmd = crate::redact::text(&h.command);
        match &res.exit {
            Exit::Code(0) => Ok(()),
            _ if h.stage == HookStage::PostRevert => {
                self.warn(format!("{} `{cmd}` failed: {outcome}", h.label()));
                Ok(())
            }
            Exit::Cancelled => Err(Reason::Cancelled(self.cancel.reason())),
            _ => Err(Reason::CheckFailed(format!(
                "{} `{cmd}` failed: {outcome}",
                h.label()
            ))),
        }
    }
}

fn record(h: &HookSpec, res: &CommandResult, outcome: &str) -> HookRecord {
    let passed = res.succeeded();
    HookRecord {
        stage: h.stage,
        step: h.step,
        command: crate::redact::text(&h.command),
        exit_status: res.exit.code(),
        passed,
        outcome: outcome.to_string(),
        duration_seconds: res.duration.as_secs_f64(),
        tail: match passed {
            true => vec![],
            false => res.tail.clone(),
        },
    }
}
