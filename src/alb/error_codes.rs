//! Which ELBv2 error codes a retry can cure. Owns the table from code to
//! `AlbErrorKind`: every code the ELBv2 API model (botocore
//! `elbv2/2015-12-01/service-2.json`) declares, plus the generic codes of
//! the AWS Query protocol. A code the API refuses for the request itself
//! (a limit, a duplicate, an operation not permitted) is `Invalid`: sending
//! it again changes nothing, so the executor stops at once with the code
//! rather than spending its attempts and deadline.

use super::port::AlbErrorKind;

/// The model's 400 errors that no retry can cure (its `*NotFound` codes are
/// matched by suffix). `CapacityReservationPending` and `TrustStoreNotReady`
/// would clear in minutes, far beyond a retry's backoff.
const INVALID: &[&str] = &[
    "AvailabilityZoneNotSupported",
    "CapacityDecreaseRequestLimitExceeded",
    "CapacityReservationPending",
    "CapacityUnitsLimitExceeded",
    "DeleteAssociationSameAccount",
    "DuplicateListener",
    "DuplicateLoadBalancerName",
    "DuplicateTagKeys",
    "DuplicateTargetGroupName",
    "DuplicateTrustStoreName",
    "IncompatibleProtocols",
    "InvalidCaCertificatesBundle",
    "InvalidConfigurationRequest",
    "InvalidLoadBalancerAction",
    "InvalidRevocationContent",
    "InvalidScheme",
    "InvalidSecurityGroup",
    "InvalidSubnet",
    "InvalidTarget",
    "OperationNotPermitted",
    "PriorityInUse",
    "ResourceInUse",
    "TargetGroupAssociationLimit",
    "TooManyActions",
    "TooManyCertificates",
    "TooManyListeners",
    "TooManyLoadBalancers",
    "TooManyRegistrationsForTargetId",
    "TooManyRules",
    "TooManyTags",
    "TooManyTargetGroups",
    "TooManyTargets",
    "TooManyTrustStoreRevocationEntries",
    "TooManyTrustStores",
    "TooManyUniqueTargetGroupsPerLoadBalancer",
    "TrustStoreInUse",
    "TrustStoreNotReady",
    "UnsupportedProtocol",
    // The AWS Query protocol's common client errors.
    "ValidationError",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "MissingParameter",
    "InvalidAction",
    "InvalidQueryParameter",
    "MalformedQueryString",
    "MissingAction",
    "OptInRequired",
];

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "MissingAuthenticationToken",
];

/// Throttling, the model's 5xx errors (`HealthUnavailable`,
/// `InsufficientCapacity`) and its 429 `PriorRequestNotComplete`.
const TRANSIENT: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
    "HealthUnavailable",
    "InsufficientCapacity",
    "PriorRequestNotComplete",
];

/// Map an ELBv2 error code to the port's error kind.
pub fn kind_for_code(code: Option<&str>) -> AlbErrorKind {
    let c = code.unwrap_or("");
    if ACCESS_DENIED.contains(&c) {
        AlbErrorKind::AccessDenied
    } else if TRANSIENT.contains(&c) {
        AlbErrorKind::Transient
    } else if c.ends_with("NotFound") {
        AlbErrorKind::NotFound
    } else if INVALID.contains(&c) {
        AlbErrorKind::Invalid
    } else {
        AlbErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error code of the ELBv2 API model (botocore 1.44), with what a
    /// retry can do about it.
    const MODEL: &[(&str, AlbErrorKind)] = {
        use AlbErrorKind::*;
        &[
            ("ALPNPolicyNotFound", NotFound),
            ("AllocationIdNotFound", NotFound),
            ("AssociationNotFound", NotFound),
            ("AvailabilityZoneNotSupported", Invalid),
            ("CaCertificatesBundleNotFound", NotFound),
            ("CapacityDecreaseRequestLimitExceeded", Invalid),
            ("CapacityReservationPending", Invalid),
            ("CapacityUnitsLimitExceeded", Invalid),
            ("CertificateNotFound", NotFound),
            ("DeleteAssociationSameAccount", Invalid),
            ("DuplicateListener", Invalid),
            ("DuplicateLoadBalancerName", Invalid),
            ("DuplicateTagKeys", Invalid),
            ("DuplicateTargetGroupName", Invalid),
            ("DuplicateTrustStoreName", Invalid),
            ("HealthUnavailable", Transient),
            ("IncompatibleProtocols", Invalid),
            ("InsufficientCapacity", Transient),
            ("InvalidCaCertificatesBundle", Invalid),
            ("InvalidConfigurationRequest", Invalid),
            ("InvalidLoadBalancerAction", Invalid),
            ("InvalidRevocationContent", Invalid),
            ("InvalidScheme", Invalid),
            ("InvalidSecurityGroup", Invalid),
            ("InvalidSubnet", Invalid),
            ("InvalidTarget", Invalid),
            ("ListenerNotFound", NotFound),
            ("LoadBalancerNotFound", NotFound),
            ("OperationNotPermitted", Invalid),
            ("PriorRequestNotComplete", Transient),
            ("PriorityInUse", Invalid),
            ("ResourceInUse", Invalid),
            ("ResourceNotFound", NotFound),
            ("RevocationContentNotFound", NotFound),
            ("RevocationIdNotFound", NotFound),
            ("RuleNotFound", NotFound),
            ("SSLPolicyNotFound", NotFound),
            ("SubnetNotFound", NotFound),
            ("TargetGroupAssociationLimit", Invalid),
            ("TargetGroupNotFound", NotFound),
            ("TooManyActions", Invalid),
            ("TooManyCertificates", Invalid),
            ("TooManyListeners", Invalid),
            ("TooManyLoadBalancers", Invalid),
            ("TooManyRegistrationsForTargetId", Invalid),
            ("TooManyRules", Invalid),
            ("TooManyTags", Invalid),
            ("TooManyTargetGroups", Invalid),
            ("TooManyTargets", Invalid),
            ("TooManyTrustStoreRevocationEntries", Invalid),
            ("TooManyTrustStores", Invalid),
            ("TooManyUniqueTargetGroupsPerLoadBalancer", Invalid),
            ("TrustStoreInUse", Invalid),
            ("TrustStoreNotFound", NotFound),
            ("TrustStoreNotReady", Invalid),
            ("UnsupportedProtocol", Invalid),
        ]
    };

    #[test]
    fn every_elbv2_model_error_is_classified_and_none_is_left_retryable_by_default() {
        for &(code, want) in MODEL {
            assert_eq!(kind_for_code(Some(code)), want, "{code}");
        }
    }

    #[test]
    fn errors_a_retry_cannot_cure_are_invalid_not_retryable() {
        use super::super::port::AlbError;
        for code in [
            "OperationNotPermitted",
            "TooManyRegistrationsForTargetId",
            "UnsupportedProtocol",
            "ValidationError",
        ] {
            let e = AlbError::new(kind_for_code(Some(code)), "RegisterTargets", None, code);
            assert!(!e.is_retryable(), "{code}");
        }
        let throttled = AlbError::new(kind_for_code(Some("Throttling")), "X", None, "");
        assert!(throttled.is_retryable());
    }

    #[test]
    fn credentials_and_unknown_codes() {
        assert_eq!(
            kind_for_code(Some("InvalidClientTokenId")),
            AlbErrorKind::AccessDenied
        );
        assert_eq!(
            kind_for_code(Some("AccessDenied")),
            AlbErrorKind::AccessDenied
        );
        assert_eq!(kind_for_code(Some("SomethingNew")), AlbErrorKind::Other);
        assert_eq!(kind_for_code(None), AlbErrorKind::Other);
    }
}
