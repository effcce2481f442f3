//! The blue-green planner: green healthy first, then one atomic switch of
//! the route to 100% green (blue kept in the forward at weight 0, so a
//! switch-back is one write), an analysed `--bake`, an analysed
//! `--keep-blue` window, the promotion, and with `--deregister-blue` the
//! full deploy's batches (`drain_blue`: settle, then deregister and drain
//! batch by batch, green analysed in between).
//!
//! Built on the canary planner rather than beside it: a blue-green is a
//! canary with a single step at 100% whose hold is the bake, plus the
//! keep-blue hold before the promotion (`CanaryPlan::actions_holding`).
//! The revert is the convergence every run has: after the switch it is one
//! write of the original route.

use super::canary::{self, CanaryInput, CanaryPlan, FinalRoute};
use super::drain_blue::BlueDrain;
use crate::alb::{Forward, Target};
use crate::engine::{BakeSpec, Plan};
use crate::plan::{Step, Tenths};
use std::time::Duration;

/// The name the run record, the report and `status` give the strategy.
pub const STRATEGY: &str = "blue-green";

pub struct BlueGreenInput<'a> {
    pub original: &'a Forward,
    pub blue: &'a str,
    pub green: &'a str,
    /// Analysed hold right after the switch (`--bake`).
    pub bake: Duration,
    /// Analysed hold after the bake, blue still one write away (`--keep-blue`).
    pub keep_blue: Duration,
    pub final_route: FinalRoute,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlueGreenPlan {
    /// The switch as a one-step canary: its step is the switch, its hold
    /// the bake, its promoted route the final one.
    pub switch: CanaryPlan,
    pub keep_blue: Duration,
}

pub fn plan(input: &BlueGreenInput) -> BlueGreenPlan {
    let steps = [Step {
        percent: Tenths::FULL,
        pause: Some(input.bake),
    }];
    let switch = canary::plan(&CanaryInput {
        original: input.original,
        blue: input.blue,
        green: input.green,
        steps: &steps,
        default_bake: input.bake,
        // One atomic switch: no window where a client could be pinned to
        // blue, so the original stickiness is kept as it is.
        stickiness: None,
        final_route: input.final_route,
    });
    BlueGreenPlan {
        switch,
        keep_blue: input.keep_blue,
    }
}

impl BlueGreenPlan {
    /// After the keep-blue window and the promotion, blue's targets leave
    /// in batches (`--deregister-blue`), as in the canary's full deploy.
    pub fn with_drain(self, drain: Option<BlueDrain>) -> Self {
        BlueGreenPlan {
            switch: self.switch.with_drain(drain),
            ..self
        }
    }

    /// A dark preview before the switch (`--preview-header`).
    pub fn with_preview(self, preview: Option<super::canary::Preview>) -> Self {
        BlueGreenPlan {
            switch: self.switch.with_preview(preview),
            ..self
        }
    }

    /// Green attached at weight 0 first unless the load balancer already
    /// forwards to it (`CanaryPlan::with_attach`).
    pub fn with_attach(self, in_use: bool) -> Self {
        BlueGreenPlan {
            switch: self.switch.with_attach(in_use),
            ..self
        }
    }

    /// The route the switch writes: green at 100%, blue at weight 0.
    pub fn switched(&self) -> &Forward {
        &self.switch.steps[0].forward
    }

    /// The analysed holds, in order (the bake, then `--keep-blue` if any).
    pub fn holds(&self) -> Vec<Duration> {
        let mut h = vec![self.switch.steps[0].bake];
        if !self.keep_blue.is_zero() {
            h.push(self.keep_blue);
        }
        h
    }

    /// The run as actions: record, [register], await green healthy, the
    /// switch, the bake, [the keep-blue hold], the promotion, [settle and
    /// blue's batches], unrecord.
    pub fn actions(&self, register: &[Target]) -> Plan {
        let hold = (!self.keep_blue.is_zero()).then_some(BakeSpec {
            step: 0,
            percent: Tenths::FULL,
            duration: self.keep_blue,
        });
        self.switch.actions_holding(STRATEGY, register, hold)
    }
}

#[cfg(test)]
#[path = "blue_green_tests.rs"]
mod tests;
