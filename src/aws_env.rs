//! Loading the AWS configuration from the standard chain (AWS_ENDPOINT_URL,
//! profiles, environment, OIDC web identity) with a `--region` override, and
//! checking that a region and credentials are present before anything else.
//! Also where a region was configured (`configured_region`, read without a
//! network call, so `app::local` can compare it with the ARNs' region), and
//! which endpoint a client calls (`Endpoint`, named in connection errors).

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
            "no AWS region is set; pass --region, set AWS_REGION, or give ARNs rather than names (an ARN carries its region)",
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

/// A region the user configured, and where: what `app::local` compares
/// with the region of the ARNs given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredRegion {
    pub region: String,
    /// `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION` or `profile NAME`.
    pub source: String,
}

/// The region from `--region`, the environment or the profile, in the
/// SDK's order; files and variables only, never the instance metadata
/// service (a network call, and the last resort after the ARNs' region).
pub async fn configured_region(flag: Option<&str>) -> Option<ConfiguredRegion> {
    let found = |region: &str, source: &str| {
        Some(ConfiguredRegion {
            region: region.to_string(),
            source: source.to_string(),
        })
    };
    if let Some(r) = flag.filter(|r| !r.is_empty()) {
        return found(r, "--region");
    }
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(r) = std::env::var(var).ok().filter(|r| !r.is_empty()) {
            return found(&r, var);
        }
    }
    use aws_config::meta::region::ProvideRegion;
    let r = aws_config::profile::ProfileFileRegionProvider::new()
        .region()
        .await?;
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    found(r.as_ref(), &format!("profile {profile}"))
}

/// The endpoint a client calls, for messages: the configured URL (and the
/// variable that set it), or the service's regional AWS endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(String);

impl Endpoint {
    /// `prefix` is the service's endpoint prefix (`elasticloadbalancing`,
    /// `monitoring`); `env_var` its own endpoint variable, which wins over
    /// AWS_ENDPOINT_URL as in the SDK.
    pub fn of(config: &SdkConfig, prefix: &str, env_var: &str) -> Endpoint {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Endpoint::describe(
            (env_var, var(env_var)),
            var("AWS_ENDPOINT_URL"),
            config.endpoint_url(),
            config.region().map(|r| r.as_ref()),
            prefix,
        )
    }

    /// `of`, from the values it read (pure).
    fn describe(
        (service_var, service_url): (&str, Option<String>),
        env_url: Option<String>,
        configured: Option<&str>,
        region: Option<&str>,
        prefix: &str,
    ) -> Endpoint {
        Endpoint(match (service_url, env_url, configured) {
            (Some(url), _, _) => format!("{url} (from {service_var})"),
            (None, Some(url), Some(c)) if url == c => format!("{url} (from AWS_ENDPOINT_URL)"),
            (_, _, Some(c)) => c.to_string(),
            _ => {
                let region = region.unwrap_or("REGION");
                let suffix = if region.starts_with("cn-") {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                };
                format!("https://{prefix}.{region}.{suffix}")
            }
        })
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ELB: &str = "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2";

    fn describe(service: Option<&str>, env: Option<&str>, configured: Option<&str>) -> String {
        let s = |v: Option<&str>| v.map(str::to_string);
        Endpoint::describe(
            (ELB, s(service)),
            s(env),
            configured,
            Some("eu-west-1"),
            "elasticloadbalancing",
        )
        .to_string()
    }

    #[test]
    fn an_endpoint_set_by_a_variable_is_named_with_it() {
        let url = "http://127.0.0.1:5000";
        assert_eq!(
            describe(None, Some(url), Some(url)),
            format!("{url} (from AWS_ENDPOINT_URL)")
        );
        assert_eq!(
            describe(Some(url), None, None),
            format!("{url} (from {ELB})")
        );
        assert_eq!(
            describe(None, None, Some(url)),
            url,
            "a profile's endpoint_url"
        );
    }

    #[test]
    fn without_one_the_regional_aws_endpoint_is_named() {
        assert_eq!(
            describe(None, None, None),
            "https://elasticloadbalancing.eu-west-1.amazonaws.com"
        );
        let cn = Endpoint::describe((ELB, None), None, None, Some("cn-north-1"), "monitoring");
        assert_eq!(
            cn.to_string(),
            "https://monitoring.cn-north-1.amazonaws.com.cn"
        );
    }
}
