//! Offset pagination for every list (SPEC §5): `?page=&limit=`, defaults 1 and 20, limit
//! 1–100, and the seed's response shape. Every query parameter is checked: a value out of
//! range, a malformed one, or a parameter the endpoint does not know is a 400 naming it.
//! Cursor mode (`cursor=`) arrives with the pagination issue; until then it is refused.

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use flowats_db::models::{Page, Paged};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;
/// Pages past this would only scan; ask for a filter (or, soon, a cursor) instead.
pub const MAX_PAGE: i64 = 100_000;

/// The query string of a list request, parsed into paging plus the endpoint's filters.
pub struct ListQuery {
    pub page: i64,
    pub limit: i64,
    params: HashMap<String, String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; parsing is done by ListQuery
pub struct PageParams {
    /// Page number, from 1 (default 1).
    page: Option<i64>,
    /// Items per page, 1–100 (default 20).
    limit: Option<i64>,
}

impl ListQuery {
    pub fn to_page(&self) -> Page {
        Page {
            limit: self.limit,
            offset: (self.page - 1) * self.limit,
        }
    }

    /// A filter parameter, if given (an empty value counts as absent).
    pub fn filter(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Checks that only `page`, `limit` and `filters` were sent.
    pub fn allow(self, filters: &[&str]) -> Result<Self, ApiError> {
        for key in self.params.keys() {
            if !filters.contains(&key.as_str()) {
                let mut known = vec!["page", "limit"];
                known.extend_from_slice(filters);
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{key}`; this endpoint accepts {}",
                    known.join(", ")
                ))
                .with_details(serde_json::json!({"parameter": key})));
            }
        }
        Ok(self)
    }

    fn parse(mut params: HashMap<String, String>) -> Result<Self, ApiError> {
        if params.contains_key("cursor") {
            return Err(param_error(
                "cursor",
                "cursor pagination is not available yet; use page and limit",
            ));
        }
        let page = number(params.remove("page"), "page", 1, MAX_PAGE, 1)?;
        let limit = number(params.remove("limit"), "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)?;
        Ok(ListQuery {
            page,
            limit,
            params,
        })
    }
}

fn param_error(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message).with_details(serde_json::json!({"parameter": name}))
}

fn number(
    raw: Option<String>,
    name: &str,
    min: i64,
    max: i64,
    default: i64,
) -> Result<i64, ApiError> {
    match raw {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(param_error(
                name,
                format!("`{name}` must be a whole number from {min} to {max}, got {v:?}"),
            )),
        },
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(params) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
        ListQuery::parse(params)
    }
}

/// `{"data": [...], "pagination": {...}}`
#[derive(Serialize, ToSchema)]
pub struct PageOf<T> {
    pub data: Vec<T>,
    pub pagination: Pagination,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page: i64,
    pub limit: i64,
    pub total_items: i64,
    pub total_pages: i64,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

impl<T> PageOf<T> {
    pub fn new(query: &ListQuery, paged: Paged<T>) -> Self {
        let total_pages = (paged.total + query.limit - 1) / query.limit;
        PageOf {
            data: paged.items,
            pagination: Pagination {
                page: query.page,
                limit: query.limit,
                total_items: paged.total,
                total_pages,
                has_next_page: query.page < total_pages,
                has_previous_page: query.page > 1,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<ListQuery, ApiError> {
        ListQuery::parse(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults_and_bounds() {
        let q = parse(&[]).unwrap();
        assert_eq!((q.page, q.limit), (1, 20));
        assert_eq!(
            parse(&[("page", "3"), ("limit", "10")]).unwrap().to_page(),
            Page {
                limit: 10,
                offset: 20
            }
        );
        for (k, v) in [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "-1"),
            ("page", "0"),
            ("page", "x"),
            ("page", "1.5"),
        ] {
            let e = parse(&[(k, v)]).err().unwrap();
            assert_eq!(e.status, 400);
            assert!(e.message.contains(k), "{}", e.message);
        }
    }

    #[test]
    fn unknown_parameters_are_named() {
        let e = parse(&[("stauts", "applied")])
            .unwrap()
            .allow(&["status"])
            .err()
            .unwrap();
        assert!(e.message.contains("stauts"));
        assert!(parse(&[("cursor", "")]).is_err());
    }

    #[test]
    fn page_arithmetic() {
        let q = parse(&[("page", "2"), ("limit", "20")]).unwrap();
        let p = PageOf::new(
            &q,
            Paged {
                items: vec![1; 20],
                total: 156,
            },
        );
        assert_eq!(p.pagination.total_pages, 8);
        assert!(p.pagination.has_next_page && p.pagination.has_previous_page);
        let q = parse(&[("page", "8")]).unwrap();
        let p = PageOf::new(
            &q,
            Paged::<i32> {
                items: vec![],
                total: 156,
            },
        );
        assert!(!p.pagination.has_next_page);
        let p = PageOf::new(
            &parse(&[]).unwrap(),
            Paged::<i32> {
                items: vec![],
                total: 0,
            },
        );
        assert_eq!(
            (p.pagination.total_pages, p.pagination.has_next_page),
            (0, false)
        );
    }
}
