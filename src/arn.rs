//! ELBv2 ARNs as users write them in flags: their shape, checked before any
//! AWS client is built, so a typo is one clear error at once (exit 2, no
//! call, no retries), and the region a full ARN carries (`app::local`
//! uses it when no region is configured). Pure.
//!
//! Shape only: whether the listener, rule or group exists is the live
//! preflight's question.

/// What a flag takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArnKind {
    Listener,
    Rule,
    /// A target group's ARN; with `names`, its name too.
    TargetGroup {
        names: bool,
    },
}

impl ArnKind {
    fn what(self) -> &'static str {
        match self {
            ArnKind::Listener => "an Application Load Balancer listener ARN",
            ArnKind::Rule => "a listener rule ARN",
            ArnKind::TargetGroup { names: false } => "a target group ARN",
            ArnKind::TargetGroup { names: true } => "a target group ARN or name",
        }
    }

    fn example(self) -> &'static str {
        match self {
            ArnKind::Listener => "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/my-alb/50dc6c495c0c9188/f2f7dc8efc522ab2",
            ArnKind::Rule => "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/my-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee",
            ArnKind::TargetGroup { names: false } => "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/my-targets/73e2d6bc24d8a067",
            ArnKind::TargetGroup { names: true } => "my-targets, or arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/my-targets/73e2d6bc24d8a067",
        }
    }
}

/// A value that passed: its region when it is a full ARN (a name has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub region: Option<String>,
}

/// One flag's value against what the flag takes. The error says what is
/// wrong and what a valid value looks like; the caller names the flag.
pub fn check(kind: ArnKind, value: &str) -> Result<Checked, String> {
    let fail = |why: String| {
        Err(format!(
            "{value:?} is not {}: {why}; it looks like {}",
            kind.what(),
            kind.example()
        ))
    };
    if value.is_empty() {
        return fail("it is empty".into());
    }
    if value.chars().any(char::is_whitespace) {
        return fail("it contains whitespace".into());
    }
    if !value.starts_with("arn:") {
        return match kind {
            ArnKind::TargetGroup { names: true } => match group_name(value) {
                Ok(()) => Ok(Checked { region: None }),
                Err(why) => fail(why),
            },
            _ => fail("it does not start with arn:".into()),
        };
    }
    match parse(kind, value) {
        Ok(region) => Ok(Checked {
            region: Some(region.to_string()),
        }),
        Err(why) => fail(why),
    }
}

/// `arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:RESOURCE`; the region.
fn parse(kind: ArnKind, value: &str) -> Result<&str, String> {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [_, partition, service, region, account, resource] = parts[..] else {
        return Err("an ARN has six parts separated by ':'".into());
    };
    if partition != "aws" && !partition.strip_prefix("aws-").is_some_and(is_word) {
        return Err(format!(
            "its partition {partition:?} is not aws, aws-cn, aws-us-gov, ..."
        ));
    }
    if service != "elasticloadbalancing" {
        return Err(format!(
            "its service is {service:?}, not elasticloadbalancing"
        ));
    }
    if !is_region(region) {
        return Err(format!(
            "its region {region:?} is not a region like us-east-1"
        ));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("its account {account:?} is not 12 digits"));
    }
    resource_shape(kind, resource)?;
    Ok(region)
}

fn resource_shape(kind: ArnKind, resource: &str) -> Result<(), String> {
    let segs: Vec<&str> = resource.split('/').collect();
    let want = match kind {
        ArnKind::Listener => ("listener", 5),
        ArnKind::Rule => ("listener-rule", 6),
        ArnKind::TargetGroup { .. } => ("targetgroup", 3),
    };
    if segs[0] != want.0 {
        return Err(match (kind, segs[0]) {
            (ArnKind::Listener, "listener-rule") => {
                "it is a rule's ARN: pass it as --rule, and its listener as --listener".into()
            }
            (_, other) => format!("it names a {other:?}, not a {}", want.0),
        });
    }
    if segs.len() != want.1 || segs.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "its resource {resource:?} does not have the {} parts of a {}",
            want.1, want.0
        ));
    }
    match kind {
        ArnKind::TargetGroup { .. } => group_name(segs[1]),
        _ if segs[1] != "app" => Err(format!(
            "it belongs to a {:?} load balancer; alb-rollout works on Application Load Balancers ({}/app/...)",
            segs[1], want.0
        )),
        _ => Ok(()),
    }
}

/// ELBv2's rule for target group names: 1-32 letters, digits or hyphens,
/// not starting or ending with a hyphen.
fn group_name(name: &str) -> Result<(), String> {
    let ok_chars = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if name.is_empty() || name.len() > 32 || !ok_chars {
        return Err(format!(
            "a target group name {name:?} has 1-32 letters, digits or hyphens"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(format!(
            "a target group name {name:?} does not start or end with a hyphen"
        ));
    }
    Ok(())
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

/// `us-east-1`, `us-gov-west-1`, `eu-isoe-west-1`: letters, hyphens, and a
/// number at the end.
fn is_region(s: &str) -> bool {
    let Some((head, n)) = s.rsplit_once('-') else {
        return false;
    };
    head.contains('-') && is_word(head) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
#[path = "arn_tests.rs"]
mod tests;
