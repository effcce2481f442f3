//! Each analysis check failing (or forgiving) for real through the binary:
//! latency from TargetResponseTime, a Prometheus query, and `--compare-blue`
//! against an incident that hits blue as much as green.

use crate::canary::canary_args;
use crate::support::*;
use std::time::Duration;

#[tokio::test]
async fn a_slow_green_fails_the_latency_check() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-latency-ms", "150"]);
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 40, Duration::from_secs(60));
    let mut args = canary_args(&d, "50:10s,100");
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

#[tokio::test]
async fn compare_blue_forgives_errors_that_hit_blue_equally() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "0.2", "--blue-error-rate", "0.2"]);
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 50, Duration::from_secs(60));
    let mut args = canary_args(&d, "50:9s,100");
    // Judged against blue, a 20% vs 20% incident is not green's fault; the
    // margin absorbs sampling noise between the two groups.
    args.extend([
        "--compare-blue",
        "--max-error-rate",
        "15%",
        "--output",
        "json",
    ]);
    let r = emu.run(&args);
    traffic.stop();
    assert_eq!(r.code, 0, "{r:?}");
    let detail = r.json()["steps"][0]["intervals"][0]["checks"][1]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("green's excess over blue"), "{detail}");
    let d = emu.demo(&[
        "--prefix",
        "abs",
        "--green-error-rate",
        "0.2",
        "--blue-error-rate",
        "0.2",
    ]);
    let mut absolute = canary_args(&d, "50:6s,100");
    absolute.extend(["--max-error-rate", "15%"]);
    let traffic = Traffic::start(&format!("{}/", d.listener_url), 50, Duration::from_secs(60));
    let r = emu.run(&absolute);
    traffic.stop();
    assert_eq!(r.code, 1, "judged alone, green's 20% fails: {r:?}");
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
