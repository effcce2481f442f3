//! Table tests: every `--match` form to its ELBv2 condition, every refusal
//! naming its `--match`, the rule-wide limits, and priority choice.

use super::*;
use crate::alb::{translate, Condition, RouteAction, Rule};

fn cond(field: &str, key: Option<&str>, values: &[&str]) -> Condition {
    Condition {
        field: field.into(),
        key: key.map(str::to_string),
        values: values.iter().map(|v| v.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn every_form_translates_to_its_condition() {
    let table = [
        (
            "header:X-Variant=b",
            cond("http-header", Some("X-Variant"), &["b"]),
        ),
        (
            "header:User-Agent=*Mobile*",
            cond("http-header", Some("User-Agent"), &["*Mobile*"]),
        ),
        (
            "cookie:variant=b",
            cond(
                "http-header",
                Some("Cookie"),
                &["variant=b*", "*; variant=b*"],
            ),
        ),
        (
            "query:variant=b",
            cond("query-string", None, &["variant=b"]),
        ),
        ("query:a=b=c", cond("query-string", None, &["a=b=c"])),
        (
            "source-ip:10.0.0.0/8",
            cond("source-ip", None, &["10.0.0.0/8"]),
        ),
        (
            "source-ip:192.0.2.7",
            cond("source-ip", None, &["192.0.2.7/32"]),
        ),
        (
            "source-ip:2001:DB8:0::/32",
            cond("source-ip", None, &["2001:db8::/32"]),
        ),
        ("source-ip:::1", cond("source-ip", None, &["::1/128"])),
        (
            "source-ip:0.0.0.0/0",
            cond("source-ip", None, &["0.0.0.0/0"]),
        ),
        ("path:/beta/*", cond("path-pattern", None, &["/beta/*"])),
    ];
    for (raw, want) in table {
        let m = parse_match(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(m.condition(), want, "{raw}");
        assert!(want.values.len() <= MAX_VALUES_PER_CONDITION, "{raw}");
    }
}

#[test]
fn display_gives_back_the_match_form() {
    for raw in [
        "header:X-A=b",
        "cookie:v=b",
        "query:k=v",
        "source-ip:10.0.0.0/8",
        "path:/b/*",
    ] {
        assert_eq!(parse_match(raw).unwrap().to_string(), raw);
    }
}

#[test]
fn conditions_survive_the_sdk_round_trip() {
    for raw in [
        "header:X-Variant=b",
        "cookie:variant=b",
        "query:variant=b",
        "source-ip:2001:db8::/32",
        "path:/beta/*",
    ] {
        let c = parse_match(raw).unwrap().condition();
        assert_eq!(
            translate::condition_from_sdk(&translate::condition_to_sdk(&c)),
            c
        );
    }
}

#[test]
fn query_pair_goes_out_as_key_and_value() {
    let c = parse_match("query:variant=b=c").unwrap().condition();
    let sdk = translate::condition_to_sdk(&c);
    let kv = &sdk.query_string_config().unwrap().values()[0];
    assert_eq!((kv.key(), kv.value()), (Some("variant"), Some("b=c")));
}

#[test]
fn refusals_name_the_match_and_the_fix() {
    let long = "a".repeat(129);
    let table: Vec<(String, &str)> = vec![
        ("variant=b".into(), "write one of"),
        ("bogus:x=y".into(), "unknown match kind"),
        ("header:X-Variant".into(), "header:NAME=VALUE"),
        ("header:=b".into(), "both sides non-empty"),
        ("header:X-Variant=".into(), "both sides non-empty"),
        ("header:X Variant=b".into(), "RFC 7230"),
        ("header:X-*=b".into(), "no wildcards"),
        (format!("header:{}=b", "h".repeat(41)), "at most 40"),
        ("header:Host=example.com".into(), "Host"),
        (format!("header:X={long}"), "at most 128"),
        ("header:X=b\u{7}".into(), "visible ASCII"),
        ("header:X=é".into(), "visible ASCII"),
        ("header:X= b".into(), "space"),
        ("cookie:variant=b;c".into(), "semicolons"),
        ("cookie:variant=b*".into(), "header:Cookie=PATTERN"),
        ("cookie:va riant=b".into(), "cookie name"),
        (format!("cookie:v={}", "x".repeat(123)), "at most 128"),
        ("query:variant=b#".into(), "percent-encode"),
        (format!("query:{long}=b"), "at most 128"),
        ("source-ip:10.0.0.1/8".into(), "source-ip:10.0.0.0/8"),
        ("source-ip:10.0.0.0/33".into(), "0 to 32"),
        ("source-ip:2001:db8::/129".into(), "0 to 128"),
        ("source-ip:10.0.0".into(), "not an IPv4 or IPv6"),
        ("source-ip:*".into(), "not an IPv4 or IPv6"),
        ("path:beta/*".into(), "must start with /"),
        ("path:/beta/<x>".into(), "percent-encode"),
        (format!("path:/{long}"), "at most 128"),
    ];
    for (raw, want) in table {
        let e = parse_match(&raw).expect_err(&raw);
        assert!(e.starts_with(&format!("--match {raw:?}")), "{raw}: {e}");
        assert!(e.contains(want), "{raw}: {e}");
    }
}

#[test]
fn longest_allowed_values_pass() {
    let v128 = "a".repeat(128);
    parse_match(&format!("header:X={v128}")).unwrap();
    parse_match(&format!("query:{v128}={v128}")).unwrap();
    parse_match(&format!("path:/{}", "a".repeat(127))).unwrap();
    parse_match(&format!("cookie:v={}", "x".repeat(122))).unwrap();
    parse_match(&format!("header:{}=b", "h".repeat(40))).unwrap();
}

fn strings(raw: &[&str]) -> Vec<String> {
    raw.iter().map(|s| s.to_string()).collect()
}

#[test]
fn repeated_matches_and_as_separate_conditions() {
    let m = parse_matches(&strings(&["header:X-A=1", "header:x-a=2*", "query:k=v"])).unwrap();
    let c = conditions(&m);
    assert_eq!(
        c.len(),
        3,
        "one condition per match, never values ORed in one"
    );
    assert!(c.iter().all(|c| c.values.len() == 1));
}

#[test]
fn rule_wide_limits() {
    let table: &[(&[&str], &str)] = &[
        (&[], "no --match given"),
        (&["path:/a/*", "path:/b/*"], "one path-pattern condition"),
        (
            &["source-ip:10.0.0.0/8", "source-ip:::1"],
            "one source-ip condition",
        ),
        (&["header:X=1", "header:X=1"], "given twice"),
        (
            &[
                "header:A=1",
                "header:B=1",
                "header:C=1",
                "header:D=1",
                "cookie:v=b",
            ],
            "need 6 condition values",
        ),
        (&["cookie:a=1", "cookie:b=2"], "use 6 wildcards"),
        (&["header:A=*?*?*?"], "use 6 wildcards"),
        (&["query:k*=v?", "header:A=*?*?"], "use 6 wildcards"),
    ];
    for (raw, want) in table {
        let errs = parse_matches(&strings(raw)).expect_err(&format!("{raw:?}"));
        assert!(errs.iter().any(|e| e.contains(want)), "{raw:?}: {errs:?}");
    }
}

#[test]
fn at_the_limits_passes() {
    let ok: &[&[&str]] = &[
        &[
            "header:A=1",
            "header:B=1",
            "header:C=1",
            "query:k=v",
            "path:/x",
        ],
        &["cookie:v=b", "path:/beta/*", "source-ip:10.0.0.0/8"],
        &["header:A=*?*?*"],
        // escaped wildcards in a query string are literal, not counted
        &["query:k=\\*\\?\\*", "header:A=*?*?*"],
    ];
    for raw in ok {
        parse_matches(&strings(raw)).unwrap_or_else(|e| panic!("{raw:?}: {e:?}"));
    }
}

#[test]
fn parse_errors_all_at_once() {
    let errs = parse_matches(&strings(&["header:X", "path:nope", "query:k=v"])).unwrap_err();
    assert_eq!(errs.len(), 2, "{errs:?}");
}

fn rule(priority: &str, arn: &str) -> Rule {
    Rule {
        arn: arn.into(),
        priority: priority.into(),
        is_default: priority == "default",
        conditions: vec![],
        leading: vec![],
        action: RouteAction::Other {
            action_type: "fixed-response".into(),
        },
    }
}

#[test]
fn a_rule_splitting_the_default_action_takes_the_highest_free_priority() {
    let rules = vec![
        rule("default", "arn:default"),
        rule("1", "arn:r1"),
        rule("2", "arn:r2"),
        rule("10", "arn:r10"),
    ];
    let mut top = rules.clone();
    top.push(rule("50000", "arn:top"));
    type Case<'a> = (&'a [Rule], Option<u32>, Result<u32, &'a str>);
    let table: Vec<Case> = vec![
        (&[], None, Ok(50_000)),
        (&rules[..1], None, Ok(50_000)),
        (&rules, None, Ok(50_000)),
        (&top, None, Ok(49_999)),
        (&rules, Some(5), Ok(5)),
        (&rules, Some(50_000), Ok(50_000)),
        (&rules, Some(2), Err("taken by rule arn:r2")),
        (&rules, Some(0), Err("out of range")),
        (&rules, Some(50_001), Err("out of range")),
    ];
    for (existing, requested, want) in table {
        let got = choose_last(existing, requested);
        match (got, want) {
            (Ok(g), Ok(w)) => assert_eq!(g, w, "{requested:?}"),
            (Err(g), Err(w)) => assert!(g.contains(w), "{requested:?}: {g}"),
            (g, w) => panic!("{requested:?}: got {g:?}, want {w:?}"),
        }
    }
}

#[test]
fn rules_quota() {
    let mut rules: Vec<Rule> = (1..=99).map(|p| rule(&p.to_string(), "arn")).collect();
    rules.push(rule("default", "arn:default"));
    assert_eq!(
        choose_last(&rules, None),
        Ok(50_000),
        "the default rule does not count"
    );
    rules.push(rule("500", "arn:500"));
    let e = choose_last(&rules, Some(7)).unwrap_err();
    assert!(
        e.contains("100 rules") && e.contains("Service Quotas"),
        "{e}"
    );
    assert_eq!(choose_last_within(&rules, None, 200), Ok(50_000));
}

#[test]
fn a_rule_splitting_one_rule_goes_just_before_it() {
    let rules = vec![
        rule("default", "d"),
        rule("3", "r3"),
        rule("8", "r8"),
        rule("10", "r10"),
        rule("9", "r9"),
    ];
    assert_eq!(choose_before(&rules, "r10"), Ok(7), "9 and 8 are taken");
    assert_eq!(choose_before(&rules, "r3"), Ok(2));
    let full = vec![rule("1", "r1"), rule("2", "r2")];
    let e = choose_before(&full, "r2").unwrap_err();
    assert!(e.contains("rule r2") && e.contains("priority 2"), "{e}");
    let e = choose_before(&full, "r1").unwrap_err();
    assert!(e.contains("rule r1"), "{e}");
}

#[test]
fn rules_shadowed_lists_what_a_low_priority_now_comes_before() {
    let rules = vec![
        rule("default", "d"),
        rule("7", "r7"),
        rule("3", "r3"),
        rule("9", "r9"),
    ];
    let after: Vec<&str> = rules_shadowed(&rules, 5)
        .iter()
        .map(|r| r.arn.as_str())
        .collect();
    assert_eq!(after, ["r7", "r9"]);
    assert!(rules_shadowed(&rules, 50_000).is_empty());
}

#[test]
fn a_match_block_with_trailing_newline_blank_lines_and_crlf_is_its_lines() {
    // What clap makes of ALB_ROLLOUT_MATCH="header:X-A=1\r\n\r\nquery:k=v\n".
    let block = strings(&["header:X-A=1\r", "\r", "", "  query:k=v  ", ""]);
    let m = parse_matches(&block).unwrap();
    assert_eq!(m.len(), 2, "{m:?}");
    assert_eq!(
        conditions(&m),
        conditions(&parse_matches(&strings(&["header:X-A=1", "query:k=v"])).unwrap())
    );
    let none = parse_matches(&strings(&["", "\r\n"])).unwrap_err();
    assert!(none[0].contains("no --match given"), "{none:?}");
}
