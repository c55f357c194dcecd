//! `cloud.image.v1.UserService`: the user directory, for administrators.

use tonic::{Request, Response, Status};

use super::convert::user_to_proto;
use super::{Shared, observe};
use crate::domain::DomainError;
use crate::domain::page::{PageSize, PageToken};
use crate::domain::text::parse_user_token;
use crate::domain::user::{Caller, NewUser};
use crate::proto::user_service_server::UserService;
use crate::proto::*;

const SERVICE: &str = "cloud.image.v1.UserService";

/// Serves the user directory.
#[derive(Clone, Debug)]
pub struct UserApi {
    shared: Shared,
}

impl UserApi {
    pub fn new(shared: Shared) -> Self {
        Self { shared }
    }

    async fn admin<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        let caller = self.shared.caller(request).await?;
        if caller.admin {
            Ok(caller)
        } else {
            Err(
                DomainError::PermissionDenied("the user directory is for administrators".into())
                    .into(),
            )
        }
    }
}

#[tonic::async_trait]
impl UserService for UserApi {
    async fn create_user(
        &self,
        request: Request<CreateUserRequest>,
    ) -> Result<Response<CreateUserResponse>, Status> {
        observe(SERVICE, "CreateUser", async {
            self.admin(&request).await?;
            let Some(user) = &request.get_ref().user else {
                return Err(DomainError::invalid("user", "is required").into());
            };
            let new = NewUser::parse(&user.id, &user.username, &user.display_name)?;

            let user = self.shared.store.create_user(&new).await?;

            Ok(CreateUserResponse {
                user: Some(user_to_proto(user)),
            })
        })
        .await
    }

    async fn list_users(
        &self,
        request: Request<ListUsersRequest>,
    ) -> Result<Response<ListUsersResponse>, Status> {
        observe(SERVICE, "ListUsers", async {
            self.admin(&request).await?;
            let message = request.get_ref();
            let size = PageSize::parse(message.page_size)?;
            let token = PageToken::parse(&message.page_token, "users")?;

            let page = self.shared.store.list_users(size, token).await?;

            Ok(ListUsersResponse {
                users: page.users.into_iter().map(user_to_proto).collect(),
                next_page_token: page.next.unwrap_or_default(),
            })
        })
        .await
    }

    async fn disable_user(
        &self,
        request: Request<DisableUserRequest>,
    ) -> Result<Response<DisableUserResponse>, Status> {
        observe(SERVICE, "DisableUser", async {
            self.admin(&request).await?;
            let id = parse_user_token(&request.get_ref().id, "id")?;

            let user = self.shared.store.disable_user(&id).await?;

            Ok(DisableUserResponse {
                user: Some(user_to_proto(user)),
            })
        })
        .await
    }
}
