//! SeaORM entities: one module per table. Times are microseconds since the Unix epoch in a
//! 64-bit integer, which keeps their full precision and ordering on every backend.

pub mod image;
pub mod image_member;
pub mod image_tag;
pub mod request_log;
pub mod tag;
pub mod user;
pub mod user_name;
