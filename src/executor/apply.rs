//! Applying a route change through the port and proving it: write with
//! bounded retries, then read back until the API shows exactly what was
//! written. A change that cannot be verified is reported, never assumed.

use crate::alb::{AlbError, Forward, LoadBalancerPort, RouteAction, RouteRef};
use std::future::Future;
use std::time::Duration;

/// Retry and read-back settings.
#[derive(Debug, Clone, Copy)]
pub struct ApplyPolicy {
    pub write_attempts: u32,
    pub verify_attempts: u32,
    pub backoff: Duration,
}

impl Default for ApplyPolicy {
    fn default() -> Self {
        ApplyPolicy {
            write_attempts: 3,
            verify_attempts: 6,
            backoff: Duration::from_millis(200),
        }
    }
}

/// Run `op` up to `attempts` times while it fails with a retryable error,
/// doubling the pause each time. The SDK has already retried throttling
/// inside each attempt; this covers longer bursts.
pub async fn retry<T, F, Fut>(attempts: u32, backoff: Duration, mut op: F) -> Result<T, AlbError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AlbError>>,
{
    let mut pause = backoff;
    let mut n = 1;
    loop {
        match op().await {
            Err(e) if e.is_retryable() && n < attempts => {
                tracing::warn!(attempt = n, error = %e, "retrying");
                tokio::time::sleep(pause).await;
                pause *= 2;
                n += 1;
            }
            other => return other,
        }
    }
}

fn describe(a: &RouteAction) -> String {
    match a {
        RouteAction::Forward(f) => crate::preflight::describe_groups(f),
        RouteAction::Other { action_type } => format!("a {action_type} action"),
    }
}

/// Read the route until it matches `want`, with backoff for eventual
/// consistency.
pub async fn verify(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    want: &Forward,
    p: ApplyPolicy,
) -> Result<(), String> {
    let mut pause = p.backoff;
    let mut last = String::from("nothing read");
    for n in 1..=p.verify_attempts.max(1) {
        match retry(p.write_attempts, p.backoff, || lb.read_route(route)).await {
            Ok(RouteAction::Forward(f)) if f.same_routing(want) => return Ok(()),
            Ok(other) => last = describe(&other),
            Err(e) => last = e.to_string(),
        }
        if n < p.verify_attempts {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }
    Err(format!(
        "read-back of the {route} shows {last}, expected {}; the change could not be verified",
        crate::preflight::describe_groups(want)
    ))
}

/// Write `want` to the route, retrying retryable errors; no read-back.
pub async fn write(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    want: &Forward,
    p: ApplyPolicy,
) -> Result<(), AlbError> {
    retry(p.write_attempts, p.backoff, || {
        lb.write_forward(route, want)
    })
    .await
}

/// Write `want` to the route and verify it.
pub async fn apply(
    lb: &dyn LoadBalancerPort,
    route: &RouteRef,
    want: &Forward,
    p: ApplyPolicy,
) -> Result<(), String> {
    write(lb, route, want, p).await.map_err(|e| e.to_string())?;
    verify(lb, route, want, p).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alb::fake::*;
    use crate::alb::AlbErrorKind;

    fn route() -> RouteRef {
        RouteRef::new(DEMO_LISTENER, None)
    }

    #[tokio::test(start_paused = true)]
    async fn apply_retries_throttling_and_verifies() {
        let fake = FakeLoadBalancer::demo();
        fake.fail_next("ModifyListener", 2, AlbErrorKind::Transient);
        let want = Forward::single(DEMO_GREEN);
        apply(&fake, &route(), &want, ApplyPolicy::default())
            .await
            .unwrap();
        assert_eq!(fake.route(&route()), RouteAction::Forward(want));
        assert_eq!(fake.mutating_calls().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn stale_reads_are_waited_out() {
        let fake = FakeLoadBalancer::demo();
        fake.set_stale_reads(3);
        apply(
            &fake,
            &route(),
            &Forward::single(DEMO_GREEN),
            ApplyPolicy::default(),
        )
        .await
        .unwrap();
        let reads = fake
            .calls()
            .iter()
            .filter(|c| c.op == "DescribeListeners")
            .count();
        assert_eq!(reads, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn invalid_writes_are_not_retried_and_unverifiable_writes_fail() {
        let fake = FakeLoadBalancer::demo();
        fake.fail_next("ModifyListener", 1, AlbErrorKind::Invalid);
        let err = apply(
            &fake,
            &route(),
            &Forward::single(DEMO_GREEN),
            ApplyPolicy::default(),
        )
        .await
        .unwrap_err();
        assert!(err.contains("ModifyListener"), "{err}");
        assert_eq!(fake.mutating_calls().len(), 1);
        fake.set_stale_reads(100);
        let err = apply(
            &fake,
            &route(),
            &Forward::single(DEMO_GREEN),
            ApplyPolicy::default(),
        )
        .await
        .unwrap_err();
        assert!(err.contains("could not be verified"), "{err}");
    }
}
