//! `canary --shadow-first`: after green is attached and healthy and before
//! any weight moves, blue's logged requests are replayed to green through
//! the canary's preview rule (`--preview-header`, or a header generated for
//! the replay alone, `X-Alb-Rollout-Shadow: <run id>`, with no probe hold)
//! and judged as `shadow` judges them. A failed verdict is a failed check:
//! the canary's revert restores the route exactly and deletes the rule.

use super::canary::Checked;
use super::preview::PreviewFlags;
use super::rule_run::probe_headers;
use crate::cli::CanaryArgs;
use crate::cli_shadow::ShadowFlags;
use crate::preflight::InputError;
use crate::shadow::ShadowPorts;
use crate::strategy::canary::Preview;
use crate::strategy::rules::Match;
use crate::strategy::shadow::HEADER;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone)]
pub struct ShadowFirst {
    pub flags: ShadowFlags,
    /// The run's ID, set before the plan so a generated header can carry it.
    pub run_id: String,
}

/// The shadow flags, when `--shadow-first` is given.
pub(super) fn parse(a: &CanaryArgs, errors: &mut Vec<InputError>) -> Option<ShadowFirst> {
    if !a.shadow_first {
        errors.extend(a.shadow.given().into_iter().map(|f| {
            InputError::new(
                f,
                "is a Shadow flag: it needs --shadow-first (the replay it configures)",
            )
        }));
        return None;
    }
    let flags = crate::cli_shadow::parse(&a.shadow, errors)?;
    Some(ShadowFirst {
        flags,
        run_id: super::runner::run_id(SystemTime::now()),
    })
}

/// The preview the run needs: the user's, or a rule on a header only the
/// replay sends, held no longer than the replay.
pub(super) fn preview_flags(
    user: Option<PreviewFlags>,
    sf: Option<&ShadowFirst>,
) -> Option<PreviewFlags> {
    match (user, sf) {
        (Some(u), _) => Some(u),
        (None, Some(sf)) => Some(PreviewFlags {
            header: Match::Header {
                name: HEADER.into(),
                value: sf.run_id.clone(),
            },
            duration: Some(Duration::ZERO),
        }),
        (None, None) => None,
    }
}

/// The route's rule priority as the access logs give it: 0 for the
/// listener's default action.
async fn route_priority(c: &Checked) -> Result<u32, InputError> {
    let crate::alb::RouteRef::Rule { rule_arn, .. } = &c.validated.route else {
        return Ok(0);
    };
    let rules = (c.lb.rules(c.validated.route.listener_arn()).await).map_err(|e| {
        InputError::new(
            "--rule",
            format!("the listener's rules could not be read: {e}"),
        )
    })?;
    (rules.iter().find(|r| &r.arn == rule_arn))
        .and_then(|r| r.priority.parse().ok())
        .ok_or_else(|| {
            InputError::new(
                format!("--rule {rule_arn}"),
                "is not a numbered rule of the listener",
            )
        })
}

/// The replay on the preview rule, and its ports.
pub(super) async fn attach(
    config: &aws_config::SdkConfig,
    c: &Checked,
    preview: &mut Preview,
    sf: &ShadowFirst,
) -> Result<ShadowPorts, Vec<InputError>> {
    let header = (c.parsed.preview.as_ref())
        .and_then(|f| {
            probe_headers(std::slice::from_ref(&f.header))
                .into_iter()
                .next()
        })
        .ok_or_else(|| {
            vec![InputError::new(
                "--shadow-first",
                "needs a header rule to replay through",
            )]
        })?;
    let priority = route_priority(c).await.map_err(|e| vec![e])?;
    let (v, an) = (&c.validated, &c.parsed.analysis);
    let spec = super::shadow::spec(v, &sf.flags, an, &header.1, priority)?;
    preview.shadow = Some(crate::engine::ShadowSpec {
        header: header.0,
        ..spec
    });
    super::shadow::ports(config, c.lb.as_ref(), v, &sf.flags).await
}
