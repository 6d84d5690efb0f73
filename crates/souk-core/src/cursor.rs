//! Opaque pagination cursors. A cursor is the sort key of the last item a page showed, as
//! URL-safe base64 of JSON; clients must treat it as opaque. A cursor that does not decode is a bad
//! request, never a silent restart from the first page.

use crate::ValidationError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, de::DeserializeOwned};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    pub fn encode<T: Serialize>(key: &T) -> Self {
        let json = serde_json::to_vec(key).expect("cursor keys serialize");
        Self(URL_SAFE_NO_PAD.encode(json))
    }

    pub fn decode<T: DeserializeOwned>(raw: &str) -> Result<T, ValidationError> {
        let bad = || {
            ValidationError::new(
                "cursor",
                "invalid_cursor",
                "is not a cursor this server issued",
            )
        };
        if raw.len() > 1024 {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map_err(|_| bad())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Page size asked for, bounded: default 20, at most 100.
pub fn page_limit(requested: Option<u32>) -> u32 {
    requested.unwrap_or(20).clamp(1, 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_tampering() {
        let c = Cursor::encode(&(1_700_000_000_000i64, 42i64));
        let back: (i64, i64) = Cursor::decode(c.as_str()).unwrap();
        assert_eq!(back, (1_700_000_000_000, 42));
        assert!(Cursor::decode::<(i64, i64)>("not*base64").is_err());
        assert!(Cursor::decode::<(i64, i64)>(&format!("{}x", c.as_str())).is_err());
        assert_eq!(page_limit(Some(1000)), 100);
        assert_eq!(page_limit(None), 20);
    }
}
