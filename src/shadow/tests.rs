use super::select::Selection;
use super::*;
use std::time::Duration;

const BLUE: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/1";

fn line(at: &str, method: &str, path: &str) -> String {
    format!(
        "http {at} app/lb/abc 127.0.0.1:5000 127.0.0.1:80 0.000 0.004 0.000 200 200 1 2 \"{method} http://h:80{path} HTTP/1.1\" \"ua\" - - {BLUE} \"Root=1\" \"-\" \"-\" 0 {at} \"forward\" \"-\" \"-\" \"127.0.0.1:80\" \"200\" \"-\" \"-\""
    )
}

fn sel() -> Selection {
    let until = log::parse_time("2026-12-02T18:10:00Z").unwrap();
    Selection {
        elb: "app/lb/abc".into(),
        port: 80,
        blue: BLUE.into(),
        priority: 0,
        since: until - Duration::from_secs(600),
        until,
        methods: vec!["GET".into(), "HEAD".into()],
        sample_bp: 10_000,
    }
}

#[test]
fn malformed_lines_are_counted_and_the_rest_replayed_in_time_order() {
    let lines = vec![
        line("2026-12-02T18:05:00.000000Z", "GET", "/late"),
        "garbage line".to_string(),
        String::new(),
        line("2026-12-02T18:01:00.000000Z", "GET", "/early"),
        line("2026-12-02T18:02:00.000000Z", "POST", "/form"),
        line("2026-12-02T17:00:00.000000Z", "GET", "/old"),
        line("2026-12-02T18:03:00.000000Z", "GET", "/x").replace(" 0 2026", " 3 2026"),
        "http 2026-12-02T18:03:00Z \"unterminated".to_string(),
    ];
    let p = prepare(&lines, &sel(), false);
    let paths: Vec<&str> = p.replays.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, vec!["/early", "/late"]);
    assert_eq!(p.lines, 7, "the blank line is no line");
    assert_eq!(p.malformed.get("truncated line"), Some(&1));
    assert_eq!(p.malformed.get("unterminated quoted field"), Some(&1));
    assert_eq!(p.methods_skipped.get("POST"), Some(&1));
    assert_eq!((p.outside_window, p.not_on_route), (1, 1));
}
