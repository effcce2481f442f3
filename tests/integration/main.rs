//! Integration tests: the real binary and the real AWS SDK against the local
//! AWS emulator (tests/emulator), with traffic through its ALB data plane.
//! Each test starts its own emulator, so tests are isolated and parallel.

mod ab;
mod ab_multi;
mod adapter;
mod analysis;
mod blue_green;
mod bounds;
mod canary;
mod cloudwatch_timing;
mod connection_errors;
mod dark;
mod emulator_access_logs;
mod faults;
mod first_deploy;
mod full_deploy;
mod github;
mod hooks;
mod iam_coverage;
mod iam_coverage_routes;
mod iam_support;
mod in_place;
mod in_place_json;
mod in_place_signals;
mod inputs;
mod local_errors;
mod multi_lb;
mod multi_route;
mod preflight;
mod preview;
mod recovery;
mod rolling;
mod route_auth;
mod route_shapes;
mod rule_login;
mod rule_place;
mod secrets;
mod shadow;
mod signals;
mod soak;
mod status;
mod support;
