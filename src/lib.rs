//! alb-rollout: progressive delivery behind an AWS Application Load Balancer.
//!
//! Map of the crate (decide purely, apply through ports, read the state back):
//! - `cli`, `settings`, `plan`, `target_arg`, `arn`, `aws_env`: flags,
//!   validated settings, pure parsing of steps, durations, targets and ARN
//!   shapes, the AWS configuration (`app::local` checks ARNs and the region
//!   before any client is built).
//! - `preflight`: pure validation of the request against live state;
//!   `preflight_routes` of a multi-route run's other routes, whose
//!   `--listener`/`--rule` pairing is `route_args`'; `preflight_lbs` pairs
//!   each load balancer of the routes with its own blue and `--green`.
//!   `app::rule_routes`: the routes of `ab` and `dark` (one rule each,
//!   placed per listener; other routes on the same load balancer only).
//! - `strategy`: pure planners; a run is a plan of actions (`strategy::canary`,
//!   `strategy::drain_blue` for the full deploy's batches after it,
//!   `strategy::blue_green` built on the canary's, `strategy::rolling`
//!   inside one target group; `strategy::rules` and
//!   `strategy::rule_priority` for rule-based A/B and dark launch (where a
//!   created rule goes: after every rule when it splits the default action,
//!   just before the rule it splits, with `strategy::rule_split`'s merged
//!   conditions), planned by `strategy::ab`; `strategy::rules_render` shows
//!   rule conditions as `--match` forms). `cli_rules`: the flags of `ab`, `dark` and `routes`.
//!   `cli_hooks`: `--hook`, `--hook-timeout`, `--check` (every deploy command);
//!   `strategy::hooks` places the hooks in any plan. `cli_in_place`:
//!   `rolling --in-place`'s `--targets`, `--deploy`, `--undo` (and
//!   `rollback --undo`); `strategy::rolling_in_place` plans its batches.
//!   `strategy::multi_route` spreads a plan over several routes
//!   (`--listener`/`--rule` given more than once), on several load
//!   balancers through each route's group map.
//! - `engine`: pure: the action vocabulary, plans, the revert's goal (from
//!   a run record) and the planner that converges to it (`converge`, with
//!   `converge_undo` for an in-place run's batches, newest first, and
//!   `converge_routes` for a multi-route run's other routes), flip
//!   or gradual, a model load balancer (`sim`, tests and the dry run), the
//!   run's final state, and what a run owns (`scope`: a route, or one group).
//! - `executor`: runs any plan against the ports, with the invariants and
//!   the only cancellation points; applies the convergence (the live
//!   revert and `rollback`); the heartbeat on its own task; an in-place
//!   run's batches (`executor::in_place`, `batch_commands`); a multi-route
//!   run's other routes, their records and writes (`executor::others`).
//! - `analysis`: judging samples (pure), the bake loop's policy, and the
//!   per-variant A/B report with its significance test (`analysis::ab`) and
//!   each `--check` command's verdicts per interval (`analysis::ab_checks`).
//!   `analysis::sides` sums each side over several load balancers.
//! - `alb`: the load-balancer port, its AWS adapter and in-memory fake, the
//!   run record in tags (a route's, or a group's with its original targets;
//!   a head with generation and chunk counts; the targets' zones; an
//!   in-place run's batches and how many started, `alb::in_place_record`);
//!   `alb::rule_sdk`: what a created rule copies from the route it splits
//!   (its login steps, the OIDC secret put back, its transforms).
//! - `provider`: metric providers (CloudWatch, Prometheus, HTTP probe).
//! - `command`: the command port (`sh -c` in its own process group, output
//!   streamed and its tail kept, stopped on a timeout or a cancel) and its
//!   fake: `--hook`, `--check`, `rolling --in-place`'s commands.
//! - `report`: progress lines and the JSON result.
//! - `app`: one file per subcommand, wiring the pieces.
//! - `iam`: pure least-privilege policies per command (`iam-policy`), from
//!   `iam::uses` (which actions each command calls, on what) and
//!   `alb::iam_actions` (every operation the adapters send and how IAM
//!   authorizes it, checked against the adapters' source). `cli_iam`: its flags.
//! - `env_inputs`: `ALB_ROLLOUT_*` variables the chosen command does not
//!   read (an action input it does not take) are refused.
//! - `shadow`: `shadow`'s replay of real traffic from the access logs
//!   (the line parser, the S3 key layout and reader, the selection of
//!   blue's requests, the replay, the judge and its report); the
//!   executor runs it as `Action::Shadow` (`executor::shadow`), planned by
//!   `strategy::shadow` and by `canary --shadow-first`. `cli_shadow`: its flags.
//! - `signal`, `errors`, `redact`: signals to a cancel, error chains,
//!   masking secrets in URLs before they are printed or logged.
pub mod alb;
pub mod analysis;
pub mod app;
pub mod arn;
pub mod aws_env;
pub mod cli;
pub mod cli_hooks;
pub mod cli_iam;
pub mod cli_in_place;
pub mod cli_rules;
pub mod cli_shadow;
pub mod command;
pub mod engine;
pub mod env_inputs;
pub mod errors;
pub mod executor;
pub mod iam;
pub mod plan;
pub mod preflight;
pub mod preflight_lbs;
pub mod preflight_routes;
pub mod provider;
pub mod redact;
pub mod report;
pub mod route_args;
pub mod settings;
pub mod shadow;
pub mod signal;
pub mod strategy;
pub mod target_arg;
