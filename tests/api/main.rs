//! Integration tests: each starts the real server on `127.0.0.1:0` with its own database and
//! talks to it over a real gRPC channel. `TEST_DATABASE_URL` runs them on PostgreSQL or
//! MariaDB instead of SQLite.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a failed expectation is how a test reports"
)]

mod clone;
mod health;
mod helpers;
mod images;
mod limits;
mod sharing;
mod tags;
mod users;
mod walkthrough;
