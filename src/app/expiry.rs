//! Credential lifetime. A run that loses its credentials cannot revert, so
//! it must end, revert included, before they expire. OIDC sessions in CI
//! last an hour by default and cannot refresh.
//!
//! Before the first change: refuse (exit 2) when the planned run plus the
//! revert's budget does not fit before the expiry. While running: a timer
//! cancels the run (it reverts) once the expiry is closer than the revert
//! needs; first it resolves the credentials again, so credentials that
//! refresh themselves (instance or task roles) just move the timer on.
//!
//! The expiry is the SDK's (web identity, SSO, credential_process,
//! instance roles) or, for environment credentials, which carry none in the
//! SDK, `AWS_CREDENTIAL_EXPIRATION` (RFC 3339, the name botocore reads).

use crate::engine::Reason;
use crate::preflight::InputError;
use crate::report::RunReport;
use crate::signal::Cancel;
use std::future::Future;
use std::time::{Duration, SystemTime};

/// Environment credentials' expiry, as exported next to them.
pub const EXPIRY_ENV: &str = "AWS_CREDENTIAL_EXPIRATION";

/// What a CloudWatch-judged step takes beyond its hold: its first whole
/// minute arrives minutes late (docs/analysis.md, "Timing on real AWS").
pub const CLOUDWATCH_ALLOWANCE: Duration = Duration::from_secs(180);

/// Starts every message of the running check: how the report recognises a
/// cancel that came from here rather than from a signal.
const PREFIX: &str = "the AWS credentials expire";

/// How long a run may take: every hold, a CloudWatch allowance per judged
/// step, and the wait for green's health.
pub fn planned(bakes: &[Duration], cloudwatch: bool, health_timeout: Duration) -> Duration {
    let judged = bakes.iter().filter(|b| !b.is_zero()).count() as u32;
    let lag = if cloudwatch {
        CLOUDWATCH_ALLOWANCE * judged
    } else {
        Duration::ZERO
    };
    bakes.iter().sum::<Duration>() + lag + health_timeout
}

/// What an in-place run's `--deploy` commands may take: `--hook-timeout`
/// (each one's bound) per batch. A deploy (an SSM install, say) can
/// outlast the analysis, so the run's worst case must count it.
pub fn deploys(actions: &[crate::engine::Action], hook_timeout: Duration) -> Duration {
    let n = (actions.iter())
        .filter(|a| matches!(a, crate::engine::Action::Deploy(_)))
        .count() as u32;
    hook_timeout * n
}

/// What a revert must still have when it starts: its budget twice over
/// (the revert and its cleanup) and half a minute for the API's retries.
pub fn margin(revert_timeout: Duration) -> Duration {
    revert_timeout * 2 + Duration::from_secs(30)
}

fn utc(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn human(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

/// The expiry to judge by: the SDK's, else the environment's. A value in
/// the environment that is not a time is an input error, not "no expiry".
pub fn expiry(
    sdk: Option<SystemTime>,
    env: Option<&str>,
) -> Result<Option<SystemTime>, InputError> {
    // Trimming quotes too: configure-aws-credentials' `aws-expiration`
    // output is a JSON-encoded date (`"2026-...Z"`, quotes included).
    let env = env.map(|s| s.trim().trim_matches('"'));
    match (sdk, env.filter(|s| !s.is_empty())) {
        (Some(t), _) => Ok(Some(t)),
        (None, None) => Ok(None),
        (None, Some(s)) => humantime::parse_rfc3339_weak(s).map(Some).map_err(|e| {
            InputError::new(
                EXPIRY_ENV,
                format!("{s:?} is not an RFC 3339 UTC time ({e}), e.g. 2026-11-28T19:00:00Z"),
            )
        }),
    }
}

/// Refuse a run that could outlive its credentials.
pub fn at_preflight(
    expiry: SystemTime,
    now: SystemTime,
    planned: Duration,
    margin: Duration,
) -> Result<(), InputError> {
    let left = expiry.duration_since(now).unwrap_or_default();
    if left >= planned + margin {
        return Ok(());
    }
    Err(InputError::new(
        "credentials",
        format!(
            "the AWS credentials expire at {} (in {}), but this run may take {} (the holds, CloudWatch's lag, --health-timeout and, in place, --hook-timeout per batch for --deploy) and must then still be able to revert for {} (2 x --revert-timeout + 30s). Use a longer session (role-duration-seconds of aws-actions/configure-aws-credentials, up to the role's maximum session duration), or fewer or shorter steps (in place: fewer batches or a shorter --hook-timeout)",
            utc(expiry),
            human(left),
            human(planned),
            human(margin)
        ),
    ))
}

/// While running: the reason to revert now, if the expiry is that close.
pub fn revert_due(expiry: SystemTime, now: SystemTime, margin: Duration) -> Option<String> {
    let left = expiry.duration_since(now).unwrap_or_default();
    (left < margin).then(|| {
        format!(
            "{PREFIX} at {} (in {}), and a revert needs up to {}: reverting while they still work",
            utc(expiry),
            human(left),
            human(margin)
        )
    })
}

/// Cancel the run once `revert_due`, unless `refresh` finds a later expiry.
/// Abort the handle when the run ends.
pub fn guard<F, Fut>(
    cancel: Cancel,
    expiry: SystemTime,
    margin: Duration,
    refresh: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Option<SystemTime>> + Send,
{
    tokio::spawn(async move {
        let mut expiry = expiry;
        loop {
            let left = expiry.duration_since(SystemTime::now()).unwrap_or_default();
            tokio::time::sleep(left.saturating_sub(margin)).await;
            match refresh().await {
                Some(later) if later > expiry => expiry = later,
                _ => {
                    let why = revert_due(expiry, SystemTime::now(), margin).unwrap_or_else(|| {
                        format!(
                            "{PREFIX} at {}: reverting while they still work",
                            utc(expiry)
                        )
                    });
                    return cancel.cancel(&why);
                }
            }
        }
    })
}

/// A run the guard stopped reverted because of an error, not a signal:
/// `reverted` and exit 1, not `cancelled` and 130.
pub fn relabel(report: &mut RunReport) {
    let Some(Reason::Cancelled(m)) = &report.reason else {
        return;
    };
    if !m.starts_with(PREFIX) {
        return;
    }
    report.reason = Some(Reason::Error(m.clone()));
    if report.result == "cancelled" {
        // In place without --undo a batch stays out (`left_behind` says
        // where each target is): the group is not back, so not `reverted`.
        report.result = match report.left_behind {
            Some(_) => "failed",
            None => "reverted",
        };
    }
    if report.exit_code == crate::app::EXIT_CANCELLED {
        report.exit_code = crate::app::EXIT_REVERTED;
    }
}

#[cfg(test)]
#[path = "expiry_tests.rs"]
mod tests;
