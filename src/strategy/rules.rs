//! The `--match` forms of `ab` and `dark` (`header:`, `cookie:`, `query:`,
//! `source-ip:`, `path:`), parsed and checked against ALB's rule limits before
//! anything is sent, and translated to the ELBv2 conditions of one rule.
//! Priority choice for that rule lives in `rule_priority` (re-exported here),
//! the per-field checks in `rules_fields`.
//!
//! Repeated `--match` values must all hold (AND). ALB ORs the values inside one
//! condition, so every match becomes its own condition, and the forms ALB
//! allows only once per rule (`path-pattern`, `source-ip`) cannot repeat.
//!
//! Limits checked here, with their AWS sources:
//! - RuleCondition (API reference): at most one each of host-header,
//!   http-request-method, path-pattern and source-ip per rule; http-header and
//!   query-string may repeat; a condition value can't be empty.
//! - ALB quotas page: 5 condition values per rule, 5 wildcards per rule
//!   (neither adjustable); the user guide adds 3 comparison strings per
//!   condition.
//! - HttpHeaderConditionConfig: header name up to 40 characters, RFC 7230
//!   token, no wildcards, not `Host`; values up to 128 characters, compared
//!   case-insensitively, `*` and `?` are wildcards.
//! - PathPatternConfig / QueryStringConditionConfig: 128 characters per
//!   string; the console's allowed-character lists are in `rules_fields`; a
//!   literal `*`/`?` in a query string is escaped with `\`.
//! - SourceIpConditionConfig: CIDR, IPv4 or IPv6, no wildcards. It matches
//!   the address that connects to the ALB, never X-Forwarded-For (so behind a
//!   CDN or proxy it sees the proxy), and an IPv6 client reaches only a
//!   dualstack ALB.
//! - Condition basics: rules apply to visible ASCII only (no 0x00-0x1f, 0x7f).

use super::rules_fields::{
    check_cookie, check_header_name, check_header_value, check_path, check_query, parse_cidr,
    split_pair,
};
use crate::alb::Condition;
use serde::Serialize;
use std::fmt;

pub use super::rule_priority::{
    choose_before, choose_last, choose_last_within, rules_shadowed, MAX_PRIORITY, MIN_PRIORITY,
    RULES_PER_ALB_DEFAULT,
};

/// Condition values per rule (ALB quota, not adjustable).
pub const MAX_VALUES_PER_RULE: usize = 5;
/// Wildcards (`*`, `?`) across all condition values of a rule (ALB quota).
pub const MAX_WILDCARDS_PER_RULE: usize = 5;
/// Comparison strings in one condition (ALB user guide, condition basics).
pub const MAX_VALUES_PER_CONDITION: usize = 3;
/// Characters in one condition value, query key, path pattern.
pub const MAX_VALUE_LEN: usize = 128;
/// Characters in an http-header condition's header name.
pub const MAX_HEADER_NAME_LEN: usize = 40;

/// One `--match` value, parsed. `Display` gives back the `--match` form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Match {
    Header { name: String, value: String },
    Cookie { name: String, value: String },
    Query { key: String, value: String },
    SourceIp { cidr: String },
    Path { pattern: String },
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Match::Header { name, value } => write!(f, "header:{name}={value}"),
            Match::Cookie { name, value } => write!(f, "cookie:{name}={value}"),
            Match::Query { key, value } => write!(f, "query:{key}={value}"),
            Match::SourceIp { cidr } => write!(f, "source-ip:{cidr}"),
            Match::Path { pattern } => write!(f, "path:{pattern}"),
        }
    }
}

impl Match {
    /// The ELBv2 condition this match sends (in the port's display form, which
    /// `alb::translate::condition_to_sdk` turns into the typed config).
    pub fn condition(&self) -> Condition {
        let (field, key, values) = match self {
            Match::Header { name, value } => {
                ("http-header", Some(name.clone()), vec![value.clone()])
            }
            Match::Cookie { name, value } => (
                "http-header",
                Some("Cookie".into()),
                cookie_patterns(name, value),
            ),
            Match::Query { key, value } => ("query-string", None, vec![format!("{key}={value}")]),
            Match::SourceIp { cidr } => ("source-ip", None, vec![cidr.clone()]),
            Match::Path { pattern } => ("path-pattern", None, vec![pattern.clone()]),
        };
        Condition {
            field: field.to_string(),
            key,
            values,
            ..Default::default()
        }
    }

    /// Wildcards (`*`, `?`) in what this match sends, as ALB counts them.
    pub fn wildcards(&self) -> usize {
        match self {
            Match::Query { key, value } => {
                count_wildcards(key, true) + count_wildcards(value, true)
            }
            _ => self
                .condition()
                .values
                .iter()
                .map(|v| count_wildcards(v, false))
                .sum(),
        }
    }
}

/// ALB has no cookie condition, so a cookie is matched on the `Cookie` header
/// with two patterns (ORed in one condition): `name=value*` for the first
/// cookie (or a lone HTTP/2 cookie crumb, which ALB searches header by
/// header) and `*; name=value*` for any later one, since user agents join
/// cookies with "; " (RFC 6265 5.4).
///
/// Why two patterns and not `*name=value*`: the single pattern also matches
/// `xname=value` (another cookie whose name ends in ours), which would put
/// users of an unrelated cookie into the test. The two patterns cost 2 of the
/// rule's 5 values and 3 of its 5 wildcards, leaving room for a path or a
/// header beside one cookie. Exact matching (no false positive at all) needs
/// four patterns (`n=v`, `n=v;*`, `*; n=v`, `*; n=v;*`), more than the 3 a
/// condition may hold. What remains:
/// - a value prefix still matches: `variant=b` also catches `variant=beta`,
///   so pick values that are not prefixes of each other;
/// - ALB compares header values case-insensitively: `Variant=B` matches too;
/// - a client that joins cookies with ";" and no space is missed after the
///   first cookie (browsers send the space).
///
/// Use `header:Cookie=PATTERN` for any other pattern.
pub fn cookie_patterns(name: &str, value: &str) -> Vec<String> {
    vec![format!("{name}={value}*"), format!("*; {name}={value}*")]
}

/// `escapes`: a query string takes `\*` and `\?` as literal characters
/// (QueryStringConditionConfig); other fields document no escape.
fn count_wildcards(s: &str, escapes: bool) -> usize {
    let mut n = 0;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if escapes => {
                chars.next();
            }
            '*' | '?' => n += 1,
            _ => {}
        }
    }
    n
}

/// Parse one `--match` value; the error names it and says what to write.
pub fn parse_match(raw: &str) -> Result<Match, String> {
    let err = |why: String| format!("--match {raw:?}: {why}");
    let Some((kind, rest)) = raw.split_once(':') else {
        return Err(err(FORMS.to_string()));
    };
    match kind.trim().to_ascii_lowercase().as_str() {
        "header" => {
            let (name, value) = split_pair(rest, "header:NAME=VALUE").map_err(err)?;
            check_header_name(name).map_err(err)?;
            check_header_value(value, "header value").map_err(err)?;
            Ok(Match::Header {
                name: name.to_string(),
                value: value.to_string(),
            })
        }
        "cookie" => {
            let (name, value) = split_pair(rest, "cookie:NAME=VALUE").map_err(err)?;
            check_cookie(name, value).map_err(err)?;
            Ok(Match::Cookie {
                name: name.to_string(),
                value: value.to_string(),
            })
        }
        "query" => {
            let (key, value) = split_pair(rest, "query:KEY=VALUE").map_err(err)?;
            check_query(key, "query key").map_err(err)?;
            check_query(value, "query value").map_err(err)?;
            Ok(Match::Query {
                key: key.to_string(),
                value: value.to_string(),
            })
        }
        "source-ip" => parse_cidr(rest)
            .map(|cidr| Match::SourceIp { cidr })
            .map_err(err),
        "path" => {
            check_path(rest).map_err(err)?;
            Ok(Match::Path {
                pattern: rest.to_string(),
            })
        }
        other => Err(err(format!("unknown match kind {other:?}; {FORMS}"))),
    }
}

const FORMS: &str = "write one of header:NAME=VALUE, cookie:NAME=VALUE, query:KEY=VALUE, \
                     source-ip:CIDR or path:/PATTERN";

/// Parse every `--match` value and check the rule they make together: all
/// errors at once (as preflight reports them), each naming its `--match`.
/// `ALB_ROLLOUT_MATCH` is split on newlines, and a workflow writes it as a
/// YAML `|` block: its trailing newline, blank lines and a CRLF file's
/// `\r` are not matches, so each value is trimmed and blank ones dropped.
pub fn parse_matches(raw: &[String]) -> Result<Vec<Match>, Vec<String>> {
    let raw: Vec<&str> = (raw.iter().map(|r| r.trim()))
        .filter(|r| !r.is_empty())
        .collect();
    if raw.is_empty() {
        return Err(vec![format!(
            "no --match given: a rule needs at least one condition; {FORMS}"
        )]);
    }
    let mut errors = Vec::new();
    let mut matches = Vec::new();
    for r in raw {
        match parse_match(r) {
            Ok(m) => matches.push(m),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        errors = check_rule(&matches);
    }
    if errors.is_empty() {
        Ok(matches)
    } else {
        Err(errors)
    }
}

/// The conditions of the rule, one per match, in `--match` order.
pub fn conditions(matches: &[Match]) -> Vec<Condition> {
    matches.iter().map(Match::condition).collect()
}

/// Rule-wide limits: once-only fields, duplicates, values and wildcards.
pub fn check_rule(matches: &[Match]) -> Vec<String> {
    let mut errors = Vec::new();
    for (field, label) in [("path-pattern", "path"), ("source-ip", "source-ip")] {
        let same: Vec<String> = matches
            .iter()
            .filter(|m| m.condition().field == field)
            .map(|m| format!("--match {m}"))
            .collect();
        if same.len() > 1 {
            errors.push(format!(
                "{}: ALB allows one {field} condition per rule, and the values inside one \
                 condition are alternatives (OR), so these cannot all be required; give one \
                 {label} match that covers what you mean",
                same.join(", ")
            ));
        }
    }
    for (i, m) in matches.iter().enumerate() {
        if matches[..i].contains(m) {
            errors.push(format!("--match {m} is given twice; give it once"));
        }
    }
    let values: usize = matches.iter().map(|m| m.condition().values.len()).sum();
    if values > MAX_VALUES_PER_RULE {
        errors.push(format!(
            "these matches need {values} condition values ({}); ALB allows {MAX_VALUES_PER_RULE} \
             per rule (a cookie match takes 2); drop some --match values",
            breakdown(matches, |m| m.condition().values.len())
        ));
    }
    let wild: usize = matches.iter().map(Match::wildcards).sum();
    if wild > MAX_WILDCARDS_PER_RULE {
        errors.push(format!(
            "these matches use {wild} wildcards ({}); ALB allows {MAX_WILDCARDS_PER_RULE} per \
             rule (a cookie match takes 3); drop a match or a * or ?",
            breakdown(matches, Match::wildcards)
        ));
    }
    errors
}

fn breakdown(matches: &[Match], count: impl Fn(&Match) -> usize) -> String {
    matches
        .iter()
        .map(|m| format!("{m}: {}", count(m)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
