//! Tags: labels a user owns and binds to their images.

use super::DomainError;
use super::error::Violations;
use super::text::parse_text;

/// A validated new tag: a key of 1 to 64 characters and a value of 0 to 128, both trimmed and
/// free of control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTag {
    pub key: String,
    pub value: String,
}

impl NewTag {
    pub fn parse(key: &str, value: &str) -> Result<Self, DomainError> {
        let mut violations = Violations::new();
        // Control characters are refused before surrounding spaces are trimmed, so that none
        // is dropped silently.
        let key = violations
            .check(parse_text(key, "tag.key", usize::MAX, false))
            .map(|key| key.trim().to_owned());
        let value = violations
            .check(parse_text(value, "tag.value", usize::MAX, false))
            .map(|value| value.trim().to_owned());
        let key = key.and_then(|key| {
            if key.is_empty() {
                violations.add("tag.key", "must not be empty");
            }
            violations.check(parse_text(&key, "tag.key", 64, false))
        });
        let value =
            value.and_then(|value| violations.check(parse_text(&value, "tag.value", 128, false)));
        violations.finish()?;
        match (key, value) {
            (Some(key), Some(value)) => Ok(Self { key, value }),
            _ => Err(DomainError::invalid("tag", "is invalid")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_have_bounds_and_no_control_characters() {
        assert!(NewTag::parse("环境", "生产").is_ok());
        assert!(NewTag::parse("env", "").is_ok());
        assert!(NewTag::parse(" ", "x").is_err());
        assert!(NewTag::parse("\tk", "v").is_err());
        assert!(NewTag::parse("k", "v\n").is_err());
        assert_eq!(
            NewTag::parse(" k ", " v "),
            Ok(NewTag {
                key: "k".into(),
                value: "v".into()
            })
        );
        assert!(NewTag::parse(&"k".repeat(65), "").is_err());
        assert!(NewTag::parse("k", &"v".repeat(129)).is_err());
        let Err(DomainError::Invalid(found)) = NewTag::parse("a\tb", "c\u{0}") else {
            panic!("control characters must be refused");
        };
        assert_eq!(found.len(), 2);
    }
}
