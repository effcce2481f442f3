//! Sending replayed requests (I/O): to `--to` or the load balancer's own
//! address, with the request's original Host (so host rules match), its
//! user agent and the run's shadow header, never an `Authorization` or
//! `Cookie` header (access logs hold none, and none is made up).
//!
//! To the load balancer itself (no `--to`), each request's URL names its
//! original host and every name resolves to the load balancer's DNS name:
//! an HTTPS listener then gets the SNI its certificate is for and the
//! certificate is verified against that host, as for the user's request.
//! With `--to`, requests go to that base URL, the Host header set.
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
    /// Through the load balancer's DNS name: the URL names the request's host.
    via: bool,
    rtt: tokio::sync::OnceCell<Duration>,
}

/// Every name resolves to the load balancer's addresses.
struct Via(String);

impl reqwest::dns::Resolve for Via {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = self.0.clone();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let v: Vec<std::net::SocketAddr> = addrs.collect();
            Ok(Box::new(v.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// How many connects the round trip is the median of.
const RTT_SAMPLES: usize = 5;

impl HttpReplayer {
    /// `via`: the load balancer's DNS name, when `base` is its address.
    pub fn new(base: &str, via: Option<&str>, timeout: Duration) -> Result<HttpReplayer, String> {
        let mut b = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(dns) = via {
            b = b.dns_resolver(Via(dns.to_string()));
        }
        let http = b
            .build()
            .map_err(|e| format!("could not build the HTTP client: {e}"))?;
        Ok(HttpReplayer {
            http,
            base: base.trim_end_matches('/').to_string(),
            via: via.is_some(),
            rtt: tokio::sync::OnceCell::new(),
        })
    }

    /// The URL a request goes to.
    fn url(&self, r: &Replay) -> String {
        let Some(u) = super::select::split_url(&self.base).filter(|_| self.via) else {
            return format!("{}{}", self.base, r.target);
        };
        // The request's host (without the port it may carry) on the
        // listener's port.
        let host = r.host.rsplit_once(':').map_or(r.host.as_str(), |(h, _)| h);
        let port = u.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://{host}{port}{}", u.scheme, r.target)
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
        let mut rb = (self.http.request(method, self.url(r)))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(host: &str) -> Replay {
        Replay {
            method: "GET".into(),
            target: "/a?x=1".into(),
            path: "/a".into(),
            host: host.into(),
            user_agent: None,
            blue_status: 200,
            blue_seconds: None,
        }
    }

    #[test]
    fn urls_name_the_original_host_through_the_load_balancer() {
        let t = Duration::from_secs(1);
        let lb = HttpReplayer::new(
            "https://web-1.elb.amazonaws.com:443",
            Some("web-1.elb.amazonaws.com"),
            t,
        )
        .unwrap();
        assert_eq!(
            lb.url(&replay("www.example.com")),
            "https://www.example.com:443/a?x=1"
        );
        assert_eq!(
            lb.url(&replay("www.example.com:8443")),
            "https://www.example.com:443/a?x=1"
        );
        let to = HttpReplayer::new("http://127.0.0.1:9000/", None, t).unwrap();
        assert_eq!(
            to.url(&replay("www.example.com")),
            "http://127.0.0.1:9000/a?x=1"
        );
    }
}
