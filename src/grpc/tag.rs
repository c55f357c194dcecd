//! `cloud.image.v1.TagService`.

use tonic::{Request, Response, Status};

use super::convert::tag_to_proto;
use super::{Shared, observe};
use crate::domain::DomainError;
use crate::domain::error::Violations;
use crate::domain::page::{PageSize, PageToken};
use crate::domain::tag::NewTag;
use crate::domain::text::ResourceId;
use crate::proto::tag_service_server::TagService;
use crate::proto::*;

const SERVICE: &str = "cloud.image.v1.TagService";

/// Serves the caller's tags.
#[derive(Clone, Debug)]
pub struct TagApi {
    shared: Shared,
}

impl TagApi {
    pub fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

#[tonic::async_trait]
impl TagService for TagApi {
    async fn create_tag(
        &self,
        request: Request<CreateTagRequest>,
    ) -> Result<Response<CreateTagResponse>, Status> {
        observe(SERVICE, "CreateTag", async {
            let caller = self.shared.caller(&request).await?;
            let Some(tag) = &request.get_ref().tag else {
                return Err(DomainError::invalid("tag", "is required").into());
            };
            let new = NewTag::parse(&tag.key, &tag.value)?;

            let tag = self.shared.store.create_tag(&caller, &new).await?;

            Ok(CreateTagResponse {
                tag: Some(tag_to_proto(tag)),
            })
        })
        .await
    }

    async fn list_tags(
        &self,
        request: Request<ListTagsRequest>,
    ) -> Result<Response<ListTagsResponse>, Status> {
        observe(SERVICE, "ListTags", async {
            let caller = self.shared.caller(&request).await?;
            let message = request.get_ref();
            let size = PageSize::parse(message.page_size)?;
            let token = PageToken::parse(&message.page_token, &format!("tags|{}", caller.id))?;

            let page = self.shared.store.list_tags(&caller, size, token).await?;

            Ok(ListTagsResponse {
                tags: page.tags.into_iter().map(tag_to_proto).collect(),
                next_page_token: page.next.unwrap_or_default(),
            })
        })
        .await
    }

    async fn delete_tag(
        &self,
        request: Request<DeleteTagRequest>,
    ) -> Result<Response<DeleteTagResponse>, Status> {
        observe(SERVICE, "DeleteTag", async {
            let caller = self.shared.caller(&request).await?;
            let message = request.get_ref();
            let mut violations = Violations::new();
            let id = violations.check(ResourceId::parse(&message.id, "id"));
            violations.finish()?;
            let Some(id) = id else {
                return Err(DomainError::invalid("id", "is invalid").into());
            };

            let unbound = self
                .shared
                .store
                .delete_tag(&caller, &id, message.force)
                .await?;

            Ok(DeleteTagResponse {
                unbound_images: i32::try_from(unbound).unwrap_or(i32::MAX),
            })
        })
        .await
    }
}
