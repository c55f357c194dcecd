//! Page sizes and page tokens. A token carries the position after the last item served and a
//! hash of the query it belongs to, so that a token is refused with any other query.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use super::DomainError;

/// A validated page size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSize(u64);

impl PageSize {
    pub const DEFAULT: u64 = 50;
    pub const MAX: u64 = 1000;

    /// 0 means the default; more than the maximum is refused, never silently cut.
    pub fn parse(raw: i32) -> Result<Self, DomainError> {
        match u64::try_from(raw) {
            Ok(0) => Ok(Self(Self::DEFAULT)),
            Ok(size) if size <= Self::MAX => Ok(Self(size)),
            _ => Err(DomainError::invalid(
                "page_size",
                format!("must be between 0 and {}, got {raw}", Self::MAX),
            )),
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// A decoded page token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageToken<C> {
    /// Where the next page starts.
    pub after: C,
    /// How many items the query matched when its first page was read.
    pub total: i64,
    /// Hash of the query; see [`fingerprint`].
    query: String,
}

impl<C: Serialize + DeserializeOwned> PageToken<C> {
    pub fn new(after: C, total: i64, query: &str) -> Self {
        Self {
            after,
            total,
            query: fingerprint(query),
        }
    }

    /// Decodes `raw`; empty means the first page. A token that does not decode, or that
    /// belongs to another query, is INVALID_ARGUMENT.
    pub fn parse(raw: &str, query: &str) -> Result<Option<Self>, DomainError> {
        if raw.is_empty() {
            return Ok(None);
        }
        let invalid = || DomainError::invalid("page_token", "is not a token of this query");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        // Tokens are not secret and a client can edit one: what it holds is checked like any
        // other input before it reaches a query.
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if !plain_text(&value) {
            return Err(invalid());
        }
        let token: Self = serde_json::from_value(value).map_err(|_| invalid())?;
        if token.query != fingerprint(query) || token.total < 0 {
            return Err(invalid());
        }
        Ok(Some(token))
    }

    pub fn encode(&self) -> String {
        // Serialising plain data to JSON cannot fail; an empty token would only end paging.
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }
}

/// Whether every string in `value` is short and free of control characters, as every value a
/// token legitimately holds is.
fn plain_text(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => {
            text.chars().count() <= 256 && !text.chars().any(char::is_control)
        }
        serde_json::Value::Array(items) => items.iter().all(plain_text),
        serde_json::Value::Object(fields) => fields.values().all(plain_text),
        _ => true,
    }
}

/// A short hash of a query description. It binds a token to its query; it is not a secret,
/// since a token only holds a position in a listing the caller may read anyway.
fn fingerprint(query: &str) -> String {
    let digest = Sha256::digest(query.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_and_refuse_out_of_range() {
        assert_eq!(PageSize::parse(0).map(PageSize::get), Ok(50));
        assert_eq!(PageSize::parse(1000).map(PageSize::get), Ok(1000));
        assert!(PageSize::parse(1001).is_err());
        assert!(PageSize::parse(-1).is_err());
    }

    #[test]
    fn a_token_only_serves_its_own_query() {
        let token = PageToken::new(("x".to_owned(), 3_i64), 10, "alice|own").encode();
        let back = PageToken::<(String, i64)>::parse(&token, "alice|own");
        assert_eq!(
            back.map(|t| t.map(|t| t.after)),
            Ok(Some(("x".to_owned(), 3)))
        );
        assert!(PageToken::<(String, i64)>::parse(&token, "bob|own").is_err());
        assert!(PageToken::<(String, i64)>::parse("garbage!", "alice|own").is_err());
        let with_nul = PageToken::new(("a\u{0}b".to_owned(), 3_i64), 10, "alice|own").encode();
        assert!(PageToken::<(String, i64)>::parse(&with_nul, "alice|own").is_err());
        let negative = PageToken::new(("x".to_owned(), 3_i64), -5, "alice|own").encode();
        assert!(PageToken::<(String, i64)>::parse(&negative, "alice|own").is_err());
    }
}
