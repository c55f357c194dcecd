//! Health, reflection in both versions, unknown methods, compression and shutdown.

use image_service::proto::*;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic::codec::CompressionEncoding;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{TestApp, code};

fn check(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.into(),
    }
}

#[tokio::test]
async fn health_answers_for_the_server_and_the_image_service_only() {
    let app = TestApp::spawn().await;
    let mut health = HealthClient::new(app.channel.clone());

    let server = health.check(check("")).await.expect("overall").into_inner();
    let images = health
        .check(check("cloud.image.v1.ImageService"))
        .await
        .expect("image service")
        .into_inner();
    let unknown = health.check(check("no.such.Service")).await;
    let tags = health
        .check(check("cloud.image.v1.TagService"))
        .await
        .expect("tags")
        .into_inner();

    assert_eq!(server.status(), ServingStatus::Serving);
    assert_eq!(images.status(), ServingStatus::Serving);
    assert_eq!(tags.status(), ServingStatus::Serving);
    assert_eq!(code(unknown), Code::NotFound);
}

#[tokio::test]
async fn a_health_watch_hears_not_serving_when_the_server_drains() {
    let app = TestApp::spawn().await;
    let mut health = HealthClient::new(app.channel.clone());
    let mut watch = health
        .watch(check("cloud.image.v1.ImageService"))
        .await
        .expect("watch")
        .into_inner();
    let first = watch.next().await.expect("an update").expect("ok");
    assert_eq!(first.status(), ServingStatus::Serving);

    let stopping = tokio::spawn(app.stop());
    let next = watch.next().await.expect("an update").expect("ok");

    assert_eq!(next.status(), ServingStatus::NotServing);
    stopping.await.expect("stopped");
}

#[tokio::test]
async fn reflection_lists_every_service_in_both_versions() {
    let app = TestApp::spawn().await;
    let expected = [
        "cloud.image.v1.ImageService",
        "cloud.image.v1.TagService",
        "cloud.image.v1.UserService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ];

    let v1 = {
        use tonic_reflection::pb::v1::*;
        let mut client = server_reflection_client::ServerReflectionClient::new(app.channel.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(server_reflection_request::MessageRequest::ListServices(
                String::new(),
            )),
        };
        let mut stream = client
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .expect("v1")
            .into_inner();
        match stream
            .next()
            .await
            .expect("answer")
            .expect("ok")
            .message_response
        {
            Some(server_reflection_response::MessageResponse::ListServicesResponse(list)) => {
                list.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    let v1alpha = {
        use tonic_reflection::pb::v1alpha::*;
        let mut client = server_reflection_client::ServerReflectionClient::new(app.channel.clone());
        let requests = [
            server_reflection_request::MessageRequest::FileContainingSymbol(
                "cloud.image.v1.Image".into(),
            ),
            server_reflection_request::MessageRequest::FileByFilename(
                "google/protobuf/timestamp.proto".into(),
            ),
            server_reflection_request::MessageRequest::FileByFilename(
                "google/protobuf/field_mask.proto".into(),
            ),
        ]
        .map(|message| ServerReflectionRequest {
            host: String::new(),
            message_request: Some(message),
        });
        let mut stream = client
            .server_reflection_info(tokio_stream::iter(requests))
            .await
            .expect("v1alpha")
            .into_inner();
        let mut files = 0;
        for _ in 0..3 {
            match stream
                .next()
                .await
                .expect("answer")
                .expect("ok")
                .message_response
            {
                Some(server_reflection_response::MessageResponse::FileDescriptorResponse(
                    found,
                )) => {
                    files += found.file_descriptor_proto.len();
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        files
    };

    let mut v1 = v1;
    v1.sort();
    assert_eq!(v1, expected);
    // image.proto and its imports (timestamp, field mask) are all handed out.
    assert_eq!(v1alpha, 3);
}

#[tokio::test]
async fn gzip_compressed_calls_are_accepted() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let mut images = app
        .images("alice")
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);

    let read = images
        .get_image(GetImageRequest { id: x.id.clone() })
        .await
        .expect("gzip");

    assert_eq!(
        read.into_inner().image.map(|i| i.name),
        Some("web".to_owned())
    );
}

#[tokio::test]
async fn an_oversized_description_is_refused_and_the_server_keeps_serving() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let before = app.snapshot().await;

    let result = app
        .images("alice")
        .update_image(UpdateImageRequest {
            image: Some(Image {
                id: x.id.clone(),
                description: "d".repeat(5 << 20),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["description".into()],
            }),
            etag: String::new(),
        })
        .await;

    assert_eq!(code(result), Code::ResourceExhausted);
    assert_eq!(app.snapshot().await, before);
    assert!(app.get("alice", &x.id).await.is_ok());
}

#[tokio::test]
async fn shutdown_is_bounded_while_streams_stay_open_and_then_refuses_calls() {
    let app = TestApp::spawn().await;
    let addr = app.running().addr();
    let mut health = HealthClient::new(app.channel.clone());
    let _open_watch = health.watch(check("")).await.expect("watch").into_inner();

    // An open health watch must not hold the drain for the whole grace period (5 s here):
    // clients that check health keep one open for good.
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(3), app.stop()).await;
    let after = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await;

    assert!(stopped.is_ok(), "shutdown did not finish within its bound");
    assert!(after.is_err(), "the listener must be closed after shutdown");
}

/// Health of `service`, or `None` when the check itself failed.
async fn status_of(
    health: &mut HealthClient<tonic::transport::Channel>,
    service: &str,
) -> Option<ServingStatus> {
    let answer = health.check(check(service)).await.ok()?;
    Some(answer.into_inner().status())
}

/// Polls health until it reports `wanted`, for at most `seconds`.
async fn wait_for_status(
    health: &mut HealthClient<tonic::transport::Channel>,
    wanted: ServingStatus,
    seconds: u64,
) -> bool {
    for _ in 0..seconds * 5 {
        if status_of(health, "cloud.image.v1.ImageService").await == Some(wanted) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test]
async fn health_follows_the_database_out_of_reach_and_back_without_a_restart() {
    let app = TestApp::spawn().await;
    // Taking the database away needs a server; on SQLite (a file) there is nothing to stop.
    let Some((server, name)) = app.server_database().cloned() else {
        eprintln!("health_follows_the_database: runs with TEST_DATABASE_URL on PostgreSQL");
        return;
    };
    if !server.starts_with("postgres") {
        eprintln!("health_follows_the_database: runs with TEST_DATABASE_URL on PostgreSQL");
        return;
    }
    let admin = sea_orm::Database::connect(server.as_str())
        .await
        .expect("server");
    let mut health = HealthClient::new(app.channel.clone());
    assert!(wait_for_status(&mut health, ServingStatus::Serving, 5).await);

    // Refuse new connections to the test's database and end the open ones.
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await
        .expect("block");
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .expect("terminate");
    let went_down = wait_for_status(&mut health, ServingStatus::NotServing, 20).await;

    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .expect("unblock");
    let came_back = wait_for_status(&mut health, ServingStatus::Serving, 20).await;

    assert!(
        went_down,
        "health must turn NOT_SERVING while the database is out of reach"
    );
    assert!(
        came_back,
        "health must turn SERVING again once the database answers"
    );
    let x = app.create("alice", "after-outage").await;
    assert_eq!(
        app.get("alice", &x.id)
            .await
            .map(|i| i.name)
            .ok()
            .as_deref(),
        Some("after-outage")
    );
}
