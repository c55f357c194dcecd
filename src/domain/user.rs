//! Users of the directory and the caller of a request.

use serde::{Deserialize, Serialize};

use super::DomainError;
use super::error::Violations;
use super::text::{parse_text, parse_user_token};

/// Most users one share or revoke call may name.
pub const MAX_USERS_PER_CALL: usize = 100;

/// The authenticated, enabled user making a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub id: String,
    pub admin: bool,
}

/// A user of the directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    pub create_time: i64,
}

/// A validated user to add to the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

impl NewUser {
    pub fn parse(id: &str, username: &str, display_name: &str) -> Result<Self, DomainError> {
        let mut violations = Violations::new();
        let id = violations.check(parse_user_token(id, "user.id"));
        let username = violations.check(parse_user_token(username, "user.username"));
        let display_name = violations.check(parse_text(
            display_name.trim(),
            "user.display_name",
            128,
            false,
        ));
        violations.finish()?;
        match (id, username, display_name) {
            (Some(id), Some(username), Some(display_name)) => Ok(Self {
                id,
                username,
                display_name,
            }),
            _ => Err(DomainError::invalid("user", "is invalid")),
        }
    }
}

/// The key under which usernames are unique: ASCII lower case (usernames are ASCII).
pub fn username_key(username: &str) -> String {
    username.to_ascii_lowercase()
}

/// One entry of a share or revoke list: an id or a username, trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRef {
    /// The entry as the caller wrote it, trimmed; used to report it back.
    pub text: String,
}

/// Parses the `users` list of a share or revoke call: 1 to 100 entries, none empty. Every
/// offending entry is named.
pub fn parse_user_refs(raw: &[String], field: &str) -> Result<Vec<UserRef>, DomainError> {
    let mut violations = Violations::new();
    if raw.is_empty() {
        violations.add(field, "must name at least one user");
    }
    if raw.len() > MAX_USERS_PER_CALL {
        violations.add(
            field,
            format!(
                "must name at most {MAX_USERS_PER_CALL} users, got {}",
                raw.len()
            ),
        );
    }
    let mut refs = Vec::with_capacity(raw.len());
    for (index, entry) in raw.iter().enumerate() {
        let field = format!("{field}[{index}]");
        if let Some(text) = violations.check(parse_user_token(entry.trim(), &field)) {
            refs.push(UserRef { text });
        }
    }
    violations.finish()?;
    Ok(refs)
}

/// The entries of a `users` list that are well formed, with their positions.
pub fn well_formed_user_refs(raw: &[String]) -> Vec<(usize, UserRef)> {
    raw.iter()
        .take(MAX_USERS_PER_CALL)
        .enumerate()
        .filter_map(|(index, entry)| {
            parse_user_token(entry.trim(), "users")
                .ok()
                .map(|text| (index, UserRef { text }))
        })
        .collect()
}

/// Matches references against users found by id or by username key: an id match wins, then a
/// username ignoring case. Returns the distinct users in the order first named, and the
/// references that match nobody enabled.
pub fn resolve_user_refs<'a>(refs: &'a [UserRef], found: &[User]) -> (Vec<User>, Vec<&'a UserRef>) {
    let mut users: Vec<User> = Vec::new();
    let mut unknown = Vec::new();
    for reference in refs {
        let by_id = found.iter().find(|u| u.id == reference.text);
        let key = username_key(&reference.text);
        let matched = by_id.or_else(|| found.iter().find(|u| username_key(&u.username) == key));
        match matched {
            Some(user) if !user.disabled => {
                if !users.iter().any(|u| u.id == user.id) {
                    users.push(user.clone());
                }
            }
            // An unknown user named twice (in other case or spacing) is reported once.
            _ if unknown
                .iter()
                .any(|u: &&UserRef| username_key(&u.text) == key) => {}
            _ => unknown.push(reference),
        }
    }
    (users, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, username: &str, disabled: bool) -> User {
        User {
            id: id.into(),
            username: username.into(),
            display_name: String::new(),
            disabled,
            create_time: 0,
        }
    }

    #[test]
    fn an_id_match_wins_over_a_username_match() {
        let found = [user("bob", "carol", false), user("u2", "bob", false)];
        let refs = parse_user_refs(&["bob".into()], "users").unwrap_or_default();
        let (users, unknown) = resolve_user_refs(&refs, &found);
        assert_eq!(users, vec![found[0].clone()]);
        assert!(unknown.is_empty());
    }

    #[test]
    fn the_same_user_named_twice_counts_once_and_disabled_users_are_unknown() {
        let found = [user("u1", "Carol", false), user("u9", "erin", true)];
        let raw = ["u1".into(), " CAROL ".into(), "erin".into()];
        let refs = parse_user_refs(&raw, "users").unwrap_or_default();
        let (users, unknown) = resolve_user_refs(&refs, &found);
        assert_eq!(users.len(), 1);
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].text, "erin");
    }
}
