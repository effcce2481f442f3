//! Analysis settings: flags and env vars over an optional TOML file over
//! defaults, parsed into typed values with every problem collected.

use crate::analysis::{NoDataPolicy, Thresholds};
use crate::cli::AnalysisArgs;
use crate::plan::{parse_duration, parse_rate};
use crate::preflight::InputError;
use crate::provider::probe::{parse_probe_spec, StatusMatch};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// The `--config` file: the same names as the flags, in kebab-case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileSettings {
    pub interval: Option<String>,
    /// A string (`"1%"`) or a TOML number (`0.01`), checked like the flag.
    #[serde(default, deserialize_with = "string_or_number")]
    pub max_error_rate: Option<String>,
    pub compare_blue: Option<bool>,
    pub min_requests: Option<u64>,
    pub on_no_data: Option<NoDataPolicy>,
    pub no_data_timeout: Option<String>,
    pub failure_limit: Option<u32>,
    pub metric_period: Option<String>,
    pub cloudwatch: Option<bool>,
    pub max_latency: Option<String>,
    pub tolerate_unhealthy: Option<bool>,
    pub probe: Option<String>,
    pub prometheus_url: Option<String>,
    pub prometheus_query: Option<String>,
    pub prometheus_max: Option<f64>,
}

#[derive(Clone, PartialEq)]
pub struct Analysis {
    pub interval: Duration,
    /// Whole CloudWatch minutes per judgement.
    pub metric_period: Duration,
    /// Judge CloudWatch's ALB metrics at all.
    pub cloudwatch: bool,
    pub thresholds: Thresholds,
    pub failure_limit: u32,
    pub on_no_data: NoDataPolicy,
    pub no_data_timeout: Duration,
    pub probe: Option<String>,
    /// (base URL, query)
    pub prometheus: Option<(String, String)>,
    /// `--check` commands, run every interval.
    pub checks: Vec<String>,
    /// `--hook` commands and their timeout.
    pub hooks: crate::strategy::hooks::Hooks,
}

/// A TOML number becomes its text, so `max-error-rate = 1` is refused by
/// `parse_rate` with the same message as `--max-error-rate 1`.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Int(i64),
        Float(f64),
    }
    Ok(Some(match Raw::deserialize(d)? {
        Raw::Text(s) => s,
        Raw::Int(i) => i.to_string(),
        Raw::Float(f) => f.to_string(),
    }))
}

/// The culprit for a value: the flag, or the key in the file when only the
/// file set it (so the message points at what to edit).
fn source(flag: &str, on_cli: bool, in_file: bool) -> String {
    match flag.strip_prefix("--") {
        Some(key) if !on_cli && in_file => format!("{key} in the --config file"),
        _ => flag.to_string(),
    }
}

/// By hand so a debug print can never show a probe or Prometheus URL's
/// secrets.
impl std::fmt::Debug for Analysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let prometheus = self
            .prometheus
            .as_ref()
            .map(|(url, query)| (crate::redact::url(url), query));
        f.debug_struct("Analysis")
            .field("interval", &self.interval)
            .field("metric_period", &self.metric_period)
            .field("thresholds", &self.thresholds)
            .field("failure_limit", &self.failure_limit)
            .field("on_no_data", &self.on_no_data)
            .field("no_data_timeout", &self.no_data_timeout)
            .field("probe", &self.probe.as_deref().map(crate::redact::url))
            .field("prometheus", &prometheus)
            .field(
                "checks",
                &self
                    .checks
                    .iter()
                    .map(|c| crate::redact::text(c))
                    .collect::<Vec<_>>(),
            )
            .field("hooks", &self.hooks.list.len())
            .finish()
    }
}

pub fn read_file(path: &Path) -> Result<FileSettings, InputError> {
    let culprit = format!("--config {}", path.display());
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(&culprit, format!("cannot be read: {e}")))?;
    toml::from_str(&text)
        .map_err(|e| InputError::new(&culprit, format!("is not valid: {}", e.to_string().trim())))
}

fn status_bounds(m: StatusMatch) -> (u16, u16) {
    match m {
        StatusMatch::Exact(s) => (s, s),
        StatusMatch::Class(c) => (c * 100, c * 100 + 99),
        StatusMatch::Range(lo, hi) => (lo, hi),
    }
}

fn dur(errors: &mut Vec<InputError>, flag: &str, v: Option<String>, default: &str) -> Duration {
    let raw = v.unwrap_or_else(|| default.to_string());
    parse_duration(flag, &raw).unwrap_or_else(|e| {
        errors.push(InputError::for_flag(flag, &e));
        Duration::from_secs(1)
    })
}

/// Flags (and env vars) over the file: one set of raw values.
fn merge(a: &AnalysisArgs, f: FileSettings) -> FileSettings {
    FileSettings {
        interval: a.interval.clone().or(f.interval),
        max_error_rate: a.max_error_rate.clone().or(f.max_error_rate),
        compare_blue: a.compare_blue.or(f.compare_blue),
        min_requests: a.min_requests.or(f.min_requests),
        on_no_data: a.on_no_data.or(f.on_no_data),
        no_data_timeout: a.no_data_timeout.clone().or(f.no_data_timeout),
        failure_limit: a.failure_limit.or(f.failure_limit),
        metric_period: a.metric_period.clone().or(f.metric_period),
        cloudwatch: a.cloudwatch.or(f.cloudwatch),
        max_latency: a.max_latency.clone().or(f.max_latency),
        tolerate_unhealthy: a.tolerate_unhealthy.or(f.tolerate_unhealthy),
        probe: a.probe.clone().or(f.probe),
        prometheus_url: a.prometheus_url.clone().or(f.prometheus_url),
        prometheus_query: a.prometheus_query.clone().or(f.prometheus_query),
        prometheus_max: a.prometheus_max.or(f.prometheus_max),
    }
}

/// The analysis settings of a command: the `--config` file (if any) read,
/// the flags merged over it, everything checked; problems go to `errors`.
pub fn from_flags_and_file(
    config: Option<&Path>,
    args: &AnalysisArgs,
    errors: &mut Vec<InputError>,
) -> Option<Analysis> {
    let file = match config {
        Some(p) => read_file(p).map_err(|e| errors.push(e)).unwrap_or_default(),
        None => FileSettings::default(),
    };
    resolve(args, file).map_err(|e| errors.extend(e)).ok()
}

/// Merge flags over the file over defaults; parse and check everything.
pub fn resolve(a: &AnalysisArgs, f: FileSettings) -> Result<Analysis, Vec<InputError>> {
    let culprits = Culprits {
        max_error_rate: source(
            "--max-error-rate",
            a.max_error_rate.is_some(),
            f.max_error_rate.is_some(),
        ),
        min_requests: source(
            "--min-requests",
            a.min_requests.is_some(),
            f.min_requests.is_some(),
        ),
    };
    let m = merge(a, f);
    let mut errors = Vec::new();
    let prometheus = prometheus(&m, &mut errors);
    let interval = dur(&mut errors, "--interval", m.interval.clone(), "30s");
    let metric_period = dur(
        &mut errors,
        "--metric-period",
        m.metric_period.clone(),
        "60s",
    );
    let no_data_timeout = dur(
        &mut errors,
        "--no-data-timeout",
        m.no_data_timeout.clone(),
        "10m",
    );
    if interval < Duration::from_secs(1) {
        // Every interval reads DescribeTargetHealth and GetMetricData: a
        // shorter one only spends the API's rate limits.
        errors.push(InputError::new(
            "--interval",
            format!(
                "must be at least 1s, not {}",
                humantime::format_duration(interval)
            ),
        ));
    }
    if metric_period.is_zero() {
        errors.push(InputError::new("--metric-period", "must be longer than 0s"));
    }
    if !metric_period.as_secs().is_multiple_of(60) || metric_period.subsec_nanos() != 0 {
        errors.push(InputError::new(
            "--metric-period",
            format!(
                "must be whole minutes (60s, 2m, ...), not {}: ALB metrics reach CloudWatch in one-minute buckets",
                humantime::format_duration(metric_period)
            ),
        ));
    }
    let hooks = crate::cli_hooks::parse_hooks(&a.commands, &mut errors);
    let checks = crate::cli_hooks::parse_checks(&a.commands);
    let cloudwatch = m.cloudwatch.unwrap_or(true);
    if !cloudwatch && m.probe.is_none() && m.prometheus_url.is_none() && checks.is_empty() {
        errors.push(InputError::new(
            "--cloudwatch false",
            "leaves only target health to judge green: give --probe, --check or --prometheus-url/--prometheus-query/--prometheus-max too",
        ));
    }
    let thresholds = thresholds(&m, &culprits, &mut errors);
    let failure_limit = m.failure_limit.unwrap_or(1);
    if failure_limit == 0 {
        errors.push(InputError::new(
            "--failure-limit",
            "must be at least 1 (1 reverts on the first failed interval)",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Analysis {
        interval,
        metric_period,
        cloudwatch,
        thresholds,
        failure_limit,
        on_no_data: m.on_no_data.unwrap_or(NoDataPolicy::Fail),
        no_data_timeout,
        probe: m.probe,
        prometheus,
        checks,
        hooks,
    })
}

/// Who to blame for a bad threshold: a flag, or a key of the config file.
struct Culprits {
    max_error_rate: String,
    min_requests: String,
}

fn thresholds(m: &FileSettings, c: &Culprits, errors: &mut Vec<InputError>) -> Thresholds {
    let max_latency = m
        .max_latency
        .clone()
        .map(|v| dur(errors, "--max-latency", Some(v), ""));
    let rate = m.max_error_rate.clone().unwrap_or_else(|| "1%".into());
    let max_error_rate = parse_rate(&c.max_error_rate, &rate).unwrap_or_else(|e| {
        errors.push(InputError::for_flag(&c.max_error_rate, &e));
        0.0
    });
    let min_requests = m.min_requests.unwrap_or(20);
    if min_requests == 0 {
        // 0 requests would be judged as 0% errors: a pass with no traffic.
        errors.push(InputError::new(
            &c.min_requests,
            "0 would judge a window without any request as 0% errors, a pass; \
             use at least 1 (the default is 20)",
        ));
    }
    let probe_status = match m.probe.as_deref().map(parse_probe_spec) {
        Some(Err(e)) => {
            errors.push(InputError::new("--probe", e));
            None
        }
        Some(Ok((_, status))) => Some(status_bounds(status)),
        None => None,
    };
    Thresholds {
        max_error_rate,
        min_requests,
        compare_to_blue: m.compare_blue.unwrap_or(false),
        max_latency,
        fail_on_unhealthy: !m.tolerate_unhealthy.unwrap_or(false),
        prometheus_max: m.prometheus_max,
        probe_status,
    }
}

fn prometheus(m: &FileSettings, errors: &mut Vec<InputError>) -> Option<(String, String)> {
    match (
        m.prometheus_url.clone(),
        m.prometheus_query.clone(),
        m.prometheus_max,
    ) {
        (Some(u), Some(q), Some(_)) => Some((u, q)),
        (None, None, None) => None,
        _ => {
            errors.push(InputError::new(
                "--prometheus-url/--prometheus-query/--prometheus-max",
                "give all three to judge a Prometheus query, or none",
            ));
            None
        }
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;

/// The variable the OIDC client secret is read from. Never a flag: argv is
/// visible to every process on the runner, and the secret is one a
/// CreateRule must send (ELBv2 never returns it).
pub const OIDC_CLIENT_SECRET_ENV: &str = "ALB_ROLLOUT_OIDC_CLIENT_SECRET";

/// The OIDC client secret for the rules this run creates, if set (an empty
/// value is unset). Registered for masking before anyone can print it.
pub fn oidc_client_secret() -> Option<String> {
    let v = std::env::var(OIDC_CLIENT_SECRET_ENV)
        .ok()
        .filter(|v| !v.is_empty())?;
    crate::redact::register(&v);
    Some(v)
}
