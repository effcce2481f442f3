//! Each analysis check failing (or forgiving) for real through the binary:
//! latency from TargetResponseTime, a Prometheus query, and `--compare-blue`
//! against an incident that hits blue as much as green.

use crate::canary::{canary_args, cloudwatch_args};
use crate::support::*;
use std::time::Duration;

#[tokio::test]
async fn a_slow_green_fails_the_latency_check() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-latency-ms", "150"]);
    let traffic = Traffic::start(
        &format!("{}/", d.listener_url),
        20,
        Duration::from_secs(300),
    );
    let mut args = cloudwatch_args(&d, "50,100", "fail");
    args.extend(["--max-latency", "50ms", "--output", "json"]);
    let r = emu.run(&args);
    traffic.stop();
    assert_eq!(r.code, 1, "{r:?}");
    let reason = r.json()["reason"]["message"].as_str().unwrap().to_string();
    assert!(
        reason.starts_with("latency: green average") && reason.contains("vs max 50 ms"),
        "{reason}"
    );
}

/// Both groups fail 30% of requests: a platform incident, not green's fault.
const INCIDENT: &[&str] = &["--green-error-rate", "0.3", "--blue-error-rate", "0.3"];

/// At least 200 requests per judged minute in each group, so sampling noise
/// between two groups with the same error rate stays far below the 15%
/// margin (its standard deviation is under 5%).
fn incident_args<'a>(d: &'a Demo, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = cloudwatch_args(d, "50,100", "fail");
    a.extend([
        "--min-requests",
        "200",
        "--max-error-rate",
        "15%",
        "--output",
        "json",
    ]);
    a.extend_from_slice(extra);
    a
}

/// Steady traffic for a few CloudWatch minutes: ~600 requests a minute per
/// group at 50%.
fn busy_traffic(d: &Demo) -> Traffic {
    Traffic::start(
        &format!("{}/", d.listener_url),
        20,
        Duration::from_secs(300),
    )
}

#[tokio::test]
async fn compare_blue_forgives_errors_that_hit_blue_equally() {
    let mut emu = Emulator::start();
    let d = emu.demo(INCIDENT);
    let traffic = busy_traffic(&d);
    let r = emu.run(&incident_args(&d, &["--compare-blue"]));
    let _counts = traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    let report = r.json();
    let judged = report["steps"][0]["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["verdict"] == "pass")
        .expect("a judged interval");
    let detail = judged["checks"][1]["detail"].as_str().unwrap();
    assert!(detail.contains("green's excess over blue"), "{detail}");
}

#[tokio::test]
async fn the_same_incident_judged_alone_reverts() {
    let mut emu = Emulator::start();
    let d = emu.demo(INCIDENT);
    let traffic = busy_traffic(&d);
    let r = emu.run(&incident_args(&d, &[]));
    let _counts = traffic.stop();
    assert_eq!(r.code, 1, "judged alone, green's 30% fails: {r:?}");
    let reason = r.json()["reason"]["message"].as_str().unwrap().to_string();
    assert!(
        reason.contains("vs max 15.00%") && reason.contains(", blue "),
        "blue's rate is shown too: {reason}"
    );
}

/// A one-endpoint Prometheus on loopback answering `value` to every query.
fn fake_prometheus(value: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in listener.incoming().map_while(Result::ok) {
            use std::io::{Read, Write};
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = format!(
                r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[1700000000,"{value}"]}}]}}}}"#
            );
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    url
}

#[tokio::test]
async fn a_prometheus_value_above_its_max_reverts() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let prom = fake_prometheus("0.42");
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 40, Duration::from_secs(60));
    let mut args = canary_args(&d, "20:10s,100");
    args.extend([
        "--prometheus-url",
        &prom,
        "--prometheus-query",
        "sum(rate(errors[1m]))",
        "--prometheus-max",
        "0.1",
        "--output",
        "json",
    ]);
    let r = emu.run(&args);
    traffic.stop();
    assert_eq!(r.code, 1, "{r:?}");
    let reason = r.json()["reason"]["message"].as_str().unwrap().to_string();
    assert!(
        reason.contains("prometheus: 0.42 above max 0.1"),
        "{reason}"
    );
}
