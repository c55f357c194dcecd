//! Conversions between the generated proto types and the domain. Struct literals name every
//! field, so that a new proto field does not compile until it is handled here.

use prost_types::Timestamp;

use crate::domain::DomainError;
use crate::domain::error::Violations;
use crate::domain::image::{ContentAttributes, Image, ImageCategory, Member, Tag};
use crate::domain::user::User;
use crate::proto;

pub fn timestamp(micros: i64) -> Option<Timestamp> {
    Some(Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: i32::try_from(micros.rem_euclid(1_000_000) * 1000).unwrap_or(0),
    })
}

pub fn category_to_proto(category: ImageCategory) -> proto::ImageCategory {
    match category {
        ImageCategory::System => proto::ImageCategory::System,
        ImageCategory::Own => proto::ImageCategory::Own,
        ImageCategory::Shared => proto::ImageCategory::Shared,
        ImageCategory::Received => proto::ImageCategory::Received,
    }
}

/// The category filter of a listing: unspecified lists everything visible; a number that is
/// no category is INVALID_ARGUMENT (prost would otherwise read it as the zero value).
pub fn category_from_proto(raw: i32) -> Result<Option<ImageCategory>, DomainError> {
    match proto::ImageCategory::try_from(raw) {
        Ok(proto::ImageCategory::Unspecified) => Ok(None),
        Ok(proto::ImageCategory::System) => Ok(Some(ImageCategory::System)),
        Ok(proto::ImageCategory::Own) => Ok(Some(ImageCategory::Own)),
        Ok(proto::ImageCategory::Shared) => Ok(Some(ImageCategory::Shared)),
        Ok(proto::ImageCategory::Received) => Ok(Some(ImageCategory::Received)),
        Err(_) => Err(DomainError::invalid(
            "category",
            format!("{raw} is not an ImageCategory"),
        )),
    }
}

/// The content attributes of a request image, every fault recorded.
pub fn content_from_proto(image: &proto::Image, violations: &mut Violations) -> ContentAttributes {
    if proto::DiskFormat::try_from(image.disk_format).is_err() {
        violations.add(
            "image.disk_format",
            format!("{} is not a DiskFormat", image.disk_format),
        );
    }
    if proto::OsType::try_from(image.os_type).is_err() {
        violations.add(
            "image.os_type",
            format!("{} is not an OsType", image.os_type),
        );
    }
    if proto::Architecture::try_from(image.architecture).is_err() {
        violations.add(
            "image.architecture",
            format!("{} is not an Architecture", image.architecture),
        );
    }
    ContentAttributes {
        disk_format: image.disk_format,
        os_type: image.os_type,
        os_distro: image.os_distro.clone(),
        os_version: image.os_version.clone(),
        architecture: image.architecture,
        size_bytes: image.size_bytes,
        min_disk_gb: image.min_disk_gb,
        min_ram_mb: image.min_ram_mb,
        checksum_sha256: image.checksum_sha256.clone(),
    }
    .validate("image", violations)
}

pub fn image_to_proto(image: Image) -> proto::Image {
    let etag = image.etag();
    let ContentAttributes {
        disk_format,
        os_type,
        os_distro,
        os_version,
        architecture,
        size_bytes,
        min_disk_gb,
        min_ram_mb,
        checksum_sha256,
    } = image.content;
    proto::Image {
        id: image.id,
        name: image.name,
        description: image.description,
        owner_id: image.owner_id.unwrap_or_default(),
        category: category_to_proto(image.category).into(),
        status: proto::ImageStatus::Active.into(),
        disk_format,
        os_type,
        os_distro,
        os_version,
        architecture,
        size_bytes,
        min_disk_gb,
        min_ram_mb,
        checksum_sha256,
        protected: image.protected,
        source_image_id: image.source_image_id.unwrap_or_default(),
        tags: image.tags.into_iter().map(tag_to_proto).collect(),
        member_count: i32::try_from(image.member_count).unwrap_or(i32::MAX),
        create_time: timestamp(image.create_time),
        update_time: timestamp(image.update_time),
        etag,
    }
}

pub fn tag_to_proto(tag: Tag) -> proto::Tag {
    proto::Tag {
        id: tag.id,
        key: tag.key,
        value: tag.value,
        owner_id: tag.owner_id,
        create_time: timestamp(tag.create_time),
    }
}

pub fn member_to_proto(member: Member) -> proto::ImageMember {
    proto::ImageMember {
        image_id: member.image_id,
        user_id: member.user_id,
        username: member.username,
        create_time: timestamp(member.create_time),
    }
}

pub fn user_to_proto(user: User) -> proto::User {
    proto::User {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        disabled: user.disabled,
        create_time: timestamp(user.create_time),
    }
}
