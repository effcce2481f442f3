//! Secrets planted in `--probe` and `--prometheus-url` (userinfo and query
//! tokens) never reach stdout or stderr, through the built binary: invalid
//! input, a dry run, and a real run whose probe and Prometheus are
//! unreachable (the error paths that quote the URL), in text and JSON, with
//! debug logging on. The masked form is printed instead.

use crate::canary::canary_route;
use crate::support::*;

/// Every secret planted below; none may appear in any output.
const SECRETS: &[&str] = &[
    "probe-user",
    "hunter2",
    "tok-probe-123",
    "prom-user",
    "prom-pass",
    "tok-prom-456",
];

/// A loopback port that was just closed: connecting to it is refused.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

struct Urls {
    probe: String,
    probe_shown: String,
    prometheus: String,
    prometheus_shown: String,
}

fn urls() -> Urls {
    let (p, q) = (closed_port(), closed_port());
    Urls {
        probe: format!("http://probe-user:hunter2@127.0.0.1:{p}/health?token=tok-probe-123"),
        probe_shown: format!("http://***@127.0.0.1:{p}/health?token=***"),
        prometheus: format!("http://prom-user:prom-pass@127.0.0.1:{q}/?access_token=tok-prom-456"),
        prometheus_shown: format!("http://***@127.0.0.1:{q}/"),
    }
}

/// Runs with -vv so log lines are checked too; returns the run and all of
/// its output.
fn run(emu: &Emulator, args: &[&str]) -> (Run, String) {
    let mut all = args.to_vec();
    all.push("-vv");
    let r = emu.run(&all);
    let out = format!("{}\n{}", r.stdout, r.stderr);
    for s in SECRETS {
        assert!(!out.contains(s), "{s} leaked in {args:?}:\n{out}");
    }
    (r, out)
}

/// Checks every 2 s without CloudWatch: the probe and Prometheus are what
/// this test is about.
fn fast_route(d: &Demo) -> Vec<&str> {
    let mut a = canary_route(d, "50:6s,100");
    a.extend(["--interval", "2s", "--cloudwatch", "false"]);
    a
}

fn with_sources<'a>(base: Vec<&'a str>, u: &'a Urls, probe: &'a str) -> Vec<&'a str> {
    let mut a = base;
    a.extend([
        "--probe",
        probe,
        "--prometheus-url",
        &u.prometheus,
        "--prometheus-query",
        "sum(rate(errors[1m]))",
        "--prometheus-max",
        "0.1",
    ]);
    a
}

#[tokio::test]
async fn secrets_in_probe_and_prometheus_urls_are_never_printed() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let u = urls();
    let bad_status = format!("{}=600", u.probe);
    for output in ["text", "json"] {
        let mut a = with_sources(fast_route(&d), &u, &bad_status);
        a.extend(["--output", output]);
        let (r, out) = run(&emu, &a);
        assert_eq!(r.code, 2, "invalid probe status: {r:?}");
        assert!(out.contains("***@127.0.0.1"), "{out}");

        let probe = format!("{}=2xx", u.probe);
        let mut a = with_sources(fast_route(&d), &u, &probe);
        a.extend(["--output", output, "--dry-run"]);
        let (r, out) = run(&emu, &a);
        assert_eq!(r.code, 0, "dry run: {r:?}");
        assert!(out.contains(&u.probe_shown), "{out}");
        assert!(out.contains(&u.prometheus_shown), "{out}");

        a.pop();
        let (r, out) = run(&emu, &a);
        assert_eq!(r.code, 1, "the unreachable probe fails the step: {r:?}");
        assert!(
            out.contains(&format!("GET {} could not connect", u.probe_shown)),
            "{out}"
        );
        let prom_endpoint = format!("{}api/v1/query?access_token=***", u.prometheus_shown);
        assert!(out.contains(&prom_endpoint), "{out}");
    }
}
