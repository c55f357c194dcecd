//! Registering, reading, listing, changing and deleting images.

use image_service::proto::*;
use prost_types::FieldMask;
use tonic::Code;

use crate::helpers::{TestApp, bad_fields, code, err};

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

fn update(id: &str, name: &str, description: &str, paths: &[&str]) -> UpdateImageRequest {
    UpdateImageRequest {
        image: Some(Image {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            ..Default::default()
        }),
        update_mask: mask(paths),
        etag: String::new(),
    }
}

#[tokio::test]
async fn a_registered_image_reads_back_with_every_attribute() {
    let app = TestApp::spawn().await;

    let created = app.create("alice", "web").await;
    let read = app.get("alice", &created.id).await.expect("get");

    assert_eq!(read, created);
    assert_eq!(read.name, "web");
    assert_eq!(read.owner_id, "alice");
    assert_eq!(read.category(), ImageCategory::Own);
    assert_eq!(read.status(), ImageStatus::Active);
    assert_eq!(read.disk_format(), DiskFormat::Qcow2);
    assert_eq!(read.architecture(), Architecture::X8664);
    assert_eq!(read.size_bytes, 2 << 30);
    assert_eq!(read.etag, "r1");
    assert!(read.create_time.is_some());
    assert_eq!(app.count("images").await, 1);
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let request = || GetImageRequest {
        id: uuid::Uuid::new_v4().to_string(),
    };

    let missing = app.images_anonymous().get_image(request()).await;
    let malformed = app
        .images_with_header("Bearer not.a.jwt")
        .get_image(request())
        .await;
    let not_bearer = app
        .images_with_header("Basic abc")
        .get_image(request())
        .await;
    let foreign_key = image_service::auth::mint(
        &image_service::auth::KeySource::Secret(image_service::auth::Secret::new("other")),
        "alice",
        false,
        std::time::Duration::from_secs(60),
    )
    .expect("token");
    let foreign = app
        .images_with_header(&format!("Bearer {foreign_key}"))
        .get_image(request())
        .await;

    let now = jsonwebtoken::get_current_timestamp();
    let expired_claims = serde_json::json!({"sub": "alice", "exp": now - 3600, "iat": now - 7200});
    let no_exp_claims = serde_json::json!({"sub": "alice"});
    let sign = |claims: &serde_json::Value| {
        let key = jsonwebtoken::EncodingKey::from_secret(b"test-secret").expect("key");
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).expect("token")
    };
    let expired = app
        .images_with_header(&format!("Bearer {}", sign(&expired_claims)))
        .get_image(request())
        .await;
    let without_exp = app
        .images_with_header(&format!("Bearer {}", sign(&no_exp_claims)))
        .get_image(request())
        .await;

    for result in [
        missing,
        malformed,
        not_bearer,
        foreign,
        expired,
        without_exp,
    ] {
        assert_eq!(code(result), Code::Unauthenticated);
    }
}

#[tokio::test]
async fn unknown_and_disabled_callers_are_denied() {
    let app = TestApp::spawn().await;
    let image = app.create("alice", "web").await;

    let stranger = app.get("ghost", &image.id).await;
    app.users("root")
        .disable_user(DisableUserRequest { id: "alice".into() })
        .await
        .expect("disabled");
    let disabled = app.get("alice", &image.id).await;

    assert_eq!(code(stranger), Code::PermissionDenied);
    assert_eq!(code(disabled), Code::PermissionDenied);
}

#[tokio::test]
async fn only_administrators_register_system_images() {
    let app = TestApp::spawn().await;
    let before = app.snapshot().await;

    let refused = app
        .images("alice")
        .create_image(CreateImageRequest {
            image: Some(Image {
                name: "base".into(),
                ..Default::default()
            }),
            system: true,
            request_id: String::new(),
        })
        .await;

    assert_eq!(code(refused), Code::PermissionDenied);
    assert_eq!(app.snapshot().await, before);
    let system = app.create("root", "base").await;
    assert_eq!(system.category(), ImageCategory::System);
    assert_eq!(system.owner_id, "");
    assert_eq!(
        app.get("erin", &system.id).await.map(|i| i.category()).ok(),
        Some(ImageCategory::System)
    );
}

#[tokio::test]
async fn a_bad_image_names_every_offending_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let before = app.snapshot().await;

    let status = err(app
        .images("alice")
        .create_image(CreateImageRequest {
            image: Some(Image {
                name: format!("bad\nname{}", "é".repeat(300)),
                description: "x".repeat(1025),
                checksum_sha256: "xyz".into(),
                disk_format: 42,
                min_ram_mb: -1,
                ..Default::default()
            }),
            system: false,
            request_id: String::new(),
        })
        .await);

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        bad_fields(&status),
        [
            "image.name",
            "image.description",
            "image.disk_format",
            "image.min_ram_mb",
            "image.checksum_sha256"
        ]
    );
    assert!(!status.message().contains('\n'));
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn unicode_text_round_trips_byte_for_byte() {
    let app = TestApp::spawn().await;
    let image = app.create("alice", "web").await;
    let text = "Ünïcødé 100% ✓ 😀 日本\n\tline two";

    let updated = app
        .images("alice")
        .update_image(update(
            &image.id,
            "Ünïcødé 日本 (测试) हिन्दी",
            text,
            &["name", "description"],
        ))
        .await
        .expect("update")
        .into_inner()
        .image
        .expect("image");
    let read = app.get("alice", &image.id).await.expect("get");

    assert_eq!(updated.name, "Ünïcødé 日本 (测试) हिन्दी");
    assert_eq!(read.name, "Ünïcødé 日本 (测试) हिन्दी");
    assert_eq!(read.description, text);
}

#[tokio::test]
async fn names_refuse_symbols_emoji_and_blank_text() {
    let app = TestApp::spawn().await;
    let image = app.create("alice", "web").await;
    let before = app.snapshot().await;

    for name in [
        "Ünïcødé 100% ✓ 😀 日本",
        "\u{301}alone",
        "",
        "   ",
        "tab\there",
        &"a".repeat(129),
    ] {
        let status = err(app
            .images("alice")
            .update_image(update(&image.id, name, "", &["name"]))
            .await);
        assert_eq!(status.code(), Code::InvalidArgument, "{name:?}");
        assert_eq!(bad_fields(&status), ["image.name"]);
    }

    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn names_are_unique_per_owner_and_among_system_images() {
    let app = TestApp::spawn().await;
    app.create("alice", "web").await;
    app.create("root", "base").await;
    let before = app.snapshot().await;

    let again = app
        .images("alice")
        .create_image(CreateImageRequest {
            image: Some(Image {
                name: "  web ".into(),
                ..Default::default()
            }),
            system: false,
            request_id: String::new(),
        })
        .await;
    let system_again = app
        .images("root")
        .create_image(CreateImageRequest {
            image: Some(Image {
                name: "base".into(),
                ..Default::default()
            }),
            system: true,
            request_id: String::new(),
        })
        .await;

    assert_eq!(code(again), Code::AlreadyExists);
    assert_eq!(code(system_again), Code::AlreadyExists);
    assert_eq!(app.snapshot().await, before);
    // Another owner, and another case, are other names.
    assert_eq!(app.create("bob", "web").await.name, "web");
    assert_eq!(app.create("alice", "Web").await.name, "Web");
}

#[tokio::test]
async fn other_users_images_are_not_found_like_unused_ids() {
    let app = TestApp::spawn().await;
    let image = app.create("alice", "web").await;
    let before = app.snapshot().await;

    let foreign = app.get("erin", &image.id).await;
    let unused = app.get("erin", &uuid::Uuid::new_v4().to_string()).await;
    let malformed = app.get("erin", "not-a-uuid").await;
    let modify = app
        .images("erin")
        .update_image(update(&image.id, "x", "", &["name"]))
        .await;
    let delete = app
        .images("erin")
        .delete_image(DeleteImageRequest {
            id: image.id.clone(),
            force: true,
            request_id: String::new(),
        })
        .await;

    assert_eq!(code(foreign), Code::NotFound);
    assert_eq!(code(unused), Code::NotFound);
    assert_eq!(code(malformed), Code::InvalidArgument);
    assert_eq!(code(modify), Code::NotFound);
    assert_eq!(code(delete), Code::NotFound);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn an_update_changes_only_the_fields_of_its_mask() {
    let app = TestApp::spawn().await;
    let image = app.create("alice", "web").await;
    let mut images = app.images("alice");

    images
        .update_image(update(&image.id, "web2", "", &["name"]))
        .await
        .expect("rename");
    let renamed = app.get("alice", &image.id).await.expect("get");
    images
        .update_image(update(&image.id, "ignored", "", &["description"]))
        .await
        .expect("clear description");
    let cleared = app.get("alice", &image.id).await.expect("get");
    let no_mask = images.update_image(update(&image.id, "x", "y", &[])).await;
    let unknown_path = err(images
        .update_image(update(&image.id, "x", "y", &["owner_id", "name"]))
        .await);

    assert_eq!(
        (renamed.name.as_str(), renamed.description.as_str()),
        ("web2", "web description")
    );
    assert_eq!(
        (cleared.name.as_str(), cleared.description.as_str()),
        ("web2", "")
    );
    assert_eq!(code(no_mask), Code::InvalidArgument);
    assert_eq!(unknown_path.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&unknown_path), ["update_mask.paths[0]"]);
    assert_eq!(app.get("alice", &image.id).await.expect("get"), cleared);
}

#[tokio::test]
async fn an_update_with_a_stale_etag_is_aborted() {
    let app = TestApp::spawn().await;
    let image = app.create("alice", "web").await;
    let mut images = app.images("alice");
    let mut first = update(&image.id, "web2", "", &["name"]);
    first.etag = image.etag.clone();
    images.update_image(first).await.expect("first update");
    let after_first = app.snapshot().await;

    let mut stale = update(&image.id, "web3", "", &["name"]);
    stale.etag = image.etag.clone();
    let result = images.update_image(stale).await;

    assert_eq!(code(result), Code::Aborted);
    assert_eq!(app.snapshot().await, after_first);
    assert_eq!(app.get("alice", &image.id).await.expect("get").etag, "r2");
}

#[tokio::test]
async fn system_images_are_modified_and_deleted_by_administrators_only() {
    let app = TestApp::spawn().await;
    let system = app.create("root", "base").await;
    let before = app.snapshot().await;

    let modify = app
        .images("alice")
        .update_image(update(&system.id, "x", "", &["name"]))
        .await;
    let delete = app
        .images("alice")
        .delete_image(DeleteImageRequest {
            id: system.id.clone(),
            force: false,
            request_id: String::new(),
        })
        .await;
    assert_eq!(code(modify), Code::PermissionDenied);
    assert_eq!(code(delete), Code::PermissionDenied);
    assert_eq!(app.snapshot().await, before);

    app.images("root")
        .update_image(update(&system.id, "base2", "", &["name"]))
        .await
        .expect("admin renames");
    assert_eq!(
        app.get("alice", &system.id).await.expect("get").name,
        "base2"
    );
}

#[tokio::test]
async fn a_protected_image_is_not_deleted_until_unprotected() {
    let app = TestApp::spawn().await;
    let image = app.create("alice", "web").await;
    let mut images = app.images("alice");
    let mut protect = update(&image.id, "", "", &["protected"]);
    protect.image.as_mut().expect("image").protected = true;
    images.update_image(protect).await.expect("protect");
    let before = app.snapshot().await;
    let delete = || DeleteImageRequest {
        id: image.id.clone(),
        force: true,
        request_id: String::new(),
    };

    let refused = images.delete_image(delete()).await;
    assert_eq!(code(refused), Code::FailedPrecondition);
    assert_eq!(app.snapshot().await, before);

    images
        .update_image(update(&image.id, "", "", &["protected"]))
        .await
        .expect("unprotect");
    let deleted = images
        .delete_image(delete())
        .await
        .expect("delete")
        .into_inner();
    assert_eq!(deleted.image.map(|i| i.id), Some(image.id.clone()));
    assert_eq!(code(app.get("alice", &image.id).await), Code::NotFound);
    assert_eq!(app.count("images").await, 0);
}

#[tokio::test]
async fn a_listing_category_must_be_a_known_value() {
    let app = TestApp::spawn().await;
    app.create("root", "base").await;
    app.create("alice", "web").await;
    app.create("bob", "other").await;

    let unspecified = app.names("alice", ImageCategory::Unspecified).await;
    let system = app.names("alice", ImageCategory::System).await;
    let own = app.names("alice", ImageCategory::Own).await;
    let shared = app.names("alice", ImageCategory::Shared).await;
    let received = app.names("alice", ImageCategory::Received).await;
    let unknown = err(app
        .images("alice")
        .list_images(ListImagesRequest {
            category: 99,
            ..Default::default()
        })
        .await);

    assert_eq!(unspecified, ["web", "base"]);
    assert_eq!(system, ["base"]);
    assert_eq!(own, ["web"]);
    assert!(shared.is_empty());
    assert!(received.is_empty());
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&unknown), ["category"]);
    for image in app.list("alice", ListImagesRequest::default()).await {
        assert_ne!(image.category(), ImageCategory::Unspecified);
        assert_ne!(image.status(), ImageStatus::Unspecified);
    }
}

#[tokio::test]
async fn page_sizes_past_the_maximum_are_refused_not_cut() {
    let app = TestApp::spawn().await;

    let too_big = err(app
        .images("alice")
        .list_images(ListImagesRequest {
            page_size: 1_000_000,
            ..Default::default()
        })
        .await);
    let negative = app
        .images("alice")
        .list_images(ListImagesRequest {
            page_size: -1,
            ..Default::default()
        })
        .await;

    assert_eq!(too_big.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&too_big), ["page_size"]);
    assert_eq!(code(negative), Code::InvalidArgument);
}

#[tokio::test]
async fn paging_neither_skips_nor_repeats_while_images_come_and_go() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(app.create("alice", &format!("img{n}")).await.id);
    }
    let mut images = app.images("alice");
    let request = |token: String| ListImagesRequest {
        page_size: 3,
        page_token: token,
        ..Default::default()
    };

    let first = images
        .list_images(request(String::new()))
        .await
        .expect("page 1")
        .into_inner();
    // A new image (newer than every listed one) and a deleted one not yet served.
    app.create("alice", "late").await;
    images
        .delete_image(DeleteImageRequest {
            id: ids[1].clone(),
            force: false,
            request_id: String::new(),
        })
        .await
        .expect("delete");
    let mut seen: Vec<String> = first.images.iter().map(|i| i.name.clone()).collect();
    let mut token = first.next_page_token.clone();
    while !token.is_empty() {
        let page = images
            .list_images(request(token))
            .await
            .expect("page")
            .into_inner();
        seen.extend(page.images.iter().map(|i| i.name.clone()));
        token = page.next_page_token;
    }

    assert_eq!(first.total_size, 7);
    assert_eq!(seen, ["img6", "img5", "img4", "img3", "img2", "img0"]);
}

#[tokio::test]
async fn a_page_token_serves_only_the_query_it_came_from() {
    let app = TestApp::spawn().await;
    for n in 0..3 {
        app.create("alice", &format!("img{n}")).await;
    }
    let first = app
        .images("alice")
        .list_images(ListImagesRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();

    let other_query = app
        .images("alice")
        .list_images(ListImagesRequest {
            page_size: 1,
            page_token: first.next_page_token.clone(),
            order_by: "name".into(),
            ..Default::default()
        })
        .await;
    let other_caller = app
        .images("bob")
        .list_images(ListImagesRequest {
            page_size: 1,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        })
        .await;
    let forged = app
        .images("alice")
        .list_images(ListImagesRequest {
            page_token: "eyJhZnRlciI6MX0".into(),
            ..Default::default()
        })
        .await;

    assert_eq!(code(other_query), Code::InvalidArgument);
    assert_eq!(code(other_caller), Code::InvalidArgument);
    assert_eq!(code(forged), Code::InvalidArgument);
}

#[tokio::test]
async fn listings_filter_by_name_and_sort_by_name() {
    let app = TestApp::spawn().await;
    for name in ["beta web", "alpha web", "db", "x_y"] {
        app.create("alice", name).await;
    }

    let by_name = app
        .list(
            "alice",
            ListImagesRequest {
                name_contains: "web".into(),
                order_by: "name".into(),
                ..Default::default()
            },
        )
        .await;
    let underscore = app
        .list(
            "alice",
            ListImagesRequest {
                name_contains: "_".into(),
                ..Default::default()
            },
        )
        .await;
    let percent = app
        .list(
            "alice",
            ListImagesRequest {
                name_contains: "%".into(),
                ..Default::default()
            },
        )
        .await;
    let descending = app
        .list(
            "alice",
            ListImagesRequest {
                order_by: "name desc".into(),
                ..Default::default()
            },
        )
        .await;
    let bad_order = app
        .images("alice")
        .list_images(ListImagesRequest {
            order_by: "owner_id".into(),
            ..Default::default()
        })
        .await;

    let names = |images: Vec<Image>| images.into_iter().map(|i| i.name).collect::<Vec<_>>();
    assert_eq!(names(by_name), ["alpha web", "beta web"]);
    assert_eq!(names(underscore), ["x_y"]);
    assert_eq!(names(percent), Vec::<String>::new());
    assert_eq!(names(descending), ["x_y", "db", "beta web", "alpha web"]);
    assert_eq!(code(bad_order), Code::InvalidArgument);
}

#[tokio::test]
async fn a_retried_create_returns_the_first_answer() {
    let app = TestApp::spawn().await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let request = |name: &str| CreateImageRequest {
        image: Some(Image {
            name: name.into(),
            ..Default::default()
        }),
        system: false,
        request_id: request_id.clone(),
    };
    let mut images = app.images("alice");

    let first = images
        .create_image(request("snap"))
        .await
        .expect("first")
        .into_inner();
    let again = images
        .create_image(request("snap"))
        .await
        .expect("again")
        .into_inner();
    let different = images.create_image(request("other")).await;

    assert_eq!(first, again);
    assert_eq!(code(different), Code::InvalidArgument);
    assert_eq!(app.count("images").await, 1);
}

#[tokio::test]
async fn an_administrator_acts_on_any_image_and_sees_the_owners_category() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    app.share("alice", &x.id, &["bob"]).await.expect("share");

    let seen = app.get("root", &x.id).await.expect("admin reads");
    let renamed = app
        .images("root")
        .update_image(update(&x.id, "renamed", "", &["name"]))
        .await
        .expect("admin renames")
        .into_inner()
        .image
        .expect("image");

    assert_eq!(seen.category(), ImageCategory::Shared);
    assert_eq!(seen.member_count, 1);
    assert_eq!(renamed.owner_id, "alice");
    assert_eq!(app.get("alice", &x.id).await.expect("get").name, "renamed");
    assert!(
        app.names("root", ImageCategory::Unspecified)
            .await
            .is_empty(),
        "listings show the caller's own tabs"
    );
}

#[tokio::test]
async fn name_filters_match_case_and_refuse_control_characters_on_every_backend() {
    let app = TestApp::spawn().await;
    app.create("alice", "CaseTest").await;

    let other_case = app
        .list(
            "alice",
            ListImagesRequest {
                name_contains: "casetest".into(),
                ..Default::default()
            },
        )
        .await;
    let same_case = app
        .list(
            "alice",
            ListImagesRequest {
                name_contains: "seTe".into(),
                ..Default::default()
            },
        )
        .await;
    let nul = err(app
        .images("alice")
        .list_images(ListImagesRequest {
            name_contains: "\u{0}".into(),
            ..Default::default()
        })
        .await);

    assert!(other_case.is_empty());
    assert_eq!(same_case.len(), 1);
    assert_eq!(nul.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&nul), ["name_contains"]);
}

#[tokio::test]
async fn a_listing_of_every_tab_pages_through_all_sources_in_order() {
    let app = TestApp::spawn().await;
    app.create("root", "b-sys").await;
    app.create("alice", "a-own").await;
    let received = app.create("bob", "c-recv").await;
    app.create("root", "D-sys").await;
    app.create("alice", "e-own").await;
    app.create("bob", "not-shared").await;
    app.share("bob", &received.id, &["alice"])
        .await
        .expect("share");

    let walk = |order_by: &'static str| {
        let mut images = app.images("alice");
        async move {
            let mut names = Vec::new();
            let mut token = String::new();
            let mut totals = Vec::new();
            loop {
                let page = images
                    .list_images(ListImagesRequest {
                        page_size: 2,
                        page_token: token,
                        order_by: order_by.into(),
                        ..Default::default()
                    })
                    .await
                    .expect("page")
                    .into_inner();
                names.extend(page.images.into_iter().map(|i| i.name));
                totals.push(page.total_size);
                token = page.next_page_token;
                if token.is_empty() {
                    return (names, totals);
                }
            }
        }
    };

    let (by_name, totals) = walk("name").await;
    let (newest_first, _) = walk("").await;

    assert_eq!(by_name, ["D-sys", "a-own", "b-sys", "c-recv", "e-own"]);
    assert_eq!(totals, [5, 5, 5]);
    assert_eq!(newest_first, ["e-own", "D-sys", "c-recv", "a-own", "b-sys"]);
}
