//! `alb-rollout ab`: an A/B test. The requests that match every `--match`
//! go to green through a tagged rule for `--duration`, judged every
//! interval like a canary step (a failed check deletes the rule, exit 1);
//! then the rule is deleted (or kept with `--keep`) and both variants are
//! reported side by side with a two-proportion test (`ab_report`).

use super::ab_report::{self, Source, Tallies, TallyProbe};
use super::rule_run::{self, header_probe, RuleChecked};
use super::{invalid, runner::AfterRun};
use crate::cli::{AbArgs, Output};
use crate::provider::probe::{HttpProbe, DEFAULT_PROBE_TIMEOUT};
use crate::provider::Probe;
use crate::strategy::ab::AB;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

pub async fn run(config: &aws_config::SdkConfig, a: &AbArgs, output: Output) -> i32 {
    let parsed = rule_run::parse(&a.rule, &a.analysis, Some(&a.duration));
    let c = match rule_run::preflight(config, &a.rule, a.blue.as_deref(), parsed, output).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let actions = rule_run::planned(&c, AB, a.rule.keep);
    let (probe, source) = match probe_and_source(config, &c) {
        Ok(x) => x,
        Err(e) => return invalid(&[e], output),
    };
    let started = SystemTime::now();
    let after = move |cancel| {
        let f: AfterRun =
            Box::new(move |r| Box::pin(ab_report::add(r, source, started, cancel, output)));
        Some(f)
    };
    rule_run::start(
        config,
        c,
        actions,
        a.rule.dry_run,
        rule_run::Extra {
            probe,
            shadow: None,
        },
        after,
        output,
    )
    .await
}

/// The probe the run judges green by, and where the report's numbers come
/// from: CloudWatch, or without it the probe paired with one of blue.
fn probe_and_source(
    config: &aws_config::SdkConfig,
    c: &RuleChecked,
) -> Result<(Option<Arc<dyn Probe>>, Source), crate::preflight::InputError> {
    let green = header_probe(&c.flags)?.map(|p| Arc::new(p) as Arc<dyn Probe>);
    if c.flags.analysis.cloudwatch {
        let (green_metrics, blue) = rule_run::metric_targets(&c.validated);
        let source = Source::CloudWatch {
            config: Box::new(config.clone()),
            green: green_metrics,
            blue,
        };
        return Ok((green, source));
    }
    let tallies = Arc::new(Mutex::new(Tallies::default()));
    let Some(green) = green else {
        return Err(crate::preflight::InputError::new(
            "--cloudwatch false",
            "leaves the A/B report nothing to count: give --probe URL (through the load balancer), or keep CloudWatch",
        ));
    };
    let url = green.url().to_string();
    // The same URL without the rule's headers: the listener's default
    // action answers it, so it measures blue. The masked URL is only for
    // messages; the probe itself was built from the unmasked one.
    let spec = c.flags.analysis.probe.as_deref().unwrap_or(&url);
    let (raw, _) = crate::provider::probe::parse_probe_spec(spec)
        .map_err(|e| crate::preflight::InputError::new("--probe", e))?;
    let blue = HttpProbe::new(&raw, DEFAULT_PROBE_TIMEOUT)
        .map_err(|e| crate::preflight::InputError::new("--probe", e.message))?;
    let tally = TallyProbe {
        green,
        blue: Arc::new(blue),
        tallies: tallies.clone(),
    };
    Ok((Some(Arc::new(tally)), Source::Probe(tallies)))
}
