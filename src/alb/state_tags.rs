//! The run record: what a run must remember to be undone after a crash,
//! stored as tags on the listener (or rule) it changes.
//!
//! ELBv2 tag values allow only letters, digits, spaces and `_ . : / = + - @`
//! and at most 256 characters, so the record is a set of small plain-text
//! tags rather than one JSON blob.

use super::model::*;
use std::collections::BTreeMap;

pub const PREFIX: &str = "alb-rollout:";
const RUN_ID: &str = "alb-rollout:run-id";
const STRATEGY: &str = "alb-rollout:strategy";
const STARTED: &str = "alb-rollout:started";
const STEP: &str = "alb-rollout:step";
const GREEN: &str = "alb-rollout:green";
const SHAPE: &str = "alb-rollout:original-shape";
const STICKY: &str = "alb-rollout:original-stickiness";
const GROUP: &str = "alb-rollout:original-group.";
const REGISTERED: &str = "alb-rollout:registered.";
const MAX_VALUE: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub run_id: String,
    pub strategy: String,
    /// Unix seconds when the run recorded itself.
    pub started: u64,
    pub step: String,
    pub green_arn: String,
    /// The route exactly as it was before the run.
    pub original: Forward,
    /// Targets the run registered in green, to deregister on rollback.
    pub registered: Vec<Target>,
}

pub fn step_tag(step: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(STEP.to_string(), step.to_string())])
}

pub fn encode(r: &RunRecord) -> BTreeMap<String, String> {
    let mut t = BTreeMap::new();
    t.insert(RUN_ID.into(), r.run_id.clone());
    t.insert(STRATEGY.into(), r.strategy.clone());
    t.insert(STARTED.into(), r.started.to_string());
    t.insert(STEP.into(), r.step.clone());
    t.insert(GREEN.into(), r.green_arn.clone());
    let shape = match r.original.shape {
        ForwardShape::Single => "single",
        ForwardShape::Weighted => "weighted",
    };
    t.insert(SHAPE.into(), shape.into());
    let sticky = match (
        r.original.stickiness.enabled,
        r.original.stickiness.duration_seconds,
    ) {
        (true, Some(d)) => format!("on {d}"),
        (true, None) => "on".into(),
        (false, _) => "off".into(),
    };
    t.insert(STICKY.into(), sticky);
    for (i, g) in r.original.groups.iter().enumerate() {
        t.insert(
            format!("{GROUP}{i}"),
            format!("{} {}", g.target_group_arn, g.weight),
        );
    }
    let ids: Vec<String> = r.registered.iter().map(Target::to_string).collect();
    for (i, chunk) in chunk_words(&ids, MAX_VALUE).into_iter().enumerate() {
        t.insert(format!("{REGISTERED}{i}"), chunk);
    }
    t
}

/// Pack words into space-separated values of at most `max` characters.
fn chunk_words(words: &[String], max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words {
        match out.last_mut() {
            Some(cur) if cur.len() + 1 + w.len() <= max => {
                cur.push(' ');
                cur.push_str(w);
            }
            _ => out.push(w.clone()),
        }
    }
    out
}

/// All record keys present in `tags`, for removal at the end of a run.
pub fn record_keys(tags: &BTreeMap<String, String>) -> Vec<String> {
    tags.keys()
        .filter(|k| k.starts_with(PREFIX))
        .cloned()
        .collect()
}

/// Read a record back. `Ok(None)` means no run is recorded; `Err` names the
/// tag that is damaged.
pub fn decode(tags: &BTreeMap<String, String>) -> Result<Option<RunRecord>, String> {
    let Some(run_id) = tags.get(RUN_ID) else {
        return Ok(None);
    };
    let get = |k: &str| {
        tags.get(k)
            .cloned()
            .ok_or_else(|| format!("tag {k} is missing"))
    };
    let shape = match get(SHAPE)?.as_str() {
        "single" => ForwardShape::Single,
        "weighted" => ForwardShape::Weighted,
        other => return Err(format!("tag {SHAPE} has unknown value {other:?}")),
    };
    let sticky = get(STICKY)?;
    let stickiness = match sticky.split_once(' ') {
        _ if sticky == "off" => Stickiness::default(),
        _ if sticky == "on" => Stickiness {
            enabled: true,
            duration_seconds: None,
        },
        Some(("on", d)) => Stickiness {
            enabled: true,
            duration_seconds: Some(
                d.parse()
                    .map_err(|_| format!("tag {STICKY} has bad duration {d:?}"))?,
            ),
        },
        _ => return Err(format!("tag {STICKY} has unknown value {sticky:?}")),
    };
    let groups = indexed(tags, GROUP)
        .map(|(k, v)| {
            let (arn, w) = v
                .rsplit_once(' ')
                .ok_or_else(|| format!("tag {k} is not `ARN WEIGHT`"))?;
            let weight = w
                .parse()
                .map_err(|_| format!("tag {k} has bad weight {w:?}"))?;
            Ok(WeightedGroup {
                target_group_arn: arn.to_string(),
                weight,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if groups.is_empty() {
        return Err(format!("no {GROUP}N tags: the original route is unknown"));
    }
    let registered = indexed(tags, REGISTERED)
        .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .map(|w| parse_target(&w))
        .collect();
    Ok(Some(RunRecord {
        run_id: run_id.clone(),
        strategy: get(STRATEGY)?,
        started: get(STARTED)?.parse().unwrap_or(0),
        step: tags.get(STEP).cloned().unwrap_or_default(),
        green_arn: get(GREEN)?,
        original: Forward {
            groups,
            stickiness,
            shape,
        },
        registered,
    }))
}

/// Tags `PREFIX.N` in numeric order of N.
fn indexed<'a>(
    tags: &'a BTreeMap<String, String>,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a String, &'a String)> {
    let mut v: Vec<(usize, (&String, &String))> = tags
        .iter()
        .filter_map(|(k, val)| Some((k.strip_prefix(prefix)?.parse().ok()?, (k, val))))
        .collect();
    v.sort_by_key(|(i, _)| *i);
    v.into_iter().map(|(_, kv)| kv)
}

/// `i-0abc`, `10.0.0.1`, `10.0.0.1:8080`, or a Lambda ARN (which has colons
/// but no port).
pub fn parse_target(s: &str) -> Target {
    if !s.starts_with("arn:") {
        if let Some((id, port)) = s.rsplit_once(':') {
            if let Ok(p) = port.parse() {
                if !id.contains(':') {
                    return Target {
                        id: id.into(),
                        port: Some(p),
                    };
                }
            }
        }
    }
    Target {
        id: s.into(),
        port: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(original: Forward, registered: Vec<Target>) -> RunRecord {
        RunRecord {
            run_id: "r-123".into(),
            strategy: "canary".into(),
            started: 1_700_000_000,
            step: "2/4".into(),
            green_arn: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/g".into(),
            original,
            registered,
        }
    }

    #[test]
    fn round_trips_single_and_weighted() {
        let single = record(
            Forward::single("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/b"),
            vec![],
        );
        assert_eq!(decode(&encode(&single)).unwrap(), Some(single));
        let weighted = record(
            Forward {
                groups: vec![
                    WeightedGroup {
                        target_group_arn: "arn:a".into(),
                        weight: 700,
                    },
                    WeightedGroup {
                        target_group_arn: "arn:b".into(),
                        weight: 0,
                    },
                ],
                stickiness: Stickiness {
                    enabled: true,
                    duration_seconds: Some(600),
                },
                shape: ForwardShape::Weighted,
            },
            vec![parse_target("10.0.0.1:8080"), parse_target("i-0abc")],
        );
        assert_eq!(decode(&encode(&weighted)).unwrap(), Some(weighted));
    }

    #[test]
    fn values_fit_the_tag_limits() {
        let many: Vec<Target> = (0..200)
            .map(|i| parse_target(&format!("10.0.{}.{}:8080", i / 250, i % 250)))
            .collect();
        let r = record(Forward::single("arn:b"), many.clone());
        let tags = encode(&r);
        let allowed = |c: char| c.is_alphanumeric() || " _.:/=+-@".contains(c);
        for (k, v) in &tags {
            assert!(v.len() <= MAX_VALUE, "{k} too long");
            assert!(v.chars().all(allowed), "{k} has a forbidden character: {v}");
        }
        assert_eq!(decode(&tags).unwrap().unwrap().registered, many);
    }

    #[test]
    fn no_record_and_damaged_record() {
        assert_eq!(decode(&BTreeMap::new()).unwrap(), None);
        let mut tags = encode(&record(Forward::single("arn:b"), vec![]));
        tags.remove("alb-rollout:original-group.0");
        assert!(decode(&tags)
            .unwrap_err()
            .contains("original route is unknown"));
        tags.insert("alb-rollout:original-shape".into(), "odd".into());
        assert!(decode(&tags)
            .unwrap_err()
            .contains("alb-rollout:original-shape"));
    }

    #[test]
    fn parses_target_forms() {
        assert_eq!(
            parse_target("10.0.0.1:80"),
            Target {
                id: "10.0.0.1".into(),
                port: Some(80)
            }
        );
        assert_eq!(parse_target("i-0abc").port, None);
        let lambda = "arn:aws:lambda:us-east-1:1:function:f";
        assert_eq!(
            parse_target(lambda),
            Target {
                id: lambda.into(),
                port: None
            }
        );
    }
}
