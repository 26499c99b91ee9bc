//! Pagination for every list (SPEC §5), in two modes:
//!
//! - offset: `?page=&limit=` (defaults 1 and 20, limit 1–100), with `totalItems` and
//!   `totalPages`;
//! - cursor: `?cursor=&limit=` (an empty `cursor=` asks for the first page), a keyset query
//!   whose cost does not grow with depth; totals only with `includeTotal=true`.
//!
//! Both modes in one request, a value out of range or malformed, a cursor that does not
//! decode or was altered, or a parameter the endpoint does not know: 400, naming it.

use crate::cursor::Cursors;
use crate::error::{ApiError, ApiResult};
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use flowats_db::models::{Page, Paged, Position};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;
/// Offset pages past this only scan; a cursor reaches them at constant cost.
pub const MAX_PAGE: i64 = 100_000;

/// The query string of a list request: paging plus the endpoint's own parameters.
pub struct ListQuery {
    page: Option<i64>,
    cursor: Option<String>,
    pub limit: i64,
    include_total: bool,
    params: HashMap<String, String>,
}

/// What to fetch, once the endpoint has checked its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    Offset {
        page: i64,
        limit: i64,
    },
    Cursor {
        after: Option<Position>,
        limit: i64,
        include_total: bool,
    },
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; parsing is done by ListQuery
pub struct PageParams {
    /// Offset mode: page number, from 1 (default 1).
    #[param(minimum = 1, maximum = 100_000)]
    page: Option<i64>,
    /// Cursor mode: `nextCursor` of the previous page; empty for the first page.
    cursor: Option<String>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// Cursor mode: also count the items (`totalItems`).
    #[param(rename = "includeTotal")]
    include_total: Option<bool>,
}

fn param_error(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message).with_details(serde_json::json!({"parameter": name}))
}

fn number(raw: Option<String>, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
    match raw {
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(param_error(
                name,
                format!("`{name}` must be a whole number from {min} to {max}, got {v:?}"),
            )),
        },
    }
}

impl ListQuery {
    pub(crate) fn parse(mut params: HashMap<String, String>) -> Result<Self, ApiError> {
        let page = number(params.remove("page"), "page", 1, MAX_PAGE)?;
        let limit = number(params.remove("limit"), "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
        let cursor = params.remove("cursor");
        let include_total = match params.remove("includeTotal").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(param_error(
                    "includeTotal",
                    format!("`includeTotal` must be true or false, got {v:?}"),
                ));
            }
        };
        if page.is_some() && cursor.is_some() {
            return Err(param_error(
                "cursor",
                "use either `page` (offset mode) or `cursor` (cursor mode), not both",
            ));
        }
        if include_total && cursor.is_none() {
            return Err(param_error(
                "includeTotal",
                "`includeTotal` applies to cursor mode; offset mode always has totals",
            ));
        }
        Ok(ListQuery {
            page,
            cursor,
            limit,
            include_total,
            params,
        })
    }

    /// An endpoint parameter, if given (an empty value counts as absent).
    pub fn filter(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Checks that only the paging parameters and `filters` were sent.
    pub fn allow(self, filters: &[&str]) -> Result<Self, ApiError> {
        for key in self.params.keys() {
            if !filters.contains(&key.as_str()) {
                let mut known = vec!["page", "cursor", "limit", "includeTotal"];
                known.extend_from_slice(filters);
                return Err(param_error(
                    key,
                    format!(
                        "unknown query parameter `{key}`; this endpoint accepts {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(self)
    }

    /// The window to fetch; `sort` is the list's order as a cursor records it.
    pub fn window(&self, cursors: &Cursors, sort: u8) -> Result<Window, ApiError> {
        match &self.cursor {
            None => Ok(Window::Offset {
                page: self.page.unwrap_or(1),
                limit: self.limit,
            }),
            Some(c) if c.is_empty() => Ok(Window::Cursor {
                after: None,
                limit: self.limit,
                include_total: self.include_total,
            }),
            Some(c) => {
                let after = cursors
                    .decode(c, sort)
                    .map_err(|e| param_error("cursor", e.message()))?;
                Ok(Window::Cursor {
                    after: Some(after),
                    limit: self.limit,
                    include_total: self.include_total,
                })
            }
        }
    }
}

impl Window {
    /// How this window appears in a cache key.
    pub fn cache_part(&self) -> String {
        match self {
            Window::Offset { page, limit } => format!("p={page}&l={limit}"),
            Window::Cursor {
                after,
                limit,
                include_total,
            } => {
                let after = after.map_or("start".to_owned(), |p| format!("{}.{}", p.key, p.id));
                format!("a={after}&l={limit}&t={}", u8::from(*include_total))
            }
        }
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

#[derive(Debug, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Offset mode only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i64>,
    pub limit: i64,
    /// Offset mode, or cursor mode with `includeTotal=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_items: Option<i64>,
    /// Offset mode only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_pages: Option<i64>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// How one list is read: its offset query, its keyset query, its count, and where a row
/// stands in its order. [`page_of`] turns a [`Window`] into a page with these.
pub struct ListSource<'a, T, FO, FK, FC, FP> {
    pub cursors: &'a Cursors,
    /// The list's order as its cursors record it.
    pub sort: u8,
    /// Where the first keyset page starts.
    pub start: Position,
    pub position: FP,
    pub offset: FO,
    pub keyset: FK,
    pub count: FC,
    pub _rows: std::marker::PhantomData<T>,
}

pub async fn page_of<T, FO, FK, FC, FP>(
    window: &Window,
    source: ListSource<'_, T, FO, FK, FC, FP>,
) -> ApiResult<PageOf<T>>
where
    FO: AsyncFnOnce(Page) -> ApiResult<Paged<T>>,
    FK: AsyncFnOnce(Position, i64) -> ApiResult<Vec<T>>,
    FC: AsyncFnOnce() -> ApiResult<i64>,
    FP: Fn(&T) -> Position,
{
    let next = |items: &[T], more: bool| {
        items
            .last()
            .filter(|_| more)
            .map(|last| source.cursors.encode(source.sort, (source.position)(last)))
    };
    match *window {
        Window::Offset { page, limit } => {
            let paged = (source.offset)(Page {
                limit,
                offset: (page - 1) * limit,
            })
            .await?;
            let total_pages = (paged.total + limit - 1) / limit;
            let has_next_page = page < total_pages;
            let next_cursor = next(&paged.items, has_next_page);
            Ok(PageOf {
                pagination: Pagination {
                    page: Some(page),
                    limit,
                    total_items: Some(paged.total),
                    total_pages: Some(total_pages),
                    has_next_page,
                    has_previous_page: page > 1,
                    next_cursor,
                },
                data: paged.items,
            })
        }
        Window::Cursor {
            after,
            limit,
            include_total,
        } => {
            let mut items = (source.keyset)(after.unwrap_or(source.start), limit + 1).await?;
            let has_next_page = items.len() as i64 > limit;
            items.truncate(limit as usize);
            let next_cursor = next(&items, has_next_page);
            let total_items = if include_total {
                Some((source.count)().await?)
            } else {
                None
            };
            Ok(PageOf {
                pagination: Pagination {
                    page: None,
                    limit,
                    total_items,
                    total_pages: None,
                    has_next_page,
                    has_previous_page: after.is_some(),
                    next_cursor,
                },
                data: items,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn parse(pairs: &[(&str, &str)]) -> Result<ListQuery, ApiError> {
        ListQuery::parse(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn cursors() -> Cursors {
        Cursors::new(&Secret::new("k".repeat(32)))
    }

    #[test]
    fn defaults_and_modes() {
        let c = cursors();
        let w = parse(&[]).unwrap().window(&c, 0).unwrap();
        assert_eq!(w, Window::Offset { page: 1, limit: 20 });
        let w = parse(&[("page", "3"), ("limit", "10")])
            .unwrap()
            .window(&c, 0)
            .unwrap();
        assert_eq!(w, Window::Offset { page: 3, limit: 10 });
        let w = parse(&[("cursor", ""), ("includeTotal", "true")])
            .unwrap()
            .window(&c, 0)
            .unwrap();
        assert_eq!(
            w,
            Window::Cursor {
                after: None,
                limit: 20,
                include_total: true
            }
        );
        let p = Position {
            key: flowats_db::Timestamp::now(),
            id: uuid::Uuid::now_v7(),
        };
        let token = c.encode(0, p);
        let w = parse(&[("cursor", &token)]).unwrap().window(&c, 0).unwrap();
        assert_eq!(
            w,
            Window::Cursor {
                after: Some(p),
                limit: 20,
                include_total: false
            }
        );
    }

    #[test]
    fn every_malformed_input_is_a_400_naming_the_parameter() {
        let c = cursors();
        let token = c.encode(0, Position::start_descending());
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("limit", "0")], "limit"),
            (&[("limit", "101")], "limit"),
            (&[("limit", "-1")], "limit"),
            (&[("limit", "ten")], "limit"),
            (&[("limit", "")], "limit"),
            (&[("limit", "1e2")], "limit"),
            (&[("page", "0")], "page"),
            (&[("page", "-3")], "page"),
            (&[("page", "1.5")], "page"),
            (&[("page", "100001")], "page"),
            (&[("page", "99999999999999999999")], "page"),
            (&[("page", "2"), ("cursor", "")], "cursor"),
            (&[("includeTotal", "yes"), ("cursor", "")], "includeTotal"),
            (&[("includeTotal", "true")], "includeTotal"),
            (&[("cursor", "garbage")], "cursor"),
            (&[("cursor", &token[..token.len() - 1])], "cursor"),
        ];
        for (pairs, name) in cases {
            let e = parse(pairs).and_then(|q| q.window(&c, 0).map(|_| ())).err();
            let e = e.unwrap_or_else(|| panic!("{pairs:?} accepted"));
            assert_eq!(e.status, 400, "{pairs:?}");
            assert_eq!(
                e.details.as_ref().unwrap()["parameter"],
                *name,
                "{pairs:?}: {}",
                e.message
            );
        }
        // A cursor of another order of the same list.
        let e = parse(&[("cursor", &token)])
            .unwrap()
            .window(&c, 1)
            .unwrap_err();
        assert!(e.message.contains("sort"), "{}", e.message);
    }

    #[test]
    fn unknown_parameters_are_named() {
        let e = parse(&[("stauts", "applied")])
            .unwrap()
            .allow(&["status"])
            .err()
            .unwrap();
        assert!(e.message.contains("stauts"));
    }

    #[allow(clippy::type_complexity)]
    fn source<'a>(
        c: &'a Cursors,
        rows: Vec<i64>,
    ) -> ListSource<
        'a,
        i64,
        impl AsyncFnOnce(Page) -> ApiResult<Paged<i64>>,
        impl AsyncFnOnce(Position, i64) -> ApiResult<Vec<i64>>,
        impl AsyncFnOnce() -> ApiResult<i64>,
        impl Fn(&i64) -> Position,
    > {
        let total = rows.len() as i64;
        let all = rows.clone();
        ListSource {
            cursors: c,
            sort: 0,
            start: Position::start_descending(),
            position: |_: &i64| Position::start_ascending(),
            offset: async move |p: Page| {
                let items = all
                    .iter()
                    .skip(p.offset as usize)
                    .take(p.limit as usize)
                    .copied()
                    .collect();
                Ok(Paged { items, total })
            },
            keyset: async move |_: Position, limit: i64| {
                Ok(rows.into_iter().take(limit as usize).collect())
            },
            count: async move || Ok(total),
            _rows: std::marker::PhantomData,
        }
    }

    #[tokio::test]
    async fn page_arithmetic() {
        let c = cursors();
        let p = page_of(
            &Window::Offset { page: 2, limit: 20 },
            source(&c, vec![1; 156]),
        )
        .await
        .unwrap();
        assert_eq!(
            (p.pagination.total_pages, p.pagination.total_items),
            (Some(8), Some(156))
        );
        assert!(p.pagination.has_next_page && p.pagination.has_previous_page);
        assert!(p.pagination.next_cursor.is_some());
        let p = page_of(
            &Window::Offset { page: 8, limit: 20 },
            source(&c, vec![1; 156]),
        )
        .await
        .unwrap();
        assert_eq!(
            (
                p.data.len(),
                p.pagination.has_next_page,
                p.pagination.next_cursor.is_none()
            ),
            (16, false, true)
        );
        let p = page_of(&Window::Offset { page: 1, limit: 20 }, source(&c, vec![]))
            .await
            .unwrap();
        assert_eq!(
            (p.pagination.total_pages, p.pagination.has_next_page),
            (Some(0), false)
        );

        let w = Window::Cursor {
            after: None,
            limit: 10,
            include_total: false,
        };
        let p = page_of(&w, source(&c, vec![1; 11])).await.unwrap();
        assert_eq!(
            (
                p.data.len(),
                p.pagination.has_next_page,
                p.pagination.has_previous_page
            ),
            (10, true, false)
        );
        assert_eq!(
            (
                p.pagination.page,
                p.pagination.total_items,
                p.pagination.total_pages
            ),
            (None, None, None)
        );
        let w = Window::Cursor {
            after: None,
            limit: 10,
            include_total: true,
        };
        let p = page_of(&w, source(&c, vec![1; 10])).await.unwrap();
        assert_eq!(
            (
                p.pagination.has_next_page,
                p.pagination.next_cursor,
                p.pagination.total_items
            ),
            (false, None, Some(10))
        );
    }
}

/// Property tests: any query a client sends parses to a window in range, or to a 400 that
/// names a parameter it sent; never a panic.
#[cfg(test)]
pub(crate) mod properties {
    use super::*;
    use crate::config::Secret;
    use proptest::prelude::*;

    /// Values a client might send for a number or a flag: numbers of any size and sign,
    /// digit soup, words, empties, anything.
    pub(crate) fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            (-5i64..=105).prop_map(|n| n.to_string()),
            "[0-9+-. eE]{0,25}",
            Just(String::new()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            ".{0,40}",
        ]
    }

    /// A query's pairs: the paging parameters and others, with arbitrary values.
    pub(crate) fn pairs(
        names: &'static [&'static str],
    ) -> impl Strategy<Value = HashMap<String, String>> {
        proptest::collection::hash_map(
            prop_oneof![
                4 => proptest::sample::select(names).prop_map(str::to_owned),
                1 => "[a-zA-Z_]{1,12}",
            ],
            value(),
            0..6,
        )
    }

    pub(crate) fn assert_names_one_of(
        e: &ApiError,
        sent: &HashMap<String, String>,
    ) -> Result<(), TestCaseError> {
        prop_assert_eq!(e.status, 400, "{}", e.message);
        let name = e.details.as_ref().and_then(|d| d["parameter"].as_str());
        let name =
            name.ok_or_else(|| TestCaseError::fail(format!("no parameter: {}", e.message)))?;
        prop_assert!(sent.contains_key(name), "{name} was not sent: {sent:?}");
        prop_assert!(e.message.contains(name), "{}", e.message);
        Ok(())
    }

    const PAGING: &[&str] = &["page", "limit", "cursor", "includeTotal"];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn any_query_is_a_window_in_range_or_a_400_naming_a_parameter(
            sent in pairs(PAGING),
            sort in any::<u8>(),
        ) {
            let c = Cursors::new(&Secret::new("k".repeat(32)));
            let window = ListQuery::parse(sent.clone())
                .and_then(|q| q.allow(&[]))
                .and_then(|q| q.window(&c, sort));
            match window {
                Ok(Window::Offset { page, limit }) => {
                    prop_assert!((1..=MAX_PAGE).contains(&page));
                    prop_assert!((1..=MAX_LIMIT).contains(&limit));
                    prop_assert!(!sent.contains_key("cursor"));
                }
                Ok(Window::Cursor { after, limit, .. }) => {
                    prop_assert!((1..=MAX_LIMIT).contains(&limit));
                    // Only an empty cursor starts a list: no arbitrary text is a cursor.
                    prop_assert!(after.is_none());
                    prop_assert_eq!(sent.get("cursor").map(String::as_str), Some(""));
                    prop_assert!(!sent.contains_key("page"));
                }
                Err(e) => assert_names_one_of(&e, &sent)?,
            }
        }

        #[test]
        fn a_number_parses_exactly_when_it_is_in_range(n in prop_oneof![any::<i64>(), -10i64..200_000], name in proptest::sample::select(&["page", "limit"][..])) {
            let max = if name == "page" { MAX_PAGE } else { MAX_LIMIT };
            let sent: HashMap<String, String> = [(name.to_owned(), n.to_string())].into();
            match ListQuery::parse(sent.clone()) {
                Ok(q) => {
                    prop_assert!((1..=max).contains(&n));
                    let w = q.window(&Cursors::new(&Secret::new("k".repeat(32))), 0).unwrap();
                    let got = match w {
                        Window::Offset { page, limit } => if name == "page" { page } else { limit },
                        Window::Cursor { .. } => unreachable!("no cursor sent"),
                    };
                    prop_assert_eq!(got, n);
                }
                Err(e) => {
                    prop_assert!(!(1..=max).contains(&n));
                    assert_names_one_of(&e, &sent)?;
                    let range = format!("from 1 to {max}");
                    prop_assert!(e.message.contains(&range), "{}", e.message);
                }
            }
        }

        #[test]
        fn a_cursor_the_server_made_is_followed(
            micros in 0i64..4_102_444_800_000_000,
            id in any::<[u8; 16]>(),
            limit in 1i64..=MAX_LIMIT,
            total in any::<bool>(),
        ) {
            let c = Cursors::new(&Secret::new("k".repeat(32)));
            let p = Position {
                key: flowats_db::Timestamp::from(
                    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).unwrap(),
                ),
                id: uuid::Uuid::from_bytes(id),
            };
            let mut sent: HashMap<String, String> =
                [("cursor".to_owned(), c.encode(3, p)), ("limit".to_owned(), limit.to_string())].into();
            if total {
                sent.insert("includeTotal".into(), "true".into());
            }
            let w = ListQuery::parse(sent).unwrap().window(&c, 3).unwrap();
            prop_assert_eq!(w, Window::Cursor { after: Some(p), limit, include_total: total });
        }

        #[test]
        fn any_raw_query_string_parses_or_is_a_400(raw in "[ -~]{0,120}") {
            // Whatever reaches the extractor: percent signs, `&&`, `==`, bare keys, repeats.
            let Ok(uri) = format!("/api/jobs?{raw}").parse::<axum::http::Uri>() else {
                return Ok(());
            };
            let (mut parts, ()) = axum::http::Request::builder().uri(uri).body(()).unwrap().into_parts();
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            match rt.block_on(ListQuery::from_request_parts(&mut parts, &())) {
                Ok(q) => prop_assert!((1..=MAX_LIMIT).contains(&q.limit)),
                Err(e) => prop_assert_eq!(e.status, 400, "{}", e.message),
            }
        }
    }
}
