//! The commands: wiring ports to planners and the executor, and owning what
//! gets printed. `main` only maps the returned code to the process exit.

mod ab;
mod ab_report;
mod blue_green;
mod calls;
mod calls_hooks;
mod calls_revert;
mod canary;
mod dark;
mod dry_run;
pub mod expiry;
mod full_deploy;
mod iam_policy;
mod live;
pub mod local;
mod multi_lb;
mod multi_route;
mod preview;
pub(crate) mod rollback;
mod rollback_find;
mod rollback_group;
mod rollback_routes;
mod rollback_wait;
mod rolling;
mod routes;
mod rule_routes;
mod rule_run;
mod runner;
mod shadow;
mod shadow_first;
mod status;
mod status_group;
mod status_traffic;

use crate::cli::{Cli, Cmd, Output};
use crate::preflight::InputError;
use crate::redact;
use crate::report::github;

/// Exit codes: a contract (README, "Exit codes").
pub const EXIT_PROMOTED: i32 = 0;
pub const EXIT_REVERTED: i32 = 1;
pub const EXIT_INVALID: i32 = 2;
pub const EXIT_INCOMPLETE: i32 = 3;
pub const EXIT_CANCELLED: i32 = 130;

pub async fn run(cli: Cli) -> i32 {
    if let Cmd::IamPolicy(a) = &cli.command {
        return iam_policy::run(a, cli.output);
    }
    let output = cli.output;
    let region = match local_region(&cli).await {
        Ok(r) => r,
        Err(errors) => return invalid(&errors, output),
    };
    let config = crate::aws_env::load(region.as_deref()).await;
    match cli.command {
        Cmd::Status(a) => {
            let code = status::run(&config, &a, output).await;
            if code == EXIT_PROMOTED {
                github::result_only("ok", None);
            }
            code
        }
        Cmd::Canary(a) => canary::run(&config, &a, output).await,
        Cmd::BlueGreen(a) => blue_green::run(&config, &a, output).await,
        Cmd::Rolling(a) => rolling::run(&config, &a, output).await,
        Cmd::Rollback(a) => rollback::run(&config, &a, output).await,
        Cmd::Ab(a) => ab::run(&config, &a, output).await,
        Cmd::Dark(a) => dark::run(&config, &a, output).await,
        Cmd::Shadow(a) => shadow::run(&config, &a, output).await,
        Cmd::Routes(a) => routes::run(&config, &a, output).await,
        Cmd::IamPolicy(a) => iam_policy::run(&a, output),
    }
}

/// The ARN flags' shapes and the region, before any client exists: a typo
/// costs no call and no retry.
async fn local_region(cli: &Cli) -> Result<Option<String>, Vec<InputError>> {
    let arn_regions = local::check_arns(&local::arn_flags(&cli.command))?;
    let configured = crate::aws_env::configured_region(cli.region.as_deref()).await;
    local::pick_region(configured.as_ref(), &arn_regions)
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
    let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    github::result_only("failed", Some(&all.join("\n")));
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
    github::result_only(github::result_output("error", code), Some(message));
    code
}

/// The document with every URL masked (`redact`): the last line of defence
/// for a probe or Prometheus URL that reached a message. Masking the text
/// keeps the fields in their order; it cannot break the JSON, since a URL
/// ends at a `"` or `\` and masking only puts `***` in its place.
fn masked_json<T: serde::Serialize>(v: &T) -> serde_json::Result<String> {
    serde_json::to_string_pretty(v).map(|s| redact::text(&s))
}

pub fn print_json<T: serde::Serialize>(v: &T) {
    match masked_json(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: could not encode the JSON output: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Doc {
        result: &'static str,
        detail: Vec<&'static str>,
    }

    #[test]
    fn json_is_masked_stays_valid_and_keeps_its_order() {
        let doc = Doc {
            result: "reverted",
            detail: vec![
                "GET \"http://u:hunter2@127.0.0.1/h?token=tok-123\" failed\n",
                "http://127.0.0.1/?sig=tok-123\\x",
            ],
        };
        let out = masked_json(&doc).unwrap();
        assert!(
            !out.contains("hunter2") && !out.contains("tok-123"),
            "{out}"
        );
        let back: serde_json::Value = serde_json::from_str(&out).expect(&out);
        assert_eq!(
            back["detail"][0],
            "GET \"http://***@127.0.0.1/h?token=***\" failed\n"
        );
        assert_eq!(back["detail"][1], "http://127.0.0.1/?sig=***\\x");
        assert!(out.find("result") < out.find("detail"), "{out}");
    }
}
