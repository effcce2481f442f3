//! Cancellation: SIGINT, SIGTERM (a cancelled CI job) and SIGHUP (a closed
//! terminal) become a cancel request with a reason and the instant it
//! arrived. Waits and reads observe it; the revert that follows runs outside
//! it, under a short budget counted from that instant.

use std::sync::{Arc, OnceLock};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
pub struct Cancel {
    token: CancellationToken,
    /// The first reason given and when it arrived.
    first: Arc<OnceLock<(String, Instant)>>,
}

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask the run to stop; the first reason given is kept.
    pub fn cancel(&self, reason: &str) {
        let _ = self.first.set((reason.to_string(), Instant::now()));
        self.token.cancel();
    }

    /// When the first cancel arrived: the runner's grace period (and so the
    /// revert's budget) starts then, not when the run gets to notice it.
    pub fn at(&self) -> Option<Instant> {
        self.first.get().map(|(_, at)| *at)
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    pub async fn cancelled(&self) {
        self.token.cancelled().await
    }

    pub fn reason(&self) -> String {
        self.first
            .get()
            .map(|(r, _)| r.clone())
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

    #[tokio::test(start_paused = true)]
    async fn first_reason_and_instant_win() {
        let c = Cancel::new();
        assert!(!c.is_cancelled());
        assert_eq!(c.at(), None);
        let t0 = Instant::now();
        c.cancel("SIGTERM");
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        c.cancel("SIGINT");
        c.cancelled().await;
        assert_eq!(c.reason(), "SIGTERM");
        assert_eq!(c.at(), Some(t0));
    }
}
