//! The flags of a shadow replay (`shadow`, and `canary --shadow-first`),
//! in one struct flattened into both, under the `Shadow` heading, and
//! their parsing into validated values. Like every flag, each is also
//! readable from its `ALB_ROLLOUT_<FLAG>` variable.

use crate::cli::AnalysisArgs;
use crate::plan::parse_duration;
use crate::preflight::InputError;
use crate::shadow::judge::Bounds;
use clap::builder::BoolishValueParser;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

pub const HEADING: &str = "Shadow";

#[derive(Debug, Clone, Args)]
pub struct ShadowArgs {
    /// Where the access logs are: s3://BUCKET/PREFIX [default: the load
    /// balancer's access_logs.s3.bucket and .prefix attributes].
    #[arg(help_heading = HEADING, long, env = "ALB_ROLLOUT_ACCESS_LOGS")]
    pub access_logs: Option<String>,
    /// How far back the logged requests are read [default: 15m].
    #[arg(help_heading = HEADING, long, env = "ALB_ROLLOUT_SINCE")]
    pub since: Option<String>,
    /// Share of the logged requests replayed, e.g. 10% (the same ones on
    /// every run: chosen by a hash of the line) [default: 100%].
    #[arg(help_heading = HEADING, long, env = "ALB_ROLLOUT_SAMPLE")]
    pub sample: Option<String>,
    /// Requests sent per second (20/s, 600/m or 20) [default: 20/s].
    #[arg(help_heading = HEADING, long, env = "ALB_ROLLOUT_RATE")]
    pub rate: Option<String>,
    /// Longest the replay runs; it also ends when the window's requests
    /// run out [default: 10m].
    #[arg(help_heading = HEADING, long, env = "ALB_ROLLOUT_DURATION")]
    pub duration: Option<String>,
    /// Methods replayed (comma-separated); others are counted, not sent
    /// [default: GET,HEAD].
    #[arg(help_heading = HEADING, long, env = "ALB_ROLLOUT_METHODS")]
    pub methods: Option<String>,
    /// Base URL the replayed requests are sent to [default: the load
    /// balancer's DNS name and the listener's port].
    #[arg(help_heading = HEADING, long, env = "ALB_ROLLOUT_TO")]
    pub to: Option<String>,
    /// Highest share of replayed requests green may answer in another
    /// status class than blue did [default: 5%].
    #[arg(help_heading = HEADING, long, env = "ALB_ROLLOUT_MAX_MISMATCH")]
    pub max_mismatch: Option<String>,
    /// Highest ratio of green's p50 or p99 latency to blue's (each at
    /// least 10 ms) [default: 2].
    #[arg(help_heading = HEADING, long, env = "ALB_ROLLOUT_MAX_LATENCY_RATIO")]
    pub max_latency_ratio: Option<String>,
    /// Replay credential-like query parameters (Authorization,
    /// access_token, X-Amz-Signature, ...) too; they are never printed.
    #[arg(help_heading = HEADING, long, env = "ALB_ROLLOUT_REPLAY_AUTH", value_parser = BoolishValueParser::new())]
    pub replay_auth: bool,
}

/// `alb-rollout shadow`.
#[derive(Debug, Args)]
pub struct ShadowCmdArgs {
    /// Listener ARN whose default action is blue; the run's dark rule goes on it.
    #[arg(help_heading = crate::cli::heading::ROUTE, long, env = "ALB_ROLLOUT_LISTENER")]
    pub listener: String,
    /// Target group (ARN or name) the replayed requests go to.
    #[arg(help_heading = crate::cli::heading::ROUTE, long, env = "ALB_ROLLOUT_GREEN")]
    pub green: String,
    /// The dark rule's priority [default: after every rule].
    #[arg(help_heading = crate::cli::heading::ROUTE, long, env = "ALB_ROLLOUT_PRIORITY")]
    pub priority: Option<u32>,
    #[command(flatten)]
    pub shadow: ShadowArgs,
    /// How long to wait for green's targets to be healthy.
    #[arg(help_heading = crate::cli::heading::DEPLOY, long, default_value = "5m", env = "ALB_ROLLOUT_HEALTH_TIMEOUT")]
    pub health_timeout: String,
    /// Bound on the revert after a cancel, from the signal.
    #[arg(help_heading = crate::cli::heading::SAFETY, long, default_value = "8s", env = "ALB_ROLLOUT_REVERT_TIMEOUT")]
    pub revert_timeout: String,
    /// Analysis settings file (TOML); flags and env vars override it.
    #[arg(help_heading = crate::cli::heading::ANALYSIS, long, env = "ALB_ROLLOUT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Validate against live state and print the plan; change nothing.
    #[arg(help_heading = crate::cli::heading::SAFETY, long, env = "ALB_ROLLOUT_DRY_RUN", value_parser = BoolishValueParser::new())]
    pub dry_run: bool,
    /// Start even if the listener records another run in progress.
    #[arg(help_heading = crate::cli::heading::SAFETY, long, env = "ALB_ROLLOUT_FORCE", value_parser = BoolishValueParser::new())]
    pub force: bool,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// The shadow flags, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowFlags {
    /// (bucket, prefix) from `--access-logs`.
    pub access_logs: Option<(String, String)>,
    pub since: Duration,
    pub sample_bp: u32,
    pub rate_milli: u64,
    pub duration: Duration,
    pub methods: Vec<String>,
    pub to: Option<String>,
    pub bounds: Bounds,
    pub replay_auth: bool,
}

/// `5%` or a fraction `0.05`, in basis points (at most 100%).
pub fn basis_points(flag: &str, v: &str) -> Result<u32, InputError> {
    let bad = || {
        InputError::new(
            format!("{flag} {v}"),
            "give a percent like 5% (or a fraction like 0.05), from 0% to 100%",
        )
    };
    let f = match v.trim().strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => v.trim().parse::<f64>().map_err(|_| bad())?,
    };
    match f.is_finite() && (0.0..=1.0).contains(&f) {
        true => Ok((f * 10_000.0).round() as u32),
        false => Err(bad()),
    }
}

/// `20/s`, `600/m` or `20`: requests per 1000 s.
pub fn rate(v: &str) -> Result<u64, InputError> {
    let bad = || {
        InputError::new(format!("--rate {v}"), "give requests per second like 20/s, or per minute like 600/m; more than 0, at most 1000/s")
    };
    let (n, per) = match v.trim().split_once('/') {
        Some((n, "s")) => (n, 1.0),
        Some((n, "m")) => (n, 60.0),
        Some(_) => return Err(bad()),
        None => (v.trim(), 1.0),
    };
    let per_s = n.trim().parse::<f64>().map_err(|_| bad())? / per;
    match per_s.is_finite() && per_s > 0.0 && per_s <= 1000.0 {
        true => Ok(((per_s * 1000.0).round() as u64).max(1)),
        false => Err(bad()),
    }
}

/// `s3://BUCKET/PREFIX` as (bucket, prefix).
pub fn s3_location(v: &str) -> Result<(String, String), InputError> {
    let bad = |why: &str| InputError::new(format!("--access-logs {v}"), why);
    let rest = (v.strip_prefix("s3://"))
        .ok_or_else(|| bad("give s3://BUCKET/PREFIX (the bucket ALB writes its access logs to)"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    match ok {
        true => Ok((bucket.to_string(), prefix.trim_matches('/').to_string())),
        false => Err(bad(
            "the bucket name must be 3-63 lower-case letters, digits, dots or hyphens",
        )),
    }
}

fn methods(v: &str) -> Result<Vec<String>, InputError> {
    let m: Vec<String> = (v.split(','))
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    let ok = !m.is_empty() && m.iter().all(|m| m.bytes().all(|b| b.is_ascii_uppercase()));
    match ok {
        true => Ok(m),
        false => Err(InputError::new(
            format!("--methods {v}"),
            "give HTTP methods, comma-separated, like GET,HEAD",
        )),
    }
}

fn ratio(v: &str) -> Result<u32, InputError> {
    match v.trim().parse::<f64>() {
        Ok(f) if f.is_finite() && (1.0..=1000.0).contains(&f) => Ok((f * 100.0).round() as u32),
        _ => Err(InputError::new(
            format!("--max-latency-ratio {v}"),
            "give a ratio of at least 1, like 2 (green's p50 and p99 at most twice blue's)",
        )),
    }
}

fn base_url(v: &str) -> Result<String, InputError> {
    let u = crate::shadow::select::split_url(v)
        .filter(|u| matches!(u.scheme, "http" | "https") && !u.host.is_empty());
    match u {
        Some(u) if u.query.is_none() && (u.path == "/" || u.path.is_empty()) => {
            Ok(v.trim_end_matches('/').to_string())
        }
        Some(_) => Err(InputError::new(
            format!("--to {}", crate::redact::url(v)),
            "give a base URL without a path or query, like https://internal-lb.example.com:8443",
        )),
        None => Err(InputError::new(
            format!("--to {}", crate::redact::url(v)),
            "give an http:// or https:// base URL",
        )),
    }
}

fn keep<T>(errors: &mut Vec<InputError>, r: Result<T, InputError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

fn duration(flag: &str, v: &str) -> Result<Duration, InputError> {
    match parse_duration(flag, v) {
        Ok(d) if d.is_zero() => Err(InputError::new(flag, "must be more than 0s")),
        Ok(d) => Ok(d),
        Err(e) => Err(InputError::for_flag(flag, &e)),
    }
}

impl ShadowArgs {
    /// The Shadow flags given (a command that does not replay refuses them).
    pub fn given(&self) -> Vec<&'static str> {
        let flags = [
            ("--access-logs", self.access_logs.is_some()),
            ("--since", self.since.is_some()),
            ("--sample", self.sample.is_some()),
            ("--rate", self.rate.is_some()),
            ("--duration", self.duration.is_some()),
            ("--methods", self.methods.is_some()),
            ("--to", self.to.is_some()),
            ("--max-mismatch", self.max_mismatch.is_some()),
            ("--max-latency-ratio", self.max_latency_ratio.is_some()),
            ("--replay-auth", self.replay_auth),
        ];
        flags.into_iter().filter(|f| f.1).map(|f| f.0).collect()
    }
}

/// Every shadow flag, each error naming its flag.
pub fn parse(a: &ShadowArgs, errors: &mut Vec<InputError>) -> Option<ShadowFlags> {
    let e = errors;
    let or = |v: &Option<String>, d: &'static str| v.clone().unwrap_or_else(|| d.to_string());
    let (since_v, duration_v) = (or(&a.since, "15m"), or(&a.duration, "10m"));
    let (sample_v, rate_v) = (or(&a.sample, "100%"), or(&a.rate, "20/s"));
    let (methods_v, mismatch_v) = (or(&a.methods, "GET,HEAD"), or(&a.max_mismatch, "5%"));
    let ratio_v = or(&a.max_latency_ratio, "2");
    let access_logs = a.access_logs.as_deref().map(|v| keep(e, s3_location(v)));
    let since = keep(e, duration("--since", &since_v));
    let dur = keep(e, duration("--duration", &duration_v));
    let sample_bp = keep(e, basis_points("--sample", &sample_v));
    if sample_bp == Some(0) {
        e.push(InputError::new(
            "--sample 0%",
            "replays nothing: give more than 0%",
        ));
    }
    let max_mismatch_bp = keep(e, basis_points("--max-mismatch", &mismatch_v));
    let rate_milli = keep(e, rate(&rate_v));
    let methods = keep(e, methods(&methods_v));
    let ratio = keep(e, ratio(&ratio_v));
    let to = a.to.as_deref().map(|v| keep(e, base_url(v)));
    // A given flag that did not parse is no flag at all.
    let given = |o: Option<Option<String>>| o.map(|v| v.ok_or(())).transpose();
    let (Ok(to), Ok(access_logs)) = (given(to), access_logs.map(|v| v.ok_or(())).transpose())
    else {
        return None;
    };
    Some(ShadowFlags {
        access_logs,
        since: since?,
        sample_bp: sample_bp.filter(|s| *s > 0)?,
        rate_milli: rate_milli?,
        duration: dur?,
        methods: methods?,
        to,
        bounds: Bounds {
            max_mismatch_bp: max_mismatch_bp?,
            max_latency_ratio_pct: ratio?,
        },
        replay_auth: a.replay_auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_or_name_their_flag() {
        assert_eq!(basis_points("--sample", "100%").unwrap(), 10_000);
        assert_eq!(basis_points("--sample", "2.5%").unwrap(), 250);
        assert_eq!(basis_points("--max-mismatch", "0.05").unwrap(), 500);
        assert_eq!(
            basis_points("--sample", "150%").unwrap_err().culprit,
            "--sample 150%"
        );
        assert_eq!(rate("20/s").unwrap(), 20_000);
        assert_eq!(rate("30/m").unwrap(), 500);
        assert_eq!(rate("5").unwrap(), 5_000);
        assert!(rate("0/s").is_err() && rate("5/h").is_err() && rate("x").is_err());
        assert_eq!(
            s3_location("s3://logs-bucket/a/b/").unwrap(),
            ("logs-bucket".into(), "a/b".into())
        );
        assert_eq!(
            s3_location("s3://logs-bucket").unwrap(),
            ("logs-bucket".into(), String::new())
        );
        assert!(s3_location("logs-bucket/a").is_err() && s3_location("s3://UPPER/a").is_err());
        assert_eq!(
            methods("get, head").unwrap(),
            vec!["GET".to_string(), "HEAD".into()]
        );
        assert!(methods(",").is_err() && methods("G3T").is_err());
        assert_eq!(ratio("2").unwrap(), 200);
        assert!(ratio("0.5").is_err());
        assert_eq!(
            base_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(base_url("http://h/p").is_err() && base_url("ftp://h").is_err());
    }
}
