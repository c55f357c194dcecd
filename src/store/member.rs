//! Shares of images with users: share, revoke (with a preview) and list members.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait,
};

use super::image::{count_members, load};
use super::replay::RetryKey;
use super::user::users_for_refs;
use super::{Store, StoreError, lock_image, now_micros, touch_image};
use crate::domain::DomainError;
use crate::domain::access::{Operation, authorize};
use crate::domain::error::{FieldViolation, Resource};
use crate::domain::image::{MAX_MEMBERS_PER_IMAGE, Member, RevokeOutcome, ShareOutcome};
use crate::domain::page::{PageSize, PageToken};
use crate::domain::text::ResourceId;
use crate::domain::user::{Caller, User, UserRef, resolve_user_refs, username_key};
use crate::entity::{image_member, user};

/// A page of members.
#[derive(Clone, Debug)]
pub struct MemberPage {
    pub members: Vec<Member>,
    pub next: Option<String>,
}

/// Resolves the named users in one statement; every reference matching no enabled user is
/// NOT_FOUND, all of them named.
async fn resolve<C: ConnectionTrait>(db: &C, refs: &[UserRef]) -> Result<Vec<User>, StoreError> {
    let found = users_for_refs(db, refs).await?;
    let (users, unknown) = resolve_user_refs(refs, &found);
    if unknown.is_empty() {
        Ok(users)
    } else {
        Err(DomainError::NotFound {
            resource: Resource::User,
            names: unknown.iter().map(|r| r.text.clone()).collect(),
        }
        .into())
    }
}

/// The current members among `users`, keyed by user id.
async fn members_among<C: ConnectionTrait>(
    db: &C,
    image_id: &str,
    users: &[User],
) -> Result<Vec<image_member::Model>, StoreError> {
    Ok(image_member::Entity::find()
        .filter(image_member::Column::ImageId.eq(image_id))
        .filter(image_member::Column::UserId.is_in(users.iter().map(|u| u.id.as_str())))
        .all(db)
        .await?)
}

fn member(image_id: &str, user: &User, create_time: i64) -> Member {
    Member {
        image_id: image_id.to_owned(),
        user_id: user.id.clone(),
        username: user.username.clone(),
        create_time,
    }
}

impl Store {
    /// The positions in `refs` of those that name no enabled user.
    pub async fn unknown_user_refs(&self, refs: &[UserRef]) -> Result<Vec<usize>, StoreError> {
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        let found = users_for_refs(&self.db, refs).await?;
        let (_, unknown) = resolve_user_refs(refs, &found);
        Ok(refs
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                unknown
                    .iter()
                    .any(|u| username_key(&u.text) == username_key(&r.text))
            })
            .map(|(index, _)| index)
            .collect())
    }

    /// Shares an image with users; users that already are members are reported, not refused.
    pub async fn share_image(
        &self,
        caller: &Caller,
        id: &ResourceId,
        refs: &[UserRef],
        key: Option<&RetryKey>,
    ) -> Result<ShareOutcome, StoreError> {
        self.write_once(key, |txn| async move {
            let result = share_in(&txn, caller, id, refs).await;
            (txn, result)
        })
        .await
    }

    /// Revokes members; with `preview`, only answers what would be revoked.
    pub async fn revoke_image_shares(
        &self,
        caller: &Caller,
        id: &ResourceId,
        refs: &[UserRef],
        preview: bool,
        key: Option<&RetryKey>,
    ) -> Result<RevokeOutcome, StoreError> {
        let key = if preview { None } else { key };
        self.write_once(key, |txn| async move {
            let result = revoke_in(&txn, caller, id, refs, preview).await;
            (txn, result)
        })
        .await
    }

    /// The members of an image, oldest share first. Owner or administrator only.
    pub async fn list_image_members(
        &self,
        caller: &Caller,
        id: &ResourceId,
        size: PageSize,
        after: Option<PageToken<(i64, String)>>,
    ) -> Result<MemberPage, StoreError> {
        let loaded = load(&self.db, caller, id).await?;
        authorize(caller, &loaded.relation(), Operation::ListMembers)?;

        let mut query = image_member::Entity::find()
            .select_only()
            .column(image_member::Column::UserId)
            .column(user::Column::Username)
            .column(image_member::Column::CreateTime)
            .join(
                sea_orm::JoinType::InnerJoin,
                image_member::Relation::User.def(),
            )
            .filter(image_member::Column::ImageId.eq(id.as_str()));
        if let Some(token) = &after {
            let (time, user_id) = &token.after;
            query = query.filter(
                sea_orm::Condition::any()
                    .add(image_member::Column::CreateTime.gt(*time))
                    .add(
                        sea_orm::Condition::all()
                            .add(image_member::Column::CreateTime.eq(*time))
                            .add(image_member::Column::UserId.gt(user_id.as_str())),
                    ),
            );
        }
        let mut rows: Vec<(String, String, i64)> = query
            .order_by_asc(image_member::Column::CreateTime)
            .order_by_asc(image_member::Column::UserId)
            .limit(size.get() + 1)
            .into_tuple()
            .all(&self.db)
            .await?;
        let more = rows.len() as u64 > size.get();
        rows.truncate(size.get() as usize);
        let next = match (more, rows.last()) {
            (true, Some((user_id, _, time))) => {
                Some(PageToken::new((*time, user_id.clone()), 0, &format!("members|{id}")).encode())
            }
            _ => None,
        };
        let members = rows
            .into_iter()
            .map(|(user_id, username, create_time)| Member {
                image_id: id.as_str().to_owned(),
                user_id,
                username,
                create_time,
            })
            .collect();
        Ok(MemberPage { members, next })
    }
}

async fn share_in<C: ConnectionTrait>(
    txn: &C,
    caller: &Caller,
    id: &ResourceId,
    refs: &[UserRef],
) -> Result<ShareOutcome, StoreError> {
    lock_image(txn, id.as_str()).await?;
    let loaded = load(txn, caller, id).await?;
    authorize(caller, &loaded.relation(), Operation::Share)?;

    let users = resolve(txn, refs).await?;
    let owner = loaded.row.owner_id.clone().unwrap_or_default();
    let selves: Vec<FieldViolation> = refs
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            users.iter().any(|u| {
                u.id == owner && (r.text == u.id || r.text.eq_ignore_ascii_case(&u.username))
            })
        })
        .map(|(index, _)| {
            FieldViolation::new(
                format!("users[{index}]"),
                "names the image's owner, who cannot be a member",
            )
        })
        .collect();
    if !selves.is_empty() {
        return Err(DomainError::Invalid(selves).into());
    }

    let existing = members_among(txn, id.as_str(), &users).await?;
    let (already, new): (Vec<&User>, Vec<&User>) = users
        .iter()
        .partition(|u| existing.iter().any(|m| m.user_id == u.id));
    let would_be = loaded.member_count + new.len();
    if would_be > MAX_MEMBERS_PER_IMAGE {
        return Err(DomainError::LimitExceeded {
            what: "members per image",
            limit: MAX_MEMBERS_PER_IMAGE,
            would_be,
        }
        .into());
    }

    let now = now_micros();
    if !new.is_empty() {
        let rows = new.iter().map(|u| image_member::ActiveModel {
            image_id: Set(id.as_str().to_owned()),
            user_id: Set(u.id.clone()),
            create_time: Set(now),
        });
        image_member::Entity::insert_many(rows)
            .on_conflict_do_nothing()
            .exec_without_returning(txn)
            .await?;
        touch_image(txn, id.as_str()).await?;
    }
    let already_members = already
        .iter()
        .map(|u| {
            let since = existing
                .iter()
                .find(|m| m.user_id == u.id)
                .map_or(0, |m| m.create_time);
            member(id.as_str(), u, since)
        })
        .collect();
    Ok(ShareOutcome {
        added: new.iter().map(|u| member(id.as_str(), u, now)).collect(),
        already_members,
        member_count: would_be,
    })
}

async fn revoke_in<C: ConnectionTrait>(
    txn: &C,
    caller: &Caller,
    id: &ResourceId,
    refs: &[UserRef],
    preview: bool,
) -> Result<RevokeOutcome, StoreError> {
    lock_image(txn, id.as_str()).await?;
    let loaded = load(txn, caller, id).await?;
    authorize(caller, &loaded.relation(), Operation::Revoke)?;

    // Disabled users can still be revoked: they stay members until someone does.
    let found = users_for_refs(txn, refs).await?;
    let enabled_or_not: Vec<User> = found
        .into_iter()
        .map(|u| User {
            disabled: false,
            ..u
        })
        .collect();
    let (users, unknown) = resolve_user_refs(refs, &enabled_or_not);
    let existing = members_among(txn, id.as_str(), &users).await?;
    let mut missing: Vec<String> = unknown.iter().map(|r| r.text.clone()).collect();
    for reference in refs {
        let user = users
            .iter()
            .find(|u| u.id == reference.text || u.username.eq_ignore_ascii_case(&reference.text));
        if let Some(user) = user
            && !existing.iter().any(|m| m.user_id == user.id)
            && !missing.contains(&reference.text)
        {
            missing.push(reference.text.clone());
        }
    }
    if !missing.is_empty() {
        return Err(DomainError::NotFound {
            resource: Resource::Member,
            names: missing,
        }
        .into());
    }

    let revoked: Vec<Member> = users
        .iter()
        .map(|u| {
            let since = existing
                .iter()
                .find(|m| m.user_id == u.id)
                .map_or(0, |m| m.create_time);
            member(id.as_str(), u, since)
        })
        .collect();
    if !preview {
        image_member::Entity::delete_many()
            .filter(image_member::Column::ImageId.eq(id.as_str()))
            .filter(image_member::Column::UserId.is_in(users.iter().map(|u| u.id.as_str())))
            .exec(txn)
            .await?;
        touch_image(txn, id.as_str()).await?;
    }
    let remaining = count_members(txn, id.as_str()).await?;
    let member_count = if preview {
        remaining.saturating_sub(revoked.len())
    } else {
        remaining
    };
    Ok(RevokeOutcome {
        revoked,
        member_count,
    })
}
