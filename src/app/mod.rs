//! The commands: wiring ports to planners and the executor, and owning what
//! gets printed. `main` only maps the returned code to the process exit.

mod canary;
mod dry_run;
mod live;
pub(crate) mod rollback;
mod status;

use crate::cli::{Cli, Cmd, Output};
use crate::preflight::InputError;

/// Exit codes: a contract (README, "Exit codes").
pub const EXIT_PROMOTED: i32 = 0;
pub const EXIT_REVERTED: i32 = 1;
pub const EXIT_INVALID: i32 = 2;
pub const EXIT_INCOMPLETE: i32 = 3;
pub const EXIT_CANCELLED: i32 = 130;

pub async fn run(cli: Cli) -> i32 {
    let config = crate::aws_env::load(cli.region.as_deref()).await;
    let output = cli.output;
    match cli.command {
        Cmd::Status(a) => status::run(&config, &a, output).await,
        Cmd::Canary(a) => canary::run(&config, &a, output).await,
        Cmd::Rollback(a) => rollback::run(&config, &a, output).await,
    }
}

/// Print input errors (all of them) and return exit code 2.
pub fn invalid(errors: &[InputError], output: Output) -> i32 {
    match output {
        Output::Json => {
            let doc = serde_json::json!({ "result": "invalid", "exit_code": EXIT_INVALID, "errors": errors });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Output::Text => {}
    }
    for e in errors {
        eprintln!("error: {e}");
    }
    let n = errors.len();
    eprintln!(
        "{n} problem{} found; nothing was changed",
        if n == 1 { "" } else { "s" }
    );
    EXIT_INVALID
}

/// Print a failure that is not the user's input (an API outage, a restore
/// that could not finish) and return `code`.
pub fn failed(message: &str, code: i32, output: Output) -> i32 {
    if output == Output::Json {
        let doc = serde_json::json!({ "result": "error", "exit_code": code, "error": message });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    eprintln!("error: {message}");
    code
}

pub fn print_json<T: serde::Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: could not encode the JSON output: {e}"),
    }
}
