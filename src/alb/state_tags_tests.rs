//! Unit tests for the run record's tag encoding, its heartbeat, and the
//! replacement of a leftover record.

use super::*;
use crate::alb::heartbeat::BEAT;

fn record(original: Forward, registered: Vec<Target>) -> RunRecord {
    RunRecord {
        run_id: "r-123".into(),
        strategy: "canary".into(),
        started: 1_700_000_000,
        generation: 0,
        step: "2/4".into(),
        green_arn: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/g".into(),
        original,
        registered,
        deregistered: None,
        rules: vec![],
        routes: vec![],
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
    let mut off = Forward::weighted(&[("arn:a", 1)]);
    off.stickiness.duration_seconds = Some(900);
    let off = record(off, vec![]);
    assert_eq!(decode(&encode(&off)).unwrap(), Some(off));
}

#[test]
fn ipv6_targets_with_and_without_a_port_round_trip_through_the_record() {
    let v6 = |id: &str, port: Option<i32>| Target {
        id: id.into(),
        port,
        az: None,
    };
    let registered = vec![
        v6("fd00::1", Some(8080)),
        v6("fd00::1:8080", None),
        v6("2001:db8::7", Some(80)),
        parse_target("10.0.0.1:8080"),
    ];
    let r = record(Forward::single("arn:a"), registered);
    let tags = encode(&r);
    assert!(
        tags.values().all(|v| !v.contains('[') && !v.contains(']')),
        "tag values cannot hold brackets: {tags:?}"
    );
    assert_eq!(decode(&tags).unwrap(), Some(r));
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
    let few = encode(&record(
        Forward::single("arn:b"),
        vec![parse_target("10.0.0.1")],
    ));
    assert_eq!(
        few.len(),
        5,
        "a typical record stays well under the tag quota"
    );
}

#[test]
fn no_record_and_damaged_record() {
    assert_eq!(decode(&BTreeMap::new()).unwrap(), None);
    let mut tags = encode(&record(Forward::single("arn:b"), vec![]));
    tags.insert("alb-rollout:original".into(), "single sticky=off".into());
    assert!(decode(&tags)
        .unwrap_err()
        .contains("original route is unknown"));
    tags.insert("alb-rollout:original".into(), "odd".into());
    assert!(decode(&tags).unwrap_err().contains("alb-rollout:original"));
}

#[test]
fn a_replacing_record_drops_the_old_ones_extra_keys() {
    let long: Vec<WeightedGroup> = (0..5)
        .map(|i| WeightedGroup {
            target_group_arn: format!(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/group-{i}/0123456789abcdef"
            ),
            weight: 1,
        })
        .collect();
    let old = encode(&record(
        Forward {
            groups: long,
            stickiness: Stickiness::default(),
            shape: ForwardShape::Weighted,
        },
        vec![parse_target("10.0.0.1")],
    ));
    let mut user = old.clone();
    user.insert("team".into(), "payments".into());
    let new = encode(&record(Forward::single("arn:b"), vec![]));
    assert_eq!(
        stale_keys(&user, &new),
        vec![
            "alb-rollout:original.1",
            "alb-rollout:original.2",
            "alb-rollout:registered"
        ]
    );
    let mut merged = user.clone();
    merged.extend(new.clone());
    for k in stale_keys(&user, &new) {
        merged.remove(&k);
    }
    assert_eq!(decode(&merged).unwrap(), decode(&new).unwrap());
    assert_eq!(merged.get("team").map(String::as_str), Some("payments"));
}

#[test]
fn a_run_is_stale_after_two_intervals_without_a_heartbeat() {
    let beat = Heartbeat {
        at: 1000,
        every: 30,
    };
    let mut tags = encode(&record(Forward::single("arn:b"), vec![]));
    let plain = decode(&tags).unwrap();
    tags.extend(beat.tag());
    assert_eq!(decode(&tags).unwrap(), plain, "the beat is not the record");
    assert_eq!(Heartbeat::read(&tags), Some(beat));
    assert!(record_keys(&tags).contains(&BEAT.to_string()));
    for (now, stale) in [(990, false), (1000, false), (1060, false), (1061, true)] {
        assert_eq!(beat.stale(now), stale, "at {now}");
    }
    assert_eq!(beat.age(990), 0);
    tags.insert(BEAT.into(), "garbage".into());
    assert_eq!(Heartbeat::read(&tags), None);
}

#[test]
fn parses_target_forms() {
    assert_eq!(
        parse_target("10.0.0.1:80"),
        Target {
            id: "10.0.0.1".into(),
            port: Some(80),
            az: None,
        }
    );
    assert_eq!(parse_target("i-0abc").port, None);
    let lambda = "arn:aws:lambda:us-east-1:1:function:f";
    assert_eq!(
        parse_target(lambda),
        Target {
            id: lambda.into(),
            port: None,
            az: None,
        }
    );
}

#[test]
fn deregistered_targets_round_trip_with_their_group() {
    let mut r = record(Forward::single("arn:blue"), vec![]);
    // A full blue of instances, listed in no particular order.
    let mut many: Vec<Target> = (0..1000u64)
        .map(|i| {
            parse_target(&format!(
                "i-0{:016x}",
                i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 4
            ))
        })
        .collect();
    many.reverse();
    r.deregistered = Some(Deregistered {
        group: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/b".into(),
        targets: many,
    });
    let tags = encode(&r);
    assert!(
        tags.contains_key("alb-rollout:deregistered-set.1"),
        "chunked"
    );
    assert!(tags.len() < 50, "fits: {}", tags.len());
    let back = decode(&tags).unwrap().unwrap();
    let mut want = r.clone();
    want.deregistered.as_mut().unwrap().targets.sort();
    assert_eq!(back, want);
    // The update a run writes before each deregistration is the same tags.
    let d = r.deregistered.as_ref().unwrap();
    assert!(deregistered_tags(&r, d)
        .iter()
        .all(|(k, v)| tags.get(k) == Some(v)));
    r.deregistered = None;
    assert_eq!(decode(&encode(&r)).unwrap().unwrap().deregistered, None);
}

#[test]
fn a_record_of_an_earlier_version_still_reads_its_deregistered_words() {
    let mut tags = encode(&record(Forward::single("arn:blue"), vec![]));
    tags.insert(
        "alb-rollout:deregistered".into(),
        "arn:blue 10.0.0.1:80 10.0.0.2:80".into(),
    );
    let d = decode(&tags).unwrap().unwrap().deregistered.unwrap();
    assert_eq!(d.group, "arn:blue");
    assert_eq!(d.targets.len(), 2);
}

#[test]
fn a_torn_deregistered_set_is_a_damaged_record_and_stale_chunks_are_found() {
    let d = Deregistered {
        group: "arn:blue".into(),
        targets: (0..400u64)
            .map(|i| {
                parse_target(&format!(
                    "i-0{:016x}",
                    i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 4
                ))
            })
            .collect(),
    };
    let rec = record(Forward::single("arn:blue"), vec![]);
    let mut tags = encode(&rec);
    tags.extend(deregistered_tags(&rec, &d));
    tags.remove("alb-rollout:deregistered-set.1");
    assert!(decode(&tags).unwrap_err().contains("deregistered-set"));
    let small = deregistered_tags(
        &rec,
        &Deregistered {
            group: "arn:blue".into(),
            targets: d.targets[..1].to_vec(),
        },
    );
    let keys: Vec<String> = deregistered_tags(&rec, &d).into_keys().collect();
    let stale = stale_chunks(&keys, &small);
    assert!(
        !stale.is_empty()
            && stale
                .iter()
                .all(|k| k.starts_with("alb-rollout:deregistered-set."))
    );
}

#[test]
fn a_record_torn_between_its_addtags_and_removetags_still_decodes() {
    let many: Vec<Target> = (0..400u64)
        .map(|i| {
            parse_target(&format!(
                "i-0{:016x}",
                i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 4
            ))
        })
        .collect();
    let mut rec = record(Forward::single("arn:blue"), vec![]);
    let mut tags = encode(&rec);
    tags.extend(deregistered_tags(
        &rec,
        &Deregistered {
            group: "arn:blue".into(),
            targets: many,
        },
    ));
    // A rewrite to a shorter set (one AddTags: head and chunks), killed
    // before the RemoveTags of the longer set's extra chunks.
    rec.generation = 1;
    let mut few = vec![parse_target("192.168.9.4:80")];
    few[0].az = Some("all".into());
    tags.extend(deregistered_tags(
        &rec,
        &Deregistered {
            group: "arn:blue".into(),
            targets: few.clone(),
        },
    ));
    assert!(
        tags.contains_key("alb-rollout:deregistered-set.1"),
        "stale chunk left"
    );
    let back = decode(&tags).unwrap().unwrap();
    assert_eq!(back.generation, 1);
    let d = back.deregistered.unwrap();
    assert_eq!(d.targets, few);
    assert_eq!(d.targets[0].az.as_deref(), Some("all"), "the zone is kept");
}

#[test]
fn a_multi_route_record_names_the_other_routes_in_valid_tag_values() {
    let l2 = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/other/2/l2";
    let rule = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/demo/1/l1/r1";
    let mut r = record(Forward::single("arn:blue"), vec![]);
    r.routes = vec![
        RouteRef::new(l2, None),
        RouteRef::new(
            "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/demo/1/l1",
            Some(rule),
        ),
    ];
    let tags = encode(&r);
    for v in tags.values() {
        assert!(v.len() <= 256, "{v}");
        assert!(!v.contains('|'), "{v}");
    }
    assert_eq!(decode(&tags).unwrap(), Some(r));
}
