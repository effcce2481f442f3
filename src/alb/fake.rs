//! An in-memory load balancer for component tests: the same port as AWS,
//! with a call log, injectable faults, per-call lag (which works under
//! `tokio::time::pause`) and stale reads after a write, to exercise
//! verification and revert paths without a network.

use super::model::*;
use super::port::{AlbError, AlbErrorKind, AlbResult, LoadBalancerPort};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

pub const DEMO_LB: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/demo/1";
pub const DEMO_LISTENER: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/demo/1/l1";
pub const DEMO_BLUE: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/b1";
pub const DEMO_GREEN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/g1";

/// Operations that change the load balancer; everything else only reads.
pub const MUTATING_OPS: &[&str] = &[
    "ModifyListener",
    "ModifyRule",
    "CreateRule",
    "DeleteRule",
    "RegisterTargets",
    "DeregisterTargets",
    "AddTags",
    "RemoveTags",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub op: &'static str,
    pub resource: String,
}

struct Fault {
    op: &'static str,
    /// Only calls on a resource whose ARN starts with this (a listener:
    /// its CreateRule, and its rules', whose fake ARNs extend it); `None`: any.
    on: Option<String>,
    remaining: usize,
    kind: AlbErrorKind,
}

#[derive(Default)]
struct State {
    lbs: BTreeMap<String, LoadBalancer>,
    listeners: BTreeMap<String, Listener>,
    rules: BTreeMap<String, Rule>,
    rule_listener: BTreeMap<String, String>,
    groups: BTreeMap<String, TargetGroup>,
    health: BTreeMap<String, Vec<TargetHealth>>,
    tags: BTreeMap<String, BTreeMap<String, String>>,
    calls: Vec<Call>,
    faults: Vec<Fault>,
    lag: Duration,
    /// After the next write, this many reads of that route still see the old action.
    stale_reads: usize,
    stale: Option<(RouteRef, RouteAction, usize)>,
    /// The state a newly registered target starts in.
    register_state: Option<HealthState>,
    next_rule: u32,
    /// IP targets outside every group's VPC: ELBv2 refuses to register
    /// them without an Availability Zone.
    outside_vpc: Vec<String>,
    /// Targets that read this state whenever they are registered (a
    /// stopped instance that never passes a health check).
    stuck: BTreeMap<String, HealthState>,
    /// Extra lag of one operation (a throttled AddTags, a slow read).
    op_lag: BTreeMap<&'static str, Duration>,
}

#[derive(Default)]
pub struct FakeLoadBalancer {
    state: Mutex<State>,
}

impl FakeLoadBalancer {
    /// A listener forwarding everything to `blue` (one healthy target), and
    /// an empty-but-healthy `green` in the same VPC.
    pub fn demo() -> Self {
        let fake = FakeLoadBalancer::default();
        fake.add_load_balancer(DEMO_LB, "vpc-1");
        fake.add_listener(
            DEMO_LISTENER,
            DEMO_LB,
            RouteAction::Forward(Forward::single(DEMO_BLUE)),
        );
        fake.add_group(DEMO_BLUE, "blue", "vpc-1", "ip");
        fake.add_group(DEMO_GREEN, "green", "vpc-1", "ip");
        fake.set_health(DEMO_BLUE, "10.0.0.1", HealthState::Healthy);
        fake.set_health(DEMO_GREEN, "10.0.0.2", HealthState::Healthy);
        fake.attach(DEMO_BLUE, DEMO_LB);
        fake
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("fake state lock"))
    }

    pub fn add_load_balancer(&self, arn: &str, vpc: &str) {
        self.with(|s| {
            s.lbs.insert(
                arn.into(),
                LoadBalancer {
                    arn: arn.into(),
                    name: arn_resource(arn).into(),
                    vpc_id: Some(vpc.into()),
                    lb_type: Some("application".into()),
                    dns_name: Some(format!("{}.elb.local", arn_resource(arn).replace('/', "-"))),
                },
            )
        });
    }

    pub fn add_listener(&self, arn: &str, lb: &str, action: RouteAction) {
        self.with(|s| {
            s.listeners.insert(
                arn.into(),
                Listener {
                    arn: arn.into(),
                    load_balancer_arn: lb.into(),
                    protocol: Some("HTTP".into()),
                    port: Some(80),
                    leading: vec![],
                    default_action: action,
                },
            )
        });
    }

    pub fn add_rule(&self, listener: &str, rule_arn: &str, priority: u32, action: RouteAction) {
        self.with(|s| {
            s.rules.insert(
                rule_arn.into(),
                Rule {
                    arn: rule_arn.into(),
                    priority: priority.to_string(),
                    is_default: false,
                    conditions: vec![Condition {
                        field: "path-pattern".into(),
                        key: None,
                        values: vec!["/api/*".into()],
                        ..Default::default()
                    }],
                    leading: vec![],
                    action,
                },
            );
            s.rule_listener.insert(rule_arn.into(), listener.into());
        });
    }

    pub fn add_group(&self, arn: &str, name: &str, vpc: &str, target_type: &str) {
        self.with(|s| {
            s.groups.insert(
                arn.into(),
                TargetGroup {
                    arn: arn.into(),
                    name: name.into(),
                    protocol: Some("HTTP".into()),
                    port: Some(80),
                    vpc_id: Some(vpc.into()),
                    target_type: target_type.into(),
                    load_balancer_arns: vec![],
                },
            );
            s.health.entry(arn.into()).or_default();
        });
    }

    /// Say that `lb` uses `tg` through a listener or rule the fake does not
    /// model (another listener, say): it is then health-checked, as a
    /// group the fake's own listeners and rules forward to is.
    pub fn attach(&self, tg: &str, lb: &str) {
        self.with(|s| {
            if let Some(g) = s.groups.get_mut(tg) {
                g.load_balancer_arns.push(lb.into());
            }
        });
    }

    /// Set (or add) one target's health state.
    pub fn set_health(&self, tg: &str, target_id: &str, state: HealthState) {
        self.with(|s| {
            let list = s.health.entry(tg.into()).or_default();
            match list.iter_mut().find(|h| h.target.id == target_id) {
                Some(h) => h.state = state,
                None => list.push(TargetHealth {
                    target: Target {
                        id: target_id.into(),
                        port: None,
                        az: None,
                    },
                    state,
                    reason: None,
                }),
            }
        });
    }

    /// Add `target` (with its port and zone) to a group in `state`.
    pub fn add_target(&self, tg: &str, target: Target, state: HealthState) {
        self.with(|s| {
            let list = s.health.entry(tg.into()).or_default();
            list.retain(|h| h.target != target);
            list.push(TargetHealth {
                target,
                state,
                reason: None,
            });
        });
    }

    /// Set one target's state and reason code (`Target.NotInUse`, ...).
    pub fn set_health_reason(&self, tg: &str, id: &str, state: HealthState, reason: &str) {
        self.with(|s| {
            for h in s.health.entry(tg.into()).or_default() {
                if h.target.id == id {
                    h.state = state;
                    h.reason = Some(reason.into());
                }
            }
        });
    }

    /// Make target `id` read `state` whenever it is registered.
    pub fn set_stuck(&self, id: &str, state: HealthState) {
        self.with(|s| s.stuck.insert(id.into(), state));
    }

    /// Mark an IP as outside the VPC: RegisterTargets then needs its zone.
    pub fn set_outside_vpc(&self, ip: &str) {
        self.with(|s| s.outside_vpc.push(ip.into()));
    }

    /// Make every call of `op` take `lag` longer (works under paused time).
    pub fn set_op_lag(&self, op: &'static str, lag: Duration) {
        self.with(|s| s.op_lag.insert(op, lag));
    }

    pub fn clear_targets(&self, tg: &str) {
        self.with(|s| s.health.insert(tg.into(), vec![]));
    }

    pub fn set_register_state(&self, state: HealthState) {
        self.with(|s| s.register_state = Some(state));
    }

    /// Fail the next `n` calls of `op` with an error of `kind`.
    pub fn fail_next(&self, op: &'static str, n: usize, kind: AlbErrorKind) {
        self.with(|s| {
            s.faults.push(Fault {
                op,
                on: None,
                remaining: n,
                kind,
            })
        });
    }

    /// Fail the next `n` calls of `op` on `resource` (or under it, see
    /// `Fault::on`) with an error of `kind`.
    pub fn fail_next_on(&self, op: &'static str, resource: &str, n: usize, kind: AlbErrorKind) {
        self.with(|s| {
            s.faults.push(Fault {
                op,
                on: Some(resource.into()),
                remaining: n,
                kind,
            })
        });
    }

    pub fn set_lag(&self, lag: Duration) {
        self.with(|s| s.lag = lag);
    }

    pub fn set_stale_reads(&self, n: usize) {
        self.with(|s| s.stale_reads = n);
    }

    /// Overwrite a route behind the tool's back (another operator, a drift).
    pub fn force_route(&self, route: &RouteRef, action: RouteAction) {
        self.with(|s| put_route(s, route, action));
    }

    /// Put authenticate steps before a route's forward, as an HTTPS listener
    /// with OIDC or Cognito has them. Writes keep them, like ELBv2 does for
    /// the AWS adapter's read-modify-write.
    pub fn set_leading(&self, route: &RouteRef, leading: Vec<LeadingAction>) {
        self.with(|s| match route {
            RouteRef::ListenerDefault { listener_arn } => {
                if let Some(l) = s.listeners.get_mut(listener_arn) {
                    l.leading = leading;
                }
            }
            RouteRef::Rule { rule_arn, .. } => {
                if let Some(r) = s.rules.get_mut(rule_arn) {
                    r.leading = leading;
                }
            }
        });
    }

    pub fn leading(&self, route: &RouteRef) -> Vec<LeadingAction> {
        self.with(|s| match route {
            RouteRef::ListenerDefault { listener_arn } => {
                s.listeners.get(listener_arn).map(|l| l.leading.clone())
            }
            RouteRef::Rule { rule_arn, .. } => s.rules.get(rule_arn).map(|r| r.leading.clone()),
        })
        .unwrap_or_default()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.with(|s| s.calls.clone())
    }

    pub fn mutating_calls(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| MUTATING_OPS.contains(&c.op))
            .collect()
    }

    pub fn route(&self, route: &RouteRef) -> RouteAction {
        self.with(|s| get_route(s, route))
            .expect("route exists in fake")
    }

    pub fn tags_of(&self, arn: &str) -> BTreeMap<String, String> {
        self.with(|s| s.tags.get(arn).cloned().unwrap_or_default())
    }

    pub fn targets_of(&self, tg: &str) -> Vec<TargetHealth> {
        self.with(|s| s.health.get(tg).cloned().unwrap_or_default())
    }

    /// Log the call, sleep the lag, and return an injected fault if one is due.
    async fn enter(&self, op: &'static str, resource: &str) -> AlbResult<()> {
        let (lag, fault) = self.with(|s| {
            s.calls.push(Call {
                op,
                resource: resource.into(),
            });
            let fault = s
                .faults
                .iter_mut()
                .find(|f| {
                    f.op == op
                        && f.remaining > 0
                        && f.on
                            .as_ref()
                            .is_none_or(|r| resource.starts_with(r.as_str()))
                })
                .map(|f| {
                    f.remaining -= 1;
                    f.kind
                });
            (s.lag + s.op_lag.get(op).copied().unwrap_or_default(), fault)
        });
        if !lag.is_zero() {
            tokio::time::sleep(lag).await;
        }
        match fault {
            Some(kind) => Err(AlbError::new(kind, op, Some(resource), "injected fault")),
            None => Ok(()),
        }
    }
}

fn get_route(s: &State, route: &RouteRef) -> Option<RouteAction> {
    match route {
        RouteRef::ListenerDefault { listener_arn } => s
            .listeners
            .get(listener_arn)
            .map(|l| l.default_action.clone()),
        RouteRef::Rule { rule_arn, .. } => s.rules.get(rule_arn).map(|r| r.action.clone()),
    }
}

fn put_route(s: &mut State, route: &RouteRef, action: RouteAction) {
    match route {
        RouteRef::ListenerDefault { listener_arn } => {
            if let Some(l) = s.listeners.get_mut(listener_arn) {
                l.default_action = action;
            }
        }
        RouteRef::Rule { rule_arn, .. } => {
            if let Some(r) = s.rules.get_mut(rule_arn) {
                r.action = action;
            }
        }
    }
}

fn forwards_to(action: &RouteAction, tg: &str) -> bool {
    action
        .as_forward()
        .is_some_and(|f| f.weight_of(tg).is_some())
}

/// The load balancers that use `tg`, as AWS's `LoadBalancerArns` lists
/// them: those a listener's default action or a rule of forwards to it (at
/// any weight), and those `attach` named.
fn users_of(s: &State, tg: &str) -> Vec<String> {
    let mut out = (s.groups.get(tg))
        .map(|g| g.load_balancer_arns.clone())
        .unwrap_or_default();
    let mut add = |lb: &str| {
        if !out.iter().any(|a| a == lb) {
            out.push(lb.to_string());
        }
    };
    for l in s.listeners.values() {
        let rules = (s.rule_listener.iter())
            .filter(|(_, lis)| **lis == l.arn)
            .filter_map(|(r, _)| s.rules.get(r));
        let used = forwards_to(&l.default_action, tg)
            || rules.into_iter().any(|r| forwards_to(&r.action, tg));
        if used {
            add(&l.load_balancer_arn);
        }
    }
    out
}

/// `tg`'s targets as DescribeTargetHealth shows them: AWS health-checks
/// only groups a load balancer uses; the others' targets read `unused`
/// (`Target.NotInUse`) whatever state a test gave them.
fn health_of(s: &State, tg: &str) -> Option<Vec<TargetHealth>> {
    let list = s.health.get(tg)?.clone();
    if !users_of(s, tg).is_empty() {
        return Some(list);
    }
    let unused = |h: TargetHealth| TargetHealth {
        state: HealthState::Unused,
        reason: Some("Target.NotInUse".into()),
        ..h
    };
    Some(list.into_iter().map(unused).collect())
}

fn not_found(op: &str, what: &str) -> AlbError {
    AlbError::not_found(op, what, "not found in fake")
}

#[path = "fake_port.rs"]
mod port_impl;

#[cfg(test)]
#[path = "fake_tests.rs"]
mod tests;
