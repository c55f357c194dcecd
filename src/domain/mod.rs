//! The rules of the image domain and its validated types. Knows neither tonic nor SeaORM: the
//! gRPC layer parses requests into these types, the store applies them in transactions.

pub mod access;
pub mod error;
pub mod image;
pub mod page;
pub mod tag;
pub mod text;
pub mod user;

pub use error::{DomainError, FieldViolation, Violation};
