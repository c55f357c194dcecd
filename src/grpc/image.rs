//! `cloud.image.v1.ImageService`.

use prost::Message;
use tonic::{Request, Response, Status};

use super::convert::{category_from_proto, content_from_proto, image_to_proto, member_to_proto};
use super::{Shared, observe, retry_key};
use crate::domain::DomainError;
use crate::domain::error::Violations;
use crate::domain::image::{
    CloneSpec, ImageCursor, ImageOrder, ImageQuery, ImageUpdate, MAX_TAGS_PER_CALL, NewImage,
};
use crate::domain::page::{PageSize, PageToken};
use crate::domain::text::{ImageName, ResourceId, parse_description, parse_id_list, parse_text};
use crate::domain::user::{MAX_USERS_PER_CALL, UserRef, parse_user_refs, well_formed_user_refs};
use crate::proto::image_service_server::ImageService;
use crate::proto::*;

const SERVICE: &str = "cloud.image.v1.ImageService";

/// Most bytes of images in one ListImages answer, well under the 4 MiB that gRPC clients
/// accept by default; a page that would pass it ends early with a `next_page_token`.
const MAX_PAGE_BYTES: usize = 3 * 1024 * 1024;

/// Serves the image catalogue.
#[derive(Clone, Debug)]
pub struct ImageApi {
    shared: Shared,
}

impl ImageApi {
    pub fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

impl ImageApi {
    /// Parses the image id and the users of a share or revoke. When some entries are malformed,
    /// the well-formed ones are still looked up, so that the one error names every offending
    /// entry: malformed ones and those that name no enabled user alike.
    async fn parse_id_and_users(
        &self,
        id: &str,
        users: &[String],
    ) -> Result<(ResourceId, Vec<UserRef>), Status> {
        let mut violations = Violations::new();
        let id = violations.check(ResourceId::parse(id, "id"));
        let refs = violations.check(parse_user_refs(users, "users"));
        if let (Some(id), Some(refs)) = (id, refs) {
            violations.finish()?;
            return Ok((id, refs));
        }
        // A list of the wrong length is refused as a whole; its entries are not looked up.
        let well_formed = if (1..=MAX_USERS_PER_CALL).contains(&users.len()) {
            well_formed_user_refs(users)
        } else {
            Vec::new()
        };
        let refs: Vec<UserRef> = well_formed.iter().map(|(_, r)| r.clone()).collect();
        for index in self.shared.store.unknown_user_refs(&refs).await? {
            if let Some((position, _)) = well_formed.get(index) {
                violations.add(format!("users[{position}]"), "names no enabled user");
            }
        }
        Err(violations
            .finish()
            .err()
            .unwrap_or_else(|| DomainError::invalid("users", "is invalid"))
            .into())
    }
}

#[tonic::async_trait]
impl ImageService for ImageApi {
    async fn list_images(
        &self,
        request: Request<ListImagesRequest>,
    ) -> Result<Response<ListImagesResponse>, Status> {
        observe(SERVICE, "ListImages", async {
            let caller = self.shared.caller(&request).await?;
            let query = parse_list(request.get_ref(), &caller.id)?;

            let page = self.shared.store.list_images(&caller, &query).await?;

            let mut images = Vec::with_capacity(page.images.len());
            let mut bytes = 0;
            let mut more = page.more;
            let mut last_cursor = None;
            for image in page.images {
                let cursor = query.order.cursor_after(&image);
                let image = image_to_proto(image);
                bytes += image.encoded_len();
                if bytes > MAX_PAGE_BYTES && !images.is_empty() {
                    more = true;
                    break;
                }
                images.push(image);
                last_cursor = Some(cursor);
            }
            let next_page_token = match (more, last_cursor) {
                (true, Some(cursor)) => {
                    PageToken::new(cursor, page.total_size, &query.fingerprint(&caller.id)).encode()
                }
                _ => String::new(),
            };
            Ok(ListImagesResponse {
                images,
                next_page_token,
                total_size: i32::try_from(page.total_size).unwrap_or(i32::MAX),
            })
        })
        .await
    }

    async fn get_image(
        &self,
        request: Request<GetImageRequest>,
    ) -> Result<Response<GetImageResponse>, Status> {
        observe(SERVICE, "GetImage", async {
            let caller = self.shared.caller(&request).await?;
            let id = ResourceId::parse(&request.get_ref().id, "id")?;

            let image = self.shared.store.get_image(&caller, &id).await?;

            Ok(GetImageResponse {
                image: Some(image_to_proto(image)),
            })
        })
        .await
    }

    async fn create_image(
        &self,
        request: Request<CreateImageRequest>,
    ) -> Result<Response<CreateImageResponse>, Status> {
        observe(SERVICE, "CreateImage", async {
            let caller = self.shared.caller(&request).await?;
            let message = request.get_ref();
            let new = parse_new_image(message)?;
            let key = retry_key(
                &caller,
                "CreateImage",
                &message.request_id,
                &CreateImageRequest {
                    request_id: String::new(),
                    ..message.clone()
                },
            )?;

            let image = self
                .shared
                .store
                .create_image(&caller, &new, key.as_ref())
                .await?;

            Ok(CreateImageResponse {
                image: Some(image_to_proto(image)),
            })
        })
        .await
    }

    async fn update_image(
        &self,
        request: Request<UpdateImageRequest>,
    ) -> Result<Response<UpdateImageResponse>, Status> {
        observe(SERVICE, "UpdateImage", async {
            let caller = self.shared.caller(&request).await?;
            let (id, update) = parse_update(request.get_ref())?;

            let image = self
                .shared
                .store
                .update_image(&caller, &id, &update)
                .await?;

            Ok(UpdateImageResponse {
                image: Some(image_to_proto(image)),
            })
        })
        .await
    }

    async fn clone_image(
        &self,
        request: Request<CloneImageRequest>,
    ) -> Result<Response<CloneImageResponse>, Status> {
        observe(SERVICE, "CloneImage", async {
            let caller = self.shared.caller(&request).await?;
            let message = request.get_ref();
            let spec = CloneSpec::parse(&message.id, &message.name, message.count)?;
            let key = retry_key(
                &caller,
                "CloneImage",
                &message.request_id,
                &CloneImageRequest {
                    request_id: String::new(),
                    ..message.clone()
                },
            )?;

            let images = self
                .shared
                .store
                .clone_image(&caller, &spec, key.as_ref())
                .await?;

            Ok(CloneImageResponse {
                images: images.into_iter().map(image_to_proto).collect(),
            })
        })
        .await
    }

    async fn share_image(
        &self,
        request: Request<ShareImageRequest>,
    ) -> Result<Response<ShareImageResponse>, Status> {
        observe(SERVICE, "ShareImage", async {
            let caller = self.shared.caller(&request).await?;
            let message = request.get_ref();
            let (id, users) = self.parse_id_and_users(&message.id, &message.users).await?;
            let key = retry_key(
                &caller,
                "ShareImage",
                &message.request_id,
                &ShareImageRequest {
                    request_id: String::new(),
                    ..message.clone()
                },
            )?;

            let outcome = self
                .shared
                .store
                .share_image(&caller, &id, &users, key.as_ref())
                .await?;

            Ok(ShareImageResponse {
                added: outcome.added.into_iter().map(member_to_proto).collect(),
                already_members: outcome
                    .already_members
                    .into_iter()
                    .map(member_to_proto)
                    .collect(),
                member_count: i32::try_from(outcome.member_count).unwrap_or(i32::MAX),
            })
        })
        .await
    }

    async fn revoke_image_shares(
        &self,
        request: Request<RevokeImageSharesRequest>,
    ) -> Result<Response<RevokeImageSharesResponse>, Status> {
        observe(SERVICE, "RevokeImageShares", async {
            let caller = self.shared.caller(&request).await?;
            let message = request.get_ref();
            let (id, users) = self.parse_id_and_users(&message.id, &message.users).await?;
            let key = retry_key(
                &caller,
                "RevokeImageShares",
                &message.request_id,
                &RevokeImageSharesRequest {
                    request_id: String::new(),
                    ..message.clone()
                },
            )?;

            let outcome = self
                .shared
                .store
                .revoke_image_shares(&caller, &id, &users, message.validate_only, key.as_ref())
                .await?;

            Ok(RevokeImageSharesResponse {
                revoked: outcome.revoked.into_iter().map(member_to_proto).collect(),
                member_count: i32::try_from(outcome.member_count).unwrap_or(i32::MAX),
            })
        })
        .await
    }

    async fn list_image_members(
        &self,
        request: Request<ListImageMembersRequest>,
    ) -> Result<Response<ListImageMembersResponse>, Status> {
        observe(SERVICE, "ListImageMembers", async {
            let caller = self.shared.caller(&request).await?;
            let message = request.get_ref();
            let mut violations = Violations::new();
            let id = violations.check(ResourceId::parse(&message.id, "id"));
            let size = violations.check(PageSize::parse(message.page_size));
            violations.finish()?;
            let (Some(id), Some(size)) = (id, size) else {
                return Err(DomainError::invalid("id", "is invalid").into());
            };
            let token = PageToken::parse(&message.page_token, &format!("members|{id}"))?;

            let page = self
                .shared
                .store
                .list_image_members(&caller, &id, size, token)
                .await?;

            Ok(ListImageMembersResponse {
                members: page.members.into_iter().map(member_to_proto).collect(),
                next_page_token: page.next.unwrap_or_default(),
            })
        })
        .await
    }

    async fn bind_image_tags(
        &self,
        request: Request<BindImageTagsRequest>,
    ) -> Result<Response<BindImageTagsResponse>, Status> {
        observe(SERVICE, "BindImageTags", async {
            let caller = self.shared.caller(&request).await?;
            let (id, tag_ids) =
                parse_id_and_tags(&request.get_ref().id, &request.get_ref().tag_ids)?;

            let image = self
                .shared
                .store
                .bind_image_tags(&caller, &id, &tag_ids)
                .await?;

            Ok(BindImageTagsResponse {
                image: Some(image_to_proto(image)),
            })
        })
        .await
    }

    async fn unbind_image_tags(
        &self,
        request: Request<UnbindImageTagsRequest>,
    ) -> Result<Response<UnbindImageTagsResponse>, Status> {
        observe(SERVICE, "UnbindImageTags", async {
            let caller = self.shared.caller(&request).await?;
            let (id, tag_ids) =
                parse_id_and_tags(&request.get_ref().id, &request.get_ref().tag_ids)?;

            let image = self
                .shared
                .store
                .unbind_image_tags(&caller, &id, &tag_ids)
                .await?;

            Ok(UnbindImageTagsResponse {
                image: Some(image_to_proto(image)),
            })
        })
        .await
    }

    async fn delete_image(
        &self,
        request: Request<DeleteImageRequest>,
    ) -> Result<Response<DeleteImageResponse>, Status> {
        observe(SERVICE, "DeleteImage", async {
            let caller = self.shared.caller(&request).await?;
            let message = request.get_ref();
            let id = ResourceId::parse(&message.id, "id")?;
            let key = retry_key(
                &caller,
                "DeleteImage",
                &message.request_id,
                &DeleteImageRequest {
                    request_id: String::new(),
                    ..message.clone()
                },
            )?;

            let image = self
                .shared
                .store
                .delete_image(&caller, &id, message.force, key.as_ref())
                .await?;

            Ok(DeleteImageResponse {
                image: Some(image_to_proto(image)),
            })
        })
        .await
    }
}

fn parse_list(message: &ListImagesRequest, caller_id: &str) -> Result<ImageQuery, DomainError> {
    let mut violations = Violations::new();
    let category = violations.check(category_from_proto(message.category));
    let page_size = violations.check(PageSize::parse(message.page_size));
    let order = violations.check(ImageOrder::parse(&message.order_by));
    let tag_ids = if message.tag_ids.is_empty() {
        Some(Vec::new())
    } else {
        violations.check(parse_id_list(
            &message.tag_ids,
            "tag_ids",
            MAX_TAGS_PER_CALL,
        ))
    };
    violations.check(parse_text(
        &message.name_contains,
        "name_contains",
        ImageName::MAX_CHARS,
        false,
    ));
    violations.finish()?;
    let (Some(category), Some(page_size), Some(order), Some(tag_ids)) =
        (category, page_size, order, tag_ids)
    else {
        return Err(DomainError::invalid("request", "is invalid"));
    };
    let mut query = ImageQuery {
        category,
        name_contains: message.name_contains.clone(),
        tag_ids,
        order,
        page_size,
        page: None,
    };
    query.page =
        PageToken::<ImageCursor>::parse(&message.page_token, &query.fingerprint(caller_id))?;
    Ok(query)
}

fn parse_new_image(message: &CreateImageRequest) -> Result<NewImage, DomainError> {
    let Some(image) = &message.image else {
        return Err(DomainError::invalid("image", "is required"));
    };
    let mut violations = Violations::new();
    let name = violations.check(ImageName::parse(&image.name, "image.name"));
    let description = violations.check(parse_description(&image.description, "image.description"));
    let content = content_from_proto(image, &mut violations);
    violations.finish()?;
    match (name, description) {
        (Some(name), Some(description)) => Ok(NewImage {
            name,
            description,
            content,
            protected: image.protected,
            system: message.system,
        }),
        _ => Err(DomainError::invalid("image", "is invalid")),
    }
}

fn parse_update(message: &UpdateImageRequest) -> Result<(ResourceId, ImageUpdate), DomainError> {
    let Some(image) = &message.image else {
        return Err(DomainError::invalid("image", "is required"));
    };
    let paths = message
        .update_mask
        .as_ref()
        .map(|mask| mask.paths.clone())
        .unwrap_or_default();
    let mut violations = Violations::new();
    let id = violations.check(ResourceId::parse(&image.id, "image.id"));
    let update = violations.check(ImageUpdate::parse(
        &paths,
        &image.name,
        &image.description,
        image.protected,
        &message.etag,
    ));
    violations.finish()?;
    match (id, update) {
        (Some(id), Some(update)) => Ok((id, update)),
        _ => Err(DomainError::invalid("image", "is invalid")),
    }
}

fn parse_id_and_tags(
    id: &str,
    tag_ids: &[String],
) -> Result<(ResourceId, Vec<ResourceId>), DomainError> {
    let mut violations = Violations::new();
    let id = violations.check(ResourceId::parse(id, "id"));
    let tags = violations.check(parse_id_list(tag_ids, "tag_ids", MAX_TAGS_PER_CALL));
    violations.finish()?;
    match (id, tags) {
        (Some(id), Some(tags)) => Ok((id, tags)),
        _ => Err(DomainError::invalid("request", "is invalid")),
    }
}
