//! Test support: one emulator per test (its own moto process, so tests never
//! share state), the demo stack, the emulator's control hooks, running the
//! built binary, and a bounded loopback traffic generator.

pub mod access_logs;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn python() -> PathBuf {
    repo().join("tests/emulator/.venv/bin/python")
}

/// Spawn `cmd` and read stdout lines until one starts with `prefix`.
pub fn spawn_until(mut cmd: Command, prefix: &str) -> (Child, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if line.starts_with(prefix) {
            return (child, line.trim_end().to_string());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{cmd:?} did not print {prefix}");
}

/// The binary under test: cargo's, or `ALB_ROLLOUT_BIN` (e.g. a release or
/// static musl build, or a copy when several checkouts share one target
/// directory).
pub fn binary() -> PathBuf {
    std::env::var_os("ALB_ROLLOUT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_alb-rollout")))
}

pub struct Emulator {
    pub endpoint: String,
    children: Vec<(Child, Option<ChildStdin>)>,
}

/// The demo stack's ARNs and URLs (see tests/emulator/demo.py).
#[derive(Debug, Clone)]
pub struct Demo {
    pub listener: String,
    pub load_balancer: String,
    pub blue: String,
    pub green: String,
    pub listener_url: String,
    /// `--probe` of green's app itself (its errors and latency included).
    pub green_probe: String,
    pub green_target: String,
}

/// Emulator flags for per-second metrics published at once (metrics mode
/// `fast`), for tests that judge CloudWatch data seconds old but are about
/// something else than CloudWatch timing: `Emulator::start_with(FAST_METRICS)`.
pub const FAST_METRICS: &[&str] = &["--metrics-mode", "fast"];

impl Emulator {
    /// An emulator in the default, AWS-faithful metrics mode: 60 s buckets,
    /// each visible 90 s after its minute ends, no zero-count datapoints.
    pub fn start() -> Emulator {
        Emulator::start_with(&[])
    }

    /// An emulator with extra `server.py` flags, e.g. [`FAST_METRICS`] or
    /// `&["--metrics-delay", "5"]`. The metrics mode comes from the flags
    /// alone: `ALB_EMU_METRICS_*` in the caller's environment is ignored.
    pub fn start_with(args: &[&str]) -> Emulator {
        let mut cmd = Command::new(repo().join("tests/emulator/start.sh"));
        cmd.args(["--port", "0", "--exit-on-stdin-eof"])
            .args(args)
            .env_remove("ALB_EMU_METRICS_MODE")
            .env_remove("ALB_EMU_METRICS_DELAY")
            .env_remove("ALB_EMU_PROPAGATION_DELAY");
        let (mut child, line) = spawn_until(cmd, "ALB_EMULATOR_ENDPOINT=");
        let stdin = child.stdin.take();
        let endpoint = line
            .trim_start_matches("ALB_EMULATOR_ENDPOINT=")
            .to_string();
        Emulator {
            endpoint,
            children: vec![(child, stdin)],
        }
    }

    /// Build the demo stack; `args` go to demo.py (e.g. --green-error-rate 0.5).
    pub fn demo(&mut self, args: &[&str]) -> Demo {
        let mut cmd = Command::new(python());
        cmd.arg(repo().join("tests/emulator/demo.py"))
            .args([
                "--endpoint",
                &self.endpoint,
                "--serve",
                "--exit-on-stdin-eof",
            ])
            .args(args);
        let (mut child, line) = spawn_until(cmd, "{");
        let stdin = child.stdin.take();
        self.children.push((child, stdin));
        let v: Value = serde_json::from_str(&line).expect("demo json");
        let s = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("demo field {k}"))
                .to_string()
        };
        Demo {
            listener: s("listener_arn"),
            load_balancer: s("load_balancer_arn"),
            blue: s("blue_arn"),
            green: s("green_arn"),
            listener_url: s("listener_url"),
            green_probe: format!("{}/", s("green_app_url")),
            green_target: format!(
                "{}:{}",
                v["green_target"]["id"].as_str().unwrap_or(""),
                v["green_target"]["port"]
            ),
        }
    }

    fn http(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let url = format!("{}{path}", self.endpoint);
        http_json(method, &url, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
    }

    pub fn calls(&self) -> Vec<(String, String, u64)> {
        let v = self.http("GET", "/_emu/calls", None);
        v["calls"]
            .as_array()
            .expect("calls")
            .iter()
            .map(|c| {
                (
                    c["service"].as_str().unwrap_or("").to_string(),
                    c["action"].as_str().unwrap_or("").to_string(),
                    c["status"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }

    /// The call log as the emulator keeps it: each call's service, action,
    /// status, and for ELBv2 the ARNs it named (`resources`), and for a
    /// CreateRule `tags` and `created`.
    pub fn call_log(&self) -> Vec<Value> {
        let v = self.http("GET", "/_emu/calls", None);
        v["calls"].as_array().expect("calls").clone()
    }

    pub fn clear_calls(&self) {
        self.http("DELETE", "/_emu/calls", None);
    }

    /// ELBv2 calls that change something (anything not Describe*).
    pub fn mutating_calls(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|(s, a, _)| s == "elasticloadbalancing" && !a.starts_with("Describe"))
            .map(|(_, a, _)| a)
            .collect()
    }

    pub fn fault(&self, spec: Value) {
        self.http("POST", "/_emu/faults", Some(&spec));
    }

    pub fn force_health(&self, spec: Value) {
        self.http("POST", "/_emu/target-health", Some(&spec));
    }

    /// The metrics config and the buckets not yet visible (`GET /_emu/metrics`).
    /// The data plane's URL of `listener` (every listener of the emulator
    /// gets a loopback server of its own, HTTPS ones served as plain HTTP).
    pub fn listener_url(&self, listener: &str) -> String {
        let v = self.http("GET", "/_emu/dataplane", None);
        (v["listeners"].as_array().expect("listeners").iter())
            .find(|l| l["listener_arn"] == listener)
            .and_then(|l| l["url"].as_str())
            .unwrap_or_else(|| panic!("no data plane for {listener}: {v}"))
            .to_string()
    }

    pub fn metrics(&self) -> Value {
        self.http("GET", "/_emu/metrics", None)
    }

    /// Block until every ELBv2 change made so far has reached the emulated
    /// data plane. Like ALB nodes, the emulator applies a listener, rule or
    /// target change `--propagation-delay` seconds (default 3) after the API
    /// returned; `GET /_emu/propagation` says when that will be (`settled_at`).
    pub fn wait_propagated(&self) {
        let v = self.http("GET", "/_emu/propagation", None);
        let settled = v["settled_at"].as_f64().expect("settled_at");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs_f64();
        if settled > now {
            std::thread::sleep(Duration::from_secs_f64(settled - now + 0.05));
        }
    }

    /// Requests the data plane forwarded, per target group and target
    /// (`GET /_emu/served`; with `since` (epoch seconds) also `requests_since`).
    pub fn served(&self, since: Option<f64>) -> Value {
        match since {
            Some(t) => self.http("GET", &format!("/_emu/served?since={t}"), None),
            None => self.http("GET", "/_emu/served", None),
        }
    }

    /// Test-only: publish every pending metrics bucket now, the current
    /// partial minute included (never in a test about CloudWatch timing).
    pub fn flush_metrics(&self) -> Value {
        self.http("POST", "/_emu/metrics/flush", None)
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// A command for the built binary, pointed at this emulator.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(binary());
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("run alb-rollout"))
    }

    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .load()
            .await
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        for (child, stdin) in self.children.iter_mut().rev() {
            drop(stdin.take());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into(),
            stderr: String::from_utf8_lossy(&o.stderr).into(),
        }
    }
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

/// A tiny HTTP/1.1 client over TcpStream: enough for loopback control calls.
pub fn http(
    method: &str,
    url: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, String, String)> {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    // JSON unless the caller names its own type (awsJson wants its own).
    let ctype = match headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        true => "",
        false => "Content-Type: application/json\r\n",
    };
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{ctype}Content-Length: {}\r\n{extra}\r\n{body}", body.len())?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, head.to_string(), body.to_string()))
}

fn http_json(method: &str, url: &str, body: Option<&Value>) -> Result<Value, String> {
    let b = body.map(|b| b.to_string());
    let (status, _, text) = http(method, url, b.as_deref(), &[]).map_err(|e| e.to_string())?;
    if status >= 300 {
        return Err(format!("HTTP {status}: {text}"));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Counts of responses by "version/status", e.g. "v2/500".
#[derive(Debug, Default, Clone)]
pub struct Counts(pub std::collections::BTreeMap<String, u64>);

impl Counts {
    pub fn get(&self, k: &str) -> u64 {
        self.0.get(k).copied().unwrap_or(0)
    }
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
    /// Responses that were not 2xx.
    pub fn failed(&self) -> u64 {
        self.0
            .iter()
            .filter(|(k, _)| !k.ends_with("/200"))
            .map(|(_, v)| v)
            .sum()
    }
}

/// Steady loopback traffic until stopped (bounded: at most `max` seconds).
pub struct Traffic {
    stop: Arc<AtomicBool>,
    counts: Arc<Mutex<Counts>>,
    handle: Option<JoinHandle<()>>,
}

impl Traffic {
    pub fn start(url: &str, rps: u32, max: Duration) -> Traffic {
        Traffic::start_with_headers(url, rps, max, &[])
    }

    /// `start`, every request carrying `headers` (e.g. the one an A/B
    /// rule matches).
    pub fn start_with_headers(
        url: &str,
        rps: u32,
        max: Duration,
        headers: &[(&str, &str)],
    ) -> Traffic {
        assert!(url.starts_with("http://127."), "traffic only to loopback");
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (stop, counts) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(Mutex::new(Counts::default())),
        );
        let (s, c, u) = (stop.clone(), counts.clone(), url.to_string());
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let gap = Duration::from_secs_f64(1.0 / f64::from(rps.max(1)));
            while !s.load(Ordering::Relaxed) && start.elapsed() < max {
                let h: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let key = match http("GET", &u, None, &h) {
                    Ok((status, head, _)) => {
                        let version = head
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("X-App-Version: ")
                                    .or_else(|| l.strip_prefix("x-app-version: "))
                            })
                            .unwrap_or("none")
                            .to_string();
                        format!("{version}/{status}")
                    }
                    Err(_) => "none/conn-error".into(),
                };
                *c.lock().unwrap().0.entry(key).or_default() += 1;
                std::thread::sleep(gap);
            }
        });
        Traffic {
            stop,
            counts,
            handle: Some(handle),
        }
    }

    pub fn stop(mut self) -> Counts {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        let c = self.counts.lock().unwrap().clone();
        c
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Spawn the binary and wait until its stdout shows `marker`.
pub fn spawn_until_line(emu: &Emulator, args: &[&str], marker: &str) -> (Child, Vec<String>) {
    let mut child = emu
        .cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        seen.push(line.clone());
        if line.contains(marker) {
            // Keep draining stdout so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in reader.lines() {});
            return (child, seen);
        }
        line.clear();
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("never saw {marker}: {seen:?}");
}
