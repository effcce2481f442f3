//! The `alb-rollout` binary: parse arguments, set up logging, run the
//! command, exit with its code (0 promoted, 1 reverted, 2 invalid input,
//! 3 revert incomplete, 130 cancelled).

use alb_rollout::cli::Cli;
use alb_rollout::env_inputs;
use clap::{CommandFactory, FromArgMatches};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn main() {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Ok((Cli::from_arg_matches(&m)?, env_inputs::chosen(&m))));
    let (cli, path) = match parsed {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.format(&mut Cli::command()).print();
            std::process::exit(code);
        }
    };
    // An action input the command does not take: refused before any call.
    let unknown = env_inputs::unknown(&Cli::command(), &path, &env_inputs::from_process());
    if !unknown.is_empty() {
        std::process::exit(alb_rollout::app::invalid(&unknown, cli.output));
    }
    // The SDK's own warnings (e.g. each credential provider it tried) are
    // noise next to our one clear error; -v and -vv bring them back.
    let directives = match cli.verbose {
        0 => "alb_rollout=warn,error",
        1 => "alb_rollout=info,warn",
        _ => "alb_rollout=debug,info",
    };
    // `target=level` directives (tracing's `Targets`, no span filters: the
    // regex engine an `EnvFilter` needs is a megabyte of binary).
    let filter = std::env::var("ALB_ROLLOUT_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| directives.parse().unwrap_or_default());
    tracing_subscriber::fmt()
        // Log lines may quote a probe or Prometheus URL: mask its secrets.
        .with_writer(|| alb_rollout::redact::MaskingWriter(std::io::stderr()))
        .with_target(false)
        .finish()
        .with(filter)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(alb_rollout::app::run(cli));
    // Do not wait for idle HTTP connections or a pending signal task.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    std::process::exit(code);
}
