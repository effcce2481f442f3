//! Sending replayed requests (I/O): to `--to` or the load balancer's own
//! address, with the request's original Host (so host rules match), its
//! user agent and the run's shadow header, never an `Authorization` or
//! `Cookie` header (access logs hold none, and none is made up).
//!
//! Green's time is measured like blue's `target_processing_time`, which
//! covers only the target: the time to the response's first byte minus the
//! connection's round trip (the median of a few TCP connects to the same
//! address, measured once), so the network and the load balancer's own
//! hop are not counted against green.

use super::select::Replay;
use std::time::Duration;
use tokio::time::Instant;

pub struct HttpReplayer {
    http: reqwest::Client,
    /// `scheme://host:port`, no trailing slash.
    base: String,
    rtt: tokio::sync::OnceCell<Duration>,
}

/// How many connects the round trip is the median of.
const RTT_SAMPLES: usize = 5;

impl HttpReplayer {
    pub fn new(base: &str, timeout: Duration) -> Result<HttpReplayer, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("could not build the HTTP client: {e}"))?;
        Ok(HttpReplayer {
            http,
            base: base.trim_end_matches('/').to_string(),
            rtt: tokio::sync::OnceCell::new(),
        })
    }

    /// `host:port` of the base URL.
    fn address(&self) -> Option<String> {
        let u = super::select::split_url(&self.base)?;
        let port = u.port.unwrap_or(if u.scheme == "https" { 443 } else { 80 });
        Some(format!("{}:{port}", u.host.trim_matches(['[', ']'])))
    }

    async fn round_trip(&self) -> Duration {
        *self
            .rtt
            .get_or_init(|| async {
                let Some(addr) = self.address() else {
                    return Duration::ZERO;
                };
                let mut v = vec![];
                for _ in 0..RTT_SAMPLES {
                    let t = Instant::now();
                    let c = tokio::net::TcpStream::connect(addr.as_str());
                    if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(5), c).await {
                        v.push(t.elapsed());
                    }
                }
                v.sort();
                v.get(v.len() / 2).copied().unwrap_or_default()
            })
            .await
    }
}

#[async_trait::async_trait]
impl super::Replayer for HttpReplayer {
    async fn send(&self, r: &Replay, header: (&str, &str)) -> Result<(u16, f64), String> {
        let rtt = self.round_trip().await;
        let method = reqwest::Method::from_bytes(r.method.as_bytes())
            .map_err(|_| format!("method {} cannot be sent", r.method))?;
        let mut rb = (self.http.request(method, format!("{}{}", self.base, r.target)))
            .header("Host", &r.host)
            .header(header.0, header.1);
        if let Some(ua) = &r.user_agent {
            rb = rb.header("User-Agent", ua);
        }
        let t = Instant::now();
        let resp = rb.send().await.map_err(|e| {
            // reqwest names the URL; the path is kept, query values masked.
            crate::redact::text(&e.without_url().to_string())
        })?;
        let first_byte = t.elapsed();
        let status = resp.status().as_u16();
        // Read to the end so the connection goes back to the pool.
        let _ = resp.bytes().await;
        Ok((status, first_byte.saturating_sub(rtt).as_secs_f64()))
    }
}
