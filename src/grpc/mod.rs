//! The gRPC layer: one file per service. Handlers read in three steps: parse the request into
//! domain input, call one store operation, convert the result into the reply.

mod convert;
mod error;
mod image;
mod tag;
mod user;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use prost::Message;
use sha2::{Digest, Sha256};
use tonic::{Code, Request, Response, Status};
use tracing::Instrument;

use crate::auth::Verifier;
use crate::domain::text::{parse_request_id, parse_user_token};
use crate::domain::user::Caller;
use crate::store::{RetryKey, Store};

pub use image::ImageApi;
pub use tag::TagApi;
pub use user::UserApi;

/// What every handler needs.
#[derive(Clone, Debug)]
pub struct Shared {
    pub store: Store,
    pub verifier: Arc<Verifier>,
}

impl Shared {
    /// The caller of `request`: a valid bearer token of a known, enabled user.
    async fn caller<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .ok_or_else(|| Status::unauthenticated("missing authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| Status::unauthenticated("authorization must be: Bearer <token>"))?;
        let claims = self
            .verifier
            .verify(token)
            .map_err(Status::unauthenticated)?;
        // A well-signed token may still name no possible user; it is never looked up.
        if parse_user_token(&claims.sub, "sub").is_err() {
            return Err(Status::permission_denied(
                "the calling user is not in the user directory",
            ));
        }
        tracing::Span::current().record("caller", claims.sub.as_str());

        // TODO(perf): one statement per call; a cache would keep a disabled user in on other
        // replicas until it expired, which the contract does not allow.
        let user = self.store.find_user(&claims.sub).await?;
        match user {
            Some(user) if !user.disabled => Ok(Caller {
                id: user.id,
                admin: claims.is_admin(),
            }),
            Some(_) => Err(Status::permission_denied("the calling user is disabled")),
            None => Err(Status::permission_denied(
                "the calling user is not in the user directory",
            )),
        }
    }
}

/// Runs one RPC inside its span and logs its outcome: OK at debug, client errors at info,
/// server errors at error.
async fn observe<T, F>(
    service: &'static str,
    method: &'static str,
    call: F,
) -> Result<Response<T>, Status>
where
    F: Future<Output = Result<T, Status>>,
{
    let span = tracing::info_span!(
        "rpc",
        service,
        method,
        caller = tracing::field::Empty,
        code = tracing::field::Empty,
        latency_us = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = call.instrument(span.clone()).await;
    let code = result.as_ref().map_or_else(Status::code, |_| Code::Ok);
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.record("code", format!("{code:?}"));
    span.record("latency_us", latency_us);
    let labels = [
        ("service", service.to_owned()),
        ("method", method.to_owned()),
        ("code", format!("{code:?}")),
    ];
    metrics::counter!("image_service_requests_total", &labels).increment(1);
    metrics::histogram!("image_service_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    let _entered = span.enter();
    match (&result, code) {
        (Ok(_), _) => tracing::debug!("ok"),
        (Err(status), Code::Internal | Code::Unknown | Code::DataLoss | Code::Unavailable) => {
            tracing::error!(reason = status.message(), "failed")
        }
        (Err(status), _) => tracing::info!(reason = status.message(), "refused"),
    }
    result.map(Response::new)
}

/// The retry key of a call: the caller, the `request_id`, and a hash of the request with the
/// `request_id` cleared, so that the same id with another request is recognised.
fn retry_key<M: Message>(
    caller: &Caller,
    method: &str,
    request_id: &str,
    without_id: &M,
) -> Result<Option<RetryKey>, Status> {
    let Some(request_id) = parse_request_id(request_id, "request_id")? else {
        return Ok(None);
    };
    let digest = Sha256::digest(without_id.encode_to_vec());
    let hash: String = digest.iter().take(24).map(|b| format!("{b:02x}")).collect();
    Ok(Some(RetryKey {
        caller_id: caller.id.clone(),
        request_id,
        fingerprint: format!("{method}:{hash}"),
    }))
}
