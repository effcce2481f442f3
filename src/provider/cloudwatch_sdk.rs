//! How a failed CloudWatch SDK call is worded for operators, and whether
//! sending it again may succeed (the analysis retries such a read once).

use crate::aws_env::Endpoint;
use crate::errors::chain;
use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};

/// Whether a failed call may succeed when sent again: throttling, a 5xx,
/// a timeout or a connection that could not be made.
pub(crate) fn sdk_error_transient<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    const CODES: [&str; 7] = [
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceeded",
        "InternalServiceFault",
        "InternalServiceError",
        "ServiceUnavailable",
    ];
    match err {
        SdkError::ServiceError(se) => se.err().code().is_some_and(|c| CODES.contains(&c)),
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ResponseError(_) => true,
        _ => false,
    }
}

/// The SDK's top-level Display is terse ("service error", "dispatch
/// failure"); operators need the code and message, or the cause chain.
pub(crate) fn sdk_error_message<E, R>(err: &SdkError<E, R>, endpoint: &Endpoint) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            format!(
                "{}: {}",
                e.code().unwrap_or("error"),
                e.message().unwrap_or("no message")
            )
        }
        SdkError::TimeoutError(_) => format!("the request to {endpoint} timed out"),
        SdkError::DispatchFailure(_) => {
            format!(
                "could not reach the CloudWatch endpoint {endpoint}: {}",
                chain(err)
            )
        }
        other => chain(other),
    }
}
