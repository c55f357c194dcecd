//! The one mapping from errors to gRPC statuses. Client faults carry `google.rpc` details that
//! name every offending item; server faults say little to the client and everything to the log.

use tonic::{Code, Status};
use tonic_types::{ErrorDetail, ErrorDetails, ResourceInfo, StatusExt};

use crate::domain::DomainError;
use crate::domain::error::Resource;
use crate::store::StoreError;

impl From<DomainError> for Status {
    fn from(err: DomainError) -> Self {
        let message = err.to_string();
        match err {
            DomainError::Invalid(violations) => {
                let mut details = ErrorDetails::new();
                for v in violations {
                    details.add_bad_request_violation(v.field, v.description);
                }
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            DomainError::NotFound { resource, names } => {
                resource_status(Code::NotFound, message, resource, &names, "not found")
            }
            DomainError::AlreadyExists { resource, names } => resource_status(
                Code::AlreadyExists,
                message,
                resource,
                &names,
                "already exists",
            ),
            DomainError::PermissionDenied(_) => Status::permission_denied(message),
            DomainError::Unauthenticated(_) => Status::unauthenticated(message),
            DomainError::FailedPrecondition(violations) => {
                let mut details = ErrorDetails::new();
                for v in violations {
                    details.add_precondition_failure_violation(v.kind, v.subject, v.description);
                }
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            DomainError::LimitExceeded { what, limit, .. } => {
                let mut details = ErrorDetails::new();
                details.add_quota_failure_violation(what, format!("at most {limit}"));
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            DomainError::EtagMismatch(_) => Status::aborted(message),
        }
    }
}

/// A status with one `google.rpc.ResourceInfo` per named item, so that clients can read every
/// missing or clashing item, not only the first.
fn resource_status(
    code: Code,
    message: String,
    resource: Resource,
    names: &[String],
    what: &str,
) -> Status {
    let details: Vec<ErrorDetail> = names
        .iter()
        .map(|name| ResourceInfo::new(resource.type_name(), name.clone(), "", what).into())
        .collect();
    Status::with_error_details_vec(code, message, details)
}

impl From<StoreError> for Status {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Domain(domain) => domain.into(),
            StoreError::Database(ref db) if err.is_unavailable() => {
                tracing::error!(error = %db, "database unavailable");
                Status::unavailable("the database is unavailable; try again")
            }
            StoreError::Database(db) => {
                tracing::error!(error = %db, "database error");
                Status::internal("internal error")
            }
            StoreError::Contention(attempts) => {
                tracing::warn!(attempts, "transaction kept conflicting");
                Status::aborted("the request conflicted with concurrent changes; try again")
            }
            StoreError::CorruptReplay(request_id) => {
                tracing::error!(request_id, "stored answer unreadable");
                Status::internal("internal error")
            }
        }
    }
}
