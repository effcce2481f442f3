//! Workflow-command escaping, output syntax, the result mapping and the
//! decorator's groups.

use super::*;
use crate::report::summary::tests::report;
use crate::report::summary::Finished;

#[test]
fn messages_and_properties_are_escaped_exactly() {
    assert_eq!(escape_data("50%\r\nnext: a,b"), "50%25%0D%0Anext: a,b");
    assert_eq!(escape_property("t: a,b%\n"), "t%3A a%2Cb%25%0A");
    assert_eq!(
        command(
            "error",
            &[("title", "x: y")],
            "bad\nhttp://u:pw@127.0.0.1/?k=v"
        ),
        "::error title=x%3A y::bad%0Ahttp://***@127.0.0.1/?k=***"
    );
    assert_eq!(command("endgroup", &[], ""), "::endgroup::");
}

#[test]
fn delimiters_are_random_and_never_in_the_value() {
    let a = delimiter("");
    assert!(a.starts_with("ghadelimiter_") && a.len() == 13 + 32, "{a}");
    assert_ne!(a, delimiter(""));
    let entry = output_entry("final-weights", "a 1\nb 2");
    let d = entry
        .lines()
        .next()
        .unwrap()
        .strip_prefix("final-weights<<")
        .unwrap();
    assert_eq!(entry, format!("final-weights<<{d}\na 1\nb 2\n{d}\n"));
}

#[test]
fn results_map_to_the_action_outputs() {
    assert_eq!(result_output("promoted", 0), "promoted");
    assert_eq!(result_output("reverted", 1), "reverted");
    assert_eq!(result_output("cancelled", 130), "cancelled");
    assert_eq!(result_output("not-started", 130), "cancelled");
    assert_eq!(result_output("not-started", 1), "failed");
    assert_eq!(result_output("invalid", 2), "failed");
    assert_eq!(result_output("revert-incomplete", 3), "revert-incomplete");
}

#[test]
fn a_reverted_run_writes_every_output_and_one_error() {
    let r = report(true);
    let run = Finished {
        report: &r,
        final_weights: Some("targetgroup/blue/1 1".into()),
    };
    let out = outputs(&run);
    let get = |k| out.iter().find(|(n, _)| *n == k).unwrap().1.as_str();
    assert_eq!(get("result"), "reverted");
    assert_eq!(get("final-weights"), "targetgroup/blue/1 1");
    assert_eq!(get("failed-check"), "error-rate");
    assert_eq!(get("detection-to-revert-seconds"), "0.2");
    assert_eq!(get("duration-seconds"), "13.0");
    assert_eq!(get("run-id"), "r-1");
    let a = annotation(&run);
    assert!(
        a.starts_with("::error title=alb-rollout canary%3A reverted::error-rate"),
        "{a}"
    );
    assert!(!a.contains("secret"), "{a}");
}

#[test]
fn files_get_outputs_and_summary_appended() {
    let dir = std::env::temp_dir().join(format!("ghreport-{}", random_hex()));
    std::fs::create_dir_all(&dir).unwrap();
    let env = GithubEnv {
        output: Some(dir.join("out")),
        summary: Some(dir.join("summary")),
    };
    std::fs::write(dir.join("out"), "earlier=1\n").unwrap();
    let r = report(false);
    let run = Finished {
        report: &r,
        final_weights: Some("g 999".into()),
    };
    env.write_outputs(&outputs(&run));
    env.write_summary(&run);
    let out = std::fs::read_to_string(dir.join("out")).unwrap();
    assert!(out.starts_with("earlier=1\nresult<<ghadelimiter_"), "{out}");
    assert!(out.contains("\npromoted\nghadelimiter_"), "{out}");
    let md = std::fs::read_to_string(dir.join("summary")).unwrap();
    assert!(md.starts_with("## ✅"), "{md}");
    let _ = std::fs::remove_dir_all(dir);
}

#[derive(Clone, Default)]
struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run_events(env: Option<GithubEnv>) -> String {
    use crate::alb::{Forward, RouteRef};
    use crate::engine::Reason;
    use crate::plan::Tenths;
    let buf = Buf::default();
    let text = crate::report::text::TextReporter::new(buf.clone(), false);
    let mut g = GithubReporter::new(text, Box::new(buf.clone()), env);
    let route = crate::engine::Scope::Route(RouteRef::new("arn:l", None));
    let f = Forward::single("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/g/1");
    g.progress(Progress::Started {
        run_id: "r-1",
        strategy: "canary",
        scope: &route,
        shape: "2 steps",
        total_bake: std::time::Duration::from_secs(6),
    });
    g.progress(Progress::Shifted {
        step: 0,
        steps: 2,
        percent: Tenths(100),
        forward: &f,
    });
    g.progress(Progress::Reverting {
        reason: &Reason::Error("boom".into()),
    });
    let s = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    s
}

#[test]
fn steps_are_grouped_and_the_failure_stays_outside() {
    let out = run_events(Some(GithubEnv::default()));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("alb-rollout canary r-1"), "{out}");
    assert_eq!(lines[1], "::group::r-1: record, register, health");
    assert_eq!(lines[2], "::endgroup::");
    assert_eq!(lines[3], "::group::step 1/2: 10%25 to green");
    assert!(lines[4].starts_with("step 1/2"));
    assert_eq!(lines[5], "::endgroup::");
    assert!(lines[6].starts_with("FAILED boom"), "{out}");
}

#[test]
fn outside_actions_the_text_is_unchanged() {
    let out = run_events(None);
    assert!(!out.contains("::"), "{out}");
    assert_eq!(out.lines().count(), 3);
}

#[test]
fn every_result_value_is_listed_in_action_yml_and_docs() {
    let action = include_str!("../../action.yml");
    let result = action
        .split("  result:\n")
        .nth(1)
        .and_then(|s| {
            s.lines()
                .find(|l| l.trim_start().starts_with("description:"))
        })
        .expect("action.yml has a result output with a description");
    let words: Vec<&str> = result
        .split(|c: char| !(c.is_ascii_lowercase() || c == '-'))
        .collect();
    let docs = include_str!("../../docs/output.md");
    for v in RESULTS {
        assert!(words.contains(v), "action.yml result lacks {v}: {result}");
        assert!(
            docs.contains(&format!("`{v}`")),
            "docs/output.md lacks `{v}`"
        );
    }
    for (code, r) in [
        (130, "x"),
        (3, "x"),
        (0, "promoted"),
        (1, "reverted"),
        (2, "invalid"),
    ] {
        assert!(RESULTS.contains(&result_output(r, code)));
    }
}
