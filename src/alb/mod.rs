//! The load-balancer port: the domain's words for what alb-rollout reads and
//! changes on an Application Load Balancer, independent of the AWS SDK.
//!
//! `model` holds the value types (routes in `route`), `port` the trait, `aws`
//! the SDK adapter (with pure translate functions in `translate` and, for
//! action lists and their exact shapes, `route_sdk`; what a created rule
//! carries from the route it splits, `rule_sdk`), `fake` an in-memory
//! implementation with a call log, fault injection and lag for component tests,
//! `state_tags` the compact encoding of a run record into ELBv2 tags, and
//! `target_codec` the exact, compact record of a target group's targets,
//! `group_record` the record of a run inside one group (`rolling`; its
//! in-place batches in `in_place_record`),
//! `record_head` the head tag both records share (generation, chunk
//! counts), `zones` the targets' Availability Zones beside the codec, and
//! `error_codes` which ELBv2 errors a retry can cure, `iam_actions` every
//! operation the adapters send and how IAM authorizes it.

pub mod aws;
pub mod error_codes;
pub mod fake;
pub mod group_record;
pub mod heartbeat;
pub mod iam_actions;
pub mod in_place_record;
pub mod model;
pub mod port;
pub mod record_head;
pub mod route;
pub mod route_sdk;
pub mod rule_sdk;
pub mod state_tags;
pub mod target_codec;
pub mod translate;
pub mod zones;

pub use model::*;
pub use port::{AlbError, AlbErrorKind, LoadBalancerPort, NewRule};
