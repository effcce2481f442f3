//! Which logged requests are replayed (pure): only those blue served on
//! the run's route (this load balancer, the listener's port in the
//! request's URL, blue's target group, the route's rule priority; 0 is the
//! default action), inside the window, with a replayed method, kept by a
//! deterministic `--sample` (a hash of the line, so a rerun replays the
//! same requests). What is replayed of a request: its method, path and
//! query with credential-like parameters dropped (unless `--replay-auth`),
//! its original Host (so host rules match), its user agent.

use super::log::Entry;
use std::time::SystemTime;

/// What a request must be to be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// `app/NAME/ID`, as the log's `elb` field names the load balancer.
    pub elb: String,
    pub port: u16,
    pub blue: String,
    /// The route's rule priority; 0 for the listener's default action.
    pub priority: u32,
    pub since: SystemTime,
    pub until: SystemTime,
    /// Upper-case methods.
    pub methods: Vec<String>,
    /// Share kept, in basis points (10000 = all).
    pub sample_bp: u32,
}

/// Why an entry is not replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Skip {
    /// Another load balancer, listener, route or target group served it.
    NotBlueOnRoute,
    OutsideWindow,
    Method,
    Sampled,
}

/// The parts of `http://HOST:PORT/PATH?QUERY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
    pub port: Option<u16>,
    pub path: &'a str,
    pub query: Option<&'a str>,
}

pub fn split_url(u: &str) -> Option<Url<'_>> {
    let (scheme, rest) = u.split_once("://")?;
    let (authority, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, Some(p.parse().ok()?)),
        _ => (authority, None),
    };
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    Some(Url {
        scheme,
        host,
        port,
        path,
        query,
    })
}

/// FNV-1a: a stable hash, the same on every machine and release.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether the sample keeps the line: the same answer on every run.
pub fn sampled(line: &str, sample_bp: u32) -> bool {
    sample_bp >= 10_000 || fnv(line) % 10_000 < u64::from(sample_bp)
}

/// Whether `e` (from `line`) is replayed, or why not.
pub fn select(s: &Selection, e: &Entry, line: &str) -> Result<(), Skip> {
    let port = split_url(&e.url).and_then(|u| u.port);
    let on_route = e.elb == s.elb
        && port == Some(s.port)
        && e.target_group_arn.as_deref() == Some(s.blue.as_str())
        && e.matched_rule_priority == Some(s.priority);
    if !on_route {
        return Err(Skip::NotBlueOnRoute);
    }
    if e.time < s.since || e.time > s.until {
        return Err(Skip::OutsideWindow);
    }
    if !s.methods.iter().any(|m| m.eq_ignore_ascii_case(&e.method)) {
        return Err(Skip::Method);
    }
    if !sampled(line, s.sample_bp) {
        return Err(Skip::Sampled);
    }
    Ok(())
}

/// Query parameter names that carry credentials (compared without case):
/// never replayed without `--replay-auth`, never printed.
const CREDENTIAL_PARAMS: &[&str] = &[
    "authorization",
    "auth",
    "access_token",
    "id_token",
    "refresh_token",
    "token",
    "api_key",
    "apikey",
    "key",
    "password",
    "secret",
    "client_secret",
    "signature",
    "sig",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "cookie",
    "session",
    "sessionid",
];

/// A credential-like parameter name, percent-decoded for the comparison.
pub fn is_credential(name: &str) -> bool {
    let decoded = name
        .replace("%2D", "-")
        .replace("%2d", "-")
        .replace("%5F", "_");
    CREDENTIAL_PARAMS
        .iter()
        .any(|c| decoded.eq_ignore_ascii_case(c))
}

/// The query with credential-like parameters dropped, unless `keep_auth`.
pub fn replay_query(query: &str, keep_auth: bool) -> String {
    (query.split('&'))
        .filter(|p| !p.is_empty())
        .filter(|p| keep_auth || !is_credential(p.split('=').next().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("&")
}

/// One request to replay, with what blue answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub method: String,
    /// Path and (filtered) query: what is sent.
    pub target: String,
    /// The path alone: what reports show (query values can be secrets).
    pub path: String,
    /// `Host` as the client sent it (its port only if not the scheme's).
    pub host: String,
    pub user_agent: Option<String>,
    pub blue_status: u16,
    pub blue_seconds: Option<f64>,
}

/// The request `e` replays; `None` when its URL or status is unusable.
pub fn replay(e: &Entry, keep_auth: bool) -> Option<Replay> {
    let u = split_url(&e.url)?;
    let q = u
        .query
        .map(|q| replay_query(q, keep_auth))
        .unwrap_or_default();
    let target = match q.is_empty() {
        true => u.path.to_string(),
        false => format!("{}?{q}", u.path),
    };
    let default_port = match u.scheme {
        "https" | "wss" => 443,
        _ => 80,
    };
    let host = match u.port {
        Some(p) if p != default_port => format!("{}:{p}", u.host),
        _ => u.host.to_string(),
    };
    Some(Replay {
        method: e.method.to_ascii_uppercase(),
        target,
        path: u.path.to_string(),
        host,
        user_agent: e.user_agent.clone(),
        blue_status: e.blue_status()?,
        blue_seconds: e.target_processing_time,
    })
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
