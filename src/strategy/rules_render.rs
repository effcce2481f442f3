//! ELBv2 rule conditions rendered back as `--match` forms, for `routes
//! list`, progress lines and reports: the inverse of `Match::condition`
//! for everything this tool writes, and a plain `FIELD:VALUES` for
//! conditions it does not (host-header, http-request-method, ...).
//! Regular expressions (`RegexValues`, ALB 2025) read `FIELD~REGEX`
//! (`http-header:NAME~REGEX`), so nobody mistakes one for a wildcard.

use super::rules::cookie_patterns;
use crate::alb::Condition;

/// One `--match` form per condition, in the rule's order.
pub fn match_forms(conditions: &[Condition]) -> Vec<String> {
    conditions.iter().map(match_form).collect()
}

/// The `--match` forms joined for one line: `header:X-Variant=b AND path:/beta/*`.
pub fn match_line(conditions: &[Condition]) -> String {
    match match_forms(conditions).join(" AND ") {
        s if s.is_empty() => "(no conditions)".to_string(),
        s => s,
    }
}

fn match_form(c: &Condition) -> String {
    if c.regex_values.is_empty() {
        return wildcard_form(c);
    }
    let key = c
        .key
        .as_deref()
        .map(|k| format!(":{k}"))
        .unwrap_or_default();
    let regex = format!("{}{key}~{}", c.field, c.regex_values.join("|"));
    match c.values.is_empty() {
        true => regex,
        false => format!("({} OR {regex})", wildcard_form(c)),
    }
}

fn wildcard_form(c: &Condition) -> String {
    let one = match c.values.as_slice() {
        [v] => Some(v.as_str()),
        _ => None,
    };
    match (c.field.as_str(), c.key.as_deref(), one) {
        ("http-header", Some(k), _) if k.eq_ignore_ascii_case("cookie") => {
            cookie_of(&c.values).unwrap_or_else(|| plain(c))
        }
        ("http-header", Some(k), Some(v)) => format!("header:{k}={v}"),
        ("query-string", _, Some(v)) if v.contains('=') => format!("query:{v}"),
        ("source-ip", _, Some(v)) => format!("source-ip:{v}"),
        ("path-pattern", _, Some(v)) => format!("path:{v}"),
        _ => plain(c),
    }
}

/// `cookie:NAME=VALUE` when the values are exactly what a cookie match sends.
fn cookie_of(values: &[String]) -> Option<String> {
    let first = values.first()?.strip_suffix('*')?;
    let (name, value) = first.split_once('=')?;
    (cookie_patterns(name, value) == values).then(|| format!("cookie:{name}={value}"))
}

fn plain(c: &Condition) -> String {
    let key = c
        .key
        .as_deref()
        .map(|k| format!("{k}="))
        .unwrap_or_default();
    format!("{}:{key}{}", c.field, c.values.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::rules::{conditions, parse_matches};

    #[test]
    fn regex_values_show_as_regexes_next_to_the_wildcards() {
        let host = Condition {
            field: "host-header".into(),
            regex_values: vec!["^api-[0-9]+$".into()],
            ..Default::default()
        };
        assert_eq!(match_line(&[host]), "host-header~^api-[0-9]+$");
        let ua = Condition {
            field: "http-header".into(),
            key: Some("User-Agent".into()),
            regex_values: vec!["mobile".into(), "tablet".into()],
            ..Default::default()
        };
        assert_eq!(match_line(&[ua]), "http-header:User-Agent~mobile|tablet");
        let both = Condition {
            field: "path-pattern".into(),
            values: vec!["/v1/*".into()],
            regex_values: vec!["^/v2/.*$".into()],
            ..Default::default()
        };
        assert_eq!(match_line(&[both]), "(path:/v1/* OR path-pattern~^/v2/.*$)");
    }

    #[test]
    fn every_match_form_renders_back_as_given() {
        let given: Vec<String> = [
            "header:X-Variant=b",
            "cookie:variant=b",
            "query:variant=b",
            "source-ip:10.0.0.0/8",
            "path:/beta/*",
        ]
        .map(String::from)
        .to_vec();
        for g in &given {
            let m = parse_matches(std::slice::from_ref(g)).unwrap();
            assert_eq!(match_forms(&conditions(&m)), vec![g.clone()], "{g}");
        }
        let two = parse_matches(&given[..2]).unwrap();
        assert_eq!(
            match_line(&conditions(&two)),
            "header:X-Variant=b AND cookie:variant=b"
        );
    }

    #[test]
    fn foreign_conditions_render_plainly() {
        let c = Condition {
            field: "host-header".into(),
            key: None,
            values: vec!["a.example.com".into(), "b.example.com".into()],
            ..Default::default()
        };
        assert_eq!(match_line(&[c]), "host-header:a.example.com|b.example.com");
        let cookie = Condition {
            field: "http-header".into(),
            key: Some("Cookie".into()),
            values: vec!["*x=1*".into()],
            ..Default::default()
        };
        assert_eq!(match_line(&[cookie]), "http-header:Cookie=*x=1*");
        assert_eq!(match_line(&[]), "(no conditions)");
    }
}
