use super::*;

const TG: &str =
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067";

/// AWS's documented HTTP example, with `ua` and the timing fields given.
pub fn line(ua: &str, tpt: &str, codes: &str) -> String {
    format!(
        "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 {tpt} 0.000 {codes} 34 366 \"GET http://www.example.com:80/a/b?x=1 HTTP/1.1\" {ua} - - {TG} \"Root=1-58337262-36d228ad5d99923122bbe354\" \"-\" \"-\" 0 2018-07-02T22:22:48.364000Z \"forward\" \"-\" \"-\" \"10.0.0.1:80\" \"200\" \"-\" \"-\" TID_1234"
    )
}

#[test]
fn the_documented_example_parses() {
    let e = parse(&line("\"curl/7.46.0\"", "0.001", "200 200")).unwrap();
    assert_eq!(e.kind, "http");
    assert_eq!(e.elb, "app/my-loadbalancer/50dc6c495c0c9188");
    assert_eq!(e.method, "GET");
    assert_eq!(e.url, "http://www.example.com:80/a/b?x=1");
    assert_eq!(e.user_agent.as_deref(), Some("curl/7.46.0"));
    assert_eq!(e.target_group_arn.as_deref(), Some(TG));
    assert_eq!(e.matched_rule_priority, Some(0));
    assert_eq!(e.target_processing_time, Some(0.001));
    assert_eq!(e.blue_status(), Some(200));
    let secs = e.time.duration_since(UNIX_EPOCH).unwrap();
    assert_eq!(secs.as_secs(), 1_530_570_180);
    assert_eq!(secs.subsec_micros(), 186_641);
}

#[test]
fn a_quoted_user_agent_keeps_its_spaces_and_escaped_quotes() {
    let ua = r#""Mozilla/5.0 (X11; Linux) \"quoted\" back\\slash""#;
    let e = parse(&line(ua, "0.001", "200 200")).unwrap();
    assert_eq!(
        e.user_agent.as_deref(),
        Some(r#"Mozilla/5.0 (X11; Linux) "quoted" back\slash"#)
    );
    assert_eq!(e.matched_rule_priority, Some(0));
}

#[test]
fn hex_escapes_are_decoded() {
    let ua = r#""Mozilla \x22quoted\x22 caf\xc3\xa9 back\x5cslash""#;
    let e = parse(&line(ua, "0.001", "200 200")).unwrap();
    assert_eq!(
        e.user_agent.as_deref(),
        Some(r#"Mozilla "quoted" café back\slash"#)
    );
    let bad = r#""half \x2""#;
    assert_eq!(
        parse(&line(bad, "0.001", "200 200")),
        Err(Malformed::BadField("escape"))
    );
}

#[test]
fn minus_one_and_dash_are_missing_values() {
    let e = parse(&line("\"-\"", "-1", "504 -")).unwrap();
    assert_eq!(e.target_processing_time, None);
    assert_eq!(e.target_status, None);
    assert_eq!(e.elb_status, Some(504));
    assert_eq!(
        e.blue_status(),
        Some(504),
        "the load balancer's status stands in"
    );
    assert_eq!(e.user_agent, None);
}

#[test]
fn later_fields_aws_adds_are_ignored() {
    let e = parse(&format!(
        "{} \"extra\" more",
        line("\"ua\"", "0.002", "200 200")
    ));
    assert!(e.is_ok());
}

#[test]
fn malformed_lines_say_why() {
    let full = line("\"ua\"", "0.001", "200 200");
    assert_eq!(parse(&full[..120]), Err(Malformed::Truncated));
    let open = full.replace("\"ua\"", "\"ua");
    assert_eq!(
        parse(&open),
        Err(Malformed::StrayQuote),
        "a quote missing shifts no field"
    );
    assert_eq!(
        parse(&full[..full.find("ua\"").unwrap() + 1]),
        Err(Malformed::Unterminated)
    );
    let no_arn = full.replace("arn:aws:elasticloadbalancing:us-east-2", "targetgroup");
    assert_eq!(parse(&no_arn), Err(Malformed::BadField("target_group_arn")));
    assert_eq!(parse(""), Err(Malformed::Truncated));
    assert_eq!(parse("garbage"), Err(Malformed::Truncated));
    let bad_time = full.replace("2018-07-02T22:23:00.186641Z", "yesterday");
    assert_eq!(parse(&bad_time), Err(Malformed::BadField("time")));
    let bad_status = full.replace("200 200 34", "2x0 200 34");
    assert_eq!(
        parse(&bad_status),
        Err(Malformed::BadField("elb_status_code"))
    );
    let bad_tpt = line("\"ua\"", "fast", "200 200");
    assert_eq!(
        parse(&bad_tpt),
        Err(Malformed::BadField("target_processing_time"))
    );
    let bad_req = full.replace("GET http://www.example.com:80/a/b?x=1 HTTP/1.1", "- - -");
    assert_eq!(parse(&bad_req), Err(Malformed::BadField("request")));
    let bad_prio = full.replace("\"-\" 0 2018", "\"-\" zero 2018");
    assert_eq!(
        parse(&bad_prio),
        Err(Malformed::BadField("matched_rule_priority"))
    );
}

#[test]
fn times_convert_like_the_calendar() {
    assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(UNIX_EPOCH));
    let leap = parse_time("2024-02-29T12:00:00.5Z").unwrap();
    let d = leap.duration_since(UNIX_EPOCH).unwrap();
    assert_eq!(d.as_secs(), 1_709_208_000);
    assert_eq!(d.subsec_millis(), 500);
    assert_eq!(parse_time("2024-13-01T00:00:00Z"), None);
    assert_eq!(format_time(leap), "2024-02-29T12:00:00.500000Z");
    assert_eq!(parse_time(&format_time(leap)), Some(leap));
    assert_eq!(parse_time("2024-01-01 00:00:00"), None);
}
