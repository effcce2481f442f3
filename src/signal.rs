//! Cancellation: SIGINT, SIGTERM (a cancelled CI job) and SIGHUP (a closed
//! terminal) become a cancel request with a reason. Only waits observe it; the
//! revert that follows runs outside it, under its own short timeout.

use std::sync::{Arc, OnceLock};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
pub struct Cancel {
    token: CancellationToken,
    reason: Arc<OnceLock<String>>,
}

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask the run to stop; the first reason given is kept.
    pub fn cancel(&self, reason: &str) {
        let _ = self.reason.set(reason.to_string());
        self.token.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    pub async fn cancelled(&self) {
        self.token.cancelled().await
    }

    pub fn reason(&self) -> String {
        self.reason
            .get()
            .cloned()
            .unwrap_or_else(|| "cancelled".to_string())
    }

    /// Cancel on the first SIGINT or SIGTERM. A second signal is left to the
    /// default handler only after the process exits; the revert is bounded.
    pub fn on_signals(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            let name = wait_for_signal().await;
            me.cancel(&format!("received {name}: cancelled, reverting"));
        });
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    // SIGHUP too: a closed terminal or SSH session must revert, not strand
    // the route half-way.
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
        _ = hup.recv() => "SIGHUP",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn first_reason_wins() {
        let c = Cancel::new();
        assert!(!c.is_cancelled());
        c.cancel("SIGTERM");
        c.cancel("SIGINT");
        c.cancelled().await;
        assert_eq!(c.reason(), "SIGTERM");
    }
}
