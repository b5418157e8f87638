//! The `?limit=&cursor=` query of every list route, validated.

use serde::Deserialize;

use crate::error::{ApiError, ApiResult, FieldError};
use crate::table::PageRequest;

pub const DEFAULT_LIMIT: i32 = 50;
pub const MAX_LIMIT: i32 = 100;

/// The raw list query; strings so that a bad value is our 400, not a framework's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page (default 50).
    #[serde(default)]
    #[param(value_type = Option<i32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn validate(self) -> ApiResult<PageRequest> {
        let limit = match self.limit.as_deref() {
            None | Some("") => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<i32>() {
                Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
                _ => {
                    return Err(ApiError::invalid_fields(vec![FieldError::new(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    )]));
                }
            },
        };
        Ok(PageRequest {
            limit,
            cursor: self.cursor.filter(|cursor| !cursor.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: Option<&str>) -> PageQuery {
        PageQuery {
            limit: limit.map(str::to_owned),
            cursor: None,
        }
    }

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(query(None).validate().unwrap().limit, 50);
        assert_eq!(query(Some("100")).validate().unwrap().limit, 100);
        for bad in ["0", "101", "-1", "ten", "1.5"] {
            assert!(query(Some(bad)).validate().is_err(), "{bad}");
        }
    }
}
