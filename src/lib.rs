//! The image service of the private cloud platform: the catalogue of virtual-machine images,
//! served over gRPC.

pub mod auth;
pub mod config;
pub mod domain;
pub mod entity;
pub mod grpc;
pub mod migration;
pub mod proto;
pub mod startup;
pub mod store;
pub mod telemetry;
