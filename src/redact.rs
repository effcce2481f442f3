//! Masking secrets in URLs before they leave the process (messages, logs,
//! JSON). Probe and Prometheus URLs may carry `user:pass@` or a token in the
//! query string, and reqwest's errors repeat the URL they failed on.
//!
//! The rule (docs/output.md, "Secrets"): the whole userinfo becomes `***`,
//! every query value becomes `***` (names are kept, so the shape stays
//! readable), and a fragment becomes `#***`. Every value rather than a list
//! of token names, because no list covers `?t=`, `?auth=`, `?code=` or a
//! percent-encoded name, and a query value is rarely what debugging needs.
//! Paths are kept: a secret in a path cannot be told apart from a route.
//!
//! Pure string work, no URL parser: malformed input (which is exactly what
//! ends up in error messages) must be masked too, never refused or panicked on.
//!
//! Secrets that are not in a URL (the OIDC client secret from
//! `ALB_ROLLOUT_OIDC_CLIENT_SECRET`) are registered once with `register` and
//! replaced wherever `text` sees them: the tool never formats one, and this
//! catches a dependency's message or debug line that might.

use std::sync::RwLock;

/// Secrets registered by `register`, masked by `text` wherever they appear.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Mask `secret` in everything `text` (and so every printed line, JSON
/// document and log line) shows from now on. Values under 4 characters are
/// not registered: masking them would garble ordinary words.
pub fn register(secret: &str) {
    if secret.len() < 4 {
        return;
    }
    if let Ok(mut s) = SECRETS.write() {
        if !s.iter().any(|x| x == secret) {
            s.push(secret.to_string());
        }
    }
}

fn mask_registered(s: String) -> String {
    let Ok(secrets) = SECRETS.read() else {
        return s;
    };
    secrets
        .iter()
        .fold(s, |acc, secret| acc.replace(secret.as_str(), MASK))
}

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// One URL, with or without a scheme (`user:pass@host/p?token=x`), masked.
/// Idempotent: masking a masked URL changes nothing.
pub fn url(s: &str) -> String {
    let (scheme, rest) = split_scheme(s);
    let (authority, tail) = masked_authority(rest);
    format!("{scheme}{authority}{}", masked_tail(tail))
}

/// Every `scheme://...` URL inside free text (e.g. a reqwest error chain),
/// and every registered secret, masked; the rest of the text is unchanged.
pub fn text(s: &str) -> String {
    mask_registered(urls_in_text(s))
}

fn urls_in_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let start = rest[..i]
            .rfind(|c: char| !is_scheme_char(c))
            .map_or(0, |p| {
                p + rest[p..].chars().next().map_or(1, char::len_utf8)
            });
        let len = rest[i..].find(ends_url).unwrap_or(rest.len() - i);
        let end = start + url_len(&rest[start..i + len]);
        out.push_str(&rest[..start]);
        out.push_str(&url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A writer that masks URLs in everything written through it, for the log
/// output: a dependency's log line may quote a probe or Prometheus URL.
/// Each write is masked on its own, so a caller must write whole lines (the
/// tracing formatter writes each event with one `write_all`).
pub struct MaskingWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let masked = text(&String::from_utf8_lossy(buf));
        self.0.write_all(masked.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn is_scheme_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')
}

/// Characters that end a URL in text. The url crate percent-encodes all of
/// them in the query, so a query value cannot be cut short by one.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '`' | '<' | '>' | '\\')
}

/// The URL's length without the punctuation that follows it in a sentence:
/// reqwest writes `for url (http://...): cause`, and a `)` closing a `(`
/// before the URL is not part of it. A query value really ending in `.` or
/// `)` loses only that character to the text; the rest is still masked.
fn url_len(u: &str) -> usize {
    let mut end = u.len();
    loop {
        let s = &u[..end];
        match s.chars().last() {
            Some('.' | ',' | ':' | ';') => end -= 1,
            Some(')') if s.matches(')').count() > s.matches('(').count() => end -= 1,
            _ => return end,
        }
    }
}

fn split_scheme(s: &str) -> (&str, &str) {
    match s.find("://") {
        Some(i) if s[..i].chars().all(is_scheme_char) => s.split_at(i + 3),
        _ => ("", s),
    }
}

/// The authority (`userinfo@host:port`) with the userinfo masked, and what
/// follows it.
fn masked_authority(rest: &str) -> (String, &str) {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (auth, tail) = rest.split_at(end);
    if let Some(at) = auth.rfind('@') {
        return (format!("{MASK}@{}", &auth[at + 1..]), tail);
    }
    // A password with a raw `/`, `?` or `#` ends the authority early and
    // leaves a "port" that is not a number; mask up to the last `@` then
    // (over-masking a malformed URL is fine, leaking its password is not).
    if port_is_bad(auth) {
        if let Some(at) = rest.rfind('@') {
            let (host, tail) = masked_authority(&rest[at + 1..]);
            return (format!("{MASK}@{host}"), tail);
        }
    }
    (auth.to_string(), tail)
}

/// True when what follows the host is not `:digits` (or nothing).
fn port_is_bad(auth: &str) -> bool {
    let after_host = match auth.strip_prefix('[') {
        Some(r) => r.split_once(']').map_or("", |(_, p)| p),
        None => auth.find(':').map_or("", |i| &auth[i..]),
    };
    match after_host.strip_prefix(':') {
        Some(port) => !port.chars().all(|c| c.is_ascii_digit()),
        None => !after_host.is_empty(),
    }
}

/// Path kept; query values and the fragment masked.
fn masked_tail(tail: &str) -> String {
    let (before, fragment) = match tail.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (tail, None),
    };
    let mut out = match before.split_once('?') {
        Some((path, query)) => format!("{path}?{}", masked_query(query)),
        None => before.to_string(),
    };
    match fragment {
        Some("") => out.push('#'),
        Some(_) => out.push_str(&format!("#{MASK}")),
        None => {}
    }
    out
}

fn masked_query(q: &str) -> String {
    q.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() => format!("{name}={MASK}"),
            Some(_) => pair.to_string(),
            // A bare item (`?SECRET`) may be a token itself.
            None if pair.is_empty() || pair == MASK => pair.to_string(),
            None => MASK.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
