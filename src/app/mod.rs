//! The commands: wiring ports to planners and the executor, and owning what
//! gets printed. `main` only maps the returned code to the process exit.

mod canary;
mod dry_run;
mod live;
mod rollback;
mod status;

use crate::cli::{Cli, Cmd, Output};
use crate::preflight::InputError;
use crate::redact;
use serde_json::Value;

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
        Output::Json => print_json(
            &serde_json::json!({ "result": "invalid", "exit_code": EXIT_INVALID, "errors": errors }),
        ),
        Output::Text => {}
    }
    for e in errors {
        eprintln!("error: {}", redact::text(&e.to_string()));
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
        print_json(&serde_json::json!({ "result": "error", "exit_code": code, "error": message }));
    }
    eprintln!("error: {}", redact::text(message));
    code
}

/// Every string in the document has its URLs masked (`redact`): the last
/// line of defence for a probe or Prometheus URL that reached a message.
pub fn print_json<T: serde::Serialize>(v: &T) {
    match serde_json::to_value(v).map(masked) {
        Ok(doc) => println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default()),
        Err(e) => eprintln!("error: could not encode the JSON output: {e}"),
    }
}

fn masked(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(redact::text(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(masked).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, masked(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_masked_at_any_depth() {
        let doc = serde_json::json!({
            "a": "GET http://u:hunter2@127.0.0.1/h?token=tok-123 failed",
            "b": [{"c": "http://127.0.0.1/?sig=tok-123"}, 1, null],
        });
        let out = masked(doc).to_string();
        assert!(
            !out.contains("hunter2") && !out.contains("tok-123"),
            "{out}"
        );
        assert!(out.contains("http://***@127.0.0.1/h?token=***"), "{out}");
    }
}
