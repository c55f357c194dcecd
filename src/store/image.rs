//! The image catalogue: register, read, list, change, clone and delete images.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query, QueryStatementBuilder};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    RelationTrait,
};

use super::replay::RetryKey;
use super::{Store, StoreError, is_unique_violation, lock_image, now_micros};
use crate::domain::DomainError;
use crate::domain::access::{Operation, Relation, authorize};
use crate::domain::error::{Resource, Violation};
use crate::domain::image::{
    CloneSpec, ContentAttributes, Image, ImageCategory, ImageCursor, ImageOrder, ImagePage,
    ImageQuery, ImageUpdate, NewImage, Tag, etag_of,
};
use crate::domain::text::ResourceId;
use crate::domain::user::Caller;
use crate::entity::{image, image_member, image_tag, tag};

/// The stored facts that decide what a caller may do with an image.
pub(super) struct Loaded {
    pub row: image::Model,
    pub caller_is_member: bool,
    pub member_count: usize,
}

impl Loaded {
    pub fn relation(&self) -> Relation<'_> {
        Relation {
            image_id: &self.row.id,
            owner_id: self.row.owner_id.as_deref(),
            caller_is_member: self.caller_is_member,
            member_count: self.member_count,
        }
    }
}

/// Loads an image with the caller's relation to it, in one statement; NOT_FOUND when it does
/// not exist.
pub(super) async fn load<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    id: &ResourceId,
) -> Result<Loaded, StoreError> {
    let members = |mine: bool| {
        let mut count = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(image_member::Entity)
            .and_where(
                Expr::col((image_member::Entity, image_member::Column::ImageId))
                    .equals((image::Entity, image::Column::Id)),
            )
            .to_owned();
        if mine {
            count.and_where(
                Expr::col((image_member::Entity, image_member::Column::UserId))
                    .eq(caller.id.as_str()),
            );
        }
        Expr::SubQuery(None, Box::new(count.into_sub_query_statement()))
    };
    let select = image::Entity::find_by_id(id.as_str().to_owned())
        .column_as(members(false), "member_count")
        .column_as(members(true), "caller_memberships")
        .into_query();
    let found = db
        .query_one(&select)
        .await?
        .ok_or_else(|| DomainError::image_not_found(id))?;
    let row = image::Model::from_query_result(&found, "")?;
    let member_count: i64 = found.try_get("", "member_count")?;
    let caller_memberships: i64 = found.try_get("", "caller_memberships")?;
    Ok(Loaded {
        row,
        caller_is_member: caller_memberships > 0,
        member_count: usize::try_from(member_count).unwrap_or(0),
    })
}

pub(super) async fn count_members<C: ConnectionTrait>(
    db: &C,
    image_id: &str,
) -> Result<usize, StoreError> {
    let count = image_member::Entity::find()
        .filter(image_member::Column::ImageId.eq(image_id))
        .count(db)
        .await?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// Tags bound to each of `image_ids`, in key, value order.
pub(super) async fn tags_of<C: ConnectionTrait>(
    db: &C,
    image_ids: &[&str],
) -> Result<HashMap<String, Vec<Tag>>, StoreError> {
    let mut by_image: HashMap<String, Vec<Tag>> = HashMap::new();
    if image_ids.is_empty() {
        return Ok(by_image);
    }
    let rows: Vec<(String, String, String, String, String, i64)> = image_tag::Entity::find()
        .select_only()
        .column(image_tag::Column::ImageId)
        .column_as(Expr::col((tag::Entity, tag::Column::Id)), "tag_id")
        .column_as(Expr::col((tag::Entity, tag::Column::TagKey)), "tag_key")
        .column_as(Expr::col((tag::Entity, tag::Column::TagValue)), "tag_value")
        .column_as(Expr::col((tag::Entity, tag::Column::OwnerId)), "owner_id")
        .column_as(
            Expr::col((tag::Entity, tag::Column::CreateTime)),
            "create_time",
        )
        .join(sea_orm::JoinType::InnerJoin, image_tag::Relation::Tag.def())
        .filter(image_tag::Column::ImageId.is_in(image_ids.iter().copied()))
        .order_by_asc(Expr::col((tag::Entity, tag::Column::TagKey)))
        .order_by_asc(Expr::col((tag::Entity, tag::Column::TagValue)))
        .order_by_asc(Expr::col((tag::Entity, tag::Column::Id)))
        .into_tuple()
        .all(db)
        .await?;
    for (image_id, id, key, value, owner_id, create_time) in rows {
        by_image.entry(image_id).or_default().push(Tag {
            id,
            key,
            value,
            owner_id,
            create_time,
        });
    }
    Ok(by_image)
}

/// The image as `caller` sees it: owners and administrators see tags and the member count.
pub(super) fn present(
    row: image::Model,
    category: ImageCategory,
    member_count: usize,
    tags: Vec<Tag>,
    caller: &Caller,
) -> Image {
    let insider = row.owner_id.as_deref() == Some(caller.id.as_str()) || caller.admin;
    Image {
        content: ContentAttributes {
            disk_format: row.disk_format,
            os_type: row.os_type,
            os_distro: row.os_distro,
            os_version: row.os_version,
            architecture: row.architecture,
            size_bytes: row.size_bytes,
            min_disk_gb: row.min_disk_gb,
            min_ram_mb: row.min_ram_mb,
            checksum_sha256: row.checksum_sha256,
        },
        id: row.id,
        name: row.name,
        description: row.description,
        owner_id: row.owner_id,
        category,
        protected: row.protected,
        source_image_id: row.source_image_id,
        tags: if insider { tags } else { Vec::new() },
        member_count: if insider { member_count } else { 0 },
        create_time: row.create_time,
        update_time: row.update_time,
        revision: row.revision,
    }
}

/// Presents a loaded image after checking `operation`, reading its tags when shown.
pub(super) async fn present_loaded<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    loaded: Loaded,
    operation: Operation,
) -> Result<Image, StoreError> {
    let category = authorize(caller, &loaded.relation(), operation)?;
    let insider = loaded.row.owner_id.as_deref() == Some(caller.id.as_str()) || caller.admin;
    let tags = if insider && loaded.row.owner_id.is_some() {
        tags_of(db, &[loaded.row.id.as_str()])
            .await?
            .remove(&loaded.row.id)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(present(
        loaded.row,
        category,
        loaded.member_count,
        tags,
        caller,
    ))
}

/// Most images `total_size` counts; see [`capped_count`].
pub const TOTAL_SIZE_CAP: u64 = 10_000;

fn already_exists(names: Vec<String>) -> StoreError {
    DomainError::AlreadyExists {
        resource: Resource::Image,
        names,
    }
    .into()
}

impl Store {
    /// One image visible to the caller.
    pub async fn get_image(&self, caller: &Caller, id: &ResourceId) -> Result<Image, StoreError> {
        let loaded = load(&self.db, caller, id).await?;
        present_loaded(&self.db, caller, loaded, Operation::Read).await
    }

    /// Registers an image. Only administrators register system images.
    pub async fn create_image(
        &self,
        caller: &Caller,
        new: &NewImage,
        key: Option<&RetryKey>,
    ) -> Result<Image, StoreError> {
        if new.system && !caller.admin {
            return Err(DomainError::PermissionDenied(
                "only administrators register system images".into(),
            )
            .into());
        }
        self.write_once(key, |txn| async move {
            let result = insert_image(&txn, caller, new).await;
            (txn, result)
        })
        .await
    }

    /// Changes the fields present in `update`, if the etag (when given) still matches.
    pub async fn update_image(
        &self,
        caller: &Caller,
        id: &ResourceId,
        update: &ImageUpdate,
    ) -> Result<Image, StoreError> {
        self.write(|txn| async move {
            let result = update_in(&txn, caller, id, update).await;
            (txn, result)
        })
        .await
    }

    /// Deletes an image; a shared one only with `force`, a protected one never.
    pub async fn delete_image(
        &self,
        caller: &Caller,
        id: &ResourceId,
        force: bool,
        key: Option<&RetryKey>,
    ) -> Result<Image, StoreError> {
        self.write_once(key, |txn| async move {
            let result = delete_in(&txn, caller, id, force).await;
            (txn, result)
        })
        .await
    }

    /// Copies a visible image into new images of the caller, all in one transaction.
    pub async fn clone_image(
        &self,
        caller: &Caller,
        spec: &CloneSpec,
        key: Option<&RetryKey>,
    ) -> Result<Vec<Image>, StoreError> {
        let result = self
            .write_once(key, |txn| async move {
                let result = clone_in(&txn, caller, spec).await;
                (txn, result)
            })
            .await;
        match result {
            // The insert only knows that some name is taken: find which, for the error.
            Err(StoreError::Domain(DomainError::AlreadyExists {
                resource: Resource::Image,
                names,
            })) => {
                let mut taken: Vec<String> = image::Entity::find()
                    .select_only()
                    .column(image::Column::Name)
                    .filter(image::Column::NameScope.eq(caller.id.as_str()))
                    .filter(image::Column::Name.is_in(spec.names.iter().map(|n| n.as_str())))
                    .into_tuple()
                    .all(&self.db)
                    .await?;
                taken.sort();
                Err(already_exists(if taken.is_empty() { names } else { taken }))
            }
            other => other,
        }
    }

    /// A page of the images visible to the caller.
    pub async fn list_images(
        &self,
        caller: &Caller,
        query: &ImageQuery,
    ) -> Result<ImagePage, StoreError> {
        check_own_tags(&self.db, caller, &query.tag_ids).await?;
        // One query per source of visible images (system, the caller's, shared with the
        // caller), each served by an index in the listing's order; an OR of the three could use
        // none and would scan the catalogue.
        let branches = list_branches(caller, query);
        let total_size = match &query.page {
            Some(token) => token.total,
            None => capped_count(&self.db, &branches).await?,
        };

        let size = query.page_size.get();
        let mut rows = Vec::new();
        for branch in branches {
            let mut select = image::Entity::find().filter(branch);
            if let Some(token) = &query.page {
                select = select.filter(after_cursor(query.order, &token.after));
            }
            rows.extend(
                order(select, query.order)
                    .limit(size + 1)
                    .all(&self.db)
                    .await?,
            );
        }
        // Each branch came sorted; merge them in the same order. Names compare bytewise in
        // every backend (see the migrations), as Rust compares strings.
        sort_rows(&mut rows, query.order);
        let more = rows.len() as u64 > size;
        rows.truncate(size as usize);

        let images = self.present_page(caller, rows).await?;
        Ok(ImagePage {
            images,
            more,
            total_size,
        })
    }

    /// Presents a page of rows with two statements, whatever the page size: member counts and
    /// tags of the caller's images. A row owned by someone else is in the page only because it
    /// was shared with the caller (the listing's filter), so it is RECEIVED.
    async fn present_page(
        &self,
        caller: &Caller,
        rows: Vec<image::Model>,
    ) -> Result<Vec<Image>, StoreError> {
        // Member counts and tags are shown to owners, and to administrators for every image.
        let owned: Vec<&str> = rows
            .iter()
            .filter(|r| match r.owner_id.as_deref() {
                Some(owner) => owner == caller.id || caller.admin,
                None => false,
            })
            .map(|r| r.id.as_str())
            .collect();
        let mut counts: HashMap<String, usize> = HashMap::new();
        if !owned.is_empty() {
            let found: Vec<(String, i64)> = image_member::Entity::find()
                .select_only()
                .column(image_member::Column::ImageId)
                .column_as(image_member::Column::UserId.count(), "members")
                .filter(image_member::Column::ImageId.is_in(owned.iter().copied()))
                .group_by(image_member::Column::ImageId)
                .into_tuple()
                .all(&self.db)
                .await?;
            counts.extend(
                found
                    .into_iter()
                    .map(|(id, n)| (id, usize::try_from(n).unwrap_or(0))),
            );
        }
        let mut tags = tags_of(&self.db, &owned).await?;

        let images = rows
            .into_iter()
            .map(|row| {
                let count = counts.get(&row.id).copied().unwrap_or(0);
                let category = match &row.owner_id {
                    None => ImageCategory::System,
                    Some(owner) if *owner == caller.id && count > 0 => ImageCategory::Shared,
                    Some(owner) if *owner == caller.id => ImageCategory::Own,
                    Some(_) => ImageCategory::Received,
                };
                let row_tags = tags.remove(&row.id).unwrap_or_default();
                present(row, category, count, row_tags, caller)
            })
            .collect();
        Ok(images)
    }
}

async fn insert_image<C: ConnectionTrait>(
    txn: &C,
    caller: &Caller,
    new: &NewImage,
) -> Result<Image, StoreError> {
    let now = now_micros();
    let owner = (!new.system).then(|| caller.id.clone());
    let row = image::Model {
        id: ResourceId::generate().as_str().to_owned(),
        name: new.name.as_str().to_owned(),
        name_scope: owner.clone().unwrap_or_default(),
        owner_id: owner,
        description: new.description.clone(),
        status: 1,
        disk_format: new.content.disk_format,
        os_type: new.content.os_type,
        os_distro: new.content.os_distro.clone(),
        os_version: new.content.os_version.clone(),
        architecture: new.content.architecture,
        size_bytes: new.content.size_bytes,
        min_disk_gb: new.content.min_disk_gb,
        min_ram_mb: new.content.min_ram_mb,
        checksum_sha256: new.content.checksum_sha256.clone(),
        protected: new.protected,
        source_image_id: None,
        revision: 1,
        create_time: now,
        update_time: now,
    };
    match image::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(txn)
        .await
    {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {
            return Err(already_exists(vec![new.name.as_str().to_owned()]));
        }
        Err(err) => return Err(err.into()),
    }
    let category = if new.system {
        ImageCategory::System
    } else {
        ImageCategory::Own
    };
    Ok(present(row, category, 0, Vec::new(), caller))
}

async fn update_in<C: ConnectionTrait>(
    txn: &C,
    caller: &Caller,
    id: &ResourceId,
    update: &ImageUpdate,
) -> Result<Image, StoreError> {
    lock_image(txn, id.as_str()).await?;
    let loaded = load(txn, caller, id).await?;
    authorize(caller, &loaded.relation(), Operation::Modify)?;
    if let Some(etag) = &update.etag
        && *etag != etag_of(loaded.row.revision)
    {
        return Err(DomainError::EtagMismatch(etag.clone()).into());
    }

    let mut row = loaded.row.clone().into_active_model();
    if let Some(name) = &update.name {
        row.name = Set(name.as_str().to_owned());
    }
    if let Some(description) = &update.description {
        row.description = Set(description.clone());
    }
    if let Some(protected) = update.protected {
        row.protected = Set(protected);
    }
    row.revision = Set(loaded.row.revision + 1);
    row.update_time = Set(std::cmp::max(now_micros(), loaded.row.update_time + 1));
    match image::Entity::update(row).exec(txn).await {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {
            let name = update.name.as_ref().map(|n| n.as_str().to_owned());
            return Err(already_exists(name.into_iter().collect()));
        }
        Err(err) => return Err(err.into()),
    }
    let loaded = load(txn, caller, id).await?;
    present_loaded(txn, caller, loaded, Operation::Read).await
}

async fn delete_in<C: ConnectionTrait>(
    txn: &C,
    caller: &Caller,
    id: &ResourceId,
    force: bool,
) -> Result<Image, StoreError> {
    lock_image(txn, id.as_str()).await?;
    let loaded = load(txn, caller, id).await?;
    let subject = format!("images/{id}");
    // Counted by `load` under the image's lock, for every caller.
    let member_count = loaded.member_count;
    let image = present_loaded(txn, caller, loaded, Operation::Delete).await?;

    let mut violations = Vec::new();
    if image.protected {
        violations.push(Violation {
            kind: "PROTECTED",
            subject: subject.clone(),
            description: "the image is protected; turn protection off first".into(),
        });
    }
    if member_count > 0 && !force {
        violations.push(Violation {
            kind: "SHARED",
            subject,
            description: format!(
                "the image is shared with {member_count} user(s), who would lose access; \
                 set force to delete it anyway"
            ),
        });
    }
    if !violations.is_empty() {
        return Err(DomainError::FailedPrecondition(violations).into());
    }

    // Shares and tag bindings go with the image (ON DELETE CASCADE).
    image::Entity::delete_by_id(id.as_str().to_owned())
        .exec(txn)
        .await?;
    Ok(image)
}

async fn clone_in<C: ConnectionTrait>(
    txn: &C,
    caller: &Caller,
    spec: &CloneSpec,
) -> Result<Vec<Image>, StoreError> {
    let source = load(txn, caller, &spec.source).await?;
    authorize(caller, &source.relation(), Operation::Clone)?;

    // No check before the insert: the unique key finds clashes, and the caller names them.
    let names: Vec<&str> = spec.names.iter().map(|n| n.as_str()).collect();

    let now = now_micros();
    let source = source.row;
    let rows: Vec<image::Model> = names
        .iter()
        .map(|name| image::Model {
            id: ResourceId::generate().as_str().to_owned(),
            name: (*name).to_owned(),
            name_scope: caller.id.clone(),
            owner_id: Some(caller.id.clone()),
            description: source.description.clone(),
            status: source.status,
            disk_format: source.disk_format,
            os_type: source.os_type,
            os_distro: source.os_distro.clone(),
            os_version: source.os_version.clone(),
            architecture: source.architecture,
            size_bytes: source.size_bytes,
            min_disk_gb: source.min_disk_gb,
            min_ram_mb: source.min_ram_mb,
            checksum_sha256: source.checksum_sha256.clone(),
            protected: false,
            source_image_id: Some(source.id.clone()),
            revision: 1,
            create_time: now,
            update_time: now,
        })
        .collect();
    let insert =
        image::Entity::insert_many(rows.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(txn)
            .await;
    match insert {
        Ok(_) => {}
        // A concurrent call took one of the names between the check and the insert.
        Err(err) if is_unique_violation(&err) => {
            return Err(already_exists(
                names.iter().map(|n| (*n).to_owned()).collect(),
            ));
        }
        Err(err) => return Err(err.into()),
    }
    Ok(rows
        .into_iter()
        .map(|row| present(row, ImageCategory::Own, 0, Vec::new(), caller))
        .collect())
}

/// How many images the branches of a listing match, counted up to [`TOTAL_SIZE_CAP`] each, in
/// one statement. Counting every match of a large catalogue would cost a scan of it on each
/// first page; past the cap the answer is the cap, and paging goes on as usual.
async fn capped_count<C: ConnectionTrait>(
    db: &C,
    branches: &[Condition],
) -> Result<i64, StoreError> {
    let mut count = Query::select();
    for (index, branch) in branches.iter().enumerate() {
        let matches = image::Entity::find()
            .select_only()
            .column(image::Column::Id)
            .filter(branch.clone())
            .limit(TOTAL_SIZE_CAP)
            .into_query();
        let counted = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from_subquery(matches, format!("m{index}"))
            .to_owned();
        count.expr_as(
            Expr::SubQuery(None, Box::new(counted.into_sub_query_statement())),
            format!("n{index}"),
        );
    }
    let Some(row) = db.query_one(&count).await? else {
        return Ok(0);
    };
    let mut total = 0;
    for index in 0..branches.len() {
        total += row.try_get::<i64>("", &format!("n{index}"))?;
    }
    Ok(std::cmp::min(
        total,
        i64::try_from(TOTAL_SIZE_CAP).unwrap_or(i64::MAX),
    ))
}

/// Tag filters must name the caller's own tags; any other id is NOT_FOUND.
async fn check_own_tags<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    tag_ids: &[ResourceId],
) -> Result<(), StoreError> {
    if tag_ids.is_empty() {
        return Ok(());
    }
    let found: Vec<String> = tag::Entity::find()
        .select_only()
        .column(tag::Column::Id)
        .filter(tag::Column::OwnerId.eq(caller.id.as_str()))
        .filter(tag::Column::Id.is_in(tag_ids.iter().map(ResourceId::as_str)))
        .into_tuple()
        .all(db)
        .await?;
    let missing: Vec<String> = tag_ids
        .iter()
        .filter(|id| !found.iter().any(|f| f == id.as_str()))
        .map(|id| id.as_str().to_owned())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DomainError::NotFound {
            resource: Resource::Tag,
            names: missing,
        }
        .into())
    }
}

/// The conditions of each source of the listing: the images of `category` for the caller,
/// each with the filters of the query.
fn list_branches(caller: &Caller, query: &ImageQuery) -> Vec<Condition> {
    let me = caller.id.as_str();
    let has_members = || {
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(image_member::Entity)
                .and_where(
                    Expr::col((image_member::Entity, image_member::Column::ImageId))
                        .equals((image::Entity, image::Column::Id)),
                )
                .to_owned(),
        )
    };
    let system = || Condition::all().add(image::Column::NameScope.eq(""));
    let owned = || Condition::all().add(image::Column::NameScope.eq(me));
    let received = || {
        let received_ids = Query::select()
            .column(image_member::Column::ImageId)
            .from(image_member::Entity)
            .and_where(Expr::col(image_member::Column::UserId).eq(me))
            .to_owned();
        Condition::all()
            .add(image::Column::Id.in_subquery(received_ids))
            .add(image::Column::NameScope.ne(me))
    };

    let branches = match query.category {
        None => vec![system(), owned(), received()],
        Some(ImageCategory::System) => vec![system()],
        Some(ImageCategory::Own) => vec![owned().add(has_members().not())],
        Some(ImageCategory::Shared) => vec![owned().add(has_members())],
        Some(ImageCategory::Received) => vec![received()],
    };
    branches
        .into_iter()
        .map(|branch| add_filters(branch, query))
        .collect()
}

/// Adds the name and tag filters of the query.
fn add_filters(mut filter: Condition, query: &ImageQuery) -> Condition {
    if !query.name_contains.is_empty() {
        let pattern = format!("%{}%", escape_like(&query.name_contains));
        filter =
            filter.add(Expr::col(image::Column::Name).like(LikeExpr::new(pattern).escape('!')));
    }
    for tag_id in &query.tag_ids {
        filter = filter.add(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(image_tag::Entity)
                .and_where(
                    Expr::col((image_tag::Entity, image_tag::Column::ImageId))
                        .equals((image::Entity, image::Column::Id)),
                )
                .and_where(
                    Expr::col((image_tag::Entity, image_tag::Column::TagId)).eq(tag_id.as_str()),
                )
                .to_owned(),
        ));
    }
    filter
}

/// Sorts rows in the listing's order, as the database sorts them.
fn sort_rows(rows: &mut [image::Model], order: ImageOrder) {
    match order {
        ImageOrder::CreateTimeDesc => {
            rows.sort_by(|a, b| (b.create_time, &b.id).cmp(&(a.create_time, &a.id)))
        }
        ImageOrder::CreateTimeAsc => {
            rows.sort_by(|a, b| (a.create_time, &a.id).cmp(&(b.create_time, &b.id)))
        }
        ImageOrder::NameAsc => rows.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id))),
        ImageOrder::NameDesc => rows.sort_by(|a, b| (&b.name, &b.id).cmp(&(&a.name, &a.id))),
    }
}

/// Escapes the LIKE wildcards of user text with `!`.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            escaped.push('!');
        }
        escaped.push(c);
    }
    escaped
}

/// Rows strictly after the cursor in the listing's order: keyset paging, so that images
/// created or deleted meanwhile neither shift nor repeat the pages.
fn after_cursor(order: ImageOrder, cursor: &ImageCursor) -> Condition {
    let (key_col, key, id) = match cursor {
        ImageCursor::Time(time, id) => (image::Column::CreateTime, Expr::val(*time), id),
        ImageCursor::Name(name, id) => (image::Column::Name, Expr::val(name.as_str()), id),
    };
    let descending = matches!(order, ImageOrder::CreateTimeDesc | ImageOrder::NameDesc);
    let beyond = |col: Expr, value: Expr| {
        if descending {
            col.lt(value)
        } else {
            col.gt(value)
        }
    };
    Condition::any()
        .add(beyond(Expr::col(key_col), key.clone()))
        .add(
            Condition::all()
                .add(Expr::col(key_col).eq(key))
                .add(beyond(Expr::col(image::Column::Id), Expr::val(id.as_str()))),
        )
}

fn order(
    select: sea_orm::Select<image::Entity>,
    order: ImageOrder,
) -> sea_orm::Select<image::Entity> {
    match order {
        ImageOrder::CreateTimeDesc => select
            .order_by_desc(image::Column::CreateTime)
            .order_by_desc(image::Column::Id),
        ImageOrder::CreateTimeAsc => select
            .order_by_asc(image::Column::CreateTime)
            .order_by_asc(image::Column::Id),
        ImageOrder::NameAsc => select
            .order_by_asc(image::Column::Name)
            .order_by_asc(image::Column::Id),
        ImageOrder::NameDesc => select
            .order_by_desc(image::Column::Name)
            .order_by_desc(image::Column::Id),
    }
}
