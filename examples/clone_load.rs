//! Load for `CloneImage`, which h2load cannot drive: h2load sends one fixed body, and a clone
//! with a name already taken is refused (ALREADY_EXISTS), so every call here names new copies
//! (`<prefix>-<connection>-<stream>-<n>`, `count` copies each). Bounded in calls and in time;
//! it talks to one address, which must be a loopback one in the benchmark.
//!
//! ```text
//! cargo run --release --example clone_load -- --addr 127.0.0.1:50051 --token JWT \
//!     --source IMAGE_ID [--connections 16] [--streams 1] [--requests 2000] [--duration 8] \
//!     [--count 10] [--prefix c]
//! ```
//!
//! Prints one `key=value` line: calls, OK calls, failed calls by code, calls per second and
//! latency percentiles in microseconds.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use image_service::proto::CloneImageRequest;
use image_service::proto::image_service_client::ImageServiceClient;
use tonic::metadata::MetadataValue;
use tonic::transport::Endpoint;

struct Args {
    addr: String,
    token: String,
    source: String,
    connections: usize,
    streams: usize,
    requests: u64,
    duration: f64,
    count: i32,
    prefix: String,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        addr: "127.0.0.1:50051".into(),
        token: String::new(),
        source: String::new(),
        connections: 16,
        streams: 1,
        requests: 2000,
        duration: 8.0,
        count: 10,
        prefix: format!("c{}", std::process::id()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => args.addr = value()?,
            "--token" => args.token = value()?,
            "--source" => args.source = value()?,
            "--connections" => args.connections = value()?.parse()?,
            "--streams" => args.streams = value()?.parse()?,
            "--requests" => args.requests = value()?.parse()?,
            "--duration" => args.duration = value()?.parse()?,
            "--count" => args.count = value()?.parse()?,
            "--prefix" => args.prefix = value()?,
            other => bail!("unknown argument {other}"),
        }
    }
    if args.token.is_empty() || args.source.is_empty() {
        bail!("--token and --source are required");
    }
    if args.connections == 0 || args.streams == 0 || args.connections * args.streams > 1024 {
        bail!("1 to 1024 concurrent calls");
    }
    if args.requests > 1_000_000 || args.duration > 600.0 {
        bail!("at most 1,000,000 calls and 600 seconds");
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(parse_args()?);
    let bearer: MetadataValue<_> = format!("Bearer {}", args.token).parse()?;
    let issued = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);

    let mut tasks = Vec::new();
    let started = Instant::now();
    for conn in 0..args.connections {
        // One channel is one HTTP/2 connection; its streams share it, like h2load's -m.
        let channel = Endpoint::from_shared(format!("http://{}", args.addr))?
            .tcp_nodelay(true)
            .connect()
            .await
            .with_context(|| format!("connecting to {}", args.addr))?;
        for stream in 0..args.streams {
            let mut client = ImageServiceClient::new(channel.clone());
            let args = args.clone();
            let issued = issued.clone();
            let bearer = bearer.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures: BTreeMap<String, u64> = BTreeMap::new();
                let mut n = 0u64;
                while Instant::now() < deadline
                    && issued.fetch_add(1, Ordering::Relaxed) < args.requests
                {
                    n += 1;
                    let mut request = tonic::Request::new(CloneImageRequest {
                        id: args.source.clone(),
                        name: format!("{}-{conn}-{stream}-{n}", args.prefix),
                        count: Some(args.count),
                        request_id: String::new(),
                    });
                    request
                        .metadata_mut()
                        .insert("authorization", bearer.clone());
                    let sent = Instant::now();
                    let outcome = client.clone_image(request).await;
                    latencies.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                    if let Err(status) = outcome {
                        *failures.entry(format!("{:?}", status.code())).or_default() += 1;
                        if failures.values().sum::<u64>() == 1 {
                            eprintln!("clone_load: first failure: {status:?}");
                        }
                    }
                }
                (latencies, failures)
            }));
        }
    }

    let mut latencies = Vec::new();
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    for task in tasks {
        let (l, f) = task.await?;
        latencies.extend(l);
        for (code, n) in f {
            *failures.entry(code).or_default() += n;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let calls = latencies.len() as u64;
    let failed: u64 = failures.values().sum();
    let pct = |p: f64| -> u64 {
        if latencies.is_empty() {
            return 0;
        }
        let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        latencies[rank.clamp(1, latencies.len()) - 1]
    };
    let mean = latencies
        .iter()
        .sum::<u64>()
        .checked_div(calls)
        .unwrap_or(0);
    let failures_text = if failures.is_empty() {
        "none".to_owned()
    } else {
        failures
            .iter()
            .map(|(code, n)| format!("{code}:{n}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    println!(
        "calls={calls} ok={} failed={failed} failures={failures_text} seconds={seconds:.2} \
         rps={:.1} images_created={} min_us={} mean_us={mean} p50_us={} p90_us={} p99_us={} \
         max_us={}",
        calls - failed,
        calls as f64 / seconds,
        (calls - failed) * u64::try_from(args.count.max(1)).unwrap_or(1),
        pct(0.0),
        pct(50.0),
        pct(90.0),
        pct(99.0),
        pct(100.0),
    );
    Ok(())
}
