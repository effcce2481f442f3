//! The per-field checks of a `--match` value (header names and values, cookie
//! names and values, query keys and values, path patterns, CIDRs) against
//! what ALB accepts; `rules` owns the forms and the rule-wide limits. Each
//! error says what is wrong and what ALB allows; `rules` prefixes the
//! `--match` value.

use super::rules::{cookie_patterns, MAX_HEADER_NAME_LEN, MAX_VALUE_LEN};
use std::net::IpAddr;

/// Path characters besides letters, digits and wildcards (ALB console).
pub const ALLOWED_PATH: &str = "_-.$/~\"'@:+&";
/// Query-string characters besides letters, digits and wildcards (ALB console).
pub const ALLOWED_QUERY: &str = "_-.$/~\"'@:+&()!,;=";
/// RFC 7230 `tchar` besides letters and digits (minus `*`: ALB reads it as a
/// wildcard, and header names take none).
pub const TOKEN_EXTRA: &str = "!#$%&'+-.^_`|~";

pub(super) fn split_pair<'a>(rest: &'a str, form: &str) -> Result<(&'a str, &'a str), String> {
    match rest.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k, v)),
        _ => Err(format!(
            "expected {form} with both sides non-empty (ALB refuses an empty condition value)"
        )),
    }
}

pub(super) fn check_len(s: &str, what: &str, max: usize) -> Result<(), String> {
    if s.chars().count() > max {
        return Err(format!(
            "the {what} has {} characters; ALB allows at most {max}",
            s.chars().count()
        ));
    }
    Ok(())
}

pub(super) fn check_header_name(name: &str) -> Result<(), String> {
    check_len(name, "header name", MAX_HEADER_NAME_LEN)?;
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || TOKEN_EXTRA.contains(*c)))
    {
        return Err(format!(
            "header name {name:?} has {bad:?}; a header name is letters, digits and \
             {TOKEN_EXTRA} (RFC 7230 token, no wildcards)"
        ));
    }
    if name.eq_ignore_ascii_case("host") {
        return Err("ALB does not match Host with an http-header condition; \
                    alb-rollout has no host match, so route by another header"
            .to_string());
    }
    Ok(())
}

pub(super) fn check_header_value(value: &str, what: &str) -> Result<(), String> {
    check_len(value, what, MAX_VALUE_LEN)?;
    if let Some(bad) = value.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(format!(
            "the {what} has {bad:?}; ALB rules match visible ASCII and spaces only"
        ));
    }
    if value.trim() != value {
        // HTTP strips whitespace around a header value, so this never matches.
        return Err(format!(
            "the {what} starts or ends with a space, which no request header carries; remove it"
        ));
    }
    Ok(())
}

pub(super) fn check_cookie(name: &str, value: &str) -> Result<(), String> {
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || TOKEN_EXTRA.contains(*c)))
    {
        return Err(format!(
            "cookie name {name:?} has {bad:?}; a cookie name is letters, digits and {TOKEN_EXTRA}"
        ));
    }
    // RFC 6265 cookie-octet, minus the wildcards (ALB would read them as such).
    let octet = |c: char| c.is_ascii_graphic() && !"\",;\\*?".contains(c);
    if let Some(bad) = value.chars().find(|c| !octet(*c)) {
        return Err(format!(
            "cookie value {value:?} has {bad:?}; a cookie value has no spaces, quotes, commas, \
             semicolons or backslashes, and * or ? would be wildcards (for a raw pattern write \
             header:Cookie=PATTERN)"
        ));
    }
    // The longer pattern `*; name=value*` is the one that must fit.
    let longest = cookie_patterns(name, value).pop().unwrap_or_default();
    check_len(
        &longest,
        "cookie pattern (\"*; NAME=VALUE*\")",
        MAX_VALUE_LEN,
    )
}

pub(super) fn check_query(s: &str, what: &str) -> Result<(), String> {
    check_len(s, what, MAX_VALUE_LEN)?;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let ok = c.is_ascii_alphanumeric() || ALLOWED_QUERY.contains(c) || c == '*' || c == '?';
        if c == '\\' && matches!(chars.peek(), Some('*' | '?')) {
            chars.next();
            continue;
        }
        if !ok {
            return Err(format!(
                "the {what} {s:?} has {c:?}; ALB allows letters, digits, {ALLOWED_QUERY}, the \
                 wildcards * and ?, and \\* or \\? for a literal one (percent-encode anything else)"
            ));
        }
    }
    Ok(())
}

pub(super) fn check_path(p: &str) -> Result<(), String> {
    if !p.starts_with('/') && !p.starts_with('*') {
        return Err(format!(
            "path pattern {p:?} must start with / (or a wildcard), e.g. path:/beta/*"
        ));
    }
    check_len(p, "path pattern", MAX_VALUE_LEN)?;
    let ok =
        |c: char| c.is_ascii_alphanumeric() || ALLOWED_PATH.contains(c) || c == '*' || c == '?';
    if let Some(bad) = p.chars().find(|c| !ok(*c)) {
        return Err(format!(
            "path pattern {p:?} has {bad:?}; ALB allows letters, digits, {ALLOWED_PATH} and the \
             wildcards * and ? (percent-encode anything else)"
        ));
    }
    Ok(())
}

/// A CIDR in canonical form; a bare address means that one host (/32, /128).
/// Host bits must be zero so that what is sent is exactly what is meant.
pub(super) fn parse_cidr(s: &str) -> Result<String, String> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| {
        format!("{addr:?} is not an IPv4 or IPv6 address; write source-ip:10.0.0.0/8 or source-ip:2001:db8::/32")
    })?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u32 = match len {
        None => max,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if n <= max => n,
            _ => {
                return Err(format!(
                    "prefix length {l:?} must be a number from 0 to {max}"
                ))
            }
        },
    };
    let network = mask(ip, len);
    if network != ip {
        return Err(format!(
            "{s} has host bits set; write source-ip:{network}/{len} (or the address alone for one host)"
        ));
    }
    Ok(format!("{ip}/{len}"))
}

pub(super) fn mask(ip: IpAddr, len: u32) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            IpAddr::V6((bits & m).into())
        }
    }
}
