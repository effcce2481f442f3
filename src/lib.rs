//! alb-rollout: progressive delivery behind an AWS Application Load Balancer.
//!
//! Map of the crate (decide purely, apply through ports, read the state back):
//! - `alb`: the load-balancer port, its AWS adapter and in-memory fake.
//! - `provider`: metric providers (CloudWatch, Prometheus, HTTP probe).
pub mod alb;
pub mod provider;
pub mod plan;
pub mod preflight;
pub mod strategy;
pub mod analysis;
pub mod engine;
pub mod executor;
pub mod report;
pub mod signal;
pub mod aws_env;
pub mod cli;
pub mod settings;
pub mod app;
