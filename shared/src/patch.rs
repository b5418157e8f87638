//! PATCH bodies: a field is absent (leave it), `null` (clear it) or a new value.

use serde::{Deserialize, Deserializer};

/// A field of a PATCH body: absent (leave as is), `null` (clear), or a new value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    pub fn as_set(&self) -> Option<&T> {
        match self {
            Self::Set(value) => Some(value),
            _ => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only called when the field is present; `#[serde(default)]` covers absence.
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Self::Set(value),
            None => Self::Clear,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        bio: Patch<String>,
    }

    #[test]
    fn patch_distinguishes_absent_null_and_value() {
        let absent: Body = serde_json::from_str("{}").unwrap();
        let null: Body = serde_json::from_str(r#"{"bio":null}"#).unwrap();
        let set: Body = serde_json::from_str(r#"{"bio":"hi"}"#).unwrap();
        assert_eq!(absent.bio, Patch::Absent);
        assert_eq!(null.bio, Patch::Clear);
        assert_eq!(set.bio, Patch::Set("hi".to_owned()));
    }
}
