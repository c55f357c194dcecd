//! A bare tonic unary echo server: the ceiling that `bench/run.sh` compares the image service
//! with. It runs the same stack as the service (tonic's router, `tonic::server::Grpc`, the prost
//! codec, TCP_NODELAY, a multi-threaded tokio runtime) and does no work of its own: it returns
//! field 1 of the request unchanged.
//!
//! The service is written by hand, without a `.proto` file or a build step:
//!
//! ```proto
//! package bench.v1;
//! message EchoMessage { bytes payload = 1; }
//! service Echo { rpc Echo(EchoMessage) returns (EchoMessage); }
//! ```
//!
//! Any message whose field 1 is a string or bytes decodes as `EchoMessage` (prost skips the
//! other fields), so the benchmark sends it the very body it sends to `GetImage`.
//!
//! Run: `cargo run --release --example echo -- 127.0.0.1:50061`

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::codegen::{Body, BoxFuture, Context, Poll, Service, StdError, http};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::transport::Server;
use tonic::{Request, Response, Status};

/// The request and the response of `bench.v1.Echo/Echo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoMessage {
    #[prost(bytes = "vec", tag = "1")]
    pub payload: Vec<u8>,
}

/// The fully qualified service name; the router sends `/bench.v1.Echo/*` here.
const SERVICE_NAME: &str = "bench.v1.Echo";

/// The unary method: answers with the request's payload.
struct EchoMethod;

impl UnaryService<EchoMessage> for EchoMethod {
    type Response = EchoMessage;
    type Future = BoxFuture<Response<EchoMessage>, Status>;

    fn call(&mut self, request: Request<EchoMessage>) -> Self::Future {
        Box::pin(async move { Ok(Response::new(request.into_inner())) })
    }
}

/// The service as the router sees it: what `tonic-prost-build` would generate, by hand.
#[derive(Clone, Default)]
struct EchoServer {
    served: Arc<std::sync::atomic::AtomicU64>,
}

impl NamedService for EchoServer {
    const NAME: &'static str = SERVICE_NAME;
}

impl<B> Service<http::Request<B>> for EchoServer
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        match request.uri().path() {
            "/bench.v1.Echo/Echo" => {
                self.served
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Box::pin(async move {
                    let mut grpc =
                        Grpc::new(tonic_prost::ProstCodec::<EchoMessage, EchoMessage>::default());
                    Ok(grpc.unary(EchoMethod, request).await)
                })
            }
            _ => Box::pin(async move {
                let mut response = http::Response::new(tonic::body::Body::default());
                let headers = response.headers_mut();
                headers.insert(
                    Status::GRPC_STATUS,
                    (tonic::Code::Unimplemented as i32).into(),
                );
                headers.insert(
                    http::header::CONTENT_TYPE,
                    tonic::metadata::GRPC_CONTENT_TYPE,
                );
                Ok(response)
            }),
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:50061".to_owned())
        .parse()
        .map_err(|err| anyhow::anyhow!("usage: echo <listen address>: {err}"))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("echo listening on {}", listener.local_addr()?);

    // Same as the service: small answers go out without Nagle's delay.
    let incoming = TcpListenerStream::new(listener).map(|stream| {
        if let Ok(stream) = &stream {
            let _ = stream.set_nodelay(true);
        }
        stream
    });
    let echo = EchoServer::default();
    let served = echo.served.clone();
    Server::builder()
        .add_service(echo)
        .serve_with_incoming_shutdown(incoming, stop_signal())
        .await?;
    eprintln!(
        "echo served {} calls",
        served.load(std::sync::atomic::Ordering::Relaxed)
    );
    Ok(())
}
