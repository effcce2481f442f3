//! What users see: a green target that refuses connections gets each of its
//! requests answered by ALB with a 502 (`TargetConnectionErrorCount`), not a
//! 5xx from green. With no analysis flags, on CloudWatch as it really is
//! (the emulator's default metrics mode), such a green is reverted.

use crate::canary::{canary_route, default_action};
use crate::support::*;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use std::time::Duration;

/// A port on a loopback address nothing listens on: connections are refused.
fn refusing_target() -> (&'static str, i32) {
    let addr = "127.0.0.77";
    let port = std::net::TcpListener::bind((addr, 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    (addr, i32::from(port))
}

#[tokio::test]
async fn a_green_that_refuses_a_share_of_its_connections_is_reverted_by_cloudwatch() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let (id, port) = refusing_target();
    let client = elbv2::Client::new(&emu.sdk_config().await);
    let target = elbv2::types::TargetDescription::builder()
        .id(id)
        .port(port)
        .build();
    client
        .register_targets()
        .target_group_arn(&d.green)
        .targets(target)
        .send()
        .await
        .expect("register the refusing target");
    // Its health check would fail; the data plane only asks whether it is
    // healthy, so this is a target that passes checks and refuses requests.
    emu.force_health(serde_json::json!({
        "target_group_arn": d.green, "target_id": id, "port": port, "state": "healthy"
    }));
    let traffic = Traffic::start(
        &format!("{}/", d.listener_url),
        20,
        Duration::from_secs(420),
    );
    let mut args = canary_route(&d, "50,100");
    args.extend(["--output", "json"]);
    let r = emu.run(&args);
    let counts = traffic.stop();
    assert_eq!(r.code, 1, "{r:?}");
    assert!(counts.get("none/502") > 0, "clients saw 502s: {counts:?}");
    let report = r.json();
    let reason = report["reason"]["message"].as_str().unwrap();
    assert!(
        reason.starts_with("error-rate: green ") && reason.contains("502s from the load balancer"),
        "{reason}"
    );
    assert_eq!(
        default_action(&emu, &d)["groups"][0]["target_group_arn"],
        d.blue.as_str()
    );
}

/// What users see when the endpoint is not there: one error naming the URL
/// tried and the variable that set it, the OS error once.
#[tokio::test]
async fn an_unreachable_endpoint_is_named_with_the_variable_that_set_it() {
    let (addr, port) = refusing_target();
    let endpoint = format!("http://{addr}:{port}");
    let listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/demo/1/2";
    let out = std::process::Command::new(binary())
        .args(["status", "--listener", listener])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run alb-rollout");
    let r = Run::from(out);
    assert_eq!(r.code, 1, "an outage, not bad input: {r:?}");
    assert!(
        r.stderr.contains(&format!(
            "could not reach the ELBv2 endpoint {endpoint} (from AWS_ENDPOINT_URL)"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.matches("onnection refused").count() <= 1,
        "{}",
        r.stderr
    );
}
