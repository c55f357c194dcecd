//! Cloning images, one or several copies at once.

use image_service::proto::*;
use tonic::Code;

use crate::helpers::{TestApp, bad_fields, code, err, resource_names};

fn clone(id: &str, name: &str, count: i32) -> CloneImageRequest {
    CloneImageRequest {
        id: id.into(),
        name: name.into(),
        count: Some(count),
        request_id: String::new(),
    }
}

#[tokio::test]
async fn copies_are_numbered_owned_by_the_caller_and_bare() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let tag = app.tag("alice", "env", "prod").await;
    app.images("alice")
        .bind_image_tags(BindImageTagsRequest {
            id: x.id.clone(),
            tag_ids: vec![tag.id],
        })
        .await
        .expect("bind");
    app.share("alice", &x.id, &["bob"]).await.expect("share");

    let copies = app
        .images("alice")
        .clone_image(clone(&x.id, "app", 3))
        .await
        .expect("clone")
        .into_inner()
        .images;

    let names: Vec<&str> = copies.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["app-1", "app-2", "app-3"]);
    for copy in &copies {
        let read = app.get("alice", &copy.id).await.expect("get");
        assert_eq!(read.owner_id, "alice");
        assert_eq!(read.source_image_id, x.id);
        assert_eq!(read.description, x.description);
        assert_eq!(read.size_bytes, x.size_bytes);
        assert_eq!(read.category(), ImageCategory::Own);
        assert!(read.tags.is_empty());
        assert_eq!(read.member_count, 0);
    }
    assert_eq!(app.count("images").await, 4);
    assert_eq!(app.count("image_members").await, 1);
    assert_eq!(app.count("image_tags").await, 1);
    let single = app
        .images("alice")
        .clone_image(CloneImageRequest {
            count: None,
            ..clone(&x.id, "solo", 1)
        })
        .await
        .expect("one");
    assert_eq!(single.into_inner().images[0].name, "solo");
}

#[tokio::test]
async fn a_clash_with_any_copy_name_creates_nothing() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    app.create("alice", "web-2").await;
    let before = app.snapshot().await;

    let status = err(app
        .images("alice")
        .clone_image(clone(&x.id, "web", 3))
        .await);
    let again = app
        .images("alice")
        .clone_image(clone(&x.id, "web", 3))
        .await;

    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(resource_names(&status), ["web-2"]);
    assert_eq!(code(again), Code::AlreadyExists);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn counts_and_names_out_of_bounds_are_refused() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let before = app.snapshot().await;
    let mut images = app.images("alice");

    for count in [-1, 0, 11, 1_000_000] {
        let status = err(images.clone_image(clone(&x.id, "app", count)).await);
        assert_eq!(bad_fields(&status), ["count"], "count {count}");
    }
    for name in ["", "   ", "bad\nname", &"a".repeat(129)] {
        let status = err(images.clone_image(clone(&x.id, name, 1)).await);
        assert_eq!(bad_fields(&status), ["name"], "name {name:?}");
    }
    let suffixed_too_long = err(images.clone_image(clone(&x.id, &"a".repeat(127), 2)).await);
    assert_eq!(bad_fields(&suffixed_too_long), ["name"]);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn received_and_system_images_clone_into_the_callers_own() {
    let app = TestApp::spawn().await;
    let y = app.create("bob", "bobs").await;
    let s = app.create("root", "base").await;
    app.share("bob", &y.id, &["alice"]).await.expect("share");

    let from_received = app
        .images("alice")
        .clone_image(clone(&y.id, "mine", 1))
        .await
        .expect("clone");
    let from_system = app
        .images("alice")
        .clone_image(clone(&s.id, "sys", 2))
        .await
        .expect("clone");
    let invisible = app
        .images("erin")
        .clone_image(clone(&y.id, "stolen", 1))
        .await;
    app.revoke("bob", &y.id, &["alice"]).await.expect("revoke");

    let copy = &from_received.into_inner().images[0];
    assert_eq!(code(invisible), Code::NotFound);
    assert_eq!(
        app.get("alice", &copy.id)
            .await
            .expect("copy stays")
            .owner_id,
        "alice"
    );
    assert_eq!(from_system.into_inner().images.len(), 2);
    let mut own = app.names("alice", ImageCategory::Own).await;
    own.sort();
    assert_eq!(own, ["mine", "sys-1", "sys-2"]);
}

#[tokio::test]
async fn a_retried_clone_returns_the_same_copies() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let mut request = clone(&x.id, "app", 2);
    request.request_id = uuid::Uuid::new_v4().to_string();
    let mut images = app.images("alice");

    let first = images
        .clone_image(request.clone())
        .await
        .expect("first")
        .into_inner();
    let again = images
        .clone_image(request.clone())
        .await
        .expect("again")
        .into_inner();
    request.name = "other".into();
    let reused = images.clone_image(request).await;

    assert_eq!(first, again);
    assert_eq!(code(reused), Code::InvalidArgument);
    assert_eq!(app.count("images").await, 3);
}

#[tokio::test]
async fn concurrent_clones_to_one_name_make_exactly_one_batch() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;

    let calls: Vec<_> = (0..2)
        .map(|_| {
            let mut images = app.images("alice");
            let request = clone(&x.id, "race", 3);
            tokio::spawn(async move { images.clone_image(request).await })
        })
        .collect();
    let mut codes = Vec::new();
    for call in calls {
        codes.push(
            call.await
                .expect("joined")
                .map(|_| Code::Ok)
                .unwrap_or_else(|s| s.code()),
        );
    }
    codes.sort_by_key(|c| *c as i32);

    assert_eq!(codes, [Code::Ok, Code::AlreadyExists]);
    assert_eq!(app.count("images").await, 4);
}
