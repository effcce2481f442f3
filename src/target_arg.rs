//! Targets as users write them in `--register`, `--add` and `--remove`:
//! `i-0abc`, `i-0abc:8080`, `10.0.0.1`, `10.0.0.1:8080`, `[2001:db8::1]`,
//! `[2001:db8::1]:8080`, or a Lambda ARN. Pure; every refusal names the flag
//! and the value.
//!
//! A bare IPv6 address is refused: `2001:db8::1:8080` is itself a valid
//! address, so whether its last group is a port cannot be told; brackets
//! (RFC 3986's form) say it.

use crate::alb::Target;
use crate::preflight::InputError;
use std::net::Ipv6Addr;

/// One value, checked.
pub fn parse(flag: &str, s: &str) -> Result<Target, String> {
    let s = s.trim();
    let target = |id: &str, port| Target {
        id: id.to_string(),
        port,
    };
    if s.starts_with("arn:") {
        return Ok(target(s, None));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (addr, after) = rest.split_once(']').ok_or_else(|| {
            format!("{flag}: {s:?} opens '[' without closing it; write [2001:db8::1]:8080")
        })?;
        addr.parse::<Ipv6Addr>()
            .map_err(|_| format!("{flag}: {addr:?} in {s:?} is not an IPv6 address"))?;
        let port = match (after, after.strip_prefix(':')) {
            ("", _) => None,
            (_, Some(p)) => Some(port(flag, s, p)?),
            (a, None) => {
                return Err(format!(
                    "{flag}: {a:?} after ']' in {s:?} is not a port: write [address]:port"
                ))
            }
        };
        return Ok(target(addr, port));
    }
    match s.matches(':').count() {
        0 => Ok(target(s, None)),
        1 => {
            let (id, p) = s.split_once(':').unwrap_or((s, ""));
            Ok(target(id, Some(port(flag, s, p)?)))
        }
        _ if s.parse::<Ipv6Addr>().is_ok() => Err(format!(
            "{flag}: {s:?} is a bare IPv6 address, which cannot say whether it ends in a port: \
             write [{s}] for the group's port, or [address]:port (e.g. [2001:db8::1]:8080)"
        )),
        _ => Err(format!(
            "{flag}: {s:?} is not a target: use an instance ID, an IP address, \
             [IPv6] or a Lambda ARN, with :port when needed"
        )),
    }
}

fn port(flag: &str, s: &str, p: &str) -> Result<i32, String> {
    match p.parse::<u16>() {
        Ok(n) if n > 0 => Ok(i32::from(n)),
        _ => Err(format!("{flag}: {p:?} in {s:?} is not a port (1-65535)")),
    }
}

/// Every value of a list flag; refusals go to `errors`, the rest are kept.
pub fn parse_all(flag: &str, values: &[String], errors: &mut Vec<InputError>) -> Vec<Target> {
    values
        .iter()
        .flat_map(|v| v.split_whitespace())
        .filter_map(|v| {
            parse(flag, v)
                .map_err(|e| errors.push(InputError::for_flag(flag, &e)))
                .ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> (String, Option<i32>) {
        let t = parse("--add", s).unwrap_or_else(|e| panic!("{s}: {e}"));
        (t.id, t.port)
    }

    #[test]
    fn bracketed_ipv6_with_and_without_a_port_is_read() {
        assert_eq!(ok("[2001:db8::1]:8080"), ("2001:db8::1".into(), Some(8080)));
        assert_eq!(ok("[2001:db8::1]"), ("2001:db8::1".into(), None));
        assert_eq!(ok("[::1]:80"), ("::1".into(), Some(80)));
    }

    #[test]
    fn ipv4_instances_and_lambda_arns_are_read_as_before() {
        assert_eq!(ok("10.0.0.1:8080"), ("10.0.0.1".into(), Some(8080)));
        assert_eq!(ok("10.0.0.1"), ("10.0.0.1".into(), None));
        assert_eq!(ok("i-0abc:80"), ("i-0abc".into(), Some(80)));
        assert_eq!(ok("i-0abc"), ("i-0abc".into(), None));
        let lambda = "arn:aws:lambda:us-east-1:123456789012:function:f";
        assert_eq!(ok(lambda), (lambda.into(), None));
    }

    #[test]
    fn a_bare_ipv6_address_is_refused_with_the_bracketed_form() {
        let e = parse("--register", "2001:db8::1:8080").unwrap_err();
        assert!(e.starts_with("--register: "), "{e}");
        assert!(
            e.contains("[2001:db8::1:8080]") && e.contains("[address]:port"),
            "{e}"
        );
        assert!(parse("--add", "fe80::1").unwrap_err().contains("bare IPv6"));
    }

    #[test]
    fn malformed_targets_are_refused_naming_the_value() {
        for (bad, part) in [
            ("[2001:db8::1", "without closing"),
            ("[10.0.0.1]:80", "not an IPv6 address"),
            ("[::1]:http", "not a port"),
            ("[::1]8080", "not a port"),
            ("10.0.0.1:0", "not a port"),
            ("10.0.0.1:65536", "not a port"),
            ("i-0abc:", "not a port"),
            ("a:b:c", "not a target"),
        ] {
            let e = parse("--add", bad).expect_err(bad);
            assert!(e.contains(part) && e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn a_list_keeps_good_values_and_reports_each_bad_one() {
        let mut errors = Vec::new();
        let values = vec!["[::1]:80 10.0.0.1:81".to_string(), "::2".to_string()];
        let got = parse_all("--add", &values, &mut errors);
        assert_eq!(got.len(), 2);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].culprit, "--add");
    }
}
