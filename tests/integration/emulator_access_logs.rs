//! The emulator's access-log hooks as the Rust tests use them
//! (support/access_logs.rs): logs enabled on the demo stack, one entry per
//! answered request plus planted raw lines, delivered at AWS's key layout.

use crate::support::access_logs::{DEMO_LOG_BUCKET, DEMO_LOG_PREFIX};
use crate::support::{http, Emulator};

#[test]
fn demo_access_logs_are_buffered_per_request_and_flushed_at_aws_key_layout() {
    let mut emu = Emulator::start();
    let demo = emu.demo(&[]);
    let (bucket, prefix) = emu.enable_demo_access_logs(&demo);
    assert_eq!(
        (bucket.as_str(), prefix.as_str()),
        (DEMO_LOG_BUCKET, DEMO_LOG_PREFIX)
    );
    assert!(
        emu.flush_access_logs(None).is_empty(),
        "nothing buffered yet"
    );

    let (status, _, _) = http("GET", &format!("{}/", demo.listener_url), None, &[]).unwrap();
    assert_eq!(status, 200);
    let buffered = emu.plant_access_log_lines(&demo.load_balancer, &["not an entry"]);
    assert_eq!(buffered, 2, "the request's entry and the planted line");

    let keys = emu.flush_access_logs(Some(&demo.load_balancer));
    assert_eq!(keys.len(), 1, "{keys:?}");
    let parts: Vec<&str> = keys[0].split('/').collect();
    assert_eq!(
        parts[..5],
        [
            "demo",
            "AWSLogs",
            "123456789012",
            "elasticloadbalancing",
            "us-east-1"
        ]
    );
    assert_eq!(parts.len(), 9, "{}", keys[0]);
    let name = parts[8];
    assert!(
        name.starts_with("123456789012_elasticloadbalancing_us-east-1_app.demo-alb.")
            && name.ends_with(".log.gz"),
        "{name}"
    );
    assert!(emu.flush_access_logs(None).is_empty(), "buffer emptied");
}
