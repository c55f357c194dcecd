//! Images and the inputs and outcomes of the operations on them.

use serde::{Deserialize, Serialize};

use super::DomainError;
use super::error::Violations;
use super::page::{PageSize, PageToken};
use super::text::{ImageName, ResourceId, parse_description, parse_text};

/// Most copies one clone call makes.
pub const MAX_CLONE_COUNT: i32 = 10;
/// Most members an image may have.
pub const MAX_MEMBERS_PER_IMAGE: usize = 500;
/// Most tags bound to one image.
pub const MAX_TAGS_PER_IMAGE: usize = 50;
/// Most tag ids one bind, unbind or list filter may name.
pub const MAX_TAGS_PER_CALL: usize = 20;

/// The console tab an image sits in, relative to the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImageCategory {
    System,
    Own,
    Shared,
    Received,
}

impl ImageCategory {
    pub fn adjective(self) -> &'static str {
        match self {
            ImageCategory::System => "system",
            ImageCategory::Own => "own",
            ImageCategory::Shared => "shared",
            ImageCategory::Received => "received",
        }
    }
}

/// What the image content is, as registered. Enumerations are kept as their wire numbers,
/// checked against the known values by the gRPC layer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentAttributes {
    pub disk_format: i32,
    pub os_type: i32,
    pub os_distro: String,
    pub os_version: String,
    pub architecture: i32,
    pub size_bytes: i64,
    pub min_disk_gb: i32,
    pub min_ram_mb: i32,
    pub checksum_sha256: String,
}

impl ContentAttributes {
    /// Validates the attributes, recording every fault. `prefix` is the message path.
    pub fn validate(mut self, prefix: &str, violations: &mut Violations) -> Self {
        let field = |name: &str| format!("{prefix}.{name}");
        self.os_distro = violations
            .check(parse_text(
                self.os_distro.trim(),
                &field("os_distro"),
                64,
                false,
            ))
            .unwrap_or_default();
        self.os_version = violations
            .check(parse_text(
                self.os_version.trim(),
                &field("os_version"),
                64,
                false,
            ))
            .unwrap_or_default();
        if self.size_bytes < 0 {
            violations.add(field("size_bytes"), "must not be negative");
        }
        if self.min_disk_gb < 0 {
            violations.add(field("min_disk_gb"), "must not be negative");
        }
        if self.min_ram_mb < 0 {
            violations.add(field("min_ram_mb"), "must not be negative");
        }
        let checksum = self.checksum_sha256.trim().to_ascii_lowercase();
        let well_formed = checksum.len() == 64 && checksum.bytes().all(|b| b.is_ascii_hexdigit());
        if !checksum.is_empty() && !well_formed {
            violations.add(
                field("checksum_sha256"),
                "must be 64 hexadecimal digits or empty",
            );
        }
        self.checksum_sha256 = checksum;
        self
    }
}

/// A tag as shown on an image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub id: String,
    pub key: String,
    pub value: String,
    pub owner_id: String,
    pub create_time: i64,
}

/// An image as one caller sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner_id: Option<String>,
    pub category: ImageCategory,
    pub content: ContentAttributes,
    pub protected: bool,
    pub source_image_id: Option<String>,
    /// Bound tags; empty for callers who are not the owner or an administrator.
    pub tags: Vec<Tag>,
    /// Member count; zero for callers who are not the owner or an administrator.
    pub member_count: usize,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
}

impl Image {
    /// The entity tag clients send back to update only the version they read.
    pub fn etag(&self) -> String {
        etag_of(self.revision)
    }
}

pub fn etag_of(revision: i64) -> String {
    format!("r{revision}")
}

/// A validated image to register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewImage {
    pub name: ImageName,
    pub description: String,
    pub content: ContentAttributes,
    pub protected: bool,
    /// Register as a system image (administrators only).
    pub system: bool,
}

/// A validated change of an image: only the fields present are changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageUpdate {
    pub name: Option<ImageName>,
    pub description: Option<String>,
    pub protected: Option<bool>,
    pub etag: Option<String>,
}

impl ImageUpdate {
    /// Builds the update from the field mask and the values of the request. Every unknown
    /// mask path and every invalid value is reported.
    pub fn parse(
        paths: &[String],
        name: &str,
        description: &str,
        protected: bool,
        etag: &str,
    ) -> Result<Self, DomainError> {
        let mut violations = Violations::new();
        let mut update = ImageUpdate {
            etag: (!etag.is_empty()).then(|| etag.to_owned()),
            ..Self::default()
        };
        if paths.is_empty() {
            violations.add(
                "update_mask",
                "must name at least one of name, description, protected",
            );
        }
        for (index, path) in paths.iter().enumerate() {
            match path.as_str() {
                "name" => update.name = violations.check(ImageName::parse(name, "image.name")),
                "description" => {
                    update.description =
                        violations.check(parse_description(description, "image.description"))
                }
                "protected" => update.protected = Some(protected),
                _ => violations.add(
                    format!("update_mask.paths[{index}]"),
                    "must be one of name, description, protected",
                ),
            }
        }
        violations.finish()?;
        Ok(update)
    }
}

/// The order of a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageOrder {
    CreateTimeDesc,
    CreateTimeAsc,
    NameAsc,
    NameDesc,
}

impl ImageOrder {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let words: Vec<&str> = raw.split_whitespace().collect();
        match words.as_slice() {
            [] | ["create_time", "desc"] => Ok(Self::CreateTimeDesc),
            ["create_time"] | ["create_time", "asc"] => Ok(Self::CreateTimeAsc),
            ["name"] | ["name", "asc"] => Ok(Self::NameAsc),
            ["name", "desc"] => Ok(Self::NameDesc),
            _ => Err(DomainError::invalid(
                "order_by",
                "must be one of: create_time desc, create_time, name, name desc",
            )),
        }
    }
}

/// Where a page of images starts: the sort key and id of the last image of the previous page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageCursor {
    Time(i64, String),
    Name(String, String),
}

/// A validated ListImages query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageQuery {
    pub category: Option<ImageCategory>,
    pub name_contains: String,
    pub tag_ids: Vec<ResourceId>,
    pub order: ImageOrder,
    pub page_size: PageSize,
    pub page: Option<PageToken<ImageCursor>>,
}

impl ImageQuery {
    /// What a page token is bound to: the caller and every filter.
    pub fn fingerprint(&self, caller_id: &str) -> String {
        let tags: Vec<&str> = self.tag_ids.iter().map(ResourceId::as_str).collect();
        format!(
            "{caller_id}|{:?}|{}|{}|{:?}",
            self.category,
            self.name_contains,
            tags.join(","),
            self.order
        )
    }
}

/// A page of images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImagePage {
    pub images: Vec<Image>,
    /// Whether more images follow the last one of `images`.
    pub more: bool,
    pub total_size: i64,
}

impl ImageOrder {
    /// The cursor that resumes a listing after `image`.
    pub fn cursor_after(self, image: &Image) -> ImageCursor {
        match self {
            ImageOrder::CreateTimeDesc | ImageOrder::CreateTimeAsc => {
                ImageCursor::Time(image.create_time, image.id.clone())
            }
            ImageOrder::NameAsc | ImageOrder::NameDesc => {
                ImageCursor::Name(image.name.clone(), image.id.clone())
            }
        }
    }
}

/// A validated clone request: the names the copies will take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloneSpec {
    pub source: ResourceId,
    pub names: Vec<ImageName>,
}

impl CloneSpec {
    /// With `count` 1 (the default when unset) the copy is called `name`; with more,
    /// `name-1` … `name-N`. Every resulting name must be valid.
    pub fn parse(id: &str, name: &str, count: Option<i32>) -> Result<Self, DomainError> {
        let mut violations = Violations::new();
        let source = violations.check(ResourceId::parse(id, "id"));
        let count = count.unwrap_or(1);
        if !(1..=MAX_CLONE_COUNT).contains(&count) {
            violations.add(
                "count",
                format!("must be between 1 and {MAX_CLONE_COUNT}, got {count}"),
            );
        }
        let base = violations.check(ImageName::parse(name, "name"));
        let mut names = Vec::new();
        if let Some(base) = base
            && (1..=MAX_CLONE_COUNT).contains(&count)
        {
            if count == 1 {
                names.push(base);
            } else {
                let longest = format!("{}-{count}", base.as_str());
                match ImageName::parse(&longest, "name") {
                    Ok(_) => {
                        for k in 1..=count {
                            let suffixed = format!("{}-{k}", base.as_str());
                            names.extend(violations.check(ImageName::parse(&suffixed, "name")));
                        }
                    }
                    Err(_) => violations.add(
                        "name",
                        format!(
                            "with the copy suffix the names would pass {} characters",
                            ImageName::MAX_CHARS
                        ),
                    ),
                }
            }
        }
        violations.finish()?;
        match source {
            Some(source) => Ok(Self { source, names }),
            None => Err(DomainError::invalid("id", "must be a UUID")),
        }
    }
}

/// One user of a share or revoke answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub image_id: String,
    pub user_id: String,
    pub username: String,
    pub create_time: i64,
}

/// The answer of a share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareOutcome {
    pub added: Vec<Member>,
    pub already_members: Vec<Member>,
    pub member_count: usize,
}

/// The answer of a revoke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeOutcome {
    pub revoked: Vec<Member>,
    pub member_count: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0191d5a0-0000-7000-8000-000000000000";

    #[test]
    fn clone_names_are_suffixed_only_for_several_copies() {
        let one = CloneSpec::parse(ID, "web", None).map(|s| s.names);
        assert_eq!(one.map(|n| n.len()), Ok(1));
        let three = CloneSpec::parse(ID, "web", Some(3)).map(|s| s.names);
        let names: Vec<String> = three
            .unwrap_or_default()
            .into_iter()
            .map(ImageName::into_string)
            .collect();
        assert_eq!(names, ["web-1", "web-2", "web-3"]);
    }

    #[test]
    fn clone_refuses_counts_out_of_range_and_long_suffixed_names() {
        for count in [-1, 0, 11, 1_000_000] {
            assert!(CloneSpec::parse(ID, "web", Some(count)).is_err());
        }
        assert!(CloneSpec::parse(ID, &"a".repeat(128), Some(1)).is_ok());
        assert!(CloneSpec::parse(ID, &"a".repeat(127), Some(2)).is_err());
    }

    #[test]
    fn an_update_names_every_bad_path_and_value() {
        let paths = vec!["name".into(), "owner_id".into()];
        let Err(DomainError::Invalid(found)) = ImageUpdate::parse(&paths, " ", "", false, "")
        else {
            panic!("a bad mask must be refused");
        };
        let fields: Vec<_> = found.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["image.name", "update_mask.paths[1]"]);
    }
}
