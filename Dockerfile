# syntax=docker/dockerfile:1

# Build stage. The .proto files are compiled by a Rust crate (protox), so no protoc is needed;
# the C compiler of the slim Rust image builds the bundled SQLite and ring.
ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src

# The whole context (see .dockerignore), so that every target Cargo.toml names is there.
COPY . .

# The registry and target folders are cache mounts, so a rebuild after a code change reuses the
# compiled dependencies; the binary is copied out of the cache before the step ends.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && cp target/release/image-service /usr/local/bin/image-service

# Runtime stage: the binary, CA certificates for TLS database connections, and a user of its
# own. Its home folder is a volume holding the data folder, which is used (SQLite and the
# development key) only when no database URL and no JWT key are configured.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --uid 10001 --home-dir /var/lib/image-service \
        --create-home --shell /usr/sbin/nologin image-service

COPY --from=builder /usr/local/bin/image-service /usr/local/bin/image-service

USER image-service
WORKDIR /var/lib/image-service
ENV IMAGE_SERVICE_DATA_DIR=/var/lib/image-service/data
VOLUME ["/var/lib/image-service"]

EXPOSE 50051
ENTRYPOINT ["image-service"]
CMD ["serve", "--listen", "0.0.0.0:50051"]
