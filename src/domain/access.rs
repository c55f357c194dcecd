//! Who may do what with an image: the permission table of the console.

use super::image::ImageCategory;
use super::user::Caller;
use super::{DomainError, Violation};

/// An operation on one image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Read,
    Modify,
    Clone,
    Share,
    Revoke,
    ListMembers,
    Tag,
    Delete,
}

/// What the rules need to know of an image and the caller's relation to it.
#[derive(Clone, Copy, Debug)]
pub struct Relation<'a> {
    pub image_id: &'a str,
    pub owner_id: Option<&'a str>,
    pub caller_is_member: bool,
    pub member_count: usize,
}

impl Relation<'_> {
    /// The image's category for `caller`, or `None` when the caller may not see it. An
    /// administrator sees every image; another user's image is shown in its owner's category.
    pub fn category(&self, caller: &Caller) -> Option<ImageCategory> {
        let owned = |count: usize| {
            if count == 0 {
                ImageCategory::Own
            } else {
                ImageCategory::Shared
            }
        };
        match self.owner_id {
            None => Some(ImageCategory::System),
            Some(owner) if owner == caller.id => Some(owned(self.member_count)),
            Some(_) if self.caller_is_member => Some(ImageCategory::Received),
            Some(_) if caller.admin => Some(owned(self.member_count)),
            Some(_) => None,
        }
    }
}

/// Checks that `caller` may perform `operation` on the image. Invisible images are NOT_FOUND,
/// exactly like unused ids, so their existence does not leak.
pub fn authorize(
    caller: &Caller,
    relation: &Relation<'_>,
    operation: Operation,
) -> Result<ImageCategory, DomainError> {
    let category = relation
        .category(caller)
        .ok_or_else(|| DomainError::image_not_found(relation.image_id))?;
    let owner_like = match category {
        ImageCategory::Own | ImageCategory::Shared => {
            relation.owner_id == Some(caller.id.as_str()) || caller.admin
        }
        _ => false,
    };

    let allowed = match (operation, category) {
        (Operation::Read | Operation::Clone, _) => true,
        (Operation::Modify | Operation::Delete, ImageCategory::System) => caller.admin,
        (_, ImageCategory::System) if caller.admin => {
            return Err(not_for_system_images(relation.image_id));
        }
        (Operation::Revoke, ImageCategory::Own) if owner_like => {
            return Err(DomainError::FailedPrecondition(vec![Violation {
                kind: "NOT_SHARED",
                subject: format!("images/{}", relation.image_id),
                description: "the image is not shared with anyone".into(),
            }]));
        }
        (_, ImageCategory::Received) => caller.admin,
        (_, _) => owner_like,
    };
    if allowed {
        Ok(category)
    } else {
        Err(DomainError::PermissionDenied(format!(
            "{} is not allowed on a {} image",
            operation.verb(),
            category.adjective()
        )))
    }
}

fn not_for_system_images(image_id: &str) -> DomainError {
    DomainError::FailedPrecondition(vec![Violation {
        kind: "SYSTEM_IMAGE",
        subject: format!("images/{image_id}"),
        description: "system images are visible to everyone and have no members or tags".into(),
    }])
}

impl Operation {
    fn verb(self) -> &'static str {
        match self {
            Operation::Read => "reading",
            Operation::Modify => "modifying",
            Operation::Clone => "cloning",
            Operation::Share => "sharing",
            Operation::Revoke => "revoking shares",
            Operation::ListMembers => "listing members",
            Operation::Tag => "binding or unbinding tags",
            Operation::Delete => "deleting",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(id: &str, admin: bool) -> Caller {
        Caller {
            id: id.into(),
            admin,
        }
    }

    fn relation<'a>(owner: Option<&'a str>, member: bool, members: usize) -> Relation<'a> {
        Relation {
            image_id: "i",
            owner_id: owner,
            caller_is_member: member,
            member_count: members,
        }
    }

    #[test]
    fn the_permission_table_holds() {
        use Operation::*;
        let alice = caller("alice", false);
        let system = relation(None, false, 0);
        let own = relation(Some("alice"), false, 0);
        let shared = relation(Some("alice"), false, 2);
        let received = relation(Some("bob"), true, 1);
        let expect = |r: &Relation, op, ok: bool| {
            assert_eq!(authorize(&alice, r, op).is_ok(), ok, "{op:?} on {r:?}");
        };
        for op in [Read, Clone] {
            for r in [&system, &own, &shared, &received] {
                expect(r, op, true);
            }
        }
        for op in [Modify, Share, Tag, Delete, ListMembers] {
            expect(&system, op, false);
            expect(&own, op, true);
            expect(&shared, op, true);
            expect(&received, op, false);
        }
        expect(&own, Revoke, false);
        expect(&shared, Revoke, true);
    }

    #[test]
    fn strangers_get_not_found_and_admins_act_on_anything() {
        let foreign = relation(Some("bob"), false, 0);
        let err = authorize(&caller("erin", false), &foreign, Operation::Read);
        assert!(matches!(err, Err(DomainError::NotFound { .. })));
        let admin = caller("root", true);
        assert_eq!(
            authorize(&admin, &foreign, Operation::Delete),
            Ok(ImageCategory::Own)
        );
        assert!(authorize(&admin, &relation(None, false, 0), Operation::Modify).is_ok());
    }
}
