//! The code generated from `proto/cloud/image/v1`, fenced in one module.

#![allow(clippy::all, clippy::pedantic, reason = "generated code")]

tonic::include_proto!("cloud.image.v1");

/// The descriptors of every proto file the service uses, imports included, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/image_descriptor.bin"));
