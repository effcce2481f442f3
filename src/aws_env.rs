//! Loading the AWS configuration from the standard chain (AWS_ENDPOINT_URL,
//! profiles, environment, OIDC web identity) with a `--region` override, and
//! checking that a region and credentials are present before anything else.

use crate::preflight::InputError;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use std::time::{Duration, SystemTime};

pub async fn load(region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        // Standard retry mode with a few more attempts than the default three:
        // ELBv2 throttles bursts of writes, and a deploy should ride them out.
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(5)
                .with_max_backoff(Duration::from_secs(5)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(15))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    loader.load().await
}

/// A region and resolvable credentials, or the errors that say how to fix it.
pub async fn check(config: &SdkConfig) -> Vec<InputError> {
    check_with_expiry(config).await.0
}

/// `check`, and when the credentials expire (see `app::expiry`): resolved
/// once, since resolving may cost an STS call.
pub async fn check_with_expiry(config: &SdkConfig) -> (Vec<InputError>, Option<SystemTime>) {
    let mut errors = Vec::new();
    let mut expiry = None;
    if config.region().is_none() {
        errors.push(InputError::new(
            "--region",
            "no AWS region is set; pass --region or set AWS_REGION",
        ));
    }
    match config.credentials_provider() {
        None => errors.push(InputError::new("credentials", "no AWS credentials provider is configured")),
        Some(p) => match tokio::time::timeout(Duration::from_secs(10), p.provide_credentials()).await {
            Ok(Ok(c)) => expiry = c.expiry(),
            Ok(Err(e)) => errors.push(InputError::new(
                "credentials",
                format!("no usable AWS credentials ({}); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or use OIDC (aws-actions/configure-aws-credentials)", crate::errors::chain(&e)),
            )),
            Err(_) => errors.push(InputError::new("credentials", "timed out resolving AWS credentials after 10s")),
        },
    }
    (errors, expiry)
}
