//! One ALB access-log line, parsed as AWS documents the format: fields
//! separated by spaces, some quoted (a quoted field keeps its spaces; a
//! `"`, `\`, control or non-ASCII byte in it is written `\xHH`, and a
//! plain backslash escape is read too), `-` for a missing value, `-1`
//! for a time the load balancer could not measure (a target that did not
//! answer). Fields AWS appends after the ones known here are ignored, as
//! AWS asks. A line that does not parse is a counted reason, never fatal.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The fields the replay needs, by their place in AWS's list.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// `http`, `https`, `h2`, `grpcs`, `ws`, `wss`.
    pub kind: String,
    pub time: SystemTime,
    /// `app/NAME/ID`: the load balancer's resource ID.
    pub elb: String,
    /// The target's time in seconds; `None` for `-1` (no answer).
    pub target_processing_time: Option<f64>,
    pub elb_status: Option<u16>,
    pub target_status: Option<u16>,
    pub method: String,
    /// `http://HOST:PORT/PATH?QUERY` as the client asked for it.
    pub url: String,
    pub user_agent: Option<String>,
    pub target_group_arn: Option<String>,
    /// 0 for the default action; `None` for `-` (no rule matched).
    pub matched_rule_priority: Option<u32>,
}

impl Entry {
    /// What blue answered: the target's status, or the load balancer's
    /// when the target gave none.
    pub fn blue_status(&self) -> Option<u16> {
        self.target_status.or(self.elb_status)
    }
}

/// Why a line was skipped, for the report's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Malformed {
    /// An opening quote with no closing one.
    Unterminated,
    /// A closing quote not followed by a space: a quote is missing.
    StrayQuote,
    /// Fewer fields than AWS writes.
    Truncated,
    /// A field with a value its type cannot have.
    BadField(&'static str),
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Malformed::Unterminated => f.write_str("unterminated quoted field"),
            Malformed::StrayQuote => f.write_str("stray quote"),
            Malformed::Truncated => f.write_str("truncated line"),
            Malformed::BadField(name) => write!(f, "bad {name}"),
        }
    }
}

/// Fields up to `matched_rule_priority` (the 21st) must be there.
const MIN_FIELDS: usize = 21;

/// The byte of two hex digits.
fn hex_byte(hi: Option<char>, lo: Option<char>) -> Option<u8> {
    let d = |c: Option<char>| c?.to_digit(16);
    Some((d(hi)? * 16 + d(lo)?) as u8)
}

/// One quoted field after its opening quote, up to its closing one.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, Malformed> {
    let mut bytes = Vec::new();
    let push = |c: char, bytes: &mut Vec<u8>| {
        let mut b = [0; 4];
        bytes.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    };
    loop {
        match chars.next() {
            None => return Err(Malformed::Unterminated),
            Some('\\') => match chars.next() {
                Some('x') => {
                    let (hi, lo) = (chars.next(), chars.next());
                    bytes.push(hex_byte(hi, lo).ok_or(Malformed::BadField("escape"))?);
                }
                Some(c) => push(c, &mut bytes),
                None => return Err(Malformed::Unterminated),
            },
            Some('"') if matches!(chars.peek(), None | Some(' ')) => {
                return Ok(String::from_utf8_lossy(&bytes).into_owned())
            }
            Some('"') => return Err(Malformed::StrayQuote),
            Some(c) => push(c, &mut bytes),
        }
    }
}

/// Split a line into fields, unquoting quoted ones.
pub fn fields(line: &str) -> Result<Vec<String>, Malformed> {
    let mut out = Vec::new();
    let mut chars = line.trim_end_matches(['\r', '\n']).chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let Some(&c) = chars.peek() else {
            return Ok(out);
        };
        if c == '"' {
            chars.next();
            out.push(quoted(&mut chars)?);
            continue;
        }
        let mut field = String::new();
        while let Some(&c) = chars.peek() {
            if c == ' ' {
                break;
            }
            field.push(c);
            chars.next();
        }
        out.push(field);
    }
}

fn opt(v: &str) -> Option<&str> {
    (v != "-").then_some(v)
}

fn status(v: &str, name: &'static str) -> Result<Option<u16>, Malformed> {
    match opt(v) {
        None => Ok(None),
        Some(s) => match s.parse::<u16>() {
            Ok(n) if (100..=599).contains(&n) => Ok(Some(n)),
            _ => Err(Malformed::BadField(name)),
        },
    }
}

fn seconds(v: &str, name: &'static str) -> Result<Option<f64>, Malformed> {
    match v {
        "-1" | "-" => Ok(None),
        s => match s.parse::<f64>() {
            Ok(f) if f.is_finite() && f >= 0.0 => Ok(Some(f)),
            _ => Err(Malformed::BadField(name)),
        },
    }
}

/// `2026-12-02T18:05:01.123456Z` as a time.
pub fn parse_time(s: &str) -> Option<SystemTime> {
    let (date, rest) = s.split_once('T')?;
    let rest = rest.strip_suffix('Z')?;
    let mut d = date.splitn(3, '-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let mut t = hms.splitn(3, ':').map(|x| x.parse::<u64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let micros = match frac {
        "" => 0,
        f if f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{f:0<6}")[..6].parse::<u64>().ok()?
        }
        _ => return None,
    };
    let days = u64::try_from(days_from_civil(y, m, day)).ok()?;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros))
}

/// A time as the log writes it (`2026-12-02T18:05:01.123456Z`).
pub fn format_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (y, m, day) = super::keys::civil(t);
    let s = d.as_secs() % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_micros()
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One line of an access log.
pub fn parse(line: &str) -> Result<Entry, Malformed> {
    let f = fields(line)?;
    if f.len() < MIN_FIELDS {
        return Err(Malformed::Truncated);
    }
    let time = parse_time(&f[1]).ok_or(Malformed::BadField("time"))?;
    let mut req = f[12].splitn(3, ' ');
    let (method, url) = match (req.next(), req.next()) {
        (Some(m), Some(u)) if !m.is_empty() && u.contains("://") => (m, u),
        _ => return Err(Malformed::BadField("request")),
    };
    let priority = match opt(&f[20]) {
        None => None,
        Some(p) => Some(
            p.parse()
                .map_err(|_| Malformed::BadField("matched_rule_priority"))?,
        ),
    };
    Ok(Entry {
        kind: f[0].clone(),
        time,
        elb: f[2].clone(),
        target_processing_time: seconds(&f[6], "target_processing_time")?,
        elb_status: status(&f[8], "elb_status_code")?,
        target_status: status(&f[9], "target_status_code")?,
        method: method.to_string(),
        url: url.to_string(),
        user_agent: opt(&f[13]).map(str::to_string),
        target_group_arn: match opt(&f[16]) {
            Some(a) if !a.starts_with("arn:") => {
                return Err(Malformed::BadField("target_group_arn"))
            }
            a => a.map(str::to_string),
        },
        matched_rule_priority: priority,
    })
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;
