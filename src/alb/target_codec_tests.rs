//! Round trips, limits, damaged input and measured sizes of the target
//! record. Random cases use a fixed-seed PRNG so every run is the same.

use super::*;

/// SplitMix64: small, deterministic, good enough to spread test IDs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn t(id: &str, port: Option<i32>) -> Target {
    Target {
        id: id.to_string(),
        port,
        az: None,
    }
}

/// Encodes, checks every value against the ELBv2 limits, decodes, and
/// compares with the input as a set. Returns the number of tags.
fn round_trip(targets: &[Target]) -> usize {
    let values = encode(targets);
    assert!(!values.is_empty(), "even an empty group is recorded");
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.:/=+-@".contains(c);
    for v in &values {
        assert!(!v.is_empty() && v.chars().count() <= MAX_VALUE_CHARS, "{v}");
        assert!(v.chars().all(allowed), "forbidden character in {v}");
    }
    let mut want = targets.to_vec();
    want.sort();
    want.dedup();
    assert_eq!(decode(&values).unwrap(), want);
    values.len()
}

fn instance8(r: &mut Rng) -> String {
    format!("i-{:08x}", r.next() as u32)
}
/// Any 17 hex digits: 68 random bits, harder than AWS's own IDs.
fn instance17(r: &mut Rng) -> String {
    let top = u128::from(r.below(16)) << 64;
    format!("i-{:017x}", top | u128::from(r.next()))
}
/// As EC2 issues them: a leading `0`, then 16 random hex digits.
fn instance_aws(r: &mut Rng) -> String {
    format!("i-0{:016x}", r.next())
}
fn ipv4(r: &mut Rng) -> String {
    Ipv4Addr::from(r.next() as u32).to_string()
}
fn ipv6(r: &mut Rng) -> String {
    Ipv6Addr::from((u128::from(r.next()) << 64) | u128::from(r.next())).to_string()
}
fn lambda(r: &mut Rng) -> String {
    format!(
        "arn:aws:lambda:us-east-1:123456789012:function:fn-{}",
        r.below(1 << 20)
    )
}
fn alb(r: &mut Rng) -> String {
    format!(
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/a{}/{:016x}",
        r.below(1000),
        r.next()
    )
}

type Gen = fn(&mut Rng) -> String;
const GENERATORS: [(&str, Gen); 6] = [
    ("instance8", instance8),
    ("instance17", instance17),
    ("ipv4", ipv4),
    ("ipv6", ipv6),
    ("lambda", lambda),
    ("alb", alb),
];

#[test]
fn round_trips_0_1_2_and_1000_of_each_kind() {
    let mut r = Rng(1);
    for (name, gen) in GENERATORS {
        for n in [0, 1, 2, 1000] {
            let port = (name != "lambda").then_some(8080);
            let targets: Vec<Target> = (0..n).map(|_| t(&gen(&mut r), port)).collect();
            round_trip(&targets);
            let none: Vec<Target> = (0..n).map(|_| t(&gen(&mut r), None)).collect();
            round_trip(&none);
        }
    }
}

#[test]
fn round_trips_mixed_kinds_and_ports() {
    let mut r = Rng(2);
    let ports = [None, Some(1), Some(80), Some(443), Some(65535), Some(8080)];
    let targets: Vec<Target> = (0..600)
        .map(|i| {
            let (_, gen) = GENERATORS[i % GENERATORS.len()];
            t(&gen(&mut r), ports[r.below(ports.len() as u64) as usize])
        })
        .collect();
    round_trip(&targets);
    // The same ID on two ports is two targets; a repeat is one.
    let twice = [
        t("10.0.0.1", Some(80)),
        t("10.0.0.1", Some(81)),
        t("10.0.0.1", None),
        t("10.0.0.1", Some(80)),
        t("i-0123456789abcdef0", Some(80)),
        t("i-0123456789abcdef0", Some(80)),
    ];
    round_trip(&twice);
    assert_eq!(decode(&encode(&twice)).unwrap().len(), 4);
}

#[test]
fn order_and_duplicates_do_not_change_the_record() {
    let a = [
        t("10.0.0.2", Some(80)),
        t("10.0.0.1", Some(80)),
        t("i-0abc1234", None),
    ];
    let b = [a[2].clone(), a[0].clone(), a[1].clone(), a[0].clone()];
    assert_eq!(encode(&a), encode(&b));
}

#[test]
fn ids_not_in_canonical_form_round_trip_exactly() {
    let odd = [
        "i-0ABC1234",
        "i-0abc",
        "i-0123456789abcdef01",
        "i-",
        "::FFFF",
        "0:0:0:0:0:0:0:1",
        "2001:db8::1",
        "::ffff:10.0.0.1",
        "010.0.0.1",
        "10.0.0.1:80",
        "",
        "ünïcödé",
        "arn:aws:lambda:us-east-1:1:function:f",
    ];
    let mut targets: Vec<Target> = odd.iter().map(|id| t(id, Some(80))).collect();
    targets.push(t("10.0.0.9", Some(i32::MIN)));
    targets.push(t("10.0.0.9", Some(-1)));
    targets.push(t("10.0.0.9", Some(i32::MAX)));
    targets.push(t("10.0.0.9", Some(0)));
    round_trip(&targets);
}

#[test]
fn random_instance_ids_and_a_dense_subnet_and_adversarial_sets() {
    let mut r = Rng(3);
    let ids: Vec<Target> = (0..1000)
        .map(|_| t(&instance17(&mut r), Some(80)))
        .collect();
    round_trip(&ids);
    let slash16: Vec<Target> = (0..1000)
        .map(|_| {
            t(
                &format!("10.1.{}.{}", r.below(256), r.below(256)),
                Some(8080),
            )
        })
        .collect();
    round_trip(&slash16);
    let adversarial: Vec<Target> = (0..1000)
        .map(|_| t(&ipv4(&mut r), Some(r.below(65536) as i32)))
        .collect();
    round_trip(&adversarial);
    let mostly_one_port: Vec<Target> = (0..1000)
        .map(|i| t(&ipv4(&mut r), Some(if i % 10 == 0 { 9000 + i } else { 80 })))
        .collect();
    round_trip(&mostly_one_port);
}

fn slash22_one_port() -> Vec<Target> {
    (0..1000)
        .map(|i| t(&format!("10.0.{}.{}", 4 + i / 256, i % 256), Some(8080)))
        .collect()
}

/// The sizes the design is judged by (printed with `--nocapture`); the
/// bounds catch a regression in the format.
#[test]
fn measured_sizes_of_1000_targets() {
    let mut r = Rng(4);
    let random_ids: Vec<Target> = (0..1000).map(|_| t(&instance17(&mut r), None)).collect();
    let aws_ids: Vec<Target> = (0..1000)
        .map(|_| t(&instance_aws(&mut r), Some(80)))
        .collect();
    let random_ip_port: Vec<Target> = (0..1000)
        .map(|_| t(&ipv4(&mut r), Some(1 + r.below(65535) as i32)))
        .collect();
    let v6: Vec<Target> = (0..1000).map(|_| t(&ipv6(&mut r), Some(443))).collect();
    let subnet64 = (u128::from(r.next()) << 64) & !u128::from(u64::MAX);
    let v6_in_64: Vec<Target> = (0..1000)
        .map(|_| {
            t(
                &Ipv6Addr::from(subnet64 | u128::from(r.next())).to_string(),
                Some(443),
            )
        })
        .collect();
    let slash16: Vec<Target> = (0..1000)
        .map(|_| {
            t(
                &format!("10.1.{}.{}", r.below(256), r.below(256)),
                Some(8080),
            )
        })
        .collect();
    let cases = [
        ("1,000 IPv4 in a /22, one port", slash22_one_port(), 1),
        ("1,000 random IPv4 in a /16, one port", slash16, 6),
        ("1,000 random 17-hex instance IDs", random_ids, 40),
        ("1,000 random EC2 instance IDs (i-0...)", aws_ids, 40),
        ("1,000 random IPv4, random ports", random_ip_port, 27),
        ("1,000 random IPv6, one port", v6, 79),
        ("1,000 IPv6 in one /64, one port", v6_in_64, 40),
    ];
    for (name, targets, most) in cases {
        let chars: usize = encode(&targets).iter().map(String::len).sum();
        let tags = round_trip(&targets);
        println!("{name}: {tags} tags ({chars} characters)");
        assert!(tags <= most, "{name}: {tags} tags, expected at most {most}");
    }
}

#[test]
fn fit_check_counts_the_other_tags() {
    let targets = slash22_one_port();
    assert_eq!(check_fit(&targets, 49, "target group web"), Ok(1));
    let mut r = Rng(5);
    let ids: Vec<Target> = (0..1000).map(|_| t(&instance17(&mut r), None)).collect();
    let needed = tags_needed(&ids);
    assert_eq!(check_fit(&ids, 50 - needed, "target group web"), Ok(needed));
    let err = check_fit(&ids, 51 - needed, "target group web").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the record of 1,000 targets needs {needed} tags; target group web has {} other \
             tags; ELBv2 allows 50",
            51 - needed
        )
    );
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(1_234_567), "1,234,567");
}

#[test]
fn damaged_records_give_an_error_never_a_panic() {
    let mut r = Rng(6);
    let targets: Vec<Target> = (0..300).map(|_| t(&ipv4(&mut r), Some(80))).collect();
    let values = encode(&targets);
    let text: String = values.concat();
    let none: [&str; 0] = [];
    assert!(decode(&none).unwrap_err().0.contains("empty"));
    assert!(decode(&["2AAAA"]).unwrap_err().0.contains("format '2'"));
    assert!(decode(&["1AB CD"]).unwrap_err().0.contains("base64"));
    assert!(decode(&["1AA"]).unwrap_err().0.contains("too short"));
    for cut in 1..text.len() {
        assert!(decode(&[&text[..cut]]).is_err(), "cut at {cut}");
    }
    let mut missing = values.clone();
    missing.remove(1);
    let err = decode(&missing).unwrap_err().0;
    assert!(err.contains("missing"), "{err}");
    let mut swapped = values.clone();
    swapped.swap(0, 1);
    assert!(decode(&swapped).is_err());
    for i in 1..text.len() {
        let mut bytes = text.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(bytes).unwrap();
        assert!(decode(&[flipped]).is_err(), "flip at {i}");
    }
}

/// Bodies of random bytes with a valid checksum reach the section reader:
/// it must refuse or accept them, never panic or run away.
#[test]
fn random_bodies_past_the_checksum_never_panic() {
    let mut r = Rng(7);
    for round in 0..3000 {
        let len = r.below(if round < 1000 { 8 } else { 200 }) as usize;
        let mut body: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
        if round % 3 == 0 {
            // Mostly-zero bodies hit empty sections and long unary runs.
            body.iter_mut().for_each(|b| *b &= 0x81);
        }
        let sum = bits::checksum(&body);
        body.extend_from_slice(&sum);
        let _ = decode(&[format!("{VERSION}{}", bits::to_base64(&body))]);
    }
}

#[test]
fn base64_and_numbers_round_trip() {
    for len in 0..10 {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 200) as u8).collect();
        assert_eq!(bits::from_base64(&bits::to_base64(&bytes)).unwrap(), bytes);
    }
    assert!(bits::from_base64("A").is_err());
    let mut w = BitWriter::default();
    let nums = [0, 1, 2, 3, 1000, u128::MAX];
    for &n in &nums {
        w.put_num(n);
        w.put_rice(n, 5);
    }
    let bytes = w.into_bytes();
    let mut rd = bits::BitReader::new(&bytes);
    for &n in &nums {
        assert_eq!(rd.get_num().unwrap(), n);
        assert_eq!(rd.get_rice(5).unwrap(), n);
    }
}

/// Shared prefixes cost no input, so a crafted record could ask for
/// gigabytes of IDs from a few kilobytes: the reader stops at its cap.
#[test]
fn a_crafted_record_cannot_expand_without_bound() {
    let mut w = BitWriter::default();
    for _ in KINDS {
        w.put_num(0);
    }
    w.put_num(MAX_DECODED as u128);
    w.put_num(0);
    w.put_num(60_000);
    for _ in 0..60_000 {
        w.put(u128::from(b'a'), 8);
    }
    for _ in 1..MAX_DECODED {
        w.put_num(60_000);
        w.put_num(0);
    }
    let mut body = w.into_bytes();
    let sum = bits::checksum(&body);
    body.extend_from_slice(&sum);
    let err = decode(&[format!("{VERSION}{}", bits::to_base64(&body))]).unwrap_err();
    assert!(err.0.contains("add up to over"), "{err}");
}
