//! `alb-rollout dark`: a dark launch. Green becomes reachable only through
//! a tagged rule whose `--match` no public request carries; `--probe`
//! checks go through the load balancer with the rule's header (or cookie)
//! for `--duration` (default one interval). The rule is deleted at the end,
//! or left with `--keep` as an edge toggle (exit 0; `routes remove` later).
//! CloudWatch is off unless asked for: without public traffic green has
//! too few requests for its error rate to mean anything.

use super::invalid;
use super::rule_run::{self, header_probe};
use crate::cli::{DarkArgs, Output};
use crate::provider::Probe;
use crate::strategy::ab::DARK;
use std::sync::Arc;

pub async fn run(config: &aws_config::SdkConfig, a: &DarkArgs, output: Output) -> i32 {
    let mut analysis = a.analysis.clone();
    if analysis.cloudwatch.is_none() && a.rule.config.is_none() {
        analysis.cloudwatch = Some(false);
    }
    let parsed = rule_run::parse(&a.rule, &analysis, a.duration.as_deref());
    let c = match rule_run::preflight(config, &a.rule, None, parsed, output).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    if c.flags.analysis.probe.is_none() {
        eprintln!("warning: no --probe: green is judged by its target health alone; give --probe URL (through the load balancer) to check it answers");
    }
    let probe = match header_probe(&c.flags) {
        Ok(p) => p.map(|p| Arc::new(p) as Arc<dyn Probe>),
        Err(e) => return invalid(&[e], output),
    };
    let actions = rule_run::planned(&c, DARK, a.rule.keep);
    rule_run::start(
        config,
        c,
        actions,
        a.rule.dry_run,
        rule_run::Extra {
            probe,
            shadow: None,
        },
        |_| None,
        output,
    )
    .await
}
