//! A test port around the fake load balancer that plays a signal or a kill at
//! an exact call: cancel the run right after call N returns, or hang every
//! call after N forever (the process is gone). It also logs every route write
//! with its call number, and can hold one call in flight longer, so a test can tell whether a write was sent before
//! the signal.

use crate::alb::fake::FakeLoadBalancer;
use crate::alb::port::AlbResult;
use crate::alb::*;
use crate::signal::Cancel;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Scripted {
    pub inner: Arc<FakeLoadBalancer>,
    calls: AtomicUsize,
    cancel_after: Option<(usize, Cancel)>,
    kill_after: Option<usize>,
    hold: Option<(usize, Duration)>,
    writes: Mutex<Vec<(usize, Forward)>>,
}

impl Scripted {
    pub fn new(inner: Arc<FakeLoadBalancer>) -> Self {
        Scripted {
            inner,
            calls: AtomicUsize::new(0),
            cancel_after: None,
            kill_after: None,
            hold: None,
            writes: Mutex::new(vec![]),
        }
    }

    /// Cancel `cancel` right after call `n` (1-based) returns; 0 cancels at the first call.
    pub fn cancel_after(mut self, n: usize, cancel: Cancel) -> Self {
        self.cancel_after = Some((n, cancel));
        self
    }

    /// Calls after the `n`th never return, like a process killed with SIGKILL.
    pub fn kill_after(mut self, n: usize) -> Self {
        self.kill_after = Some(n);
        self
    }

    /// Call `n` is in flight `d` longer before it takes effect (a slow write).
    pub fn hold(mut self, n: usize, d: Duration) -> Self {
        self.hold = Some((n, d));
        self
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Route writes as (call number, forward written).
    pub fn writes(&self) -> Vec<(usize, Forward)> {
        self.writes.lock().expect("lock").clone()
    }

    async fn around<T>(&self, write: Option<&Forward>, f: impl Future<Output = T>) -> T {
        let i = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if self.kill_after.is_some_and(|k| i > k) {
            return std::future::pending().await;
        }
        if let Some((0, c)) = &self.cancel_after {
            c.cancel("received SIGTERM");
        }
        if let Some(w) = write {
            self.writes.lock().expect("lock").push((i, w.clone()));
        }
        if let Some((_, d)) = self.hold.filter(|(h, _)| *h == i) {
            tokio::time::sleep(d).await;
        }
        let out = f.await;
        if let Some((n, c)) = &self.cancel_after {
            if *n == i {
                c.cancel("received SIGTERM");
            }
        }
        out
    }
}

#[async_trait]
impl LoadBalancerPort for Scripted {
    async fn listener(&self, arn: &str) -> AlbResult<Listener> {
        self.around(None, self.inner.listener(arn)).await
    }
    async fn load_balancer(&self, arn: &str) -> AlbResult<LoadBalancer> {
        self.around(None, self.inner.load_balancer(arn)).await
    }
    async fn rules(&self, listener_arn: &str) -> AlbResult<Vec<Rule>> {
        self.around(None, self.inner.rules(listener_arn)).await
    }
    async fn target_group(&self, arn_or_name: &str) -> AlbResult<TargetGroup> {
        self.around(None, self.inner.target_group(arn_or_name))
            .await
    }
    async fn target_groups_of(&self, lb: &str) -> AlbResult<Vec<String>> {
        self.around(None, self.inner.target_groups_of(lb)).await
    }
    async fn listeners_of(&self, lb: &str) -> AlbResult<Vec<String>> {
        self.around(None, self.inner.listeners_of(lb)).await
    }
    async fn read_route(&self, route: &RouteRef) -> AlbResult<RouteAction> {
        self.around(None, self.inner.read_route(route)).await
    }
    async fn write_forward(&self, route: &RouteRef, forward: &Forward) -> AlbResult<()> {
        self.around(Some(forward), self.inner.write_forward(route, forward))
            .await
    }
    async fn create_rule(
        &self,
        rule: &NewRule<'_>,
        tags: &BTreeMap<String, String>,
    ) -> AlbResult<String> {
        let f = self.inner.create_rule(rule, tags);
        self.around(None, f).await
    }
    async fn delete_rule(&self, rule_arn: &str) -> AlbResult<()> {
        self.around(None, self.inner.delete_rule(rule_arn)).await
    }
    async fn register_targets(&self, tg: &str, targets: &[Target]) -> AlbResult<()> {
        self.around(None, self.inner.register_targets(tg, targets))
            .await
    }
    async fn deregister_targets(&self, tg: &str, targets: &[Target]) -> AlbResult<()> {
        self.around(None, self.inner.deregister_targets(tg, targets))
            .await
    }
    async fn target_health(&self, tg: &str) -> AlbResult<Vec<TargetHealth>> {
        self.around(None, self.inner.target_health(tg)).await
    }
    async fn tags(&self, arn: &str) -> AlbResult<BTreeMap<String, String>> {
        self.around(None, self.inner.tags(arn)).await
    }
    async fn tags_batch(
        &self,
        arns: &[String],
    ) -> AlbResult<BTreeMap<String, BTreeMap<String, String>>> {
        self.around(None, self.inner.tags_batch(arns)).await
    }
    async fn add_tags(&self, arn: &str, tags: &BTreeMap<String, String>) -> AlbResult<()> {
        self.around(None, self.inner.add_tags(arn, tags)).await
    }
    async fn remove_tags(&self, arn: &str, keys: &[String]) -> AlbResult<()> {
        self.around(None, self.inner.remove_tags(arn, keys)).await
    }
}
