//! What is checked before any AWS client exists: every ARN flag's shape
//! (`arn`), and the region: the configured one (`aws_env::configured_region`)
//! must agree with the region the ARNs carry, which is used when none is
//! configured. Pure; a refusal is exit 2 with no call made.

use crate::arn::{self, ArnKind};
use crate::aws_env::ConfiguredRegion;
use crate::cli::{Cmd, RoutesCmd};
use crate::preflight::InputError;

/// One flag's value and what it takes.
pub type ArnFlag<'a> = (&'static str, &'a str, ArnKind);

const TG: ArnKind = ArnKind::TargetGroup { names: true };

/// The ARN-bearing flags a command was given.
pub fn arn_flags(cmd: &Cmd) -> Vec<ArnFlag<'_>> {
    use ArnKind::{Listener, Rule};
    let mut v: Vec<(&'static str, Option<&str>, ArnKind)> = Vec::new();
    match cmd {
        Cmd::Status(a) => v.extend([
            ("--listener", a.listener.as_deref(), Listener),
            ("--target-group", a.target_group.as_deref(), TG),
            ("--rule", a.rule.as_deref(), Rule),
        ]),
        Cmd::Rollback(a) => v.extend([
            ("--listener", a.listener.as_deref(), Listener),
            ("--target-group", a.target_group.as_deref(), TG),
            ("--rule", a.rule.as_deref(), Rule),
        ]),
        Cmd::Canary(a) => {
            // --listener and --rule repeat (several routes moved as one).
            v.extend(
                a.listener
                    .iter()
                    .map(|l| ("--listener", Some(l.as_str()), Listener)),
            );
            v.extend(a.rule.iter().map(|r| ("--rule", Some(r.as_str()), Rule)));
            v.push(("--blue", Some(a.blue.as_str()), TG));
            v.extend(a.green.iter().map(|g| ("--green", Some(g.as_str()), TG)));
        }
        Cmd::BlueGreen(a) => {
            // --listener and --rule repeat (several routes moved as one).
            v.extend(
                a.listener
                    .iter()
                    .map(|l| ("--listener", Some(l.as_str()), Listener)),
            );
            v.extend(a.rule.iter().map(|r| ("--rule", Some(r.as_str()), Rule)));
            v.push(("--blue", Some(a.blue.as_str()), TG));
            v.extend(a.green.iter().map(|g| ("--green", Some(g.as_str()), TG)));
        }
        Cmd::Rolling(a) => v.push(("--target-group", Some(a.target_group.as_str()), TG)),
        Cmd::Ab(a) => {
            let r = &a.rule;
            v.extend(
                r.listener
                    .iter()
                    .map(|l| ("--listener", Some(l.as_str()), Listener)),
            );
            v.extend(r.rule.iter().map(|x| ("--rule", Some(x.as_str()), Rule)));
            v.extend([
                ("--green", Some(r.green.as_str()), TG),
                ("--blue", a.blue.as_deref(), TG),
            ]);
        }
        Cmd::Dark(a) => {
            let r = &a.rule;
            v.extend(
                r.listener
                    .iter()
                    .map(|l| ("--listener", Some(l.as_str()), Listener)),
            );
            v.extend(r.rule.iter().map(|x| ("--rule", Some(x.as_str()), Rule)));
            v.extend([("--green", Some(r.green.as_str()), TG)]);
        }
        Cmd::Shadow(a) => v.extend([
            ("--listener", Some(a.listener.as_str()), Listener),
            ("--green", Some(a.green.as_str()), TG),
        ]),
        Cmd::Routes(r) => match &r.command {
            RoutesCmd::List(a) => v.push(("--listener", Some(a.listener.as_str()), Listener)),
            RoutesCmd::Remove(a) => v.extend([
                ("--listener", Some(a.listener.as_str()), Listener),
                ("--rule", Some(a.rule.as_str()), Rule),
            ]),
        },
        // A command added later without ARN flags (or not yet listed here)
        // still gets the live preflight's checks.
        #[allow(unreachable_patterns)]
        _ => {}
    }
    v.into_iter()
        .filter_map(|(flag, value, kind)| value.map(|s| (flag, s, kind)))
        .collect()
}

/// Every flag's shape, all errors at once; the regions the ARNs carry.
pub fn check_arns(flags: &[ArnFlag<'_>]) -> Result<Vec<(&'static str, String)>, Vec<InputError>> {
    let mut errors = Vec::new();
    let mut regions = Vec::new();
    for &(flag, value, kind) in flags {
        match arn::check(kind, value) {
            Ok(c) => regions.extend(c.region.map(|r| (flag, r))),
            Err(e) => errors.push(InputError::new(flag, e)),
        }
    }
    if errors.is_empty() {
        Ok(regions)
    } else {
        Err(errors)
    }
}

/// The region to load the SDK with: the configured one, else the one the
/// ARNs carry, else `None` (the SDK's own chain, e.g. EC2 instance
/// metadata). ELBv2 finds an ARN only in its own region, so a configured
/// region that differs, or ARNs of two regions, are refused.
pub fn pick_region(
    configured: Option<&ConfiguredRegion>,
    arn_regions: &[(&'static str, String)],
) -> Result<Option<String>, Vec<InputError>> {
    let mut errors = Vec::new();
    if let Some(((f1, r1), (f2, r2))) = arn_regions
        .first()
        .and_then(|a| arn_regions.iter().find(|b| b.1 != a.1).map(|b| (a, b)))
    {
        errors.push(InputError::new(
            *f2,
            format!("its ARN is in {r2} but {f1}'s is in {r1}; all resources of a run are in one region"),
        ));
    }
    if let Some(c) = configured {
        if let Some((flag, r)) = arn_regions.iter().find(|(_, r)| *r != c.region) {
            errors.push(InputError::new(
                *flag,
                format!(
                    "its ARN is in {r} but the configured region is {} (from {}); ELBv2 finds an ARN only in its own region: pass --region {r}, or correct the ARN",
                    c.region, c.source
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(configured
        .map(|c| c.region.clone())
        .or_else(|| arn_regions.first().map(|(_, r)| r.clone())))
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
