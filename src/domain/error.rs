//! What can go wrong in the domain, independent of the transport. Each variant says which gRPC
//! status it becomes.

use std::fmt;

/// One offending field of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field, for example `image.name` or `users[2]`.
    pub field: String,
    /// What is wrong with it, without echoing the value.
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// One failed precondition, in the shape of `google.rpc.PreconditionFailure`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Machine-readable kind, for example `PROTECTED` or `SHARED`.
    pub kind: &'static str,
    /// What the violation is about, for example `images/<id>`.
    pub subject: String,
    /// Human-readable explanation.
    pub description: String,
}

/// The resource a NOT_FOUND or ALREADY_EXISTS is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Image,
    User,
    Tag,
    Member,
}

impl Resource {
    pub fn type_name(self) -> &'static str {
        match self {
            Resource::Image => "cloud.image.v1.Image",
            Resource::User => "cloud.image.v1.User",
            Resource::Tag => "cloud.image.v1.Tag",
            Resource::Member => "cloud.image.v1.ImageMember",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Resource::Image => "image",
            Resource::User => "user",
            Resource::Tag => "tag",
            Resource::Member => "member",
        }
    }
}

/// A refusal of the domain.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// INVALID_ARGUMENT, with a `BadRequest` naming every offending field.
    #[error("invalid request: {}", describe_fields(.0))]
    Invalid(Vec<FieldViolation>),

    /// NOT_FOUND, with a `ResourceInfo` per missing item (listed in the message too).
    #[error("{} not found: {}", .resource.noun(), .names.join(", "))]
    NotFound {
        resource: Resource,
        names: Vec<String>,
    },

    /// ALREADY_EXISTS, with a `ResourceInfo` per clashing item.
    #[error("{} already exists: {}", .resource.noun(), .names.join(", "))]
    AlreadyExists {
        resource: Resource,
        names: Vec<String>,
    },

    /// PERMISSION_DENIED.
    #[error("permission denied: {0}")]
    PermissionDenied(String),

    /// UNAUTHENTICATED.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),

    /// FAILED_PRECONDITION, with a `PreconditionFailure`.
    #[error("{}", describe_violations(.0))]
    FailedPrecondition(Vec<Violation>),

    /// RESOURCE_EXHAUSTED: a per-image limit would be passed.
    #[error("{what}: at most {limit} allowed, the request would make {would_be}")]
    LimitExceeded {
        what: &'static str,
        limit: usize,
        would_be: usize,
    },

    /// ABORTED: the etag no longer matches.
    #[error("the image changed since etag {0} was read; read it again")]
    EtagMismatch(String),
}

impl DomainError {
    /// INVALID_ARGUMENT for one field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        DomainError::Invalid(vec![FieldViolation::new(field, description)])
    }

    /// NOT_FOUND for one image id.
    pub fn image_not_found(id: impl fmt::Display) -> Self {
        DomainError::NotFound {
            resource: Resource::Image,
            names: vec![id.to_string()],
        }
    }
}

fn describe_fields(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

fn describe_violations(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| v.description.clone())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Collects field violations so that a request is reported with all its faults at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Keeps the value of `result`, or records its violations and gives `None`.
    pub fn check<T>(&mut self, result: Result<T, DomainError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(DomainError::Invalid(found)) => {
                self.0.extend(found);
                None
            }
            Err(other) => {
                // Parsers only ever fail with `Invalid`; keep anything else visible anyway.
                self.0
                    .push(FieldViolation::new("request", other.to_string()));
                None
            }
        }
    }

    /// `Ok` when nothing was recorded.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
