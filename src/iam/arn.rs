//! The ARNs `iam-policy` is given, and the patterns derived from them: a
//! listener's rules (`listener-rule/app/NAME/ID/LID/*`, where the rules a
//! run creates appear), the listener of a rule, a target group by name.
//! Placeholders such as `REGION` or `ACCOUNT` pass through as written, so
//! a template policy can be generated; with no ARN at all the patterns are
//! wildcards.

use std::fmt;

/// `arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:RESOURCE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElbArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

impl ElbArn {
    /// Refuses anything but an ELBv2 ARN whose resource starts with `kind/`.
    pub fn parse(s: &str, kind: &str) -> Result<ElbArn, String> {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "elasticloadbalancing"
            && parts.iter().all(|p| !p.is_empty())
            && parts[5].starts_with(&format!("{kind}/"));
        if !ok {
            return Err(format!(
                "is not an ELBv2 {kind} ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:{kind}/...)"
            ));
        }
        Ok(ElbArn {
            partition: parts[1].into(),
            region: parts[3].into(),
            account: parts[4].into(),
            resource: parts[5].into(),
        })
    }

    fn with_resource(&self, resource: String) -> ElbArn {
        ElbArn {
            resource,
            ..self.clone()
        }
    }

    /// `/`-separated words of the resource after its kind and `app`.
    fn words(&self) -> Vec<&str> {
        self.resource.split('/').skip(2).collect()
    }
}

impl fmt::Display for ElbArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ElbArn {
            partition,
            region,
            account,
            resource,
        } = self;
        write!(
            f,
            "arn:{partition}:elasticloadbalancing:{region}:{account}:{resource}"
        )
    }
}

/// Where patterns go when no ARN names the region and account.
pub fn wildcard(resource: &str) -> String {
    format!("arn:aws:elasticloadbalancing:*:*:{resource}")
}

/// A listener ARN (`listener/app/NAME/ID/LID`).
pub fn listener(s: &str) -> Result<ElbArn, String> {
    let arn = ElbArn::parse(s, "listener")?;
    match arn.resource.split('/').nth(1) == Some("app") && arn.words().len() == 3 {
        true => Ok(arn),
        false => Err(
            "is not an Application Load Balancer listener ARN (listener/app/NAME/ID/LISTENER-ID)"
                .into(),
        ),
    }
}

/// A rule ARN (`listener-rule/app/NAME/ID/LID/RID`).
pub fn rule(s: &str) -> Result<ElbArn, String> {
    let arn = ElbArn::parse(s, "listener-rule")?;
    match arn.resource.split('/').nth(1) == Some("app") && arn.words().len() == 4 {
        true => Ok(arn),
        false => Err("is not an Application Load Balancer rule ARN (listener-rule/app/NAME/ID/LISTENER-ID/RULE-ID)".into()),
    }
}

/// The listener a rule belongs to.
pub fn listener_of_rule(rule: &ElbArn) -> ElbArn {
    let w = rule.words();
    rule.with_resource(format!("listener/app/{}/{}/{}", w[0], w[1], w[2]))
}

/// Any target group in the region and account of `like`.
pub fn target_group_any(like: &ElbArn) -> String {
    like.with_resource("targetgroup/*/*".into()).to_string()
}

/// Every rule of the listener, the ones a run creates included.
pub fn rules_of(listener: &ElbArn) -> String {
    let w = listener.words();
    listener
        .with_resource(format!("listener-rule/app/{}/{}/{}/*", w[0], w[1], w[2]))
        .to_string()
}

/// A target group: its ARN as given, or a name as `targetgroup/NAME/*` in
/// the region and account of `like` (any, without it).
pub fn target_group(s: &str, like: Option<&ElbArn>) -> Result<String, String> {
    if s.starts_with("arn:") {
        return ElbArn::parse(s, "targetgroup").map(|a| a.to_string());
    }
    let valid =
        !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(
            "is neither a target group ARN nor a name (1-32 letters, digits, hyphens)".into(),
        );
    }
    let resource = format!("targetgroup/{s}/*");
    Ok(match like {
        Some(l) => l.with_resource(resource).to_string(),
        None => wildcard(&resource),
    })
}
