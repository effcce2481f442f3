//! Analysis: judging measured samples (pure, in `judge`) and deciding, over a
//! bake window, when a step passed, failed, or is waiting for data (`bake`).
//! Collecting a sample from the providers lives in `collect`, choosing the
//! CloudWatch minutes to judge (each once, late ones too) in `minutes`; `ab` judges an
//! A/B test per variant (5xx rates compared by a two-proportion z-test); `sides` sums each
//! side over several load balancers.

pub mod ab;
pub mod ab_checks;
pub mod bake;
pub mod collect;
pub mod command_check;
pub mod judge;
pub mod minutes;
pub mod sides;

pub use bake::{BakeDecision, BakeTracker, NoDataPolicy};
pub use judge::{judge, CheckOutcome, CheckResult, Sample, Thresholds, Verdict};
