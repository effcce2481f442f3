//! `--deregister-blue BATCH`, the full deploy (`canary`, and `blue-green`
//! after `--keep-blue`): its flags checked without AWS, then blue's
//! targets read (DescribeTargetHealth) and cut into batches. The planner
//! (`strategy::drain_blue`) decides the rest.

use crate::alb::LoadBalancerPort;
use crate::cli::DrainArgs;
use crate::plan::parse_duration;
use crate::preflight::InputError;
use crate::strategy::drain_blue::{batches, parse_batch, serving, BatchSize, BlueDrain};
use std::time::Duration;

/// The full deploy's flags, parsed.
#[derive(Debug, Clone, Copy)]
pub struct DrainFlags {
    pub size: BatchSize,
    pub settle: Duration,
}

/// The parsed drain flags and `--drain-timeout`.
pub struct Drain {
    pub flags: Option<DrainFlags>,
    pub timeout: Duration,
}

/// `flags` is `None` without `--deregister-blue`; errors name their flag.
pub fn parse(a: &DrainArgs) -> Result<Drain, Vec<InputError>> {
    let mut errors = Vec::new();
    let mut dur = |flag: &str, v: &str| {
        parse_duration(flag, v)
            .map_err(|e| errors.push(InputError::for_flag(flag, &e)))
            .ok()
    };
    let settle = dur("--settle", &a.settle);
    let timeout = dur("--drain-timeout", &a.drain_timeout);
    let size = a.deregister_blue.as_deref().map(|s| {
        parse_batch(s)
            .map_err(|e| errors.push(InputError::new("--deregister-blue", e)))
            .ok()
    });
    match (size, settle, timeout) {
        _ if !errors.is_empty() => Err(errors),
        (size, Some(settle), Some(timeout)) => Ok(Drain {
            flags: size.flatten().map(|size| DrainFlags { size, settle }),
            timeout,
        }),
        _ => Err(errors),
    }
}

/// Blue's targets in batches, read live: the targets that serve (or may)
/// now; those already draining are not the run's to put back. A blue
/// without such targets has nothing to drain, which is not an error.
pub async fn plan(
    lb: &dyn LoadBalancerPort,
    blue: &str,
    flags: Option<DrainFlags>,
    check: Duration,
) -> Result<Option<BlueDrain>, InputError> {
    let Some(f) = flags else {
        return Ok(None);
    };
    let health = lb.target_health(blue).await.map_err(|e| {
        InputError::new(
            "--deregister-blue",
            format!("blue's targets could not be read: {e}"),
        )
    })?;
    Ok(Some(BlueDrain {
        batches: batches(&serving(&health), f.size),
        settle: f.settle,
        check,
    }))
}
