use super::policy::glob;
use super::uses::{uses, On};
use super::*;
use crate::alb::iam_actions::{authorized, Authorized};
use serde_json::json;

const L: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2";
const R: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";
const RULES: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/*";
const ALL: [Strategy; 9] = [
    Strategy::Canary,
    Strategy::BlueGreen,
    Strategy::Rolling,
    Strategy::Ab,
    Strategy::Dark,
    Strategy::Rollback,
    Strategy::Status,
    Strategy::Routes,
    Strategy::Shadow,
];

fn req(strategy: Strategy, l: &[&str], r: &[&str], g: &[&str]) -> Request {
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
    Request {
        strategy,
        listeners: v(l),
        rules: v(r),
        target_groups: v(g),
        access_logs: None,
        shadow_first: false,
    }
}

fn policy(strategy: Strategy, l: &[&str], r: &[&str], g: &[&str]) -> Policy {
    build(&req(strategy, l, r, g)).unwrap()
}

fn statement<'a>(p: &'a Policy, action: &str) -> Vec<&'a Statement> {
    let full = format!("elasticloadbalancing:{action}");
    p.statements
        .iter()
        .filter(|s| s.actions.contains(&full))
        .collect()
}

#[test]
fn every_action_a_command_uses_is_one_the_adapters_send_on_a_resource_it_is_authorized_on() {
    for s in ALL {
        for (action, on) in uses(s) {
            let how = authorized(&action).unwrap_or_else(|| panic!("{action} not in the table"));
            let fits = match how {
                Authorized::AnyResource => on == On::Any,
                Authorized::Listener => on == On::ListenerRoute,
                Authorized::Rule => matches!(on, On::NewRules | On::RuleRoute),
                Authorized::ListenerAndNewRule => on == On::Listener,
                Authorized::TargetGroup => on == On::Groups,
                Authorized::Tagged => matches!(on, On::Route | On::Groups | On::NewRuleTags),
                Authorized::Bucket => on == On::LogBucket,
                Authorized::Object => on == On::LogObjects,
            };
            assert!(
                fits,
                "{s:?}: {action} on {on:?} but it is authorized on {how:?}"
            );
        }
    }
}

#[test]
fn no_policy_has_a_wildcard_action_and_only_reads_have_any_resource() {
    for s in ALL {
        let p = policy(s, &[], &[], &[]);
        for st in &p.statements {
            for a in &st.actions {
                assert!(!a.contains('*') && !a.contains('?'), "{s:?}: {a}");
                if st.resources == ["*"] {
                    assert_eq!(
                        authorized(a),
                        Some(Authorized::AnyResource),
                        "{s:?}: {a} on *"
                    );
                }
            }
        }
    }
}

#[test]
fn a_listener_scopes_the_route_its_rules_and_groups_to_its_account_and_load_balancer() {
    let p = policy(Strategy::Canary, &[L], &[], &["web-blue", "web-green"]);
    let route = statement(&p, "ModifyListener");
    assert_eq!(route[0].resources, [L]);
    assert!(route[0].actions.iter().any(|a| a.ends_with(":AddTags")));
    assert_eq!(statement(&p, "DeleteRule")[0].resources, [RULES]);
    assert_eq!(statement(&p, "CreateRule")[0].resources, [L, RULES]);
    assert_eq!(
        statement(&p, "RegisterTargets")[0].resources,
        [
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-blue/*",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-green/*"
        ]
    );
    assert!(
        statement(&p, "ModifyRule").is_empty(),
        "no --rule: a preview rule is created with its forward, never modified"
    );
}

#[test]
fn a_rule_is_shifted_and_tagged_instead_of_the_listener_and_its_listener_is_derived() {
    let p = policy(Strategy::Canary, &[], &[R], &[]);
    let route = statement(&p, "ModifyRule");
    assert_eq!(route[0].resources, [R]);
    assert!(statement(&p, "ModifyListener").is_empty());
    assert_eq!(statement(&p, "CreateRule")[0].resources, [L, RULES]);
    assert!(p.allows("elasticloadbalancing:AddTags", R, &[]));
    assert!(!p.allows("elasticloadbalancing:AddTags", L, &[]));
}

#[test]
fn listeners_and_rules_moved_as_one_each_get_their_own_shift_and_all_are_tagged() {
    // As `canary --listener L --listener L2 --rule R2` reads them: R2 is on
    // L2, so the routes are L's default action and the rule R2.
    const L2: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/0467ef3c8400ae65";
    let r2 = format!("{}/9683b2d02a6cabef", rules_of(L2));
    let rule = r2.as_str();
    for s in [Strategy::Canary, Strategy::BlueGreen, Strategy::Rollback] {
        let p = policy(s, &[L, L2], &[rule], &[]);
        let shift = statement(&p, "ModifyListener");
        assert_eq!(shift[0].resources, [L], "{s:?}: the listener no rule is on");
        assert_eq!(shift[0].sid, "ShiftListeners");
        assert_eq!(statement(&p, "ModifyRule")[0].resources, [rule], "{s:?}");
        assert!(!p.allows("elasticloadbalancing:ModifyListener", L2, &[]));
        assert!(!p.allows("elasticloadbalancing:ModifyListener", rule, &[]));
        assert!(!p.allows("elasticloadbalancing:ModifyRule", L, &[]));
        for route in [L, rule] {
            assert!(
                p.allows("elasticloadbalancing:AddTags", route, &[]),
                "{s:?} {route}"
            );
            assert!(p.allows("elasticloadbalancing:RemoveTags", route, &[]));
        }
        let sids: Vec<&str> = p.statements.iter().map(|s| s.sid).collect();
        let unique: std::collections::BTreeSet<&str> = sids.iter().copied().collect();
        assert_eq!(sids.len(), unique.len(), "{s:?}: Sids unique: {sids:?}");
    }
    // A rule's own listener (given or not) is never shifted, and its rules
    // are where the run's created rules go.
    let p = policy(Strategy::Canary, &[L], &[rule], &[]);
    assert_eq!(statement(&p, "ModifyListener")[0].resources, [L]);
    assert!(p.allows("elasticloadbalancing:CreateRule", L2, &[]));
}

fn rules_of(listener: &str) -> String {
    listener.replace(":listener/", ":listener-rule/")
}

#[test]
fn tags_written_by_create_rule_are_allowed_only_on_create() {
    let p = policy(Strategy::Dark, &[L], &[], &[]);
    let new_rule = format!("{}/0123456789abcdef", RULES.trim_end_matches("/*"));
    let ctx = [(policy::CREATE_ACTION, "CreateRule")];
    assert!(p.allows("elasticloadbalancing:AddTags", &new_rule, &ctx));
    assert!(!p.allows("elasticloadbalancing:AddTags", &new_rule, &[]));
    let tagging = statement(&p, "AddTags");
    let on_create = tagging.iter().find(|s| s.condition.is_some()).unwrap();
    assert_eq!(
        on_create.to_json()["Condition"],
        json!({"StringEquals": {"elasticloadbalancing:CreateAction": "CreateRule"}})
    );
    assert!(
        p.allows("elasticloadbalancing:AddTags", L, &[]),
        "the run record"
    );
}

#[test]
fn rolling_records_on_its_group_and_touches_no_listener() {
    let tg = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067";
    let p = policy(Strategy::Rolling, &[], &[], &[tg]);
    for a in [
        "AddTags",
        "RemoveTags",
        "RegisterTargets",
        "DeregisterTargets",
    ] {
        assert!(
            p.allows(&format!("elasticloadbalancing:{a}"), tg, &[]),
            "{a}"
        );
    }
    let writes = [
        "ModifyListener",
        "ModifyRule",
        "CreateRule",
        "DeleteRule",
        "DescribeListeners",
    ];
    for a in writes {
        assert!(statement(&p, a).is_empty(), "{a}");
    }
}

#[test]
fn without_arns_the_patterns_are_wildcards() {
    let p = policy(Strategy::Rollback, &[], &[], &[]);
    let any = "arn:aws:elasticloadbalancing:us-east-1:000000000000:";
    assert!(p.allows(
        "elasticloadbalancing:ModifyListener",
        &format!("{any}listener/app/a/b/c"),
        &[]
    ));
    assert!(p.allows(
        "elasticloadbalancing:DeleteRule",
        &format!("{any}listener-rule/app/a/b/c/d"),
        &[]
    ));
    assert!(p.allows(
        "elasticloadbalancing:RegisterTargets",
        &format!("{any}targetgroup/t/1"),
        &[]
    ));
    assert!(!p.allows(
        "elasticloadbalancing:CreateRule",
        &format!("{any}listener/app/a/b/c"),
        &[]
    ));
    assert!(!p.allows(
        "elasticloadbalancing:ModifyListener",
        &format!("{any}targetgroup/t/1"),
        &[]
    ));
}

#[test]
fn status_and_routes_only_read_and_routes_deletes_rules() {
    let s = policy(Strategy::Status, &[L], &[], &[]);
    assert_eq!(s.statements.len(), 1);
    assert_eq!(s.statements[0].resources, ["*"]);
    let r = policy(Strategy::Routes, &[L], &[], &[]);
    let deletes: Vec<_> = r
        .statements
        .iter()
        .filter(|s| s.resources != ["*"])
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].actions, ["elasticloadbalancing:DeleteRule"]);
    assert!(!r.to_json().to_string().contains("cloudwatch"));
}

#[test]
fn placeholders_pass_through_into_the_patterns() {
    let l = "arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/LB-NAME/LB-ID/LISTENER-ID";
    let p = policy(Strategy::Ab, &[l], &[], &[]);
    assert_eq!(
        statement(&p, "DeleteRule")[0].resources,
        ["arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/LB-NAME/LB-ID/LISTENER-ID/*"]
    );
}

#[test]
fn flags_that_are_not_arns_are_refused_naming_each() {
    let bad = req(Strategy::Canary, &["nope", R], &[L], &["bad/name"]);
    let errors = build(&bad).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 4, "{text:?}");
    for culprit in [
        "--listener nope",
        &format!("--listener {R}"),
        &format!("--rule {L}"),
        "--target-group bad/name",
    ] {
        assert!(
            text.iter().any(|t| t.contains(culprit)),
            "{culprit}: {text:?}"
        );
    }
}

#[test]
fn iam_wildcards_cross_slashes_and_question_marks_match_one_character() {
    assert!(glob(
        "arn:aws:x:*:*:listener/app/*",
        "arn:aws:x:r:1:listener/app/a/b/c"
    ));
    assert!(glob("a?c", "abc"));
    assert!(!glob("a?c", "ac"));
    assert!(!glob(
        "arn:aws:x:r:1:listener/app/a/b/c",
        "arn:aws:x:r:1:listener/app/a/b/cd"
    ));
    assert!(glob("*", ""));
    assert!(!glob("targetgroup/web/*", "targetgroup/web-green/1"));
}

#[test]
fn ab_and_dark_over_several_listeners_may_create_modify_and_delete_rules_on_each() {
    const L2: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/aaaabbbbccccdddd";
    const R2: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/aaaabbbbccccdddd/1234";
    const NEW2: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/aaaabbbbccccdddd/5678";
    const NEW1: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/5678";
    for s in [Strategy::Ab, Strategy::Dark] {
        let p = policy(s, &[L, L2], &[R2], &[]);
        let elb = |a: &str| format!("elasticloadbalancing:{a}");
        for (l, new) in [(L, NEW1), (L2, NEW2)] {
            assert!(p.allows(&elb("CreateRule"), l, &[]), "{s:?} {l}");
            for a in ["ModifyRule", "DeleteRule"] {
                assert!(p.allows(&elb(a), new, &[]), "{s:?} {a} on {new}");
            }
        }
        // Each route carries the run's record: L's default action and R2;
        // L2's default action is no route of the run.
        assert!(p.allows(&elb("AddTags"), L, &[]), "{s:?}");
        assert!(p.allows(&elb("AddTags"), R2, &[]), "{s:?}");
        assert!(!p.allows(&elb("AddTags"), L2, &[]), "{s:?}");
        assert!(statement(&p, "ModifyListener").is_empty());
    }
}

#[test]
fn routes_on_two_load_balancers_are_each_allowed_and_nothing_beyond() {
    let l2 = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/internal/7a1b2c3d4e5f6a7b/0a1b2c3d4e5f6a7b";
    let r2 = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/internal/7a1b2c3d4e5f6a7b/0a1b2c3d4e5f6a7b/1";
    let l3 = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/other/1111111111111111/2222222222222222";
    for s in [Strategy::Canary, Strategy::BlueGreen, Strategy::Rollback] {
        let p = policy(s, &[L, l2], &[], &["web-green", "int-green"]);
        for (l, group) in [(L, "web-green"), (l2, "int-green")] {
            assert!(
                p.allows("elasticloadbalancing:ModifyListener", l, &[]),
                "{s:?} {l}"
            );
            assert!(
                p.allows("elasticloadbalancing:AddTags", l, &[]),
                "{s:?} {l}"
            );
            let tg = format!(
                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/{group}/1"
            );
            assert!(
                p.allows("elasticloadbalancing:RemoveTags", l, &[]),
                "{s:?} {tg}"
            );
        }
        assert!(
            !p.allows("elasticloadbalancing:ModifyListener", l3, &[]),
            "{s:?}"
        );
        assert!(!p.allows("elasticloadbalancing:AddTags", l3, &[]), "{s:?}");
    }
    let p = policy(Strategy::Canary, &[L, l2], &[r2], &[]);
    assert!(p.allows("elasticloadbalancing:ModifyRule", r2, &[]));
    assert!(p.allows("elasticloadbalancing:ModifyListener", L, &[]));
}

#[test]
fn shadow_reads_the_logs_bucket_and_only_its_awslogs_objects() {
    let mut r = req(Strategy::Shadow, &[L], &[], &[]);
    r.access_logs = Some("s3://web-logs/alb".into());
    let p = build(&r).unwrap();
    assert!(p.allows("s3:ListBucket", "arn:aws:s3:::web-logs", &[]));
    assert!(p.allows(
        "s3:GetObject",
        "arn:aws:s3:::web-logs/alb/AWSLogs/1/x.log.gz",
        &[]
    ));
    assert!(!p.allows("s3:GetObject", "arn:aws:s3:::web-logs/other/secret", &[]));
    assert!(!p.allows("s3:GetObject", "arn:aws:s3:::other/alb/AWSLogs/x", &[]));
    assert!(p.allows(
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "*",
        &[]
    ));
    let plain = build(&req(Strategy::Canary, &[L], &[], &[])).unwrap();
    assert!(!plain.allows("s3:GetObject", "arn:aws:s3:::web-logs/alb/AWSLogs/x", &[]));
    let mut first = req(Strategy::Canary, &[L], &[], &[]);
    first.shadow_first = true;
    let p = build(&first).unwrap();
    assert!(p.allows("s3:GetObject", "arn:aws:s3:::any-bucket/AWSLogs/x", &[]));
    r.access_logs = Some("logs".into());
    assert_eq!(build(&r).unwrap_err()[0].culprit, "--access-logs logs");
}
