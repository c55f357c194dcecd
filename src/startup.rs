//! Wiring: opens the store, binds the listener first (port 0 allowed) and serves gRPC with
//! health and reflection until told to stop. Tests and `main` share this one code path.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::codec::CompressionEncoding;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::auth::{KeySource, Verifier};
use crate::grpc::{ImageApi, Shared, TagApi, UserApi};
use crate::proto::image_service_server::ImageServiceServer;
use crate::proto::tag_service_server::TagServiceServer;
use crate::proto::user_service_server::UserServiceServer;
use crate::store::Store;

/// The fully qualified name of the image service, as health checks ask for it.
pub const IMAGE_SERVICE_NAME: &str = "cloud.image.v1.ImageService";

/// How often answers kept for retries are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// What the server needs to start.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: String,
    pub max_connections: u32,
    pub key_source: KeySource,
    pub shutdown_grace: Duration,
    pub health_interval: Duration,
    /// Where to serve Prometheus metrics over HTTP; none by default.
    pub metrics_listen: Option<SocketAddr>,
}

/// A started server.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    store: Store,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's store, for tests that look at the database directly.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Drains and stops the server: health turns NOT_SERVING, calls in flight get the grace
    /// period, then the pool closes.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("server task panicked")?
    }
}

/// Opens a pool on `url`, creating the SQLite data folder if needed, and migrates the schema.
pub async fn open_store(url: &str, max_connections: u32) -> anyhow::Result<Store> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(file).parent()
            && !dir.as_os_str().is_empty()
        {
            create_private_dir(dir)?;
        }
    }
    let store = Store::connect(url, max_connections)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("migrating the schema")?;
    Ok(store)
}

/// Creates `dir` (and its parents) readable by its owner only: it holds the database.
fn create_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Starts the server; it runs until [`Running::shutdown`].
pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    if let Some(addr) = settings.metrics_listen {
        install_metrics(addr)?;
    }
    let store = open_store(&settings.database_url, settings.max_connections).await?;
    let verifier = Arc::new(Verifier::load(&settings.key_source)?);
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    let addr = listener.local_addr()?;

    let (reporter, health) = tonic_health::server::health_reporter();
    set_health(&reporter, ServingStatus::Serving).await;
    // TODO(reflection): tonic-types names its google.rpc files `status.proto` and
    // `error_details.proto`, not `google/rpc/…`; a client that merges reflected files into a
    // descriptor pool already holding the standard ones reports a duplicate symbol.
    // Each reflection version lists every service, the other version and health included, so
    // that old and new clients alike see the whole server; the google.rpc error details are
    // there too, so that grpcurl can decode them.
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let shared = Shared {
        store: store.clone(),
        verifier,
    };
    let router = Server::builder()
        .layer(tower::util::MapResponseLayer::new(
            oversized_is_resource_exhausted,
        ))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(
            ImageServiceServer::new(ImageApi::new(shared.clone()))
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip),
        )
        .add_service(
            TagServiceServer::new(TagApi::new(shared.clone()))
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip),
        )
        .add_service(
            UserServiceServer::new(UserApi::new(shared))
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip),
        );

    // Small calls answer faster without Nagle's delay.
    let incoming = TcpListenerStream::new(listener).map(|stream| {
        if let Ok(stream) = &stream {
            let _ = stream.set_nodelay(true);
        }
        stream
    });

    let (stop, stopped) = oneshot::channel::<()>();
    let (draining_tx, draining) = watch::channel(false);
    tokio::spawn(watch_database(
        store.clone(),
        reporter.clone(),
        draining.clone(),
        settings.health_interval,
    ));
    tokio::spawn(purge_replays(store.clone(), draining));

    let task_store = store.clone();
    let grace = settings.shutdown_grace;
    let task = tokio::spawn(async move {
        let (drain_tx, drain_rx) = oneshot::channel::<()>();
        let server = router.serve_with_incoming_shutdown(incoming, async {
            let _ = drain_rx.await;
        });
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => result.context("serving")?,
            _ = stopped => {
                tracing::info!("draining");
                let _ = draining_tx.send(true);
                set_health(&reporter, ServingStatus::NotServing).await;
                // Give health watchers a moment to hear NOT_SERVING before the listener closes.
                tokio::time::sleep(Duration::from_millis(100)).await;
                end_health_watches(reporter).await;
                let _ = drain_tx.send(());
                match tokio::time::timeout(grace, &mut server).await {
                    Ok(result) => result.context("serving")?,
                    Err(_) => tracing::warn!(?grace, "grace period over; closing remaining connections"),
                }
            }
        }
        task_store.close().await.context("closing the pool")?;
        tracing::info!("stopped");
        Ok(())
    });

    Ok(Running {
        addr,
        store,
        stop,
        task,
    })
}

/// A request larger than the decoding limit (4 MiB) gets OUT_OF_RANGE from tonic, where the gRPC
/// specification and clients expect RESOURCE_EXHAUSTED. No handler of ours answers OUT_OF_RANGE,
/// so every such status comes from that limit and is rewritten.
fn oversized_is_resource_exhausted<B>(
    mut response: tonic::codegen::http::Response<B>,
) -> tonic::codegen::http::Response<B> {
    let headers = response.headers_mut();
    if headers.get("grpc-status").map(|v| v.as_bytes()) == Some(b"11") {
        let code = i32::from(tonic::Code::ResourceExhausted).to_string();
        if let Ok(value) = code.parse() {
            headers.insert("grpc-status", value);
        }
    }
    response
}

/// Serves Prometheus metrics on `addr`; there is one recorder per process.
fn install_metrics(addr: SocketAddr) -> anyhow::Result<()> {
    const LATENCY_BUCKETS: &[f64] = &[
        0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ];
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Suffix("duration_seconds".into()),
            LATENCY_BUCKETS,
        )?
        .install()
        .with_context(|| format!("serving metrics on {addr}"))?;
    tracing::info!(%addr, "serving metrics");
    Ok(())
}

/// The names health answers for: the whole server and each service of ours.
// TODO(health): a Watch of an unknown name ends with NOT_FOUND (tonic-health's choice) where the
// health protocol streams SERVICE_UNKNOWN.
const HEALTH_NAMES: [&str; 4] = [
    "",
    IMAGE_SERVICE_NAME,
    "cloud.image.v1.TagService",
    "cloud.image.v1.UserService",
];

async fn set_health(reporter: &HealthReporter, status: ServingStatus) {
    for name in HEALTH_NAMES {
        reporter.set_service_status(name, status).await;
    }
}

/// Ends every health Watch stream: a stream counts as a call in flight, and clients that check
/// health on the client side keep one open for good, which would hold the drain for the whole
/// grace period.
async fn end_health_watches(mut reporter: HealthReporter) {
    for name in HEALTH_NAMES {
        reporter.clear_service_status(name).await;
    }
}

/// Keeps health in step with the database: NOT_SERVING while it does not answer.
async fn watch_database(
    store: Store,
    reporter: HealthReporter,
    mut draining: watch::Receiver<bool>,
    interval: Duration,
) {
    let mut serving = true;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = draining.changed() => return,
        }
        if *draining.borrow() {
            return;
        }
        let pool = store.pool_stats();
        let in_use = (pool.open as usize).saturating_sub(pool.idle);
        metrics::gauge!("image_service_db_pool_connections", "state" => "open")
            .set(f64::from(pool.open));
        metrics::gauge!("image_service_db_pool_connections", "state" => "idle")
            .set(pool.idle as f64);
        metrics::gauge!("image_service_db_pool_connections", "state" => "in_use")
            .set(in_use as f64);
        let healthy = store.ping().await.is_ok();
        if healthy != serving {
            serving = healthy;
            if healthy {
                tracing::info!("database answers again");
                set_health(&reporter, ServingStatus::Serving).await;
            } else {
                tracing::error!("database does not answer");
                set_health(&reporter, ServingStatus::NotServing).await;
            }
        }
    }
}

/// Purges answers kept for retries once they are past their retention.
async fn purge_replays(store: Store, mut draining: watch::Receiver<bool>) {
    loop {
        match store.purge_replays().await {
            Ok(purged) => tracing::debug!(purged, "purged kept answers"),
            Err(err) => tracing::warn!(error = %err, "purging kept answers failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(PURGE_EVERY) => {}
            _ = draining.changed() => return,
        }
    }
}

/// Serves until SIGTERM or SIGINT, then drains.
pub async fn serve_until_signal(settings: Settings) -> anyhow::Result<()> {
    let running = start(settings).await?;
    tracing::info!(addr = %running.addr(), "listening");
    wait_for_signal().await?;
    running.shutdown().await
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}
