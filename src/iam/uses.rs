//! Which AWS actions each command's code paths call, and on what: the
//! table `iam-policy` builds its statements from. Every optional path is
//! in (`--register`, `--deregister-blue`, preview rules, the revert, the
//! heartbeat and record tag writes, CloudWatch), and each deploy command
//! also covers `rollback` of its own runs, since the same role runs the
//! recovery step. The emulator test `iam_coverage` fails when a run calls
//! anything this table does not grant.

use clap::ValueEnum;

/// The command a policy is for (`iam-policy --strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Strategy {
    Canary,
    BlueGreen,
    Rolling,
    Ab,
    Dark,
    /// `rollback` of any run on the given listener, rules or groups.
    Rollback,
    Status,
    /// `routes list` and `routes remove`.
    Routes,
    /// `shadow`: the dark rule's life, the load balancer's attributes and
    /// its access logs in S3.
    Shadow,
}

/// What a call is made on; `policy` turns each into ARN patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum On {
    /// `"*"`: the action has no resource-level permissions.
    Any,
    /// The routes a run records itself on (tags): the listeners given
    /// with `--listener` and the rules given with `--rule`.
    Route,
    /// The listeners among the routes, whose default action a run shifts.
    ListenerRoute,
    /// The rules among the routes, whose forward a run shifts.
    RuleRoute,
    /// The listener a rule is created on.
    Listener,
    /// The rules a run creates (preview, A/B, dark): any rule of the listener.
    NewRules,
    /// Tags written as part of CreateRule (condition CreateAction=CreateRule).
    NewRuleTags,
    /// The target groups a run registers in, deregisters from or records
    /// itself on.
    Groups,
    /// The access logs' bucket (`s3:ListBucket`).
    LogBucket,
    /// The access log objects, `PREFIX/AWSLogs/*` (`s3:GetObject`).
    LogObjects,
}

pub type Use = (&'static str, On);

const ELB: &str = "elasticloadbalancing:";

/// The reads every command makes before it decides anything.
const READS: &[&str] = &[
    "DescribeListeners",
    "DescribeRules",
    "DescribeLoadBalancers",
    "DescribeTargetGroups",
    "DescribeTargetHealth",
    "DescribeTags",
];

/// A route's weights and its record (heartbeat and step tags included).
const ROUTE_WRITES: &[&str] = &["AddTags", "RemoveTags"];
/// Rules a run creates (a preview, A/B or dark launch rule) and its revert
/// (or `routes remove`) deletes.
const RULE_LIFE: &[Use] = &[
    ("CreateRule", On::Listener),
    ("AddTags", On::NewRuleTags),
    ("DeleteRule", On::NewRules),
];
/// An A/B or dark launch rule's forward is rewritten after its creation
/// (green attached at weight 0 first); a preview rule's never is.
const RULE_SHIFT: Use = ("ModifyRule", On::NewRules);
/// What `rolling` reads: one group, its health and its record, and its
/// load balancer's DNS name for `--hook` and `--check` commands.
const GROUP_READS: &[&str] = &[
    "DescribeLoadBalancers",
    "DescribeTargetGroups",
    "DescribeTargetHealth",
    "DescribeTags",
];
const TARGETS: &[&str] = &["RegisterTargets", "DeregisterTargets"];

/// A replay of the access logs (`shadow`, `canary --shadow-first`): where
/// the logs are, then their listing and objects.
const SHADOW_READS: &[Use] = &[
    ("DescribeLoadBalancerAttributes", On::Any),
    ("s3:ListBucket", On::LogBucket),
    ("s3:GetObject", On::LogObjects),
];

/// A route's shift: ModifyListener on the listeners among the routes,
/// ModifyRule on the rules among them (a run may move both as one).
const SHIFT: &[Use] = &[
    ("ModifyListener", On::ListenerRoute),
    ("ModifyRule", On::RuleRoute),
];

/// `(action, on)` for `strategy`.
pub fn uses(strategy: Strategy) -> Vec<(String, On)> {
    uses_with(strategy, false)
}

/// `uses`, with `shadow_first` adding a canary's replay of the access logs.
pub fn uses_with(strategy: Strategy, shadow_first: bool) -> Vec<(String, On)> {
    let reads = match strategy {
        Strategy::Rolling => GROUP_READS,
        _ => READS,
    };
    let mut out: Vec<Use> = reads.iter().map(|a| (*a, On::Any)).collect();
    let metrics = ("cloudwatch:GetMetricData", On::Any);
    match strategy {
        Strategy::Canary | Strategy::BlueGreen => {
            out.push(metrics);
            out.extend(SHIFT);
            out.extend(ROUTE_WRITES.iter().map(|a| (*a, On::Route)));
            out.extend(RULE_LIFE);
            out.extend(TARGETS.iter().map(|a| (*a, On::Groups)));
        }
        Strategy::Rolling => {
            out.push(metrics);
            out.extend(TARGETS.iter().map(|a| (*a, On::Groups)));
            out.extend(ROUTE_WRITES.iter().map(|a| (*a, On::Groups)));
        }
        Strategy::Ab | Strategy::Dark | Strategy::Shadow => {
            out.push(metrics);
            out.extend(ROUTE_WRITES.iter().map(|a| (*a, On::Route)));
            out.extend(RULE_LIFE);
            out.push(RULE_SHIFT);
        }
        Strategy::Rollback => {
            out.extend(SHIFT);
            out.extend(ROUTE_WRITES.iter().map(|a| (*a, On::Route)));
            out.push(("DeleteRule", On::NewRules));
            out.extend(TARGETS.iter().map(|a| (*a, On::Groups)));
            out.extend(ROUTE_WRITES.iter().map(|a| (*a, On::Groups)));
        }
        Strategy::Status => out.push(metrics),
        Strategy::Routes => out.push(("DeleteRule", On::NewRules)),
    }
    if strategy == Strategy::Shadow || (shadow_first && strategy == Strategy::Canary) {
        out.extend(SHADOW_READS);
    }
    out.into_iter()
        .map(|(a, on)| match a.contains(':') {
            true => (a.to_string(), on),
            false => (format!("{ELB}{a}"), on),
        })
        .collect()
}
