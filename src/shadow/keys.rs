//! Where AWS writes a load balancer's access logs (pure): the key layout
//! `PREFIX/AWSLogs/ACCOUNT/elasticloadbalancing/REGION/YYYY/MM/DD/
//! ACCOUNT_elasticloadbalancing_REGION_app.NAME.ID_YYYYMMDDTHHMMZ_IP_RANDOM.log.gz`
//! (the time is the end of the object's interval, 5 minutes by default).
//! Only the days covering the window are listed, each narrowed to this
//! load balancer's objects, and objects that ended before the window are
//! skipped without being read.

use super::log::days_from_civil;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A load balancer's log location, from its ARN and the bucket's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPlace {
    pub prefix: String,
    pub account: String,
    pub region: String,
    /// `app/NAME/ID`.
    pub elb: String,
}

impl LogPlace {
    /// From `arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID`.
    pub fn new(lb_arn: &str, prefix: &str) -> Option<LogPlace> {
        let parts: Vec<&str> = lb_arn.splitn(6, ':').collect();
        let [_, _, _, region, account, resource] = parts[..] else {
            return None;
        };
        let elb = resource.strip_prefix("loadbalancer/")?;
        (elb.starts_with("app/") && elb.split('/').count() == 3).then(|| LogPlace {
            prefix: prefix.trim_matches('/').to_string(),
            account: account.to_string(),
            region: region.to_string(),
            elb: elb.to_string(),
        })
    }

    /// The list prefix of one day's objects of this load balancer.
    pub fn day_prefix(&self, (y, m, d): (i64, u32, u32)) -> String {
        let head = match self.prefix.is_empty() {
            true => String::new(),
            false => format!("{}/", self.prefix),
        };
        let (a, r) = (&self.account, &self.region);
        format!(
            "{head}AWSLogs/{a}/elasticloadbalancing/{r}/{y:04}/{m:02}/{d:02}/{a}_elasticloadbalancing_{r}_{}_",
            self.elb.replace('/', ".")
        )
    }
}

/// The UTC calendar date of a time.
pub fn civil(t: SystemTime) -> (i64, u32, u32) {
    let days = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64 / 86_400;
    // Inverse of days_from_civil (Howard Hinnant's civil_from_days).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// An object's interval may end up to this long after its last line.
const INTERVAL: Duration = Duration::from_secs(300);

/// The day prefixes whose objects may hold lines in [since, until].
pub fn day_prefixes(p: &LogPlace, since: SystemTime, until: SystemTime) -> Vec<String> {
    let mut days = vec![];
    let (mut t, end) = (since, until + INTERVAL);
    loop {
        let day = civil(t);
        if days.last() != Some(&day) {
            days.push(day);
        }
        if t >= end {
            break;
        }
        t = (t + Duration::from_secs(86_400)).min(end);
    }
    days.into_iter().map(|d| p.day_prefix(d)).collect()
}

/// The end time an object's name gives (`..._20261202T1805Z_...`).
pub fn end_time(key: &str) -> Option<SystemTime> {
    let name = key.rsplit('/').next()?;
    let stamp = name
        .split('_')
        .find(|s| s.len() == 14 && s.as_bytes()[8] == b'T' && s.ends_with('Z'))?;
    let n = |r: std::ops::Range<usize>| stamp.get(r)?.parse::<i64>().ok();
    let (y, m, d, hh, mm) = (n(0..4)?, n(4..6)?, n(6..8)?, n(9..11)?, n(11..13)?);
    let secs = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Whether the object may hold lines at or after `since`; a key whose
/// name has no time is read (AWS's test file is no log and is skipped).
pub fn worth_reading(key: &str, since: SystemTime) -> bool {
    key.ends_with(".log.gz") && end_time(key).is_none_or(|end| end >= since)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shadow::log::parse_time;

    const ARN: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";

    #[test]
    fn day_prefixes_cover_the_window_and_this_load_balancer() {
        let p = LogPlace::new(ARN, "/logs/").unwrap();
        let since = parse_time("2026-12-31T23:50:00Z").unwrap();
        let until = parse_time("2027-01-01T00:10:00Z").unwrap();
        let v = day_prefixes(&p, since, until);
        assert_eq!(v, vec![
            "logs/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/12/31/123456789012_elasticloadbalancing_us-east-1_app.web.50dc6c495c0c9188_".to_string(),
            "logs/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2027/01/01/123456789012_elasticloadbalancing_us-east-1_app.web.50dc6c495c0c9188_".to_string(),
        ]);
        let bare = LogPlace::new(ARN, "").unwrap();
        let one = day_prefixes(&bare, until, until);
        assert_eq!(one.len(), 1);
        assert!(one[0].starts_with("AWSLogs/123456789012/"));
        assert_eq!(
            LogPlace::new(
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/x/y",
                ""
            ),
            None
        );
    }

    #[test]
    fn objects_that_ended_before_the_window_are_skipped() {
        let key = "p/AWSLogs/1/elasticloadbalancing/us-east-1/2026/12/02/1_elasticloadbalancing_us-east-1_app.web.5_20261202T1805Z_127.0.0.1_abc.log.gz";
        assert_eq!(end_time(key), parse_time("2026-12-02T18:05:00Z"));
        assert!(worth_reading(
            key,
            parse_time("2026-12-02T18:04:00Z").unwrap()
        ));
        assert!(!worth_reading(
            key,
            parse_time("2026-12-02T18:06:00Z").unwrap()
        ));
        assert!(!worth_reading(
            "p/AWSLogs/1/ELBAccessLogTestFile",
            UNIX_EPOCH
        ));
    }

    #[test]
    fn dates_round_trip() {
        for t in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T10:00:00Z",
            "2100-03-01T00:00:00Z",
        ] {
            let at = parse_time(t).unwrap();
            let (y, m, d) = civil(at);
            assert_eq!(format!("{y:04}-{m:02}-{d:02}"), t[..10]);
        }
    }
}
