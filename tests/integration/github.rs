//! GitHub Actions reporting through the built binary: with
//! `GITHUB_ACTIONS=true` and fake `GITHUB_OUTPUT`/`GITHUB_STEP_SUMMARY`
//! files, a promoted, a reverted and a cancelled run write their groups,
//! annotation, outputs and summary; without it, nothing of that appears; a
//! probe's secrets reach none of it. Also the credential-lifetime refusal at
//! preflight (the running guard is unit-tested: the emulator's credentials
//! never expire, and a run only meets it by outrunning its plan).

use crate::canary::canary_args;
use crate::support::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

/// Fake runner files in a fresh directory.
struct Files {
    dir: PathBuf,
}

impl Files {
    fn new(name: &str) -> Files {
        let dir = std::env::temp_dir().join(format!("ghreport-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Files { dir }
    }

    fn output(&self) -> PathBuf {
        self.dir.join("output")
    }

    fn summary(&self) -> PathBuf {
        self.dir.join("summary.md")
    }

    fn github(&self, c: &mut Command) {
        c.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", self.output())
            .env("GITHUB_STEP_SUMMARY", self.summary());
    }

    /// The outputs, parsed as the runner does: `name<<DELIM`, lines, `DELIM`.
    fn outputs(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(self.output()).unwrap_or_default();
        let mut out = BTreeMap::new();
        let mut lines = text.lines();
        while let Some(l) = lines.next() {
            let (name, delim) = l
                .split_once("<<")
                .unwrap_or_else(|| panic!("{l:?} in {text}"));
            assert!(
                delim.starts_with("ghadelimiter_") && delim.len() > 20,
                "{delim}"
            );
            let value: Vec<&str> = lines.by_ref().take_while(|v| *v != delim).collect();
            out.insert(name.to_string(), value.join("\n"));
        }
        out
    }

    fn summary_text(&self) -> String {
        std::fs::read_to_string(self.summary()).unwrap_or_default()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(mut c: Command) -> Run {
    Run::from(c.output().expect("run alb-rollout"))
}

#[tokio::test]
async fn a_promoted_run_writes_groups_a_notice_outputs_and_a_summary() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let f = Files::new("promoted");
    let mut c = emu.cmd(&canary_args(&d, "50:4s,100"));
    f.github(&mut c);
    let r = run(c);
    assert_eq!(r.code, 0, "{r:?}");
    for part in [
        "::group::r-",
        "::group::step 1/2: 50%25 to green\n",
        "::endgroup::\npromoted: 100% to green",
        "::notice title=alb-rollout canary%3A promoted::green serves the route",
    ] {
        assert!(r.stdout.contains(part), "{part}\n{}", r.stdout);
    }
    assert_eq!(
        r.stdout.matches("::notice").count() + r.stdout.matches("::error").count(),
        1
    );
    let o = f.outputs();
    assert_eq!(o["result"], "promoted", "{o:?}");
    assert!(
        o["final-weights"].contains("demo-green") && o["final-weights"].ends_with(" 999"),
        "{o:?}"
    );
    assert!(o["run-id"].starts_with("r-"), "{o:?}");
    assert_eq!(
        (
            o["failed-check"].as_str(),
            o["detection-to-revert-seconds"].as_str()
        ),
        ("", "")
    );
    assert!(
        o["duration-seconds"].parse::<f64>().unwrap() >= 4.0,
        "{o:?}"
    );
    let md = f.summary_text();
    for part in [
        "## ✅ alb-rollout canary: promoted",
        "### Timeline",
        "| 1 at 50% | 500 / 500 | 1 healthy |  | pass |",
        "| shifted |",
        "```mermaid\nxychart-beta",
    ] {
        assert!(md.contains(part), "{part}\n{md}");
    }
    assert!(!md.contains("rollback"), "{md}");

    // Without GITHUB_ACTIONS (the runner files still set): unchanged output,
    // nothing written. Back from green to blue, which the route now allows.
    let back = Files::new("plain");
    let mut args = canary_args(&d, "50:2s,100");
    let (blue, green) = (d.blue.as_str(), d.green.as_str());
    for (i, a) in args.clone().iter().enumerate() {
        args[i] = if *a == blue {
            green
        } else if *a == green {
            blue
        } else {
            a
        };
    }
    args.extend(["--output", "json"]);
    let mut c = emu.cmd(&args);
    c.env("GITHUB_OUTPUT", back.output())
        .env("GITHUB_STEP_SUMMARY", back.summary());
    let r = run(c);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["result"], "promoted");
    assert!(
        !r.stdout.contains("::") && !r.stderr.contains("::"),
        "{r:?}"
    );
    assert!(!back.output().exists() && !back.summary().exists());
}

#[tokio::test]
async fn a_reverted_run_writes_one_error_outputs_and_the_rollback_command() {
    let mut emu = Emulator::start();
    let d = emu.demo(&["--green-error-rate", "1.0"]);
    let f = Files::new("reverted");
    let mut args = canary_args(&d, "50:10s,100");
    args.extend(["--output", "json"]);
    let mut c = emu.cmd(&args);
    f.github(&mut c);
    let r = run(c);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.json()["result"],
        "reverted",
        "stdout stays one JSON document"
    );
    assert!(
        r.stderr.contains("::group::step 1/2: 50%25 to green"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.matches("::error").count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("::error title=alb-rollout canary%3A reverted::probe"),
        "{}",
        r.stderr
    );
    let o = f.outputs();
    assert_eq!(o["result"], "reverted", "{o:?}");
    assert_eq!(o["failed-check"], "probe", "{o:?}");
    assert!(o["final-weights"].contains("demo-blue"), "{o:?}");
    assert!(
        o["detection-to-revert-seconds"].parse::<f64>().unwrap() < 5.0,
        "{o:?}"
    );
    let md = f.summary_text();
    for part in [
        "## ❌ alb-rollout canary: reverted".to_string(),
        "**Reason:** probe".to_string(),
        format!("alb-rollout rollback --listener {}\n", d.listener),
        "| 1 at 50% | 500 / 500 | 1 healthy |  | fail (probe) |".to_string(),
        "| end |".to_string(),
    ] {
        assert!(md.contains(&part), "{part}\n{md}");
    }
}

/// A probe URL with a password and a token, on a closed loopback port.
fn secret_probe() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    format!("http://probe-user:hunter2@127.0.0.1:{port}/health?token=tok-123")
}

#[tokio::test]
async fn a_probe_secret_reaches_neither_the_log_nor_the_runner_files() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let f = Files::new("secret");
    let probe = secret_probe();
    let mut args = canary_args(&d, "50:4s,100");
    let at = args.iter().position(|a| *a == "--probe").unwrap();
    args[at + 1] = &probe;
    let mut c = emu.cmd(&args);
    f.github(&mut c);
    let r = run(c);
    assert_eq!(r.code, 1, "{r:?}");
    let o = f.outputs();
    let all = format!("{}{}{o:?}{}", r.stdout, r.stderr, f.summary_text());
    for s in ["probe-user", "hunter2", "tok-123"] {
        assert!(!all.contains(s), "{s} leaked:\n{all}");
    }
    assert!(r.stdout.contains("::error title=alb-rollout canary%3A reverted::probe: request failed: GET http://***@127.0.0.1"), "{}", r.stdout);
    assert!(
        f.summary_text().contains("token=***"),
        "{}",
        f.summary_text()
    );
}

#[tokio::test]
async fn credentials_expiring_before_the_planned_end_are_refused_at_preflight() {
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let f = Files::new("expiry");
    let soon = std::time::SystemTime::now() + std::time::Duration::from_secs(600);
    let mut c = emu.cmd(&canary_args(&d, "50:20m,100"));
    c.env(
        "AWS_CREDENTIAL_EXPIRATION",
        humantime::format_rfc3339_seconds(soon).to_string(),
    );
    f.github(&mut c);
    emu.clear_calls();
    let r = run(c);
    assert_eq!(r.code, 2, "{r:?}");
    for part in [
        "error: credentials: the AWS credentials expire at",
        "may take 25m (the holds",
        "role-duration-seconds",
        "::error title=alb-rollout%3A failed::credentials",
    ] {
        assert!(r.stderr.contains(part), "{part}\n{}", r.stderr);
    }
    assert!(emu.mutating_calls().is_empty(), "nothing changed");
    assert_eq!(f.outputs()["result"], "failed");
}

#[tokio::test]
async fn a_cancelled_run_says_cancelled_in_every_output() {
    use std::io::{BufRead, BufReader, Read};
    let mut emu = Emulator::start();
    let d = emu.demo(&[]);
    let f = Files::new("cancelled");
    let mut c = emu.cmd(&canary_args(&d, "30:10m,100"));
    f.github(&mut c);
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("\nstep 1/2") {
        assert!(reader.read_line(&mut seen).unwrap() > 0, "{seen}");
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    reader.read_to_string(&mut seen).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130), "{seen}");
    assert!(
        seen.contains("::error title=alb-rollout canary%3A cancelled::received SIGTERM"),
        "{seen}"
    );
    let o = f.outputs();
    assert_eq!(o["result"], "cancelled", "{o:?}");
    assert!(o["final-weights"].contains("demo-blue"), "{o:?}");
    assert!(f
        .summary_text()
        .contains("## ❌ alb-rollout canary: cancelled"));
}
