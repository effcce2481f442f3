//! The action vocabulary every strategy plans in. An action is plain
//! data: the executor gives it effect through the ports (with the checks
//! of `docs/architecture.md`), the engine only orders actions. A revert is
//! not made of actions: it converges to the run's goal (`converge`).

use crate::alb::{Condition, Forward, LeadingAction, RouteRef, Target};
use crate::plan::Tenths;
use serde::Serialize;
use std::time::Duration;

/// Which side of the deploy a target group is, for messages ("green
/// did not become healthy") and for which record field names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Blue,
    Green,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Blue => "blue",
            Role::Green => "green",
        })
    }
}

/// A target group an action works on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub arn: String,
    pub role: Role,
}

/// Why a route is written: decides the marks around the write and what
/// the executor reports. A revert's writes are the convergence's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Purpose {
    /// A group no listener or rule of the load balancer forwards to is
    /// added to the route at weight 0, so that AWS health-checks it
    /// (until then its targets read `unused`, `Target.NotInUse`): no
    /// request moves. Reverted like any write.
    Attach,
    /// The full deploy's last write (`--final-route green-only` with
    /// `--deregister-blue`): blue stayed in the route at weight 0 while its
    /// batches left, so a revert could health-check the ones it
    /// registers again; once the last batch is gone, blue leaves the route.
    Detach,
    /// Canary step `index` (0-based) of `of`, green at `percent`; the step
    /// tag is written after the verified write.
    Step {
        index: usize,
        of: usize,
        percent: Tenths,
    },
    /// The promotion after `after_steps` steps: `promoting` is marked just
    /// before the write, `promoted` after its read-back, and once the write
    /// is sent it stands (no cancel point after it).
    Promote { after_steps: usize },
}

/// A write of the run's route (the listener's default action or the rule),
/// always read back. `from` is what the route must read before it (the
/// drift check) and what the inverse writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteWrite {
    pub from: Forward,
    pub to: Forward,
    pub purpose: Purpose,
}

/// A write of another route of the run (`--listener`/`--rule` given more
/// than once), read back like the first route's: in a multi-route run this
/// action (every other route) comes just after each step's write of the
/// first route, and just before its promotion, so a promotion is confirmed
/// (`promoted`, on the first route's record) only once every route reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherWrite {
    pub route: RouteRef,
    pub from: Forward,
    pub to: Forward,
}

/// A rule the run creates (A/B, dark launch) or deletes. Found again by
/// its priority, which ELBv2 keeps unique per listener, and deleted only
/// when it carries this run's tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSpec {
    pub listener_arn: String,
    pub priority: u32,
    pub conditions: Vec<Condition>,
    pub forward: Forward,
    /// What the rule takes from the route it splits (its login).
    #[serde(skip_serializing_if = "Carry::is_none")]
    pub carry: Carry,
}

/// What a created rule takes from the route it splits, so a request that
/// matches it goes through the same login as the route's own requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Carry {
    /// The route whose leading actions (and, for a rule, transforms) the
    /// rule copies, live, when it is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<RouteRef>,
    /// Those leading actions as preflight read them: what the read-back of
    /// the created rule must show, in this order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leading: Vec<LeadingAction>,
}

impl Carry {
    pub fn is_none(&self) -> bool {
        self.from.is_none() && self.leading.is_empty()
    }

    /// Splitting `route`, whose leading actions are `leading`.
    pub fn from(route: &RouteRef, leading: &[LeadingAction]) -> Self {
        Carry {
            from: Some(route.clone()),
            leading: leading.to_vec(),
        }
    }
}

/// A new forward for a rule the run created (found by its priority, only
/// if it carries the run's tag): `ab` and `dark` create their rule with
/// green at weight 0 when nothing forwarded to green yet, so that AWS
/// health-checks it while the rule's requests still reach blue, then give
/// the rule its real forward once green is healthy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleWrite {
    /// The rule as created (its `forward` is what it must read before).
    pub rule: RuleSpec,
    pub to: Forward,
}

/// Hold a canary step and analyse it every interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BakeSpec {
    pub step: usize,
    pub percent: Tenths,
    #[serde(rename = "seconds", with = "crate::plan::seconds")]
    pub duration: Duration,
}

impl BakeSpec {
    /// A hold at 0%: a preview through a header rule (`--preview-header`),
    /// where green gets no public traffic, so CloudWatch has nothing to
    /// judge and the probe and target health decide. A canary step is never
    /// at 0% (its percents start above 0).
    pub fn public_traffic(&self) -> bool {
        self.percent.0 > 0
    }
}

#[allow(clippy::ptr_arg)] // serde hands the variant's own field
fn writes_json<S: serde::Serializer>(ws: &Vec<OtherWrite>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Writes<'a> {
        writes: &'a [OtherWrite],
    }
    Writes { writes: ws }.serialize(s)
}

/// A replay of real traffic to green (`shadow`): which logged requests,
/// how fast, for how long, through which header, judged against what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowSpec {
    /// The header only the replay sends, which the run's rule matches.
    pub header: String,
    pub value: String,
    /// `app/NAME/ID` of the load balancer, as its logs name it.
    pub elb: String,
    pub port: u16,
    pub blue: String,
    /// The route's rule priority; 0 for the listener's default action.
    pub priority: u32,
    /// How far back the logs are read (`--since`).
    #[serde(rename = "since_seconds", with = "crate::plan::seconds")]
    pub since: Duration,
    pub methods: Vec<String>,
    /// `--sample`, in basis points.
    pub sample_bp: u32,
    /// `--rate`, in requests per 1000 s.
    pub rate_milli: u64,
    /// `--duration`: the replay stops when it ends, or when the window's
    /// requests run out.
    #[serde(rename = "seconds", with = "crate::plan::seconds")]
    pub duration: Duration,
    pub bounds: crate::shadow::judge::Bounds,
    pub on_no_data: crate::analysis::NoDataPolicy,
    pub replay_auth: bool,
}

/// One thing a run does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Write the run record (tags) and read it back: the first mutation.
    Record,
    Register {
        group: Group,
        targets: Vec<Target>,
    },
    Deregister {
        group: Group,
        targets: Vec<Target>,
    },
    /// Wait until the group has a healthy target and these targets are.
    AwaitHealthy {
        group: Group,
        targets: Vec<Target>,
    },
    /// Wait until these targets have left the group (draining is over).
    AwaitDrained {
        group: Group,
        targets: Vec<Target>,
    },
    WriteRoute(RouteWrite),
    /// Write the run's other routes, each read back (`OtherWrite`).
    /// In JSON `{"action": "write-others", "writes": [...]}`: an
    /// internally tagged variant cannot hold a bare list.
    #[serde(serialize_with = "writes_json")]
    WriteOthers(Vec<OtherWrite>),
    CreateRule(RuleSpec),
    WriteRule(RuleWrite),
    DeleteRule(RuleSpec),
    Bake(BakeSpec),
    /// `shadow` (and `canary --shadow-first`): replay blue's logged requests
    /// to green through the run's rule and judge the answers; a wait like a
    /// bake (cancellable), never a change of the load balancer.
    Shadow(ShadowSpec),
    /// `rolling --in-place`: record batch `index` (0-based) of `of` on
    /// the group before its targets leave (the step tag).
    StartBatch {
        index: usize,
        of: usize,
        targets: Vec<Target>,
    },
    /// `rolling --in-place`: mark batch `index` started in the record, then
    /// run `--deploy` on its targets (out of the group by now).
    Deploy(DeploySpec),
    /// Run a user's command (`--hook`); never a change of the load balancer.
    Hook(super::hook::HookSpec),
    /// Remove the run record: the last action of every run and revert.
    Unrecord,
}

/// A deploy command run on one batch of targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploySpec {
    pub index: usize,
    pub of: usize,
    pub targets: Vec<Target>,
    pub command: String,
}

impl Action {
    /// Whether the action changes the load balancer (and so is checked for
    /// a cancel before it is sent).
    pub fn mutates(&self) -> bool {
        !matches!(
            self,
            Action::AwaitHealthy { .. }
                | Action::AwaitDrained { .. }
                | Action::Bake(_)
                | Action::Shadow(_)
                | Action::Hook(_)
        )
    }

    pub fn hook(&self) -> Option<&super::hook::HookSpec> {
        match self {
            Action::Hook(h) => Some(h),
            _ => None,
        }
    }

    pub fn route_write(&self) -> Option<&RouteWrite> {
        match self {
            Action::WriteRoute(w) => Some(w),
            _ => None,
        }
    }
}
