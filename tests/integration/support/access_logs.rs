//! Test support for ALB access logs: the emulator's `/_emu/access-logs/...`
//! hooks (tests/emulator/README.md, "Access logs"). Entries are delivered to
//! the emulator's S3 (path-style, same endpoint) as AWS delivers them.

use super::{Demo, Emulator};
use serde_json::{json, Value};

/// The bucket and prefix [`Emulator::enable_demo_access_logs`] uses.
pub const DEMO_LOG_BUCKET: &str = "demo-alb-logs";
pub const DEMO_LOG_PREFIX: &str = "demo";

impl Emulator {
    /// Turn access logs on for `load_balancer` the way AWS is asked to: the
    /// bucket (created if missing) gets a delivery policy, then
    /// ModifyLoadBalancerAttributes sets `access_logs.s3.*`; AWS's
    /// `PREFIX/AWSLogs/ACCOUNT/ELBAccessLogTestFile` is written. Returns
    /// (bucket, prefix).
    pub fn enable_access_logs(
        &self,
        load_balancer: &str,
        bucket: &str,
        prefix: &str,
    ) -> (String, String) {
        let body = json!({"load_balancer_arn": load_balancer, "bucket": bucket, "prefix": prefix});
        let v = self.http("POST", "/_emu/access-logs/enable", Some(&body));
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        (s("bucket"), s("prefix"))
    }

    /// [`Emulator::enable_access_logs`] on the demo's load balancer, into
    /// [`DEMO_LOG_BUCKET`] under [`DEMO_LOG_PREFIX`].
    pub fn enable_demo_access_logs(&self, demo: &Demo) -> (String, String) {
        self.enable_access_logs(&demo.load_balancer, DEMO_LOG_BUCKET, DEMO_LOG_PREFIX)
    }

    /// Deliver every buffered entry now (of one load balancer, or all) as AWS
    /// does at the end of an interval; returns the S3 keys written (none for a
    /// load balancer with nothing buffered).
    pub fn flush_access_logs(&self, load_balancer: Option<&str>) -> Vec<String> {
        let body = load_balancer.map_or(json!({}), |lb| json!({"load_balancer_arn": lb}));
        let v = self.http("POST", "/_emu/access-logs/flush", Some(&body));
        (v["keys"].as_array().map(Vec::as_slice).unwrap_or_default())
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    }

    /// Append `lines` verbatim (malformed ones, edge cases, older times) to the
    /// load balancer's buffer, delivered with the next flush. Returns how many
    /// lines are buffered now.
    pub fn plant_access_log_lines(&self, load_balancer: &str, lines: &[&str]) -> u64 {
        let body = json!({"load_balancer_arn": load_balancer, "lines": lines});
        let v = self.http("POST", "/_emu/access-logs/lines", Some(&body));
        v["buffered"].as_u64().unwrap_or(0)
    }
}
