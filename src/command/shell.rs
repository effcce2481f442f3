//! The real command runner: `sh -c SCRIPT` in a process group of its own,
//! stdout and stderr streamed line by line to stderr with a `[LABEL]`
//! prefix (inside a `::group::` in GitHub Actions; stdout stays free for
//! `--output json`), the last lines kept for the report.
//!
//! Stopping (a timeout or the run's cancel) sends SIGTERM to the whole
//! group, then SIGKILL when the grace period is over: a test runner's
//! children stop with it. On a cancel the grace is counted from the signal,
//! not from when the runner noticed it. When the shell exits, whatever it
//! left running in its group is killed too, so nothing of a hook outlives
//! it or holds its output open.

use super::{child_env, CommandResult, CommandRunner, CommandSpec, Exit, Tail};
use crate::redact;
use crate::signal::Cancel;
use std::io::Write;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout_at, Instant};

/// How long output is still read after the group is gone (a process that
/// left the group may hold the pipe open).
const DRAIN: Duration = Duration::from_millis(500);

type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

pub struct ShellRunner {
    out: Sink,
    groups: bool,
}

impl ShellRunner {
    /// Output to stderr; `::group::` lines when `GITHUB_ACTIONS=true`.
    pub fn from_env() -> Self {
        let groups = std::env::var("GITHUB_ACTIONS").ok().as_deref() == Some("true");
        Self::with_output(Box::new(std::io::stderr()), groups)
    }

    pub fn with_output(out: Box<dyn Write + Send>, groups: bool) -> Self {
        ShellRunner {
            out: Arc::new(Mutex::new(out)),
            groups,
        }
    }

    fn say(&self, line: &str) {
        say(&self.out, line);
    }
}

fn say(out: &Sink, line: &str) {
    if let Ok(mut w) = out.lock() {
        let _ = writeln!(w, "{line}");
        let _ = w.flush();
    }
}

/// Why the wait for the shell ended.
enum Ended {
    Exited(std::io::Result<ExitStatus>),
    TimedOut,
    Cancelled,
}

#[async_trait::async_trait]
impl CommandRunner for ShellRunner {
    async fn run(&self, spec: &CommandSpec, cancel: &Cancel) -> CommandResult {
        let started = Instant::now();
        let label = redact::text(&spec.label);
        if self.groups {
            self.say(&format!("::group::{label}"));
        }
        self.say(&format!("[{label}] $ {}", redact::text(&spec.script)));
        let tail = Arc::new(Mutex::new(Tail::default()));
        let exit = match spawn(spec) {
            Ok(child) => self.supervise(child, spec, cancel, &label, &tail).await,
            Err(e) => Exit::SpawnFailed(e.to_string()),
        };
        let duration = started.elapsed();
        self.say(&format!(
            "[{label}] {} after {}",
            exit.describe(spec.timeout),
            humantime::format_duration(round_ms(duration))
        ));
        if self.groups {
            self.say("::endgroup::");
        }
        let tail = std::mem::take(&mut *tail.lock().unwrap_or_else(|p| p.into_inner()));
        CommandResult {
            exit,
            duration,
            tail: tail.lines(),
        }
    }
}

impl ShellRunner {
    async fn supervise(
        &self,
        mut child: Child,
        spec: &CommandSpec,
        cancel: &Cancel,
        label: &str,
        tail: &Arc<Mutex<Tail>>,
    ) -> Exit {
        let mut group = Group(child.id(), spec.grace);
        let (tx, rx) = mpsc::unbounded_channel();
        let readers = [
            child.stdout.take().map(|s| read_lines(s, tx.clone())),
            child.stderr.take().map(|s| read_lines(s, tx.clone())),
        ];
        drop(tx);
        let pump = tokio::spawn(pump(rx, self.out.clone(), label.to_string(), tail.clone()));
        let ended = tokio::select! {
            s = child.wait() => Ended::Exited(s),
            _ = sleep(spec.timeout) => Ended::TimedOut,
            _ = cancel.cancelled() => Ended::Cancelled,
        };
        let exit = match ended {
            Ended::Exited(Ok(s)) => exit_of(s),
            Ended::Exited(Err(e)) => Exit::SpawnFailed(e.to_string()),
            Ended::TimedOut => {
                stop(&mut child, &group, Instant::now() + spec.grace).await;
                Exit::TimedOut
            }
            Ended::Cancelled => {
                let from = cancel.at().unwrap_or_else(Instant::now);
                stop(&mut child, &group, from + spec.grace).await;
                Exit::Cancelled
            }
        };
        group.finish();
        if timeout_at(Instant::now() + DRAIN, pump).await.is_err() {
            readers.into_iter().flatten().for_each(|r| r.abort());
        }
        exit
    }
}

fn spawn(spec: &CommandSpec) -> std::io::Result<Child> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&spec.script)
        .env_clear()
        .envs(child_env(std::env::vars_os(), &spec.env))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    cmd.spawn()
}

/// SIGTERM to the group; SIGKILL at `deadline` if the shell is still there.
async fn stop(child: &mut Child, group: &Group, deadline: Instant) {
    group.signal(Signal::Term);
    if timeout_at(deadline, child.wait()).await.is_err() {
        group.kill();
        let _ = child.wait().await;
    }
}

fn exit_of(s: ExitStatus) -> Exit {
    if let Some(c) = s.code() {
        return Exit::Code(c);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = s.signal() {
            return Exit::Signal(sig);
        }
    }
    Exit::Code(-1)
}

fn read_lines<R>(r: R, tx: mpsc::UnboundedSender<String>) -> tokio::task::JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut r = BufReader::new(r);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']).to_string();
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            }
        }
    })
}

async fn pump(
    mut rx: mpsc::UnboundedReceiver<String>,
    out: Sink,
    label: String,
    tail: Arc<Mutex<Tail>>,
) {
    while let Some(line) = rx.recv().await {
        let line = redact::text(&line);
        say(&out, &format!("[{label}] {line}"));
        if let Ok(mut t) = tail.lock() {
            t.push(line);
        }
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

enum Signal {
    Term,
    Kill,
}

/// The command's process group (its id is the shell's pid) and its grace.
/// Dropping it before `finish` (a `--check` abandoned on a cancel) sends
/// SIGTERM now and SIGKILL after the grace: nothing is left behind.
struct Group(Option<u32>, Duration);

impl Group {
    fn kill(&self) {
        self.signal(Signal::Kill);
    }

    /// Kill what is left of the group, once: after this the id may be
    /// reused, so nothing is sent to it again.
    fn finish(&mut self) {
        self.kill();
        self.0 = None;
    }

    #[cfg(unix)]
    fn signal(&self, s: Signal) {
        let Some(pid) = self.0.and_then(|p| i32::try_from(p).ok()) else {
            return;
        };
        let sig = match s {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        // SAFETY: kill(2) with a negative pid signals that process group;
        // it touches no memory. ESRCH (the group is gone) is fine.
        unsafe {
            libc::kill(-pid, sig);
        }
    }

    #[cfg(not(unix))]
    fn signal(&self, _s: Signal) {}
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.0.is_none() {
            return;
        }
        self.signal(Signal::Term);
        let mut later = Group(self.0.take(), Duration::ZERO);
        let grace = self.1;
        std::thread::spawn(move || {
            std::thread::sleep(grace);
            later.finish();
        });
    }
}

#[cfg(test)]
#[path = "shell_tests.rs"]
mod tests;
