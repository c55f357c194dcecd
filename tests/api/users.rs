//! The user directory, for administrators.

use image_service::proto::*;
use tonic::Code;

use crate::helpers::{TestApp, bad_fields, code, err};

fn user(id: &str, username: &str) -> CreateUserRequest {
    CreateUserRequest {
        user: Some(User {
            id: id.into(),
            username: username.into(),
            display_name: "Frank F.".into(),
            ..Default::default()
        }),
    }
}

#[tokio::test]
async fn administrators_add_list_and_disable_users() {
    let app = TestApp::spawn().await;
    let mut users = app.users("root");

    let frank = users
        .create_user(user("u-frank", "Frank"))
        .await
        .expect("create")
        .into_inner();
    let listed = users
        .list_users(ListUsersRequest {
            page_size: 3,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    let disabled = users
        .disable_user(DisableUserRequest {
            id: "u-frank".into(),
        })
        .await
        .expect("disable")
        .into_inner();

    assert_eq!(frank.user.map(|u| u.username), Some("Frank".to_owned()));
    let ids: Vec<&str> = listed.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["alice", "bob", "carol"]);
    assert!(!listed.next_page_token.is_empty());
    assert_eq!(disabled.user.map(|u| u.disabled), Some(true));
}

#[tokio::test]
async fn usernames_are_unique_ignoring_case() {
    let app = TestApp::spawn().await;

    let clash = app.users("root").create_user(user("u2", "ALICE")).await;
    let id_clash = app
        .users("root")
        .create_user(user("alice", "someone"))
        .await;

    assert_eq!(code(clash), Code::AlreadyExists);
    assert_eq!(code(id_clash), Code::AlreadyExists);
    assert_eq!(app.count("users").await, 6);
}

#[tokio::test]
async fn the_directory_is_for_administrators_and_checks_its_input() {
    let app = TestApp::spawn().await;

    let by_user = app.users("alice").create_user(user("u2", "frank")).await;
    let bad = err(app.users("root").create_user(user("has space", "")).await);
    let unknown = app
        .users("root")
        .disable_user(DisableUserRequest { id: "ghost".into() })
        .await;

    assert_eq!(code(by_user), Code::PermissionDenied);
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&bad), ["user.id", "user.username"]);
    assert_eq!(code(unknown), Code::NotFound);
    assert_eq!(app.count("users").await, 6);
}

#[tokio::test]
async fn an_id_or_username_never_names_two_users() {
    let app = TestApp::spawn().await;
    let mut users = app.users("root");
    users
        .create_user(user("u-frank", "frank"))
        .await
        .expect("frank");
    let before = app.count("users").await;

    let id_is_a_username = err(users.create_user(user("Carol", "carol2")).await);
    let username_is_an_id = app.users("root").create_user(user("x1", "U-FRANK")).await;

    assert_eq!(id_is_a_username.code(), Code::AlreadyExists);
    assert_eq!(code(username_is_an_id), Code::AlreadyExists);
    assert_eq!(app.count("users").await, before);
    let shared = app
        .share("alice", &app.create("alice", "web").await.id, &["carol"])
        .await;
    assert_eq!(
        shared.expect("share").added[0].user_id,
        "carol",
        "a share by name still reaches the one user it names"
    );
}
