//! Prometheus instant-query provider: one PromQL query against
//! `/api/v1/query`, one number (or "no data"). Owns the HTTP call and the
//! parsing of Prometheus' response envelope (`parse_response`).
//!
//! The query should reduce to a single series (e.g. `sum(...)` or a ratio of
//! sums); if it returns several, the first sample is used and a warning is
//! logged, since Prometheus does not order series meaningfully.

use super::{ProviderError, ScalarSource};
use crate::redact;
use async_trait::async_trait;
use serde_json::Value;
use std::time::Duration;

const PROVIDER: &str = "prometheus";
const TIMEOUT: Duration = Duration::from_secs(10);
/// Enough of a non-JSON error body (proxy pages, etc.) to recognise it.
const BODY_EXCERPT: usize = 200;

pub struct PrometheusQuery {
    /// `<base>/api/v1/query`, keeping any query string of the base (a token).
    endpoint: reqwest::Url,
    /// The endpoint with its secrets masked: the only form ever printed.
    shown: String,
    query: String,
    client: reqwest::Client,
}

impl PrometheusQuery {
    /// `base_url` is the Prometheus root (e.g. `http://prometheus:9090`, or a
    /// path prefix behind a proxy); `/api/v1/query` is appended to its path,
    /// and its query string (e.g. `?token=...` for a proxy) is kept.
    pub fn new(base_url: &str, query: &str) -> Result<Self, ProviderError> {
        let shown = redact::url(base_url);
        let mut endpoint = reqwest::Url::parse(base_url)
            .map_err(|e| error(query, &shown, &format!("invalid base URL: {e}")))?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(error(query, &shown, "base URL must be http:// or https://"));
        }
        let path = format!("{}/api/v1/query", endpoint.path().trim_end_matches('/'));
        endpoint.set_path(&path);
        let shown = redact::url(endpoint.as_str());
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| error(query, &shown, &format!("cannot build HTTP client: {e}")))?;
        Ok(PrometheusQuery {
            endpoint,
            shown,
            query: query.to_string(),
            client,
        })
    }

    fn error(&self, message: &str) -> ProviderError {
        error(&self.query, &self.shown, message)
    }

    /// GET the query and return the status and body; transport failures and
    /// non-UTF-8 bodies become errors here.
    async fn fetch(&self) -> Result<(reqwest::StatusCode, String), ProviderError> {
        // The "query" feature of reqwest is off, so encode the URL ourselves.
        let mut url = self.endpoint.clone();
        url.query_pairs_mut().append_pair("query", &self.query);
        let resp = self
            .client
            .get(url)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| self.error(&redact::text(&crate::errors::chain(&e))))?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| {
            let cause = redact::text(&crate::errors::chain(&e));
            self.error(&format!("reading the response: {cause}"))
        })?;
        Ok((status, body))
    }
}

#[async_trait]
impl ScalarSource for PrometheusQuery {
    async fn value(&self) -> Result<Option<f64>, ProviderError> {
        let (status, body) = self.fetch().await?;
        let json: Option<Value> = serde_json::from_str(&body).ok();
        if !status.is_success() {
            // Prometheus explains 400/422/503 in the usual JSON envelope.
            let detail = match json.as_ref().map(parse_response) {
                Some(Err(e)) => e,
                _ => excerpt(&body),
            };
            return Err(self.error(&format!("HTTP {status}: {detail}")));
        }
        let json =
            json.ok_or_else(|| self.error(&format!("response is not JSON: {}", excerpt(&body))))?;
        let series = json["data"]["result"].as_array().map_or(0, Vec::len);
        if json["data"]["resultType"] == "vector" && series > 1 {
            tracing::warn!(query = %self.query, series, "query returned several series; using the first");
        }
        parse_response(&json).map_err(|e| self.error(&e))
    }

    fn describe(&self) -> String {
        format!("prometheus query `{}` at {}", self.query, self.shown)
    }
}

/// `url` must already be masked.
fn error(query: &str, url: &str, message: &str) -> ProviderError {
    ProviderError {
        transient: false,
        provider: PROVIDER,
        message: format!("query `{query}` at {url}: {message}"),
    }
}

fn excerpt(body: &str) -> String {
    let trimmed = body.trim();
    match trimmed.char_indices().nth(BODY_EXCERPT) {
        Some((i, _)) => format!("{}...", &trimmed[..i]),
        None if trimmed.is_empty() => "empty body".to_string(),
        None => trimmed.to_string(),
    }
}

/// Parse a Prometheus `/api/v1/query` response body. `Ok(None)` for an empty
/// vector or a NaN value (e.g. 0/0 when there was no traffic); infinities
/// are returned as numbers since they are real query results (x/0).
pub fn parse_response(body: &Value) -> Result<Option<f64>, String> {
    match body["status"].as_str() {
        Some("success") => {}
        Some("error") => {
            let kind = body["errorType"].as_str().unwrap_or("error");
            let msg = body["error"].as_str().unwrap_or("no message");
            return Err(format!("{kind}: {msg}"));
        }
        _ => {
            return Err(format!(
                "unexpected response: no \"status\" of success or error in {body}"
            ))
        }
    }
    let data = &body["data"];
    let sample = match data["resultType"].as_str() {
        Some("vector") => match data["result"].as_array() {
            Some(series) => match series.first() {
                Some(first) => &first["value"],
                None => return Ok(None),
            },
            None => return Err("vector result has no \"result\" array".to_string()),
        },
        Some("scalar") => &data["result"],
        Some(other) => {
            return Err(format!(
                "query returned a {other}; expected an instant vector or scalar"
            ))
        }
        None => return Err("response has no data.resultType".to_string()),
    };
    sample_value(sample).map(|v| (!v.is_nan()).then_some(v))
}

/// A sample is `[<unix time>, "<value>"]`; the value is a string so that
/// NaN and ±Inf survive JSON.
fn sample_value(sample: &Value) -> Result<f64, String> {
    let text = sample[1]
        .as_str()
        .ok_or_else(|| format!("malformed sample {sample}: expected [time, \"value\"]"))?;
    text.trim()
        .parse::<f64>()
        .map_err(|_| format!("sample value {text:?} is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::test_server;
    use serde_json::json;

    fn vector(values: &[&str]) -> Value {
        let result: Vec<Value> = values
            .iter()
            .map(|v| json!({"metric": {"job": "web"}, "value": [1700000000.5, v]}))
            .collect();
        json!({"status": "success", "data": {"resultType": "vector", "result": result}})
    }

    /// Expected parse: the value, or a fragment of the error message.
    type Want = Result<Option<f64>, &'static str>;

    #[test]
    fn parse_response_table() {
        let scalar = |v: &str| json!({"status": "success", "data": {"resultType": "scalar", "result": [1.0, v]}});
        let cases: Vec<(&str, Value, Want)> = vec![
            ("vector one sample", vector(&["0.25"]), Ok(Some(0.25))),
            ("vector takes first", vector(&["1", "2"]), Ok(Some(1.0))),
            ("empty vector", vector(&[]), Ok(None)),
            ("NaN", vector(&["NaN"]), Ok(None)),
            ("+Inf", vector(&["+Inf"]), Ok(Some(f64::INFINITY))),
            ("scalar", scalar("42"), Ok(Some(42.0))),
            ("scalar NaN", scalar("NaN"), Ok(None)),
            ("not a number", vector(&["abc"]), Err("not a number")),
            (
                "error envelope",
                json!({"status": "error", "errorType": "bad_data", "error": "parse error at char 4"}),
                Err("bad_data: parse error at char 4"),
            ),
            (
                "matrix",
                json!({"status": "success", "data": {"resultType": "matrix", "result": []}}),
                Err("matrix"),
            ),
            (
                "malformed sample",
                json!({"status": "success", "data": {"resultType": "vector",
                    "result": [{"metric": {}, "value": [1.0, 3]}]}}),
                Err("malformed sample"),
            ),
            ("no status", json!({"data": {}}), Err("unexpected response")),
            ("not an object", json!([1, 2]), Err("unexpected response")),
            (
                "no resultType",
                json!({"status": "success", "data": {}}),
                Err("no data.resultType"),
            ),
        ];
        for (name, body, want) in cases {
            let got = parse_response(&body);
            match want {
                Ok(w) => assert_eq!(got, Ok(w), "{name}"),
                Err(part) => {
                    let e = got.expect_err(name);
                    assert!(e.contains(part), "{name}: {e}");
                }
            }
        }
    }

    #[tokio::test]
    async fn queries_over_http() {
        let body = vector(&["0.5"]).to_string();
        let resp = test_server::response("200 OK", "application/json", &body);
        let (base, server) = test_server::serve_once(resp).await;
        let q =
            PrometheusQuery::new(&format!("{base}/"), "sum(rate(x{a=\"b\"}[1m]))").expect("client");
        assert_eq!(q.value().await, Ok(Some(0.5)));
        let head = server.await.expect("server");
        let request_line = head.lines().next().unwrap_or("");
        assert!(
            request_line.starts_with(
                "GET /api/v1/query?query=sum%28rate%28x%7Ba%3D%22b%22%7D%5B1m%5D%29%29 "
            ),
            "{request_line}"
        );
    }

    #[tokio::test]
    async fn http_error_names_query_url_and_prometheus_error() {
        let body = r#"{"status":"error","errorType":"bad_data","error":"unknown function"}"#;
        let resp = test_server::response("400 Bad Request", "application/json", body);
        let (base, server) = test_server::serve_once(resp).await;
        let q = PrometheusQuery::new(&base, "nope(x)").expect("client");
        let e = q.value().await.expect_err("400");
        server.await.expect("server");
        assert_eq!(e.provider, "prometheus");
        for part in ["nope(x)", &base, "400", "bad_data: unknown function"] {
            assert!(e.message.contains(part), "{part} missing in {}", e.message);
        }
    }

    #[tokio::test]
    async fn a_token_in_the_base_url_is_sent_but_never_shown() {
        let resp = test_server::response("503 Service Unavailable", "text/plain", "down");
        let (base, server) = test_server::serve_once(resp).await;
        let authority = base.trim_start_matches("http://");
        let url = format!("http://prom-user:hunter2@{authority}/prom/?token=tok-123");
        let q = PrometheusQuery::new(&url, "up").expect("client");
        let e = q.value().await.expect_err("503");
        let head = server.await.expect("server");
        assert!(
            head.starts_with("GET /prom/api/v1/query?token=tok-123&query=up "),
            "{head}"
        );
        let shown = format!("http://***@{authority}/prom/api/v1/query?token=***");
        for text in [e.message.clone(), q.describe()] {
            assert!(
                !text.contains("hunter2") && !text.contains("tok-123"),
                "{text}"
            );
            assert!(text.contains(&shown), "{text}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_prometheus_error_is_masked() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let q = PrometheusQuery::new(&format!("http://{addr}/?token=tok-123"), "up").expect("q");
        let e = q.value().await.expect_err("refused");
        assert!(!e.message.contains("tok-123"), "{}", e.message);
        assert!(e.message.contains("token=***"), "{}", e.message);
    }

    #[test]
    fn rejects_non_http_base() {
        assert!(PrometheusQuery::new("file:///etc", "up").is_err());
        assert!(PrometheusQuery::new("not a url", "up").is_err());
        let e = PrometheusQuery::new("http://u:hunter2@127.0.0.1:x/", "up")
            .err()
            .expect("bad port");
        assert!(!e.message.contains("hunter2"), "{}", e.message);
    }
}
