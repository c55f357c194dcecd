//! Tags of users and their bindings to images.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::image::{load, present_loaded};
use super::{
    Store, StoreError, is_unique_violation, lock_image, now_micros, touch_image, touch_images,
};
use crate::domain::DomainError;
use crate::domain::access::{Operation, authorize};
use crate::domain::error::{Resource, Violation};
use crate::domain::image::{Image, MAX_TAGS_PER_IMAGE, Tag};
use crate::domain::page::{PageSize, PageToken};
use crate::domain::tag::NewTag;
use crate::domain::text::ResourceId;
use crate::domain::user::Caller;
use crate::entity::{image_tag, tag};

/// A page of tags.
#[derive(Clone, Debug)]
pub struct TagPage {
    pub tags: Vec<Tag>,
    pub next: Option<String>,
}

impl From<tag::Model> for Tag {
    fn from(row: tag::Model) -> Self {
        Tag {
            id: row.id,
            key: row.tag_key,
            value: row.tag_value,
            owner_id: row.owner_id,
            create_time: row.create_time,
        }
    }
}

/// The position after a tag in the listing order.
pub type TagCursor = (String, String, String);

impl Store {
    /// Creates a tag of the caller; the same key and value twice is ALREADY_EXISTS.
    pub async fn create_tag(&self, caller: &Caller, new: &NewTag) -> Result<Tag, StoreError> {
        let row = tag::Model {
            id: ResourceId::generate().as_str().to_owned(),
            owner_id: caller.id.clone(),
            tag_key: new.key.clone(),
            tag_value: new.value.clone(),
            create_time: now_micros(),
        };
        match tag::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&self.db)
            .await
        {
            Ok(_) => Ok(Tag::from(row)),
            Err(err) if is_unique_violation(&err) => Err(DomainError::AlreadyExists {
                resource: Resource::Tag,
                names: vec![format!("{}={}", new.key, new.value)],
            }
            .into()),
            Err(err) => Err(err.into()),
        }
    }

    /// The caller's tags by key, value and id.
    pub async fn list_tags(
        &self,
        caller: &Caller,
        size: PageSize,
        after: Option<PageToken<TagCursor>>,
    ) -> Result<TagPage, StoreError> {
        let mut query = tag::Entity::find().filter(tag::Column::OwnerId.eq(caller.id.as_str()));
        if let Some(token) = &after {
            let (key, value, id) = &token.after;
            let k = || tag::Column::TagKey;
            let v = || tag::Column::TagValue;
            query = query.filter(
                sea_orm::Condition::any()
                    .add(k().gt(key.as_str()))
                    .add(
                        sea_orm::Condition::all()
                            .add(k().eq(key.as_str()))
                            .add(v().gt(value.as_str())),
                    )
                    .add(
                        sea_orm::Condition::all()
                            .add(k().eq(key.as_str()))
                            .add(v().eq(value.as_str()))
                            .add(tag::Column::Id.gt(id.as_str())),
                    ),
            );
        }
        let mut rows = query
            .order_by_asc(tag::Column::TagKey)
            .order_by_asc(tag::Column::TagValue)
            .order_by_asc(tag::Column::Id)
            .limit(size.get() + 1)
            .all(&self.db)
            .await?;
        let more = rows.len() as u64 > size.get();
        rows.truncate(size.get() as usize);
        let next = match (more, rows.last()) {
            (true, Some(last)) => {
                let cursor = (
                    last.tag_key.clone(),
                    last.tag_value.clone(),
                    last.id.clone(),
                );
                Some(PageToken::new(cursor, 0, &format!("tags|{}", caller.id)).encode())
            }
            _ => None,
        };
        Ok(TagPage {
            tags: rows.into_iter().map(Tag::from).collect(),
            next,
        })
    }

    /// Deletes a tag of the caller; a bound one only with `force`, which unbinds it
    /// everywhere. Answers how many images it was unbound from.
    pub async fn delete_tag(
        &self,
        caller: &Caller,
        id: &ResourceId,
        force: bool,
    ) -> Result<u64, StoreError> {
        self.write(|txn| async move {
            let result = delete_tag_in(&txn, caller, id, force).await;
            (txn, result)
        })
        .await
    }

    /// Binds tags of the caller to an image; tags already bound stay as they are.
    pub async fn bind_image_tags(
        &self,
        caller: &Caller,
        id: &ResourceId,
        tag_ids: &[ResourceId],
    ) -> Result<Image, StoreError> {
        self.write(|txn| async move {
            let result = bind_in(&txn, caller, id, tag_ids, true).await;
            (txn, result)
        })
        .await
    }

    /// Unbinds tags of the caller from an image; tags not bound are left alone.
    pub async fn unbind_image_tags(
        &self,
        caller: &Caller,
        id: &ResourceId,
        tag_ids: &[ResourceId],
    ) -> Result<Image, StoreError> {
        self.write(|txn| async move {
            let result = bind_in(&txn, caller, id, tag_ids, false).await;
            (txn, result)
        })
        .await
    }
}

async fn delete_tag_in<C: ConnectionTrait>(
    txn: &C,
    caller: &Caller,
    id: &ResourceId,
    force: bool,
) -> Result<u64, StoreError> {
    lock_tags(txn, std::slice::from_ref(id)).await?;
    let found = tag::Entity::find_by_id(id.as_str().to_owned())
        .one(txn)
        .await?
        .filter(|t| t.owner_id == caller.id);
    if found.is_none() {
        return Err(DomainError::NotFound {
            resource: Resource::Tag,
            names: vec![id.as_str().to_owned()],
        }
        .into());
    }
    let bound = image_tag::Entity::find()
        .filter(image_tag::Column::TagId.eq(id.as_str()))
        .count(txn)
        .await?;
    if bound > 0 && !force {
        return Err(DomainError::FailedPrecondition(vec![Violation {
            kind: "TAG_IN_USE",
            subject: format!("tags/{id}"),
            description: format!(
                "the tag is bound to {bound} image(s); set force to unbind it everywhere"
            ),
        }])
        .into());
    }
    if bound > 0 {
        // The images lose a tag: their etags move on.
        let bound_to = sea_orm::sea_query::Query::select()
            .column(image_tag::Column::ImageId)
            .from(image_tag::Entity)
            .and_where(Expr::col(image_tag::Column::TagId).eq(id.as_str()))
            .to_owned();
        touch_images(txn, crate::entity::image::Column::Id.in_subquery(bound_to)).await?;
    }
    // Bindings go with the tag (ON DELETE CASCADE).
    tag::Entity::delete_by_id(id.as_str().to_owned())
        .exec(txn)
        .await?;
    Ok(bound)
}

/// Takes the write lock on tag rows for the rest of the transaction, so that binding a tag and
/// deleting it cannot interleave.
async fn lock_tags<C: ConnectionTrait>(txn: &C, ids: &[ResourceId]) -> Result<(), StoreError> {
    tag::Entity::update_many()
        .col_expr(tag::Column::TagKey, Expr::col(tag::Column::TagKey))
        .filter(tag::Column::Id.is_in(ids.iter().map(ResourceId::as_str)))
        .exec(txn)
        .await?;
    Ok(())
}

async fn bind_in<C: ConnectionTrait>(
    txn: &C,
    caller: &Caller,
    id: &ResourceId,
    tag_ids: &[ResourceId],
    bind: bool,
) -> Result<Image, StoreError> {
    lock_image(txn, id.as_str()).await?;
    let loaded = load(txn, caller, id).await?;
    authorize(caller, &loaded.relation(), Operation::Tag)?;
    if bind {
        // Lock the tags too: a concurrent DeleteTag either finishes first (and the tags are not
        // found below) or waits and then sees the new bindings.
        lock_tags(txn, tag_ids).await?;
    }

    let own: Vec<String> = tag::Entity::find()
        .select_only()
        .column(tag::Column::Id)
        .filter(tag::Column::OwnerId.eq(caller.id.as_str()))
        .filter(tag::Column::Id.is_in(tag_ids.iter().map(ResourceId::as_str)))
        .into_tuple()
        .all(txn)
        .await?;
    let missing: Vec<String> = tag_ids
        .iter()
        .filter(|t| !own.iter().any(|o| o == t.as_str()))
        .map(|t| t.as_str().to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(DomainError::NotFound {
            resource: Resource::Tag,
            names: missing,
        }
        .into());
    }

    let bound: Vec<String> = image_tag::Entity::find()
        .select_only()
        .column(image_tag::Column::TagId)
        .filter(image_tag::Column::ImageId.eq(id.as_str()))
        .into_tuple()
        .all(txn)
        .await?;
    if bind {
        let new: Vec<&ResourceId> = tag_ids
            .iter()
            .filter(|t| !bound.iter().any(|b| b == t.as_str()))
            .collect();
        let would_be = bound.len() + new.len();
        if would_be > MAX_TAGS_PER_IMAGE {
            return Err(DomainError::LimitExceeded {
                what: "tags per image",
                limit: MAX_TAGS_PER_IMAGE,
                would_be,
            }
            .into());
        }
        if !new.is_empty() {
            let now = now_micros();
            let rows = new.iter().map(|t| image_tag::ActiveModel {
                image_id: Set(id.as_str().to_owned()),
                tag_id: Set(t.as_str().to_owned()),
                create_time: Set(now),
            });
            image_tag::Entity::insert_many(rows)
                .on_conflict_do_nothing()
                .exec_without_returning(txn)
                .await?;
            touch_image(txn, id.as_str()).await?;
        }
    } else {
        let unbound = image_tag::Entity::delete_many()
            .filter(image_tag::Column::ImageId.eq(id.as_str()))
            .filter(image_tag::Column::TagId.is_in(tag_ids.iter().map(ResourceId::as_str)))
            .exec(txn)
            .await?;
        if unbound.rows_affected > 0 {
            touch_image(txn, id.as_str()).await?;
        }
    }

    let loaded = load(txn, caller, id).await?;
    present_loaded(txn, caller, loaded, Operation::Read).await
}
