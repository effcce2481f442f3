//! The Availability Zones of a recorded target set, beside its coded IDs
//! (`target_codec`, which keeps IDs and ports only). ELBv2 needs a target's
//! zone to register it again when its IP is outside the VPC (`all`, or a
//! zone of the VPC), so a record that lost it could not put it back.
//!
//! Coded as runs over the set in its sorted order (the order the codec
//! reads back): `COUNT*ZONE` words, `-` for a target without one (an
//! instance, an IP whose zone ELBv2 detects). IPs of one subnet are one
//! zone and sort together, so a group of a thousand IPs in three subnets
//! is a few words. Cut into values of at most 255 characters.

use super::model::Target;

const MAX_VALUE: usize = 255;
const NONE: &str = "-";

/// The zones of `sorted` as tag values; none when no target has a zone.
pub fn encode(sorted: &[Target]) -> Vec<String> {
    if sorted.iter().all(|t| t.az.is_none()) {
        return vec![];
    }
    let mut runs: Vec<(usize, &str)> = vec![];
    for t in sorted {
        let z = t.az.as_deref().unwrap_or(NONE);
        match runs.last_mut() {
            Some((n, last)) if *last == z => *n += 1,
            _ => runs.push((1, z)),
        }
    }
    let mut values: Vec<String> = vec![];
    for (n, z) in runs {
        let w = format!("{n}*{z}");
        match values.last_mut() {
            Some(v) if v.len() + 1 + w.len() <= MAX_VALUE => {
                v.push(' ');
                v.push_str(&w);
            }
            _ => values.push(w),
        }
    }
    values
}

/// Give `sorted` the zones of `values` (no values: no zones).
pub fn apply(sorted: &mut [Target], values: &[&String]) -> Result<(), String> {
    if values.is_empty() {
        return Ok(());
    }
    let mut zones: Vec<Option<String>> = vec![];
    for w in values.iter().flat_map(|v| v.split(' ')) {
        let (n, z) = w
            .split_once('*')
            .and_then(|(n, z)| Some((n.parse::<usize>().ok()?, z)))
            .ok_or_else(|| format!("{w:?} is not COUNT*ZONE"))?;
        let z = (z != NONE).then(|| z.to_string());
        zones.extend(std::iter::repeat_n(z, n));
    }
    if zones.len() != sorted.len() {
        return Err(format!(
            "the zones name {} targets, the set has {}",
            zones.len(),
            sorted.len()
        ));
    }
    for (t, z) in sorted.iter_mut().zip(zones) {
        t.az = z;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, az: Option<&str>) -> Target {
        Target {
            az: az.map(str::to_string),
            ..Target::new(id, Some(80))
        }
    }

    #[test]
    fn zones_round_trip_as_runs_and_a_set_without_zones_takes_no_tag() {
        let mut set = vec![
            t("10.0.1.1", Some("us-east-1a")),
            t("10.0.1.2", Some("us-east-1a")),
            t("10.0.2.1", None),
            t("192.168.9.4", Some("all")),
        ];
        set.sort();
        let values = encode(&set);
        assert_eq!(values, vec!["2*us-east-1a 1*- 1*all"]);
        let mut back: Vec<Target> = set.iter().map(|x| Target::new(&x.id, x.port)).collect();
        apply(&mut back, &values.iter().collect::<Vec<_>>()).unwrap();
        let zones = |v: &[Target]| v.iter().map(|x| x.az.clone()).collect::<Vec<_>>();
        assert_eq!(zones(&back), zones(&set));
        assert!(encode(&[t("i-1", None)]).is_empty());
        let short = ["1*all".to_string()];
        assert!(apply(&mut back, &short.iter().collect::<Vec<_>>()).is_err());
    }
}
