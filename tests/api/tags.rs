//! The tag registry and binding tags to images.

use image_service::proto::*;
use tonic::Code;

use crate::helpers::{TestApp, bad_fields, code, err, resource_names};

fn bind(id: &str, tag_ids: &[&str]) -> BindImageTagsRequest {
    BindImageTagsRequest {
        id: id.into(),
        tag_ids: tag_ids.iter().map(|t| (*t).to_owned()).collect(),
    }
}

fn unbind(id: &str, tag_ids: &[&str]) -> UnbindImageTagsRequest {
    UnbindImageTagsRequest {
        id: id.into(),
        tag_ids: tag_ids.iter().map(|t| (*t).to_owned()).collect(),
    }
}

fn tag_ids(image: &Image) -> Vec<&str> {
    image.tags.iter().map(|t| t.id.as_str()).collect()
}

#[tokio::test]
async fn binding_is_idempotent_and_all_or_nothing() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let t1 = app.tag("alice", "env", "prod").await;
    let t2 = app.tag("alice", "team", "core").await;
    let missing = uuid::Uuid::new_v4().to_string();
    let mut images = app.images("alice");

    let twice = images
        .bind_image_tags(bind(&x.id, &[&t1.id, &t1.id]))
        .await
        .expect("bind");
    let again = images
        .bind_image_tags(bind(&x.id, &[&t1.id]))
        .await
        .expect("again");
    assert_eq!(
        tag_ids(twice.get_ref().image.as_ref().expect("image")),
        [t1.id.as_str()]
    );
    assert_eq!(
        tag_ids(again.get_ref().image.as_ref().expect("image")),
        [t1.id.as_str()]
    );
    assert_eq!(app.count("image_tags").await, 1);

    let before = app.snapshot().await;
    let partly_unknown = err(images
        .bind_image_tags(bind(&x.id, &[&t2.id, &missing]))
        .await);
    assert_eq!(partly_unknown.code(), Code::NotFound);
    assert_eq!(resource_names(&partly_unknown), [missing.as_str()]);
    assert_eq!(app.snapshot().await, before);

    let not_bound = images
        .unbind_image_tags(unbind(&x.id, &[&t2.id]))
        .await
        .expect("no-op");
    assert_eq!(
        tag_ids(not_bound.get_ref().image.as_ref().expect("image")),
        [t1.id.as_str()]
    );
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn only_own_tags_bind_and_only_to_own_images() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let y = app.create("bob", "other").await;
    let s = app.create("root", "base").await;
    let mine = app.tag("alice", "env", "prod").await;
    let bobs = app.tag("bob", "env", "prod").await;
    app.share("bob", &y.id, &["alice"]).await.expect("share");
    let before = app.snapshot().await;
    let mut images = app.images("alice");

    let foreign_tag = err(images.bind_image_tags(bind(&x.id, &[&bobs.id])).await);
    let received_image = images.bind_image_tags(bind(&y.id, &[&mine.id])).await;
    let system_image = images.bind_image_tags(bind(&s.id, &[&mine.id])).await;
    let invisible = app
        .images("erin")
        .bind_image_tags(bind(&x.id, &[&mine.id]))
        .await;

    assert_eq!(foreign_tag.code(), Code::NotFound);
    assert_eq!(resource_names(&foreign_tag), [bobs.id.as_str()]);
    assert_eq!(code(received_image), Code::PermissionDenied);
    assert_eq!(code(system_image), Code::PermissionDenied);
    assert_eq!(code(invisible), Code::NotFound);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn bind_lists_must_hold_one_to_twenty_well_formed_ids() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let before = app.snapshot().await;
    let many: Vec<String> = (0..21).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let mut images = app.images("alice");

    let empty = err(images.bind_image_tags(bind(&x.id, &[])).await);
    let empty_unbind = images.unbind_image_tags(unbind(&x.id, &[])).await;
    let too_many = err(images.bind_image_tags(bind(&x.id, &many)).await);
    let malformed = err(images.bind_image_tags(bind(&x.id, &["t1", "nope"])).await);

    assert_eq!(empty.code(), Code::InvalidArgument);
    assert_eq!(code(empty_unbind), Code::InvalidArgument);
    assert_eq!(bad_fields(&too_many), ["tag_ids"]);
    assert_eq!(bad_fields(&malformed), ["tag_ids[0]", "tag_ids[1]"]);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn an_image_holds_at_most_fifty_tags() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let mut ids = Vec::new();
    for n in 0..51 {
        ids.push(app.tag("alice", "k", &format!("v{n:02}")).await.id);
    }
    let mut images = app.images("alice");
    for chunk in ids[..50].chunks(20) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        images
            .bind_image_tags(bind(&x.id, &chunk))
            .await
            .expect("bind");
    }
    let before = app.snapshot().await;

    let fifty_first = images.bind_image_tags(bind(&x.id, &[&ids[50]])).await;

    assert_eq!(code(fifty_first), Code::ResourceExhausted);
    assert_eq!(app.snapshot().await, before);
    assert_eq!(app.get("alice", &x.id).await.expect("get").tags.len(), 50);
}

#[tokio::test]
async fn tag_text_is_checked_and_chinese_round_trips() {
    let app = TestApp::spawn().await;
    let before = app.snapshot().await;
    let mut tags = app.tags("alice");
    let create = |key: &str, value: &str| CreateTagRequest {
        tag: Some(Tag {
            key: key.into(),
            value: value.into(),
            ..Default::default()
        }),
    };

    let control = err(tags.create_tag(create("a\u{1}b", "c\nd")).await);
    let long = err(tags
        .create_tag(create(&"k".repeat(65), &"v".repeat(129)))
        .await);
    let empty_key = err(tags.create_tag(create("", "v")).await);
    assert_eq!(bad_fields(&control), ["tag.key", "tag.value"]);
    assert_eq!(bad_fields(&long), ["tag.key", "tag.value"]);
    assert_eq!(bad_fields(&empty_key), ["tag.key"]);
    assert_eq!(app.snapshot().await, before);

    let chinese = tags
        .create_tag(create("环境", "生产环境😀"))
        .await
        .expect("create");
    let empty_value = tags
        .create_tag(create("release", ""))
        .await
        .expect("empty value");
    let duplicate = tags.create_tag(create("环境", "生产环境😀")).await;
    let listed = tags
        .list_tags(ListTagsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .tags;

    assert_eq!(code(duplicate), Code::AlreadyExists);
    let pairs: Vec<(&str, &str)> = listed
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect();
    assert_eq!(pairs, [("release", ""), ("环境", "生产环境😀")]);
    assert_eq!(
        chinese.into_inner().tag.map(|t| t.value),
        Some("生产环境😀".to_owned())
    );
    assert_eq!(
        empty_value.into_inner().tag.map(|t| t.owner_id),
        Some("alice".to_owned())
    );
}

#[tokio::test]
async fn tags_filter_listings_and_stay_the_owners_business() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let z = app.create("alice", "db").await;
    let t1 = app.tag("alice", "env", "prod").await;
    let t2 = app.tag("alice", "team", "core").await;
    let mut images = app.images("alice");
    images
        .bind_image_tags(bind(&x.id, &[&t1.id, &t2.id]))
        .await
        .expect("bind x");
    images
        .bind_image_tags(bind(&z.id, &[&t1.id]))
        .await
        .expect("bind z");
    app.share("alice", &x.id, &["bob"]).await.expect("share");

    let both = app
        .list(
            "alice",
            ListImagesRequest {
                tag_ids: vec![t1.id.clone(), t2.id.clone()],
                ..Default::default()
            },
        )
        .await;
    let one = app
        .list(
            "alice",
            ListImagesRequest {
                tag_ids: vec![t1.id.clone()],
                order_by: "name".into(),
                ..Default::default()
            },
        )
        .await;
    let foreign_filter = app
        .images("bob")
        .list_images(ListImagesRequest {
            tag_ids: vec![t1.id.clone()],
            ..Default::default()
        })
        .await;

    assert_eq!(
        both.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ["web"]
    );
    assert_eq!(
        one.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ["db", "web"]
    );
    assert_eq!(code(foreign_filter), Code::NotFound);
    assert!(
        app.get("bob", &x.id)
            .await
            .expect("bob reads")
            .tags
            .is_empty()
    );
    let keys: Vec<String> = app
        .get("alice", &x.id)
        .await
        .expect("get")
        .tags
        .into_iter()
        .map(|t| t.key)
        .collect();
    assert_eq!(keys, ["env", "team"]);
}

#[tokio::test]
async fn deleting_a_bound_tag_needs_force_and_keeps_the_images() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let t1 = app.tag("alice", "env", "prod").await;
    app.images("alice")
        .bind_image_tags(bind(&x.id, &[&t1.id]))
        .await
        .expect("bind");
    let before = app.snapshot().await;
    let delete = |force| DeleteTagRequest {
        id: t1.id.clone(),
        force,
    };

    let refused = app.tags("alice").delete_tag(delete(false)).await;
    let by_other = app.tags("bob").delete_tag(delete(true)).await;
    assert_eq!(code(refused), Code::FailedPrecondition);
    assert_eq!(code(by_other), Code::NotFound);
    assert_eq!(app.snapshot().await, before);

    let forced = app
        .tags("alice")
        .delete_tag(delete(true))
        .await
        .expect("forced");
    assert_eq!(forced.into_inner().unbound_images, 1);
    assert!(
        app.get("alice", &x.id)
            .await
            .expect("image stays")
            .tags
            .is_empty()
    );
    assert_eq!(app.count("image_tags").await, 0);
    assert_eq!(app.count("images").await, 1);
}

#[tokio::test]
async fn deleting_an_image_leaves_no_binding_behind() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let t1 = app.tag("alice", "env", "prod").await;
    app.images("alice")
        .bind_image_tags(bind(&x.id, &[&t1.id]))
        .await
        .expect("bind");

    app.images("alice")
        .delete_image(DeleteImageRequest {
            id: x.id.clone(),
            force: false,
            request_id: String::new(),
        })
        .await
        .expect("delete");

    assert_eq!(app.count("image_tags").await, 0);
    assert_eq!(app.count("tags").await, 1);
}

#[tokio::test]
async fn concurrent_binds_of_one_tag_leave_one_binding() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let t1 = app.tag("alice", "env", "prod").await;

    let calls: Vec<_> = (0..4)
        .map(|_| {
            let mut images = app.images("alice");
            let request = bind(&x.id, &[&t1.id]);
            tokio::spawn(async move { images.bind_image_tags(request).await })
        })
        .collect();
    for call in calls {
        call.await.expect("joined").expect("bind succeeds");
    }

    assert_eq!(app.count("image_tags").await, 1);
    assert_eq!(
        tag_ids(&app.get("alice", &x.id).await.expect("get")),
        [t1.id.as_str()]
    );
}

#[tokio::test]
async fn binding_and_deleting_a_tag_at_once_never_leaves_a_broken_state() {
    let app = TestApp::spawn().await;
    for round in 0..5 {
        let x = app.create("alice", &format!("img{round}")).await;
        let tag = app.tag("alice", "round", &round.to_string()).await;

        let binds: Vec<_> = (0..3)
            .map(|_| {
                let mut images = app.images("alice");
                let request = bind(&x.id, &[&tag.id]);
                tokio::spawn(async move { images.bind_image_tags(request).await.map(|_| ()) })
            })
            .collect();
        let mut tags = app.tags("alice");
        let delete = DeleteTagRequest {
            id: tag.id.clone(),
            force: false,
        };
        let deleted = tokio::spawn(async move { tags.delete_tag(delete).await.map(|_| ()) });
        let mut bound = 0;
        for call in binds {
            match call.await.expect("joined") {
                Ok(()) => bound += 1,
                Err(status) => assert_eq!(status.code(), Code::NotFound),
            }
        }
        let deleted = deleted.await.expect("joined");

        let tags_now = app.get("alice", &x.id).await.expect("get").tags.len();
        match deleted {
            Ok(()) => assert_eq!((bound, tags_now), (0, 0), "round {round}"),
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "round {round}");
                assert_eq!(tags_now, 1, "round {round}");
            }
        }
    }
}
