use super::*;

const LISTENER: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8e";
const RULE: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8e/9683b2d0";
const GROUP: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/green/73e2d6bc";

fn region(kind: ArnKind, v: &str) -> Option<String> {
    check(kind, v).unwrap_or_else(|e| panic!("{v}: {e}")).region
}

#[test]
fn well_formed_arns_pass_and_give_their_region() {
    assert_eq!(
        region(ArnKind::Listener, LISTENER).as_deref(),
        Some("eu-west-1")
    );
    assert_eq!(region(ArnKind::Rule, RULE).as_deref(), Some("eu-west-1"));
    let tg = ArnKind::TargetGroup { names: false };
    assert_eq!(region(tg, GROUP).as_deref(), Some("eu-west-1"));
    let gov = "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:targetgroup/g/1";
    assert_eq!(region(tg, gov).as_deref(), Some("us-gov-west-1"));
    let cn = "arn:aws-cn:elasticloadbalancing:cn-north-1:123456789012:listener/app/a/1/2";
    assert_eq!(region(ArnKind::Listener, cn).as_deref(), Some("cn-north-1"));
}

#[test]
fn a_target_group_name_passes_where_names_are_allowed_and_has_no_region() {
    let names = ArnKind::TargetGroup { names: true };
    assert_eq!(region(names, "green-v2"), None);
    assert_eq!(region(names, GROUP).as_deref(), Some("eu-west-1"));
    let e = check(ArnKind::TargetGroup { names: false }, "green-v2").unwrap_err();
    assert!(e.contains("does not start with arn:"), "{e}");
}

#[test]
fn a_malformed_listener_is_refused_with_the_value_the_reason_and_an_example() {
    let e = check(ArnKind::Listener, "nope").unwrap_err();
    assert!(
        e.starts_with("\"nope\" is not an Application Load Balancer listener ARN"),
        "{e}"
    );
    assert!(e.contains("does not start with arn:"), "{e}");
    assert!(
        e.contains("looks like arn:aws:elasticloadbalancing:"),
        "{e}"
    );
}

#[test]
fn each_wrong_part_of_an_arn_is_named() {
    let l = ArnKind::Listener;
    for (bad, why) in [
        ("arn:aws:elasticloadbalancing:us-east-1", "six parts"),
        (
            "arn:azure:elasticloadbalancing:us-east-1:123456789012:listener/app/a/1/2",
            "partition",
        ),
        (
            "arn:aws:ec2:us-east-1:123456789012:listener/app/a/1/2",
            "service is \"ec2\"",
        ),
        (
            "arn:aws:elasticloadbalancing:useast1:123456789012:listener/app/a/1/2",
            "region \"useast1\"",
        ),
        (
            "arn:aws:elasticloadbalancing::123456789012:listener/app/a/1/2",
            "region \"\"",
        ),
        (
            "arn:aws:elasticloadbalancing:us-east-1:1234:listener/app/a/1/2",
            "account \"1234\"",
        ),
        (
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/a/1",
            "5 parts",
        ),
        (
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app//1/2",
            "5 parts",
        ),
        (
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/a/1/2",
            "Application Load Balancers",
        ),
        (
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/g/1",
            "not a listener",
        ),
        (RULE, "pass it as --rule"),
        (
            " arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/a/1/2",
            "whitespace",
        ),
        ("", "empty"),
    ] {
        let e = check(l, bad).expect_err(bad);
        assert!(e.contains(why), "{bad}: {e}");
        assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
    }
}

#[test]
fn rules_and_groups_have_their_own_shapes() {
    let e = check(ArnKind::Rule, LISTENER).unwrap_err();
    assert!(e.contains("\"listener\", not a listener-rule"), "{e}");
    let tg = ArnKind::TargetGroup { names: true };
    let bad_name = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/-g/1";
    assert!(check(tg, bad_name).unwrap_err().contains("hyphen"));
    for bad in ["green_v2", "-green", "green-", &"g".repeat(33)] {
        let e = check(tg, bad).expect_err(bad);
        assert!(e.contains("target group name"), "{bad}: {e}");
    }
}
