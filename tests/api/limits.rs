//! Per-image limits, statement counts that do not grow with a request, and metrics.

use std::time::Duration;

use image_service::proto::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

use crate::helpers::{TestApp, code};

async fn add_users(app: &TestApp, prefix: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let id = format!("{prefix}{n:03}");
        app.add_user(&id, &id).await;
        ids.push(id);
    }
    ids
}

fn refs(ids: &[String]) -> Vec<&str> {
    ids.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn an_image_has_at_most_five_hundred_members() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let users = add_users(&app, "m", 501).await;
    for chunk in users[..500].chunks(100) {
        app.share("alice", &x.id, &refs(chunk))
            .await
            .expect("share");
    }
    let before = app.snapshot().await;

    let one_more = app.share("alice", &x.id, &[users[500].as_str()]).await;
    let already = app
        .share("alice", &x.id, &[users[0].as_str()])
        .await
        .expect("already");

    assert_eq!(code(one_more), Code::ResourceExhausted);
    assert_eq!(already.member_count, 500);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn sharing_with_a_hundred_users_costs_as_many_statements_as_with_one() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let y = app.create("alice", "db").await;
    let users = add_users(&app, "s", 100).await;
    let store = app.running().store();

    let start = store.statement_count();
    app.share("alice", &x.id, &refs(&users[..1]))
        .await
        .expect("one");
    let one = store.statement_count() - start;
    let start = store.statement_count();
    app.share("alice", &y.id, &refs(&users))
        .await
        .expect("hundred");
    let hundred = store.statement_count() - start;

    assert_eq!(hundred, one);
    assert_eq!(app.count("image_members").await, 101);
}

#[tokio::test]
async fn cloning_ten_copies_costs_as_many_statements_as_one() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let store = app.running().store();
    let clone = |name: &str, count| CloneImageRequest {
        id: x.id.clone(),
        name: name.into(),
        count: Some(count),
        request_id: String::new(),
    };

    let start = store.statement_count();
    app.images("alice")
        .clone_image(clone("one", 1))
        .await
        .expect("one");
    let one = store.statement_count() - start;
    let start = store.statement_count();
    app.images("alice")
        .clone_image(clone("ten", 10))
        .await
        .expect("ten");
    let ten = store.statement_count() - start;

    assert_eq!(ten, one);
    assert_eq!(app.count("images").await, 12);
}

async fn scrape(addr: std::net::SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("metrics listener");
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await
        .expect("request");
    let mut body = String::new();
    stream.read_to_string(&mut body).await.expect("response");
    body
}

#[tokio::test]
async fn metrics_count_requests_per_method_and_code_and_show_the_pool() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let app = TestApp::spawn_with_metrics(Some(port)).await;
    let x = app.create("alice", "web").await;
    app.get("alice", &x.id).await.expect("get");
    let _ = app.get("alice", "not-a-uuid").await;

    // The pool gauges are refreshed by the health loop; wait for one round at most.
    let mut text = String::new();
    for _ in 0..50 {
        text = scrape(port).await;
        if text.contains("image_service_db_pool_connections") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let counted = |method: &str, code: &str| {
        text.lines().any(|line| {
            line.starts_with("image_service_requests_total{")
                && line.contains(&format!("method=\"{method}\""))
                && line.contains(&format!("code=\"{code}\""))
        })
    };
    assert!(counted("GetImage", "Ok"), "{text}");
    assert!(counted("GetImage", "InvalidArgument"), "{text}");
    assert!(counted("CreateImage", "Ok"), "{text}");
    assert!(
        text.contains("image_service_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains("image_service_db_pool_connections{state=\"open\"}"),
        "{text}"
    );
}
