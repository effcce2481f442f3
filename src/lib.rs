//! alb-rollout: progressive delivery behind an AWS Application Load Balancer.
//!
//! Map of the crate (decide purely, apply through ports, read the state back):
//! - `alb`: the load-balancer port, its AWS adapter and in-memory fake.
//! - `provider`: metric providers (CloudWatch, Prometheus, HTTP probe).
//! - `redact`: masking secrets in URLs before they are printed or logged.
pub mod alb;
pub mod analysis;
pub mod app;
pub mod aws_env;
pub mod cli;
pub mod engine;
pub mod errors;
pub mod executor;
pub mod plan;
pub mod preflight;
pub mod provider;
pub mod redact;
pub mod report;
pub mod settings;
pub mod signal;
pub mod strategy;
