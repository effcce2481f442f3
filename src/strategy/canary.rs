//! The canary planner: which forward action each step writes, what the
//! promoted route looks like, and the run as a plan of actions (record,
//! register, await health, write and bake each step, promote, then with
//! `--deregister-blue` blue's batches (`drain_blue`), unrecord).
//! The revert is not planned here: the engine derives it from what was
//! applied (`engine::revert`), shaped by `--abort`.

use super::drain_blue::BlueDrain;
use crate::alb::{Forward, ForwardShape, Stickiness, Target, WeightedGroup, MAX_WEIGHT};
use crate::engine::{
    AbortMode, Action, BakeSpec, Group, Plan, Purpose, Role, RouteWrite, RuleSpec,
};
use crate::plan::{Step, Tenths};
use serde::Serialize;
use std::time::Duration;

/// What the route looks like after a successful canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum FinalRoute {
    /// Weighted forward with green at 999 and blue kept at weight 0: a
    /// switch-back is one API call and blue stays attached to the ALB.
    KeepBlue,
    /// A plain forward to green only; blue leaves the action.
    GreenOnly,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedStep {
    pub percent: Tenths,
    /// How long to hold and analyse this step before the next.
    #[serde(rename = "bake_seconds", with = "crate::plan::seconds")]
    pub bake: Duration,
    pub forward: Forward,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CanaryPlan {
    pub blue: String,
    pub green: String,
    pub original: Forward,
    pub steps: Vec<PlannedStep>,
    pub promoted: Forward,
    /// How a revert moves traffic back (`--abort`).
    pub abort: AbortMode,
    /// After the promotion, blue's targets leave in batches
    /// (`--deregister-blue`): the full deploy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drain: Option<BlueDrain>,
    /// Before any public traffic, green reachable only through a header
    /// rule for a while (`--preview-header`): a dark preview.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<Preview>,
    /// The route with green added at weight 0, written before green's
    /// health is awaited when no listener or rule of the load balancer
    /// forwards to green yet: AWS health-checks only groups in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<Forward>,
    /// The full deploy's last write when the final route is green only:
    /// blue stays at weight 0 while its batches leave (see `with_drain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detach: Option<Forward>,
}

/// The preview: the rule that sends requests carrying the header to green,
/// created before the first step and deleted after `duration` of analysis
/// by probe (through the rule) and health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub rule: RuleSpec,
    /// The hold judged by the probe; none (0) when the rule is there only
    /// for the replay.
    #[serde(rename = "seconds", with = "crate::plan::seconds")]
    pub duration: Duration,
    /// `--shadow-first`: blue's logged requests replayed through the rule
    /// and judged before the hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<crate::engine::ShadowSpec>,
}

/// Weights for green at `p`: blue and green share 1000, each capped at 999;
/// at 0% and 100% the capped side is alone so the split is still exact.
pub fn weights_for(p: Tenths) -> (u16, u16) {
    let green = p.0.min(MAX_WEIGHT);
    let blue = (1000 - p.0).min(MAX_WEIGHT);
    (blue, green)
}

/// The forward action for green at `p`. Groups other than blue and green
/// (which preflight only allows at weight 0) keep their place and weight.
pub fn forward_at(
    original: &Forward,
    blue: &str,
    green: &str,
    p: Tenths,
    stickiness: Stickiness,
) -> Forward {
    let (bw, gw) = weights_for(p);
    let mut groups: Vec<WeightedGroup> = original
        .groups
        .iter()
        .filter(|g| g.target_group_arn != green)
        .map(|g| WeightedGroup {
            target_group_arn: g.target_group_arn.clone(),
            weight: if g.target_group_arn == blue {
                bw
            } else {
                g.weight
            },
        })
        .collect();
    groups.push(WeightedGroup {
        target_group_arn: green.to_string(),
        weight: gw,
    });
    Forward {
        groups,
        stickiness,
        shape: ForwardShape::Weighted,
    }
}

pub struct CanaryInput<'a> {
    pub original: &'a Forward,
    pub blue: &'a str,
    pub green: &'a str,
    pub steps: &'a [Step],
    /// Bake for steps without their own pause.
    pub default_bake: Duration,
    pub stickiness: Option<Duration>,
    pub final_route: FinalRoute,
}

pub fn plan(input: &CanaryInput) -> CanaryPlan {
    let stickiness = match input.stickiness {
        Some(d) => Stickiness {
            enabled: true,
            duration_seconds: Some(d.as_secs().clamp(1, 604_800) as i32),
        },
        None => input.original.stickiness,
    };
    let steps = input
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| PlannedStep {
            percent: s.percent,
            // The last step (100%) holds only if the user asked for it.
            bake: match (s.pause, i + 1 == input.steps.len()) {
                (Some(d), _) => d,
                (None, true) => Duration::ZERO,
                (None, false) => input.default_bake,
            },
            forward: forward_at(
                input.original,
                input.blue,
                input.green,
                s.percent,
                stickiness,
            ),
        })
        .collect();
    let promoted = match input.final_route {
        FinalRoute::GreenOnly => Forward::single(input.green),
        FinalRoute::KeepBlue => forward_at(
            input.original,
            input.blue,
            input.green,
            Tenths::FULL,
            input.original.stickiness,
        ),
    };
    CanaryPlan {
        blue: input.blue.to_string(),
        green: input.green.to_string(),
        original: input.original.clone(),
        steps,
        promoted,
        abort: AbortMode::Flip,
        drain: None,
        preview: None,
        attach: None,
        detach: None,
    }
}

/// The route with green added at weight 0 and blue keeping all traffic:
/// enough for AWS to health-check green, nothing for users.
pub fn attached(original: &Forward, blue: &str, green: &str) -> Forward {
    forward_at(original, blue, green, Tenths(0), original.stickiness)
}

impl CanaryPlan {
    pub fn total_bake(&self) -> Duration {
        self.steps.iter().map(|s| s.bake).sum()
    }

    pub fn with_abort(self, abort: AbortMode) -> Self {
        CanaryPlan { abort, ..self }
    }

    /// Blue's targets leave in batches after the promotion. With the final
    /// route green only, blue stays in the route at weight 0 until its last
    /// batch is gone: a revert registers blue's batches again and waits for
    /// their health, which AWS checks only while a listener forwards to
    /// blue. The last write then removes it (`Purpose::Detach`).
    pub fn with_drain(self, drain: Option<BlueDrain>) -> Self {
        let drains = drain.as_ref().is_some_and(|d| !d.batches.is_empty());
        let green_only = self.promoted.weight_of(&self.blue).is_none();
        match (drains, green_only, self.detach.is_some()) {
            (true, true, false) => CanaryPlan {
                drain,
                promoted: forward_at(
                    &self.original,
                    &self.blue,
                    &self.green,
                    Tenths::FULL,
                    self.original.stickiness,
                ),
                detach: Some(self.promoted.clone()),
                ..self
            },
            _ => CanaryPlan { drain, ..self },
        }
    }

    /// Attach green at weight 0 first unless a listener or rule of the load
    /// balancer already forwards to it (`in_use`, from DescribeTargetGroups'
    /// `LoadBalancerArns`).
    pub fn with_attach(self, in_use: bool) -> Self {
        let attach = (!in_use).then(|| attached(&self.original, &self.blue, &self.green));
        CanaryPlan { attach, ..self }
    }

    pub fn with_preview(self, preview: Option<Preview>) -> Self {
        CanaryPlan { preview, ..self }
    }

    /// The run as actions. `register` are the targets asked for with
    /// `--register`; the executor drops those green already has before the
    /// record is written (`Plan::without_present`).
    pub fn actions(&self, register: &[Target]) -> Plan {
        self.actions_holding("canary", register, None)
    }

    /// The run as actions for `strategy`, with `hold` (a further analysed
    /// hold at the last step, blue-green's `--keep-blue`) just before the
    /// promotion: the shared skeleton of every strategy that shifts one
    /// route from blue to green.
    pub fn actions_holding(
        &self,
        strategy: &'static str,
        register: &[Target],
        hold: Option<BakeSpec>,
    ) -> Plan {
        let green = Group {
            arn: self.green.clone(),
            role: Role::Green,
        };
        let mut actions = vec![Action::Record];
        if !register.is_empty() {
            actions.push(Action::Register {
                group: green.clone(),
                targets: register.to_vec(),
            });
        }
        let mut from = self.original.clone();
        if let Some(a) = &self.attach {
            actions.push(Action::WriteRoute(RouteWrite {
                from: from.clone(),
                to: a.clone(),
                purpose: Purpose::Attach,
            }));
            from = a.clone();
        }
        actions.push(Action::AwaitHealthy {
            group: green,
            targets: register.to_vec(),
        });
        if let Some(p) = &self.preview {
            actions.push(Action::CreateRule(p.rule.clone()));
            actions.extend(p.shadow.clone().map(Action::Shadow));
            if !p.duration.is_zero() {
                actions.push(Action::Bake(BakeSpec {
                    step: 0,
                    percent: Tenths(0),
                    duration: p.duration,
                }));
            }
            actions.push(Action::DeleteRule(p.rule.clone()));
        }
        let of = self.steps.len();
        for (index, s) in self.steps.iter().enumerate() {
            actions.push(Action::WriteRoute(RouteWrite {
                from: from.clone(),
                to: s.forward.clone(),
                purpose: Purpose::Step {
                    index,
                    of,
                    percent: s.percent,
                },
            }));
            actions.push(Action::Bake(BakeSpec {
                step: index,
                percent: s.percent,
                duration: s.bake,
            }));
            from = s.forward.clone();
        }
        actions.extend(hold.map(Action::Bake));
        actions.push(Action::WriteRoute(RouteWrite {
            from,
            to: self.promoted.clone(),
            purpose: Purpose::Promote { after_steps: of },
        }));
        if let Some(d) = &self.drain {
            actions.extend(d.actions(&self.blue, of));
        }
        if let Some(d) = &self.detach {
            actions.push(Action::WriteRoute(RouteWrite {
                from: self.promoted.clone(),
                to: d.clone(),
                purpose: Purpose::Detach,
            }));
        }
        actions.push(Action::Unrecord);
        Plan {
            strategy,
            original: self.original.clone(),
            blue: self.blue.clone(),
            green: self.green.clone(),
            abort: self.abort,
            actions,
        }
    }
}

#[cfg(test)]
#[path = "canary_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "canary_attach_tests.rs"]
mod attach_tests;

#[cfg(test)]
#[path = "canary_plan_tests.rs"]
mod plan_tests;

#[cfg(test)]
#[path = "canary_preview_tests.rs"]
mod preview_tests;
