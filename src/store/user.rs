//! The user directory.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{Store, StoreError, is_unique_violation, now_micros};
use crate::domain::DomainError;
use crate::domain::error::Resource;
use crate::domain::page::{PageSize, PageToken};
use crate::domain::user::{NewUser, User, UserRef, username_key};
use crate::entity::user;

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

    /// Adds a user; a taken id or username (ignoring case) is ALREADY_EXISTS.
    pub async fn create_user(&self, new: &NewUser) -> Result<User, StoreError> {
        let row = user::ActiveModel {
            id: Set(new.id.clone()),
            username: Set(new.username.clone()),
            username_key: Set(username_key(&new.username)),
            display_name: Set(new.display_name.clone()),
            disabled: Set(false),
            create_time: Set(now_micros()),
        };
        match user::Entity::insert(row.clone())
            .exec_without_returning(&self.db)
            .await
        {
            Ok(_) => {}
            Err(err) if is_unique_violation(&err) => {
                let taken = self.taken_user_names(new).await?;
                return Err(DomainError::AlreadyExists {
                    resource: Resource::User,
                    names: taken,
                }
                .into());
            }
            Err(err) => return Err(err.into()),
        }
        self.find_user(&new.id).await?.ok_or_else(|| {
            DomainError::NotFound {
                resource: Resource::User,
                names: vec![new.id.clone()],
            }
            .into()
        })
    }

    /// Which of the new user's id and username are taken, for the error.
    async fn taken_user_names(&self, new: &NewUser) -> Result<Vec<String>, StoreError> {
        let rows = user::Entity::find()
            .filter(
                Condition::any()
                    .add(user::Column::Id.eq(new.id.as_str()))
                    .add(user::Column::UsernameKey.eq(username_key(&new.username))),
            )
            .all(&self.db)
            .await?;
        let mut taken = Vec::new();
        if rows.iter().any(|u| u.id == new.id) {
            taken.push(format!("users/{}", new.id));
        }
        if rows
            .iter()
            .any(|u| u.username_key == username_key(&new.username))
        {
            taken.push(format!("username {}", new.username));
        }
        Ok(taken)
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
        let updated = user::Entity::update_many()
            .col_expr(
                user::Column::Disabled,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(user::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        let found = self.find_user(id).await?;
        match found {
            Some(user) if updated.rows_affected > 0 || user.disabled => Ok(user),
            _ => Err(DomainError::NotFound {
                resource: Resource::User,
                names: vec![id.to_owned()],
            }
            .into()),
        }
    }
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
        .all(db)
        .await?;
    Ok(rows.into_iter().map(User::from).collect())
}
