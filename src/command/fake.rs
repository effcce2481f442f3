//! A scripted command runner for component tests under paused time: each
//! label answers with the outcomes it was given, in order (the last one
//! repeats), after the time it "takes"; unscripted labels exit 0 at once.
//! Every spec it was asked to run is recorded, with its environment.

use super::{CommandResult, CommandRunner, CommandSpec, Exit};
use crate::signal::Cancel;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::{sleep, Instant};

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct FakeOutcome {
    pub exit: Exit,
    pub takes: Duration,
    pub tail: Vec<String>,
    /// Ignores SIGTERM: a stop takes the whole grace period.
    pub stubborn: bool,
}

impl FakeOutcome {
    pub fn exit(code: i32) -> Self {
        FakeOutcome {
            exit: Exit::Code(code),
            takes: Duration::ZERO,
            tail: Vec::new(),
            stubborn: false,
        }
    }

    pub fn taking(mut self, d: Duration) -> Self {
        self.takes = d;
        self
    }

    pub fn saying(mut self, lines: &[&str]) -> Self {
        self.tail = lines.iter().map(|l| l.to_string()).collect();
        self
    }

    pub fn stubborn(mut self) -> Self {
        self.stubborn = true;
        self
    }
}

#[derive(Default)]
pub struct FakeCommands {
    script: Mutex<HashMap<String, Vec<FakeOutcome>>>,
    calls: Mutex<Vec<(CommandSpec, Instant)>>,
}

impl FakeCommands {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answer the command labelled `label` with these outcomes in order.
    pub fn script(self, label: &str, outcomes: Vec<FakeOutcome>) -> Self {
        if let Ok(mut s) = self.script.lock() {
            s.insert(label.to_string(), outcomes);
        }
        self
    }

    /// Every spec run so far, in order.
    pub fn calls(&self) -> Vec<CommandSpec> {
        self.calls_at().into_iter().map(|(s, _)| s).collect()
    }

    /// Every spec run so far, with when it started.
    pub fn calls_at(&self) -> Vec<(CommandSpec, Instant)> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// The labels run so far, in order.
    pub fn labels(&self) -> Vec<String> {
        self.calls().into_iter().map(|s| s.label).collect()
    }

    fn next(&self, label: &str) -> FakeOutcome {
        let Ok(mut s) = self.script.lock() else {
            return FakeOutcome::exit(0);
        };
        match s.get_mut(label) {
            Some(list) if list.len() > 1 => list.remove(0),
            Some(list) if !list.is_empty() => list[0].clone(),
            _ => FakeOutcome::exit(0),
        }
    }
}

#[async_trait::async_trait]
impl CommandRunner for FakeCommands {
    async fn run(&self, spec: &CommandSpec, cancel: &Cancel) -> CommandResult {
        let started = Instant::now();
        if let Ok(mut c) = self.calls.lock() {
            c.push((spec.clone(), started));
        }
        let o = self.next(&spec.label);
        let ends = started + o.takes.min(spec.timeout);
        let exit = tokio::select! {
            _ = tokio::time::sleep_until(ends) => {
                if o.takes > spec.timeout {
                    stop(&o, spec.grace).await;
                    Exit::TimedOut
                } else {
                    o.exit.clone()
                }
            }
            _ = cancel.cancelled() => {
                let from = cancel.at().unwrap_or_else(Instant::now);
                if o.stubborn {
                    tokio::time::sleep_until(from + spec.grace).await;
                }
                Exit::Cancelled
            }
        };
        CommandResult {
            exit,
            duration: started.elapsed(),
            tail: o.tail,
        }
    }
}

async fn stop(o: &FakeOutcome, grace: Duration) {
    if o.stubborn {
        sleep(grace).await;
    }
}
