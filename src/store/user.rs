//! The user directory.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::{Store, StoreError, is_unique_violation, now_micros, touch_images};
use crate::domain::DomainError;
use crate::domain::error::Resource;
use crate::domain::page::{PageSize, PageToken};
use crate::domain::user::{NewUser, User, UserRef, username_key};
use crate::entity::{image, image_member, user, user_name};

impl From<user::Model> for User {
    fn from(row: user::Model) -> Self {
        User {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            disabled: row.disabled,
            create_time: row.create_time,
        }
    }
}

/// A page of users.
#[derive(Clone, Debug)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next: Option<String>,
}

impl Store {
    /// The user with this id, enabled or not.
    pub async fn find_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(user::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await?
            .map(User::from))
    }

    /// Adds a user. An id or username that already names a user, as an id or as a username
    /// and ignoring case, is ALREADY_EXISTS: shares name users either way.
    pub async fn create_user(&self, new: &NewUser) -> Result<User, StoreError> {
        let created = self
            .write(|txn| async move {
                let result = insert_user(&txn, new).await;
                (txn, result)
            })
            .await;
        match created {
            Err(StoreError::Database(err)) if is_unique_violation(&err) => {
                let taken = self.taken_user_names(new).await?;
                Err(DomainError::AlreadyExists {
                    resource: Resource::User,
                    names: taken,
                }
                .into())
            }
            other => other,
        }
    }

    /// Which of the new user's id and username already name a user, for the error.
    async fn taken_user_names(&self, new: &NewUser) -> Result<Vec<String>, StoreError> {
        let id_key = username_key(&new.id);
        let name_key = username_key(&new.username);
        let taken: Vec<String> = user_name::Entity::find()
            .select_only()
            .column(user_name::Column::NameKey)
            .filter(user_name::Column::NameKey.is_in([id_key.as_str(), name_key.as_str()]))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut names = Vec::new();
        if taken.contains(&id_key) {
            names.push(new.id.clone());
        }
        if taken.contains(&name_key) && name_key != id_key {
            names.push(new.username.clone());
        }
        Ok(names)
    }

    /// Users by id, in id order.
    pub async fn list_users(
        &self,
        size: PageSize,
        after: Option<PageToken<String>>,
    ) -> Result<UserPage, StoreError> {
        let mut query = user::Entity::find().order_by_asc(user::Column::Id);
        if let Some(token) = &after {
            query = query.filter(user::Column::Id.gt(token.after.as_str()));
        }
        let mut rows = query.limit(size.get() + 1).all(&self.db).await?;
        let more = rows.len() as u64 > size.get();
        rows.truncate(size.get() as usize);
        let next = match (more, rows.last()) {
            (true, Some(last)) => Some(PageToken::new(last.id.clone(), 0, "users").encode()),
            _ => None,
        };
        Ok(UserPage {
            users: rows.into_iter().map(User::from).collect(),
            next,
        })
    }

    /// Disables a user. They can no longer call, and lose what was shared with them.
    pub async fn disable_user(&self, id: &str) -> Result<User, StoreError> {
        self.write(|txn| async move {
            let result = disable_in(&txn, id).await;
            (txn, result)
        })
        .await
    }
}

/// Disables a user and ends their memberships in the same transaction; the images they were
/// members of change (their etags move on).
async fn disable_in<C: ConnectionTrait>(txn: &C, id: &str) -> Result<User, StoreError> {
    let updated = user::Entity::update_many()
        .col_expr(user::Column::Disabled, Expr::value(true))
        .filter(user::Column::Id.eq(id))
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        let exists = user::Entity::find_by_id(id.to_owned()).one(txn).await?;
        if exists.is_none() {
            return Err(DomainError::NotFound {
                resource: Resource::User,
                names: vec![id.to_owned()],
            }
            .into());
        }
    }

    let shared_with_them = Query::select()
        .column(image_member::Column::ImageId)
        .from(image_member::Entity)
        .and_where(Expr::col(image_member::Column::UserId).eq(id))
        .to_owned();
    touch_images(txn, image::Column::Id.in_subquery(shared_with_them)).await?;
    image_member::Entity::delete_many()
        .filter(image_member::Column::UserId.eq(id))
        .exec(txn)
        .await?;

    user::Entity::find_by_id(id.to_owned())
        .one(txn)
        .await?
        .map(User::from)
        .ok_or_else(|| {
            DomainError::NotFound {
                resource: Resource::User,
                names: vec![id.to_owned()],
            }
            .into()
        })
}

async fn insert_user<C: ConnectionTrait>(txn: &C, new: &NewUser) -> Result<User, StoreError> {
    let row = user::Model {
        id: new.id.clone(),
        username: new.username.clone(),
        username_key: username_key(&new.username),
        display_name: new.display_name.clone(),
        disabled: false,
        create_time: now_micros(),
    };
    user::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(txn)
        .await?;
    let mut keys = vec![row.username_key.clone()];
    let id_key = username_key(&row.id);
    if id_key != row.username_key {
        keys.push(id_key);
    }
    let names = keys.into_iter().map(|name_key| user_name::ActiveModel {
        name_key: Set(name_key),
        user_id: Set(row.id.clone()),
    });
    user_name::Entity::insert_many(names)
        .exec_without_returning(txn)
        .await?;
    Ok(User::from(row))
}

/// Every user any of `refs` could name: by id or by username key, in one statement.
pub(super) async fn users_for_refs<C: ConnectionTrait>(
    db: &C,
    refs: &[UserRef],
) -> Result<Vec<User>, StoreError> {
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let keys: Vec<String> = refs.iter().map(|r| username_key(&r.text)).collect();
    let rows = user::Entity::find()
        .filter(
            Condition::any()
                .add(user::Column::Id.is_in(texts))
                .add(user::Column::UsernameKey.is_in(keys)),
        )
        // A shared lock: a concurrent disable waits for this transaction (or this one sees the
        // user disabled), so no share reaches a user who is being disabled.
        .lock_shared()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(User::from).collect())
}
