//! The incoming `x-request-id` is kept only when it is short and printable: at most
//! [`MAX_LEN`] visible ASCII characters (`!` to `~`), sent once. Anything else (8 KB
//! values, raw bytes, several values) is dropped, and the id layer generates a fresh one,
//! so logs and answers never carry what a client smuggled in.

use axum::extract::Request;
use axum::http::HeaderName;

pub const MAX_LEN: usize = 128;
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

pub fn acceptable(value: &[u8]) -> bool {
    !value.is_empty() && value.len() <= MAX_LEN && value.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// Drops an unacceptable request id before the id layer sees it.
pub async fn sanitize(mut req: Request) -> Request {
    let mut values = req.headers().get_all(&HEADER).iter();
    let keep = match (values.next(), values.next()) {
        (Some(v), None) => acceptable(v.as_bytes()),
        (None, _) => true,
        _ => false,
    };
    if !keep {
        req.headers_mut().remove(&HEADER);
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_printable_ids_are_kept() {
        assert!(acceptable(b"3f2c-abc_DEF.1:2/3"));
        assert!(acceptable("x".repeat(MAX_LEN).as_bytes()));
        assert!(!acceptable("x".repeat(MAX_LEN + 1).as_bytes()));
        assert!(!acceptable(b""));
        assert!(!acceptable(b"has space"));
        assert!(!acceptable(b"tab\there"));
        assert!(!acceptable("caf\u{e9}".as_bytes()));
    }
}
