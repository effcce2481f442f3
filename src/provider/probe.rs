//! HTTP probe provider: one GET of a URL, reporting its status and latency
//! (never a verdict; `analysis` judges). Also owns the CLI probe spec
//! `URL[=STATUS]` and `StatusMatch`, the expected-status matcher that
//! `analysis` applies to the outcome.

use super::{Probe, ProbeOutcome, ProviderError};
use crate::errors::chain;
use crate::redact;
use async_trait::async_trait;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which HTTP statuses count as healthy: `200`, `2xx` or `200-299`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    Exact(u16),
    /// The hundreds digit: `Class(2)` is `2xx`.
    Class(u16),
    /// Inclusive bounds.
    Range(u16, u16),
}

impl Default for StatusMatch {
    fn default() -> Self {
        StatusMatch::Class(2)
    }
}

impl StatusMatch {
    pub fn matches(&self, status: u16) -> bool {
        match *self {
            StatusMatch::Exact(s) => status == s,
            StatusMatch::Class(c) => status / 100 == c,
            StatusMatch::Range(lo, hi) => (lo..=hi).contains(&status),
        }
    }
}

impl fmt::Display for StatusMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusMatch::Exact(s) => write!(f, "{s}"),
            StatusMatch::Class(c) => write!(f, "{c}xx"),
            StatusMatch::Range(lo, hi) => write!(f, "{lo}-{hi}"),
        }
    }
}

impl FromStr for StatusMatch {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        parse_status(s.trim()).unwrap_or_else(|| {
            Err(format!(
                "invalid status '{s}': expected e.g. 200, 2xx or 200-299"
            ))
        })
    }
}

fn three_digits(s: &str) -> Option<u16> {
    (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn valid_status(s: u16) -> Result<u16, String> {
    if (100..=599).contains(&s) {
        Ok(s)
    } else {
        Err(format!("status {s} is outside 100-599"))
    }
}

/// `None` when `s` is not shaped like a status spec at all (so it may be part
/// of a URL); `Some(Err)` when it is shaped like one but impossible.
fn parse_status(s: &str) -> Option<Result<StatusMatch, String>> {
    if let Some(n) = three_digits(s) {
        return Some(valid_status(n).map(StatusMatch::Exact));
    }
    if let Some((lo, hi)) = s.split_once('-') {
        let (lo, hi) = (three_digits(lo)?, three_digits(hi)?);
        return Some(match (valid_status(lo), valid_status(hi)) {
            (Ok(lo), Ok(hi)) if lo <= hi => Ok(StatusMatch::Range(lo, hi)),
            (Ok(lo), Ok(hi)) => Err(format!("status range {lo}-{hi} is empty")),
            (Err(e), _) | (_, Err(e)) => Err(e),
        });
    }
    let b = s.as_bytes();
    if b.len() == 3 && b[0].is_ascii_digit() && b[1..].eq_ignore_ascii_case(b"xx") {
        let class = u16::from(b[0] - b'0');
        return Some(if (1..=5).contains(&class) {
            Ok(StatusMatch::Class(class))
        } else {
            Err(format!("status class {class}xx is outside 1xx-5xx"))
        });
    }
    None
}

/// Parse the CLI form `URL[=STATUS]` (STATUS: `200`, `2xx`, `200-299`;
/// default `2xx`). URLs may contain `=` in their query string, so only a
/// status-shaped suffix after the *last* `=` is taken as the status. A URL
/// whose query really ends in e.g. `=200` must be given as `URL=200=2xx`.
pub fn parse_probe_spec(spec: &str) -> Result<(String, StatusMatch), String> {
    let spec = spec.trim();
    let (url, status) = match spec.rsplit_once('=') {
        Some((url, tail)) => match parse_status(tail) {
            Some(Ok(status)) => (url, status),
            Some(Err(e)) => {
                return Err(format!(
                    "probe '{}': {e} (to probe a URL ending in '={tail}', append '=2xx')",
                    redact::url(spec)
                ))
            }
            None => (spec, StatusMatch::default()),
        },
        None => (spec, StatusMatch::default()),
    };
    check_url(url).map_err(|e| format!("probe '{}': {e}", redact::url(spec)))?;
    Ok((url.to_string(), status))
}

/// Errors name the URL masked (`redact`): it may carry a password or token.
fn check_url(url: &str) -> Result<(), String> {
    let shown = redact::url(url);
    let parsed =
        reqwest::Url::parse(url).map_err(|e| format!("'{shown}' is not a valid URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "'{shown}' must be an http:// or https:// URL (got scheme '{}')",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{shown}' has no host"));
    }
    Ok(())
}

/// GETs one URL. Redirects are not followed: the probe reports what the URL
/// itself answers (a canary redirecting to a login page is not "200").
pub struct HttpProbe {
    /// The URL as given, credentials included: only ever sent, never printed.
    raw_url: String,
    /// The URL with its secrets masked: the only form that is ever printed.
    url: String,
    client: reqwest::Client,
    /// Sent with every request: `dark` and `ab` reach green through the
    /// load balancer with the header (or cookie) their rule matches.
    headers: Vec<(String, String)>,
}

impl HttpProbe {
    pub fn new(url: &str, timeout: Duration) -> Result<Self, ProviderError> {
        let err = |message: String| ProviderError {
            transient: false,
            provider: "probe",
            message,
        };
        check_url(url).map_err(err)?;
        let masked = redact::url(url);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                err(format!(
                    "cannot build HTTP client for {masked}: {}",
                    chain(&e)
                ))
            })?;
        Ok(HttpProbe {
            raw_url: url.to_string(),
            url: masked,
            client,
            headers: vec![],
        })
    }

    /// The same probe, sending `headers` with every request.
    pub fn with_headers(self, headers: Vec<(String, String)>) -> Self {
        HttpProbe { headers, ..self }
    }
}

#[async_trait]
impl Probe for HttpProbe {
    /// Latency is time to response headers: the body is not downloaded, so a
    /// large page does not skew it (or cost memory).
    async fn probe(&self) -> ProbeOutcome {
        let started = Instant::now();
        let mut req = self.client.get(&self.raw_url);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let result = req.send().await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(resp) => ProbeOutcome {
                status: Some(resp.status().as_u16()),
                latency_ms,
                error: None,
            },
            Err(e) => ProbeOutcome {
                status: None,
                latency_ms,
                error: Some(describe_error(&self.url, &e)),
            },
        }
    }

    fn url(&self) -> &str {
        &self.url
    }
}

/// `shown` is the masked URL; reqwest's own message repeats the real one,
/// so the cause chain is masked too.
fn describe_error(shown: &str, e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    format!("GET {shown} {what}: {}", redact::text(&chain(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::test_server;

    /// Expected parse: the URL and status, or `Err(())` for "rejected".
    type Want = Result<(String, StatusMatch), ()>;

    #[test]
    fn probe_spec_table() {
        use StatusMatch::*;
        let ok = |url: &str, m| Ok((url.to_string(), m));
        let cases: Vec<(&str, Want)> = vec![
            (
                "http://127.0.0.1:8080/health",
                ok("http://127.0.0.1:8080/health", Class(2)),
            ),
            (
                "https://127.0.0.1/h=200",
                ok("https://127.0.0.1/h", Exact(200)),
            ),
            ("http://127.0.0.1/h=2xx", ok("http://127.0.0.1/h", Class(2))),
            ("http://127.0.0.1/h=3XX", ok("http://127.0.0.1/h", Class(3))),
            (
                "http://127.0.0.1/h=200-299",
                ok("http://127.0.0.1/h", Range(200, 299)),
            ),
            (
                "http://127.0.0.1/h?a=b&c=d",
                ok("http://127.0.0.1/h?a=b&c=d", Class(2)),
            ),
            (
                "http://127.0.0.1/h?a=b=204",
                ok("http://127.0.0.1/h?a=b", Exact(204)),
            ),
            (
                "http://127.0.0.1/h?id=2000",
                ok("http://127.0.0.1/h?id=2000", Class(2)),
            ),
            (
                "http://127.0.0.1/h?r=200-2",
                ok("http://127.0.0.1/h?r=200-2", Class(2)),
            ),
            (
                "http://127.0.0.1/h?a=",
                ok("http://127.0.0.1/h?a=", Class(2)),
            ),
            (
                "http://127.0.0.1/h?code=200=2xx",
                ok("http://127.0.0.1/h?code=200", Class(2)),
            ),
            (
                "  http://127.0.0.1/h=204  ",
                ok("http://127.0.0.1/h", Exact(204)),
            ),
            ("http://127.0.0.1/h=600", Err(())),
            ("http://127.0.0.1/h=0xx", Err(())),
            ("http://127.0.0.1/h=299-200", Err(())),
            ("ftp://127.0.0.1/x", Err(())),
            ("127.0.0.1:8080/health", Err(())),
            ("", Err(())),
            ("=200", Err(())),
            ("http://", Err(())),
        ];
        for (spec, want) in cases {
            let got = parse_probe_spec(spec);
            match want {
                Ok(w) => assert_eq!(got, Ok(w), "{spec:?}"),
                Err(()) => assert!(got.is_err(), "{spec:?} gave {got:?}"),
            }
        }
    }

    #[test]
    fn non_http_url_is_rejected_clearly() {
        let e = parse_probe_spec("ftp://127.0.0.1/x").expect_err("ftp");
        assert!(e.contains("http://") && e.contains("ftp"), "{e}");
    }

    #[test]
    fn status_match_table() {
        use StatusMatch::*;
        let cases = [
            (Exact(200), 200, true),
            (Exact(200), 201, false),
            (Class(2), 200, true),
            (Class(2), 299, true),
            (Class(2), 300, false),
            (Class(5), 503, true),
            (Range(200, 204), 204, true),
            (Range(200, 204), 205, false),
            (Range(200, 204), 199, false),
        ];
        for (m, status, want) in cases {
            assert_eq!(m.matches(status), want, "{m} vs {status}");
        }
        for s in ["200", "2xx", "200-299"] {
            assert_eq!(
                s.parse::<StatusMatch>().map(|m| m.to_string()),
                Ok(s.to_string())
            );
        }
        assert!("abc".parse::<StatusMatch>().is_err());
    }

    #[tokio::test]
    async fn probe_reports_503_and_latency() {
        let resp = test_server::response("503 Service Unavailable", "text/plain", "down");
        let (base, server) = test_server::serve_once(resp).await;
        let url = format!("{base}/health");
        let probe = HttpProbe::new(&url, DEFAULT_PROBE_TIMEOUT).expect("probe");
        let out = probe.probe().await;
        assert_eq!((out.status, out.error.as_deref()), (Some(503), None));
        assert!(out.latency_ms < 5_000);
        let head = server.await.expect("server");
        assert!(head.starts_with("GET /health HTTP/1.1"), "{head}");
        assert_eq!(probe.url(), url);
    }

    #[tokio::test]
    async fn probe_sends_its_headers() {
        let resp = test_server::response("200 OK", "text/plain", "ok");
        let (base, server) = test_server::serve_once(resp).await;
        let probe = HttpProbe::new(&format!("{base}/"), DEFAULT_PROBE_TIMEOUT)
            .expect("probe")
            .with_headers(vec![("X-Variant".into(), "b".into())]);
        assert_eq!(probe.probe().await.status, Some(200));
        let head = server.await.expect("server").to_ascii_lowercase();
        assert!(head.contains("x-variant: b\r\n"), "{head}");
    }

    #[tokio::test]
    async fn probe_failure_names_the_url() {
        // Bind then drop: the port is very likely closed for the next second.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/health", listener.local_addr().expect("addr"));
        drop(listener);
        let probe = HttpProbe::new(&url, Duration::from_secs(2)).expect("probe");
        let out = probe.probe().await;
        assert_eq!(out.status, None);
        let err = out.error.expect("error");
        assert!(err.contains(&url), "{err}");
    }

    #[tokio::test]
    async fn probe_failure_masks_the_secrets_of_its_url() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let url = format!("http://probe-user:hunter2@{addr}/health?token=tok-123");
        let probe = HttpProbe::new(&url, Duration::from_secs(2)).expect("probe");
        let err = probe.probe().await.error.expect("error");
        for secret in ["probe-user", "hunter2", "tok-123"] {
            assert!(!err.contains(secret), "{secret} leaked: {err}");
        }
        let shown = format!("http://***@{addr}/health?token=***");
        assert!(err.contains(&shown), "{err}");
        assert_eq!(probe.url(), shown);
    }

    #[test]
    fn spec_errors_mask_the_url() {
        for spec in [
            "http://u:hunter2@127.0.0.1/h?token=tok-123=600",
            "ftp://u:hunter2@127.0.0.1/h?token=tok-123",
            "http://u:hunter2@127.0.0.1:port/h?token=tok-123",
        ] {
            let e = parse_probe_spec(spec).expect_err(spec);
            assert!(
                !e.contains("hunter2") && !e.contains("tok-123") && e.contains("***@127.0.0.1"),
                "{e}"
            );
        }
    }
}
