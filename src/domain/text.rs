//! Validated text and id types. Each `parse` owns its rule and names the offending field; error
//! descriptions never echo the value, so control characters never reach a status message.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use uuid::Uuid;

use super::DomainError;

/// A name of an image: 1 to 128 characters after trimming; letters of any script, digits,
/// space and `. _ - : ( )`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageName(String);

impl ImageName {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str, field: &str) -> Result<Self, DomainError> {
        // Control characters are refused wherever they stand, before trimming could hide them.
        if let Some(bad) = raw.chars().find(|c| c.is_control()) {
            return Err(DomainError::invalid(
                field,
                format!(
                    "must not contain control characters, found {}",
                    describe_char(bad)
                ),
            ));
        }
        // Composed form, so that the same text typed on different systems is the same name.
        let composed: String = raw.trim().nfc().collect();
        let name = composed.as_str();
        let length = name.chars().count();
        if length == 0 {
            return Err(DomainError::invalid(field, "must not be empty"));
        }
        if length > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                field,
                format!(
                    "must be at most {} characters, got {length}",
                    Self::MAX_CHARS
                ),
            ));
        }
        let mut previous: Option<char> = None;
        let bad = name.chars().find(|&c| {
            // Scripts such as Devanagari or Thai write letters with combining marks, which
            // may follow a letter, a digit or another mark, never stand alone.
            let mark_of_a_letter = is_combining_mark(c)
                && previous.is_some_and(|p| p.is_alphanumeric() || is_combining_mark(p));
            previous = Some(c);
            !(Self::allowed(c) || mark_of_a_letter)
        });
        if let Some(bad) = bad {
            return Err(DomainError::invalid(
                field,
                format!(
                    "may hold only letters, digits, space and . _ - : ( ), not {}",
                    describe_char(bad)
                ),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    fn allowed(c: char) -> bool {
        c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-' | ':' | '(' | ')')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Describes a rejected character without printing it raw: a control character would break
/// proxies and terminals that show the message.
fn describe_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("'{c}' (U+{:04X})", c as u32)
    }
}

/// Free text of bounded length; control characters other than those allowed are refused.
pub fn parse_text(
    raw: &str,
    field: &str,
    max_chars: usize,
    allow_newline_and_tab: bool,
) -> Result<String, DomainError> {
    let length = raw.chars().count();
    if length > max_chars {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max_chars} characters, got {length}"),
        ));
    }
    let allowed_control = |c: char| allow_newline_and_tab && (c == '\n' || c == '\t');
    if let Some(bad) = raw.chars().find(|c| c.is_control() && !allowed_control(*c)) {
        return Err(DomainError::invalid(
            field,
            format!(
                "must not contain control characters, found {}",
                describe_char(bad)
            ),
        ));
    }
    Ok(raw.to_owned())
}

/// An image description: at most 1024 characters; newline and tab are allowed.
pub fn parse_description(raw: &str, field: &str) -> Result<String, DomainError> {
    parse_text(raw, field, 1024, true)
}

/// A user id or username: 1 to 64 of ASCII letters, digits, `.`, `_`, `-`.
pub fn parse_user_token(raw: &str, field: &str) -> Result<String, DomainError> {
    if raw.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if raw.len() > 64 {
        return Err(DomainError::invalid(field, "must be at most 64 characters"));
    }
    if let Some(bad) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(DomainError::invalid(
            field,
            format!(
                "may hold only letters, digits, '.', '_' and '-', not {}",
                describe_char(bad)
            ),
        ));
    }
    Ok(raw.to_owned())
}

/// A server-assigned id (image or tag): a UUID, kept in its lower-case hyphenated form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceId(String);

impl ResourceId {
    pub fn parse(raw: &str, field: &str) -> Result<Self, DomainError> {
        if raw.is_empty() {
            return Err(DomainError::invalid(field, "is required"));
        }
        Uuid::try_parse(raw)
            .map(|uuid| Self(uuid.hyphenated().to_string()))
            .map_err(|_| DomainError::invalid(field, "must be a UUID"))
    }

    /// A new time-ordered id.
    pub fn generate() -> Self {
        Self(Uuid::now_v7().hyphenated().to_string())
    }

    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ResourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a list of ids, naming each malformed entry, and drops repeats keeping the first.
pub fn parse_id_list(
    raw: &[String],
    field: &str,
    max: usize,
) -> Result<Vec<ResourceId>, DomainError> {
    let mut violations = super::error::Violations::new();
    if raw.is_empty() {
        violations.add(field, "must name at least one id");
    }
    if raw.len() > max {
        violations.add(
            field,
            format!("must name at most {max} ids, got {}", raw.len()),
        );
    }
    let mut ids: Vec<ResourceId> = Vec::with_capacity(raw.len());
    for (index, entry) in raw.iter().enumerate() {
        let parsed = violations.check(ResourceId::parse(
            entry.trim(),
            &format!("{field}[{index}]"),
        ));
        if let Some(id) = parsed
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    violations.finish()?;
    Ok(ids)
}

/// An optional retry key chosen by the caller.
pub fn parse_request_id(raw: &str, field: &str) -> Result<Option<String>, DomainError> {
    if raw.is_empty() {
        return Ok(None);
    }
    Uuid::try_parse(raw)
        .map(|uuid| Some(uuid.hyphenated().to_string()))
        .map_err(|_| DomainError::invalid(field, "must be a UUID"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_accept_any_script() {
        let name = ImageName::parse("  Ubuntu 24.04 (LTS) 日本 ", "name");
        assert_eq!(
            name.map(ImageName::into_string),
            Ok("Ubuntu 24.04 (LTS) 日本".into())
        );
    }

    #[test]
    fn names_take_combining_marks_after_letters_and_are_composed() {
        assert!(ImageName::parse("हिन्दी", "name").is_ok());
        assert!(ImageName::parse("ภาษาไทย", "name").is_ok());
        let decomposed = ImageName::parse("e\u{301}te\u{301}", "name").map(ImageName::into_string);
        assert_eq!(decomposed, Ok("\u{e9}t\u{e9}".into()));
        assert!(ImageName::parse("\u{301}a", "name").is_err());
        assert!(ImageName::parse("a \u{301}", "name").is_err());
    }

    #[test]
    fn names_refuse_control_characters_and_symbols() {
        assert!(ImageName::parse("bad\nname", "name").is_err());
        assert!(ImageName::parse("web\n", "name").is_err());
        assert!(ImageName::parse("\u{85}web", "name").is_err());
        assert!(ImageName::parse("100%", "name").is_err());
        assert!(ImageName::parse("   ", "name").is_err());
        assert!(ImageName::parse(&"é".repeat(129), "name").is_err());
        assert!(ImageName::parse(&"é".repeat(128), "name").is_ok());
    }

    #[test]
    fn a_refused_character_is_described_not_echoed() {
        let Err(DomainError::Invalid(found)) = ImageName::parse("a\u{7}b", "image.name") else {
            panic!("a bell character must be refused");
        };
        assert_eq!(found[0].field, "image.name");
        assert!(found[0].description.contains("U+0007"));
        assert!(!found[0].description.contains('\u{7}'));
    }

    #[test]
    fn descriptions_allow_newline_and_tab_only() {
        assert!(parse_description("a\nb\tc", "d").is_ok());
        assert!(parse_description("a\rb", "d").is_err());
        assert!(parse_description(&"x".repeat(1025), "d").is_err());
    }

    #[test]
    fn id_lists_name_every_malformed_entry() {
        let raw = vec!["nope".to_owned(), Uuid::nil().to_string(), "".to_owned()];
        let Err(DomainError::Invalid(found)) = parse_id_list(&raw, "tag_ids", 20) else {
            panic!("malformed ids must be refused");
        };
        let fields: Vec<_> = found.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["tag_ids[0]", "tag_ids[2]"]);
    }
}
