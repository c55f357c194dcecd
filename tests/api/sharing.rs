//! Sharing images with users, revoking shares, and the SHARED and RECEIVED tabs.

use image_service::proto::*;
use tonic::Code;

use crate::helpers::{TestApp, bad_fields, code, err, resource_names};

fn user_ids(members: &[ImageMember]) -> Vec<&str> {
    members.iter().map(|m| m.user_id.as_str()).collect()
}

async fn member_ids(app: &TestApp, image_id: &str) -> Vec<String> {
    let mut ids: Vec<String> = app
        .images("alice")
        .list_image_members(ListImageMembersRequest {
            id: image_id.into(),
            ..Default::default()
        })
        .await
        .expect("members")
        .into_inner()
        .members
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn sharing_by_name_and_id_moves_the_image_between_tabs() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;

    let shared = app
        .share("alice", &x.id, &["BOB", " carol "])
        .await
        .expect("share");

    assert_eq!(user_ids(&shared.added), ["bob", "carol"]);
    assert!(shared.already_members.is_empty());
    assert_eq!(shared.member_count, 2);
    assert_eq!(app.names("alice", ImageCategory::Shared).await, ["web"]);
    assert!(app.names("alice", ImageCategory::Own).await.is_empty());
    assert_eq!(app.names("bob", ImageCategory::Received).await, ["web"]);
    let seen_by_bob = app.get("bob", &x.id).await.expect("bob reads");
    assert_eq!(seen_by_bob.category(), ImageCategory::Received);
    assert_eq!(
        seen_by_bob.member_count, 0,
        "members are the owner's business"
    );
    assert_eq!(app.get("alice", &x.id).await.expect("get").member_count, 2);
    assert_eq!(app.count("image_members").await, 2);
}

#[tokio::test]
async fn an_unknown_user_among_known_ones_changes_nothing() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let before = app.snapshot().await;

    let unknown = err(app
        .share(
            "alice",
            &x.id,
            &["carol", "ghost", "dave", "999999", " GHOST "],
        )
        .await);
    let empty = err(app.share("alice", &x.id, &["carol", ""]).await);
    let by_missing_id = app.share("alice", &x.id, &["999999"]).await;
    let malformed_and_unknown = err(app
        .share(
            "alice",
            &x.id,
            &["ghost", "carol", "not a name", "", "nobody"],
        )
        .await);

    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(resource_names(&unknown), ["ghost", "999999"]);
    assert_eq!(empty.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&empty), ["users[1]"]);
    assert_eq!(code(by_missing_id), Code::NotFound);
    assert_eq!(malformed_and_unknown.code(), Code::InvalidArgument);
    assert_eq!(
        bad_fields(&malformed_and_unknown),
        ["users[2]", "users[3]", "users[0]", "users[4]"],
        "one error names every offending entry"
    );
    assert_eq!(app.snapshot().await, before);
    assert_eq!(code(app.get("carol", &x.id).await), Code::NotFound);

    let retry = app
        .share("alice", &x.id, &["carol", "dave"])
        .await
        .expect("retry");
    assert_eq!(user_ids(&retry.added), ["carol", "dave"]);
    assert_eq!(member_ids(&app, &x.id).await, ["carol", "dave"]);
    assert_eq!(app.count("image_members").await, 2);
}

#[tokio::test]
async fn a_user_named_twice_counts_once_and_members_are_reported_not_refused() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    app.share("alice", &x.id, &["bob"])
        .await
        .expect("share bob");

    let outcome = app
        .share("alice", &x.id, &["carol", "CAROL", "bob"])
        .await
        .expect("share");

    assert_eq!(user_ids(&outcome.added), ["carol"]);
    assert_eq!(user_ids(&outcome.already_members), ["bob"]);
    assert_eq!(outcome.member_count, 2);
    assert_eq!(app.count("image_members").await, 2);
}

#[tokio::test]
async fn sharing_with_yourself_disabled_users_or_too_many_is_refused() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    app.users("root")
        .disable_user(DisableUserRequest { id: "erin".into() })
        .await
        .expect("disable");
    let before = app.snapshot().await;
    let many: Vec<String> = (0..101).map(|n| format!("user{n}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();

    let yourself = err(app.share("alice", &x.id, &["bob", "alice"]).await);
    let disabled = err(app.share("alice", &x.id, &["erin"]).await);
    let too_many = err(app.share("alice", &x.id, &many).await);
    let none = err(app.share("alice", &x.id, &[]).await);

    assert_eq!(yourself.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&yourself), ["users[1]"]);
    assert_eq!(disabled.code(), Code::NotFound);
    assert_eq!(resource_names(&disabled), ["erin"]);
    assert_eq!(too_many.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&too_many), ["users"]);
    assert_eq!(none.code(), Code::InvalidArgument);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn only_owners_share_and_nobody_shares_system_images() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let s = app.create("root", "base").await;
    app.share("alice", &x.id, &["bob"]).await.expect("share");
    let before = app.snapshot().await;

    let recipient_shares = app.share("bob", &x.id, &["carol"]).await;
    let recipient_revokes = app.revoke("bob", &x.id, &["bob"]).await;
    let system = app.share("alice", &s.id, &["bob"]).await;
    let stranger = app.share("erin", &x.id, &["carol"]).await;
    let stranger_members = app
        .images("erin")
        .list_image_members(ListImageMembersRequest {
            id: x.id.clone(),
            ..Default::default()
        })
        .await;
    let recipient_members = app
        .images("bob")
        .list_image_members(ListImageMembersRequest {
            id: x.id.clone(),
            ..Default::default()
        })
        .await;

    assert_eq!(code(recipient_shares), Code::PermissionDenied);
    assert_eq!(code(recipient_revokes), Code::PermissionDenied);
    assert_eq!(code(system), Code::PermissionDenied);
    assert_eq!(code(stranger), Code::NotFound);
    assert_eq!(code(stranger_members), Code::NotFound);
    assert_eq!(code(recipient_members), Code::PermissionDenied);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn revoking_removes_only_the_named_members() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    app.share("alice", &x.id, &["bob", "carol", "dave"])
        .await
        .expect("share");

    let carol = app
        .revoke("alice", &x.id, &["carol"])
        .await
        .expect("revoke carol");
    assert_eq!(user_ids(&carol.revoked), ["carol"]);
    assert_eq!(member_ids(&app, &x.id).await, ["bob", "dave"]);

    let before = app.snapshot().await;
    let never_member = err(app.revoke("alice", &x.id, &["erin"]).await);
    let unknown = err(app.revoke("alice", &x.id, &["ghost"]).await);
    let mixed = err(app.revoke("alice", &x.id, &["bob", "ghost"]).await);
    assert_eq!(never_member.code(), Code::NotFound);
    assert_eq!(resource_names(&never_member), ["erin"]);
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(resource_names(&mixed), ["ghost"]);
    assert_eq!(app.snapshot().await, before);

    app.revoke("alice", &x.id, &["bob"])
        .await
        .expect("revoke bob");
    let last = app
        .revoke("alice", &x.id, &["dave"])
        .await
        .expect("revoke dave");
    assert_eq!(last.member_count, 0);
    for user in ["bob", "carol", "dave"] {
        assert!(app.names(user, ImageCategory::Received).await.is_empty());
    }
    assert!(app.names("alice", ImageCategory::Shared).await.is_empty());
    assert_eq!(app.names("alice", ImageCategory::Own).await, ["web"]);
    let not_shared = app.revoke("alice", &x.id, &["bob"]).await;
    assert_eq!(code(not_shared), Code::FailedPrecondition);
}

#[tokio::test]
async fn a_revoke_preview_answers_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    app.share("alice", &x.id, &["bob", "carol"])
        .await
        .expect("share");
    let before = app.snapshot().await;

    let preview = app
        .images("alice")
        .revoke_image_shares(RevokeImageSharesRequest {
            id: x.id.clone(),
            users: vec!["bob".into()],
            validate_only: true,
            request_id: String::new(),
        })
        .await
        .expect("preview")
        .into_inner();

    assert_eq!(user_ids(&preview.revoked), ["bob"]);
    assert_eq!(preview.member_count, 1);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn sharing_again_after_revoking_works_every_time() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;

    for _ in 0..3 {
        let shared = app.share("alice", &x.id, &["bob"]).await.expect("share");
        assert_eq!(user_ids(&shared.added), ["bob"]);
        assert_eq!(app.names("bob", ImageCategory::Received).await, ["web"]);
        app.revoke("alice", &x.id, &["bob"]).await.expect("revoke");
        assert_eq!(code(app.get("bob", &x.id).await), Code::NotFound);
    }
    assert_eq!(app.count("image_members").await, 0);
}

#[tokio::test]
async fn deleting_a_shared_image_needs_force_and_members_lose_it() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    app.share("alice", &x.id, &["bob", "carol"])
        .await
        .expect("share");
    let before = app.snapshot().await;
    let delete = |force| DeleteImageRequest {
        id: x.id.clone(),
        force,
        request_id: String::new(),
    };

    let refused = err(app.images("alice").delete_image(delete(false)).await);
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("2 user"));
    assert_eq!(app.snapshot().await, before);

    let by_recipient = app.images("bob").delete_image(delete(true)).await;
    assert_eq!(code(by_recipient), Code::PermissionDenied);

    app.images("alice")
        .delete_image(delete(true))
        .await
        .expect("forced");
    assert_eq!(code(app.get("bob", &x.id).await), Code::NotFound);
    assert!(app.names("bob", ImageCategory::Received).await.is_empty());
    assert_eq!(app.count("image_members").await, 0);
}

#[tokio::test]
async fn a_disabled_recipient_loses_what_was_shared_with_them() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    app.share("alice", &x.id, &["bob", "carol"])
        .await
        .expect("share");
    let before = app.get("alice", &x.id).await.expect("get");

    app.users("root")
        .disable_user(DisableUserRequest { id: "bob".into() })
        .await
        .expect("disable");

    let after = app.get("alice", &x.id).await.expect("get");
    assert_eq!(code(app.get("bob", &x.id).await), Code::PermissionDenied);
    assert_eq!(member_ids(&app, &x.id).await, ["carol"]);
    assert_eq!(after.member_count, 1);
    assert_ne!(after.etag, before.etag);
    let again = err(app.share("alice", &x.id, &["bob"]).await);
    assert_eq!(resource_names(&again), ["bob"]);
}

#[tokio::test]
async fn the_etag_moves_when_members_change_and_not_on_a_no_op() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;

    let shared = app.share("alice", &x.id, &["bob"]).await.expect("share");
    let after_share = app.get("alice", &x.id).await.expect("get");
    app.share("alice", &x.id, &["bob"]).await.expect("again");
    let after_no_op = app.get("alice", &x.id).await.expect("get");

    assert_eq!(user_ids(&shared.added), ["bob"]);
    assert_ne!(after_share.etag, x.etag);
    assert_eq!(after_no_op.etag, after_share.etag);
    assert_eq!(after_no_op.update_time, after_share.update_time);
}

#[tokio::test]
async fn a_retried_share_replays_and_a_reused_id_is_refused() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let request = |users: Vec<String>| ShareImageRequest {
        id: x.id.clone(),
        users,
        request_id: request_id.clone(),
    };
    let mut images = app.images("alice");

    let first = images
        .share_image(request(vec!["bob".into()]))
        .await
        .expect("first")
        .into_inner();
    let again = images
        .share_image(request(vec!["bob".into()]))
        .await
        .expect("again")
        .into_inner();
    let other = images.share_image(request(vec!["carol".into()])).await;

    assert_eq!(first, again);
    assert_eq!(user_ids(&again.added), ["bob"]);
    assert_eq!(code(other), Code::InvalidArgument);
    assert_eq!(app.count("image_members").await, 1);
}

#[tokio::test]
async fn concurrent_shares_and_revokes_end_in_the_state_they_imply() {
    let app = TestApp::spawn().await;
    let x = app.create("alice", "web").await;
    app.share("alice", &x.id, &["bob"])
        .await
        .expect("share bob");

    let mut calls = Vec::new();
    for users in [
        vec!["carol"],
        vec!["dave"],
        vec!["carol", "dave"],
        vec!["erin"],
    ] {
        let mut images = app.images("alice");
        let id = x.id.clone();
        calls.push(tokio::spawn(async move {
            images
                .share_image(ShareImageRequest {
                    id,
                    users: users.into_iter().map(String::from).collect(),
                    request_id: String::new(),
                })
                .await
        }));
    }
    let mut images = app.images("alice");
    let id = x.id.clone();
    let revoke = tokio::spawn(async move {
        images
            .revoke_image_shares(RevokeImageSharesRequest {
                id,
                users: vec!["bob".into()],
                validate_only: false,
                request_id: String::new(),
            })
            .await
    });
    for call in calls {
        call.await.expect("joined").expect("share succeeds");
    }
    revoke.await.expect("joined").expect("revoke succeeds");

    assert_eq!(member_ids(&app, &x.id).await, ["carol", "dave", "erin"]);
    assert_eq!(app.count("image_members").await, 3);
}
