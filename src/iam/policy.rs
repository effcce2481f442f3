//! The least-privilege policy document for one command: `uses`' actions,
//! each on the ARN patterns its resource kind maps to (`arn`), grouped into
//! one statement per resource set; and the evaluation of a policy against
//! one call (IAM's `*`/`?` matching of actions and resources, the
//! `elasticloadbalancing:CreateAction` condition), for the tests that hold
//! the policies against what the commands really call.

use super::arn::{self, ElbArn};
use super::uses::{uses_with, On, Strategy};
use crate::preflight::InputError;
use serde::Serialize;
use serde_json::{json, Value};

/// The resources a policy is scoped to (`iam-policy` flags).
#[derive(Debug, Clone)]
pub struct Request {
    pub strategy: Strategy,
    pub listeners: Vec<String>,
    pub rules: Vec<String>,
    pub target_groups: Vec<String>,
    /// `s3://BUCKET/PREFIX` of the access logs (`shadow`, `--shadow-first`);
    /// any bucket when not given.
    pub access_logs: Option<String>,
    /// `canary --shadow-first`.
    pub shadow_first: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: &'static str,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// `StringEquals` on (key, value).
    pub condition: Option<(&'static str, &'static str)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

pub const CREATE_ACTION: &str = "elasticloadbalancing:CreateAction";

/// The ARN patterns per resource kind, from the request's ARNs.
struct Scope {
    listeners: Vec<String>,
    routes: Vec<String>,
    /// The routes' listeners and rules, apart (their shifts differ).
    route_listeners: Vec<String>,
    route_rules: Vec<String>,
    new_rules: Vec<String>,
    groups: Vec<String>,
}

/// The request's ARNs, parsed: the listeners (those of `--rule` added),
/// the `--listener` ones no `--rule` is on (a run moves their default
/// action, as `route_args` reads the flags), the rules, the target group
/// patterns.
struct Parsed {
    listeners: Vec<ElbArn>,
    default_routes: Vec<ElbArn>,
    rules: Vec<String>,
    groups: Vec<String>,
}

/// The request's ARNs, or every flag that is not one.
fn parse(r: &Request) -> Result<Parsed, Vec<InputError>> {
    let mut errors = Vec::new();
    let mut listeners: Vec<ElbArn> = Vec::new();
    for l in &r.listeners {
        match arn::listener(l) {
            Ok(a) => listeners.push(a),
            Err(e) => errors.push(InputError::new(format!("--listener {l}"), e)),
        }
    }
    let mut default_routes = listeners.clone();
    let mut rules = Vec::new();
    for s in &r.rules {
        match arn::rule(s) {
            Ok(a) => {
                let l = arn::listener_of_rule(&a);
                default_routes.retain(|d| *d != l);
                if !listeners.contains(&l) {
                    listeners.push(l);
                }
                rules.push(a.to_string());
            }
            Err(e) => errors.push(InputError::new(format!("--rule {s}"), e)),
        }
    }
    let mut groups = Vec::new();
    for g in &r.target_groups {
        match arn::target_group(g, listeners.first()) {
            Ok(p) => groups.push(p),
            Err(e) => errors.push(InputError::new(format!("--target-group {g}"), e)),
        }
    }
    match errors.is_empty() {
        true => Ok(Parsed {
            listeners,
            default_routes,
            rules,
            groups,
        }),
        false => Err(errors),
    }
}

fn scope(r: &Request) -> Result<Scope, Vec<InputError>> {
    let Parsed {
        listeners,
        default_routes,
        rules,
        mut groups,
    } = parse(r)?;
    // Only groups given (`rollback --target-group`): no listener statement.
    let only_groups = listeners.is_empty() && !groups.is_empty();
    let (listener_patterns, new_rules) = match (listeners.is_empty(), only_groups) {
        (_, true) => (vec![], vec![]),
        (true, false) => (
            vec![arn::wildcard("listener/app/*/*/*")],
            vec![arn::wildcard("listener-rule/app/*/*/*/*")],
        ),
        (false, false) => (
            listeners.iter().map(ElbArn::to_string).collect(),
            listeners.iter().map(arn::rules_of).collect(),
        ),
    };
    if groups.is_empty() {
        groups.push(match listeners.first() {
            Some(l) => arn::target_group_any(l),
            None => arn::wildcard("targetgroup/*/*"),
        });
    }
    // The listeners whose default action a run shifts: any when no route
    // is named; with rules, only the `--listener` ones no rule is on (a
    // rule's listener hosts the route and the rules a run creates).
    let route_listeners = match rules.is_empty() {
        true => listener_patterns.clone(),
        false => default_routes.iter().map(ElbArn::to_string).collect(),
    };
    Ok(Scope {
        listeners: listener_patterns,
        routes: [route_listeners.clone(), rules.clone()].concat(),
        route_listeners,
        route_rules: rules,
        new_rules,
        groups,
    })
}

/// A statement's Sid, from what its first action is on. A shift on all
/// the routes (listeners only, or rules only) shares the record's
/// statement (`all_routes`); with both kinds, each kind's shift has its own.
fn sid(on: On, all_routes: bool) -> &'static str {
    match on {
        On::ListenerRoute | On::RuleRoute if all_routes => "RouteAndRunRecord",
        On::Any => "Read",
        On::Route => "RouteAndRunRecord",
        On::ListenerRoute => "ShiftListeners",
        On::RuleRoute => "ShiftRules",
        On::Listener => "CreateRules",
        On::NewRules => "RunRules",
        On::NewRuleTags => "TagRulesOnCreate",
        On::Groups => "TargetGroups",
        On::LogBucket => "AccessLogBucket",
        On::LogObjects => "AccessLogObjects",
    }
}

/// The bucket's and the log objects' ARNs.
fn log_arns(r: &Request) -> Result<(String, String), Vec<InputError>> {
    let Some(v) = &r.access_logs else {
        return Ok(("arn:aws:s3:::*".into(), "arn:aws:s3:::*/AWSLogs/*".into()));
    };
    let (bucket, prefix) = crate::cli_shadow::s3_location(v).map_err(|e| vec![e])?;
    let objects = match prefix.is_empty() {
        true => format!("arn:aws:s3:::{bucket}/AWSLogs/*"),
        false => format!("arn:aws:s3:::{bucket}/{prefix}/AWSLogs/*"),
    };
    Ok((format!("arn:aws:s3:::{bucket}"), objects))
}

/// The policy for `r`, or the flags whose values are not ARNs it can use.
pub fn build(r: &Request) -> Result<Policy, Vec<InputError>> {
    let s = scope(r)?;
    let (bucket, objects) = log_arns(r)?;
    let resources = |on: On| -> Vec<String> {
        match on {
            On::Any => vec!["*".into()],
            On::Route => s.routes.clone(),
            On::ListenerRoute => s.route_listeners.clone(),
            On::RuleRoute => s.route_rules.clone(),
            On::Listener => [s.listeners.clone(), s.new_rules.clone()].concat(),
            On::NewRules | On::NewRuleTags => s.new_rules.clone(),
            On::Groups => s.groups.clone(),
            On::LogBucket => vec![bucket.clone()],
            On::LogObjects => vec![objects.clone()],
        }
    };
    let mut statements: Vec<Statement> = Vec::new();
    for (action, on) in uses_with(r.strategy, r.shadow_first) {
        let res = resources(on);
        if res.is_empty() {
            continue;
        }
        let condition = (on == On::NewRuleTags).then_some((CREATE_ACTION, "CreateRule"));
        let same = |st: &&mut Statement| st.resources == res && st.condition == condition;
        match statements.iter_mut().find(same) {
            Some(st) if st.actions.contains(&action) => {}
            Some(st) => st.actions.push(action),
            None => statements.push(Statement {
                sid: sid(on, res == s.routes),
                actions: vec![action],
                resources: res,
                condition,
            }),
        }
    }
    Ok(Policy { statements })
}

/// A statement as IAM writes it (Sid first), for printing.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatementDoc<'a> {
    sid: &'a str,
    effect: &'static str,
    action: &'a [String],
    resource: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyDoc<'a> {
    version: &'static str,
    statement: Vec<StatementDoc<'a>>,
}

impl Statement {
    fn doc(&self) -> StatementDoc<'_> {
        StatementDoc {
            sid: self.sid,
            effect: "Allow",
            action: &self.actions,
            resource: match self.resources.as_slice() {
                [one] => json!(one),
                many => json!(many),
            },
            condition: self
                .condition
                .map(|(k, v)| json!({ "StringEquals": { k: v } })),
        }
    }

    pub fn to_json(&self) -> Value {
        json!(self.doc())
    }
}

impl Policy {
    fn doc(&self) -> PolicyDoc<'_> {
        PolicyDoc {
            version: "2012-10-17",
            statement: self.statements.iter().map(Statement::doc).collect(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!(self.doc())
    }

    /// The document as printed: pretty, each statement's Sid first.
    pub fn to_pretty(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(&self.doc())
    }

    /// Whether some statement allows `action` on `resource`; `context`
    /// holds the request's condition keys (e.g. CreateAction for the tags
    /// of a CreateRule).
    pub fn allows(&self, action: &str, resource: &str, context: &[(&str, &str)]) -> bool {
        self.statements.iter().any(|st| {
            st.actions
                .iter()
                .any(|a| glob(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
                && st.resources.iter().any(|p| glob(p, resource))
                && st
                    .condition
                    .is_none_or(|(k, v)| context.iter().any(|(ck, cv)| *ck == k && *cv == v))
        })
    }
}

/// IAM's wildcard match: `*` any run of characters (`/` and `:` included),
/// `?` exactly one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
