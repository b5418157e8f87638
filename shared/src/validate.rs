//! Input validation that collects every problem, so one 400 names all the bad fields.

use crate::error::{ApiError, FieldError};

/// Collects field errors; `finish` turns them into one `invalid_request`.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Checks a length in characters (not bytes), inclusive.
    pub fn length(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let count = value.chars().count();
        if count < min || count > max {
            self.add(field, format!("must be {min} to {max} characters"));
        }
    }

    /// Checks a trimmed display text: a length range and no control characters.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        if value.chars().any(|c| c.is_control() && c != '\n') {
            self.add(field, "must not contain control characters");
            return;
        }
        self.length(field, value.trim(), min, max);
    }

    pub fn email(&mut self, field: &str, value: &str) {
        if !is_plausible_email(value) {
            self.add(field, "must be an email address");
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_fields(self.errors))
        }
    }
}

/// Lower-cases and trims an email so that lookups and uniqueness ignore case.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A deliberately simple email check: one `@`, a non-empty local part, a dotted domain,
/// no spaces or control characters, at most 254 characters (RFC 5321).
fn is_plausible_email(email: &str) -> bool {
    let email = email.trim();
    if email.is_empty() || email.len() > 254 {
        return false;
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in ["a@b.co", "Ann.Lee+tag@example.org", " x@y.io "] {
            assert!(is_plausible_email(good), "{good}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@b@c.co", "a b@c.co", "a@.co", "a@b.", "a@b..co",
        ] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
        assert_eq!(normalize_email(" Ann@Example.ORG "), "ann@example.org");
    }

    #[test]
    fn lengths_count_characters() {
        let mut v = Validator::new();
        v.length("name", "ééé", 1, 3);
        assert!(v.finish().is_ok());
        let mut v = Validator::new();
        v.text("name", "   ", 1, 64);
        v.text("bio", "bad\u{7}", 0, 10);
        let Err(ApiError::InvalidRequest { details, .. }) = v.finish() else {
            panic!("expected invalid_request");
        };
        assert_eq!(details.len(), 2);
    }
}
