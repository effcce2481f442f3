//! Pure planners, one per strategy: from validated input and the live route
//! to the run's plan of actions (`engine::Plan`). No I/O; the revert is not
//! planned here but derived by the engine from what was applied. `rolling`
//! works inside one target group and has no route. `rules` and
//! `rule_priority` hold the pure parts of rule-based strategies (A/B, dark
//! launch): `--match` to ALB conditions within ALB's limits, and priority choice;
//! `ab` plans both rule strategies (`ab`, `dark`), and `shadow` the dark
//! rule with a replay of real traffic in its hold. `rolling_in_place`
//! deploys to a group's own targets a batch at a time (`--in-place`).

pub mod ab;
pub mod blue_green;
pub mod canary;
pub mod drain_blue;
pub mod hooks;
pub mod multi_route;
pub mod rolling;
pub mod rolling_in_place;
pub mod rule_priority;
pub mod rule_split;
pub mod rules;
mod rules_fields;
pub mod rules_render;
pub mod shadow;
