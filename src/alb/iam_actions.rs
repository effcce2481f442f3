//! Every AWS operation the adapters send (`alb::aws`, `alb::aws_carry`,
//! `alb::aws_tags`, `provider::cloudwatch*`), and what IAM authorizes each
//! one on. Kept
//! beside the adapter so a new call cannot go unlisted: a test reads the
//! adapters' source and fails on any SDK call this table lacks. `iam`
//! builds the policies from it; nothing here decides which command calls
//! what (that is `iam::uses`).

/// What IAM checks an operation against (Service Authorization Reference,
/// Elastic Load Balancing V2 and CloudWatch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Authorized {
    /// No resource-level permissions: the statement needs `"Resource": "*"`
    /// (every `Describe*`, `cloudwatch:GetMetricData`).
    AnyResource,
    /// `listener/app/...` (ModifyListener).
    Listener,
    /// `listener-rule/app/...` (ModifyRule, DeleteRule).
    Rule,
    /// The listener it is called for, and the rule it creates (CreateRule;
    /// its tags are authorized as `AddTags` with
    /// `elasticloadbalancing:CreateAction` = `CreateRule`).
    ListenerAndNewRule,
    /// `targetgroup/...` (RegisterTargets, DeregisterTargets).
    TargetGroup,
    /// Any taggable ELBv2 resource named in `ResourceArns` (AddTags,
    /// RemoveTags: a listener, rule or target group here).
    Tagged,
    /// An S3 bucket (`s3:ListBucket`, which ListObjectsV2 needs).
    Bucket,
    /// S3 objects (`s3:GetObject`).
    Object,
}

/// (IAM action, what it is authorized on). The operation name is the
/// action's part after the colon.
pub const OPERATIONS: &[(&str, Authorized)] = &[
    (
        "elasticloadbalancing:DescribeListeners",
        Authorized::AnyResource,
    ),
    (
        "elasticloadbalancing:DescribeRules",
        Authorized::AnyResource,
    ),
    (
        "elasticloadbalancing:DescribeLoadBalancers",
        Authorized::AnyResource,
    ),
    (
        "elasticloadbalancing:DescribeTargetGroups",
        Authorized::AnyResource,
    ),
    (
        "elasticloadbalancing:DescribeTargetHealth",
        Authorized::AnyResource,
    ),
    ("elasticloadbalancing:DescribeTags", Authorized::AnyResource),
    ("elasticloadbalancing:ModifyListener", Authorized::Listener),
    ("elasticloadbalancing:ModifyRule", Authorized::Rule),
    (
        "elasticloadbalancing:CreateRule",
        Authorized::ListenerAndNewRule,
    ),
    ("elasticloadbalancing:DeleteRule", Authorized::Rule),
    (
        "elasticloadbalancing:RegisterTargets",
        Authorized::TargetGroup,
    ),
    (
        "elasticloadbalancing:DeregisterTargets",
        Authorized::TargetGroup,
    ),
    ("elasticloadbalancing:AddTags", Authorized::Tagged),
    ("elasticloadbalancing:RemoveTags", Authorized::Tagged),
    ("cloudwatch:GetMetricData", Authorized::AnyResource),
    (
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        Authorized::AnyResource,
    ),
    // `shadow::s3` sends ListObjectsV2 and GetObject as signed GETs.
    ("s3:ListBucket", Authorized::Bucket),
    ("s3:GetObject", Authorized::Object),
];

/// The S3 operations `shadow::s3` sends, by the IAM action that
/// authorizes each (ListObjectsV2 is authorized as s3:ListBucket).
pub const S3_OPERATIONS: &[(&str, &str)] = &[
    ("ListObjectsV2", "s3:ListBucket"),
    ("GetObject", "s3:GetObject"),
];

/// How `action` is authorized; `None` for an action no adapter sends.
pub fn authorized(action: &str) -> Option<Authorized> {
    OPERATIONS
        .iter()
        .find(|(a, _)| *a == action)
        .map(|(_, how)| *how)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The adapters' source: each `.snake_case()` builder call on a client.
    const ADAPTERS: &[(&str, &str)] = &[
        ("elasticloadbalancing", include_str!("aws.rs")),
        ("elasticloadbalancing", include_str!("aws_carry.rs")),
        ("elasticloadbalancing", include_str!("aws_tags.rs")),
        ("cloudwatch", include_str!("../provider/cloudwatch.rs")),
        (
            "cloudwatch",
            include_str!("../provider/cloudwatch_report.rs"),
        ),
        ("cloudwatch", include_str!("../provider/cloudwatch_sdk.rs")),
    ];

    /// `describe_target_health` -> `DescribeTargetHealth`.
    fn camel(snake: &str) -> String {
        snake
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Operations called as `client\n  .op()` or `client.op()`.
    fn called(source: &str) -> Vec<String> {
        let squeezed: String = source.split_whitespace().collect();
        let mut out = Vec::new();
        for part in squeezed.split("client.").skip(1) {
            let op: String = part
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if part[op.len()..].starts_with("()") && !op.is_empty() {
                out.push(camel(&op));
            }
        }
        out
    }

    #[test]
    fn every_operation_an_adapter_sends_is_in_the_table() {
        let mut seen = 0;
        for (service, source) in ADAPTERS {
            for op in called(source) {
                let action = format!("{service}:{op}");
                assert!(
                    authorized(&action).is_some(),
                    "{action} is called by an adapter but missing from OPERATIONS"
                );
                seen += 1;
            }
        }
        assert!(seen >= 15, "the scan found only {seen} calls");
    }

    #[test]
    fn the_scan_finds_calls_split_over_lines() {
        let src =
            "self\n  .client\n  .modify_listener()\n  .listener_arn(x); client.get_metric_data()";
        assert_eq!(called(src), ["ModifyListener", "GetMetricData"]);
    }

    #[test]
    fn every_table_entry_is_called_by_an_adapter() {
        let s3 = include_str!("../shadow/s3.rs");
        let all: Vec<String> = ADAPTERS
            .iter()
            .flat_map(|(s, src)| called(src).into_iter().map(move |op| format!("{s}:{op}")))
            .chain(
                (S3_OPERATIONS.iter())
                    .filter(|(op, _)| s3.contains(&format!("{op} failed")))
                    .map(|(_, action)| action.to_string()),
            )
            .collect();
        for (action, _) in OPERATIONS {
            assert!(all.iter().any(|a| a == action), "{action} is never called");
        }
    }
}
