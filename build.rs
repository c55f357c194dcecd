//! Compiles the `.proto` contract with a pure-Rust compiler (no `protoc` needed) and writes the
//! descriptor set that server reflection hands out, imports included.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "proto/cloud/image/v1/image.proto",
    "proto/cloud/image/v1/tag.proto",
    "proto/cloud/image/v1/user.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");

    let descriptors = protox::compile(PROTOS, ["proto"])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("image_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
