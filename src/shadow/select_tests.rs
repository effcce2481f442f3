use super::*;
use crate::shadow::log::parse;
use std::time::{Duration, UNIX_EPOCH};

const BLUE: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1";

fn line(method: &str, url: &str, tg: &str, prio: &str) -> String {
    format!(
        "http 2026-12-02T18:00:00.000000Z app/lb/abc 127.0.0.1:5000 127.0.0.1:80 0.000 0.004 0.000 200 200 1 2 \"{method} {url} HTTP/1.1\" \"ua x\" - - {tg} \"Root=1\" \"-\" \"-\" {prio} 2026-12-02T18:00:00.000000Z \"forward\" \"-\" \"-\" \"127.0.0.1:80\" \"200\" \"-\" \"-\""
    )
}

fn sel() -> Selection {
    let at = crate::shadow::log::parse_time("2026-12-02T18:00:00Z").unwrap();
    Selection {
        elb: "app/lb/abc".into(),
        port: 80,
        blue: BLUE.into(),
        priority: 0,
        since: at - Duration::from_secs(60),
        until: at + Duration::from_secs(60),
        methods: vec!["GET".into(), "HEAD".into()],
        sample_bp: 10_000,
    }
}

fn pick(s: &Selection, l: &str) -> Result<(), Skip> {
    select(s, &parse(l).unwrap(), l)
}

#[test]
fn only_what_blue_served_on_the_route() {
    let s = sel();
    assert_eq!(pick(&s, &line("GET", "http://h:80/a", BLUE, "0")), Ok(()));
    let other_port = line("GET", "http://h:8080/a", BLUE, "0");
    assert_eq!(pick(&s, &other_port), Err(Skip::NotBlueOnRoute));
    let other_group = line("GET", "http://h:80/a", "arn:x:targetgroup/green/2", "0");
    assert_eq!(pick(&s, &other_group), Err(Skip::NotBlueOnRoute));
    let other_rule = line("GET", "http://h:80/a", BLUE, "5");
    assert_eq!(pick(&s, &other_rule), Err(Skip::NotBlueOnRoute));
    let no_rule = line("GET", "http://h:80/a", BLUE, "-");
    assert_eq!(pick(&s, &no_rule), Err(Skip::NotBlueOnRoute));
    let other_lb = line("GET", "http://h:80/a", BLUE, "0").replace("app/lb/abc", "app/lb2/x");
    assert_eq!(pick(&s, &other_lb), Err(Skip::NotBlueOnRoute));
    let rule = Selection {
        priority: 5,
        ..sel()
    };
    assert_eq!(pick(&rule, &other_rule), Ok(()));
}

#[test]
fn the_window_methods_and_sample() {
    let mut s = sel();
    assert_eq!(
        pick(&s, &line("POST", "http://h:80/a", BLUE, "0")),
        Err(Skip::Method)
    );
    assert_eq!(pick(&s, &line("head", "http://h:80/a", BLUE, "0")), Ok(()));
    s.since = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
    assert_eq!(
        pick(&s, &line("GET", "http://h:80/a", BLUE, "0")),
        Err(Skip::OutsideWindow)
    );
    let lines: Vec<String> = (0..1000)
        .map(|i| line("GET", &format!("http://h:80/p{i}"), BLUE, "0"))
        .collect();
    let kept = |bp| lines.iter().filter(|l| sampled(l, bp)).count();
    assert_eq!(kept(10_000), 1000);
    assert_eq!(kept(0), 0);
    let quarter = kept(2_500);
    assert!((180..320).contains(&quarter), "{quarter}");
    assert_eq!(quarter, kept(2_500), "the same lines every time");
}

#[test]
fn credentials_in_the_query_are_dropped_unless_asked() {
    let l = line(
        "GET",
        "http://www.example.com:80/a/b?Authorization=Bearer%20planted-secret&x=1&access_token=t&X-Amz-Signature=s",
        BLUE,
        "0",
    );
    let e = parse(&l).unwrap();
    let r = replay(&e, false).unwrap();
    assert_eq!(r.target, "/a/b?x=1");
    assert_eq!(r.path, "/a/b");
    assert_eq!(r.host, "www.example.com");
    assert_eq!(r.user_agent.as_deref(), Some("ua x"));
    assert_eq!((r.blue_status, r.blue_seconds), (200, Some(0.004)));
    let all = replay(&e, true).unwrap();
    assert!(all.target.contains("Authorization=Bearer%20planted-secret"));
    let only = parse(&line("GET", "http://h:8080/?token=x", BLUE, "0")).unwrap();
    let r = replay(&only, false).unwrap();
    assert_eq!((r.target.as_str(), r.host.as_str()), ("/", "h:8080"));
}

#[test]
fn urls_split_into_their_parts() {
    let u = split_url("https://h.example:443/p/q?a=1").unwrap();
    assert_eq!(
        (u.scheme, u.host, u.port, u.path, u.query),
        ("https", "h.example", Some(443), "/p/q", Some("a=1"))
    );
    let bare = split_url("http://[::1]").unwrap();
    assert_eq!((bare.host, bare.port, bare.path), ("[::1]", None, "/"));
    assert_eq!(split_url("/relative"), None);
    assert_eq!(split_url("http://h:notaport/"), None);
}
