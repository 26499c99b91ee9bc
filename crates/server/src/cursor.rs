//! Opaque, versioned, tamper-evident cursors (SPEC §5).
//!
//! A cursor is base64url (no padding) of: version (1 byte), the list's sort (1 byte), the
//! sort key in microseconds since the Unix epoch (8 bytes, big-endian), the row id (16
//! bytes), then the first 16 bytes of an HMAC-SHA256 of all that, keyed from the server's
//! secret. Nothing in it names the user: the user always comes from the token. A cursor
//! that does not decode, has another version, another sort, or a wrong MAC is refused.

use crate::config::Secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flowats_db::Timestamp;
use flowats_db::models::Position;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const VERSION: u8 = 1;
const PAYLOAD: usize = 1 + 1 + 8 + 16;
const MAC: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorError {
    /// Not base64url, or not the right length.
    Malformed,
    /// Made by another version of the server.
    Version,
    /// Made for another sort order of the list.
    Sort,
    /// The bytes were changed.
    Tampered,
}

impl CursorError {
    pub fn message(self) -> &'static str {
        match self {
            CursorError::Malformed => "`cursor` is not a cursor this server issued",
            CursorError::Version => {
                "`cursor` comes from another version of the API; start again with `cursor=`"
            }
            CursorError::Sort => {
                "`cursor` was issued for another `sort`; start again with `cursor=`"
            }
            CursorError::Tampered => "`cursor` has been altered",
        }
    }
}

#[derive(Clone)]
pub struct Cursors {
    key: [u8; 32],
}

impl Cursors {
    pub fn new(secret: &Secret) -> Cursors {
        let mut h = Sha256::new();
        h.update(b"flowats cursor key\0");
        h.update(secret.expose().as_bytes());
        Cursors {
            key: h.finalize().into(),
        }
    }

    fn mac(&self, payload: &[u8]) -> [u8; MAC] {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        m.update(payload);
        let full = m.finalize().into_bytes();
        let mut out = [0u8; MAC];
        out.copy_from_slice(&full[..MAC]);
        out
    }

    /// `sort` tells the lists' orders apart (any stable number per order).
    pub fn encode(&self, sort: u8, position: Position) -> String {
        let mut bytes = Vec::with_capacity(PAYLOAD + MAC);
        bytes.push(VERSION);
        bytes.push(sort);
        let micros = (position.key.get().unix_timestamp_nanos() / 1_000) as i64;
        bytes.extend_from_slice(&micros.to_be_bytes());
        bytes.extend_from_slice(position.id.as_bytes());
        let mac = self.mac(&bytes);
        bytes.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(&self, cursor: &str, sort: u8) -> Result<Position, CursorError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| CursorError::Malformed)?;
        if bytes.len() != PAYLOAD + MAC {
            return Err(CursorError::Malformed);
        }
        let (payload, mac) = bytes.split_at(PAYLOAD);
        if !constant_time_eq(&self.mac(payload), mac) {
            return Err(CursorError::Tampered);
        }
        if payload[0] != VERSION {
            return Err(CursorError::Version);
        }
        if payload[1] != sort {
            return Err(CursorError::Sort);
        }
        let micros = i64::from_be_bytes(payload[2..10].try_into().expect("8 bytes"));
        let key = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .map_err(|_| CursorError::Malformed)?;
        let id = Uuid::from_slice(&payload[10..26]).map_err(|_| CursorError::Malformed)?;
        Ok(Position {
            key: Timestamp::from(key),
            id,
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursors() -> Cursors {
        Cursors::new(&Secret::new("x".repeat(32)))
    }

    fn position() -> Position {
        Position {
            key: Timestamp::now(),
            id: Uuid::now_v7(),
        }
    }

    #[test]
    fn round_trips() {
        let c = cursors();
        let p = position();
        let s = c.encode(2, p);
        assert!(
            s.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'),
            "{s}"
        );
        assert_eq!(c.decode(&s, 2), Ok(p));
    }

    #[test]
    fn refuses_other_sorts_other_keys_and_every_single_byte_change() {
        let c = cursors();
        let s = c.encode(0, position());
        assert_eq!(c.decode(&s, 1), Err(CursorError::Sort));
        let other = Cursors::new(&Secret::new("y".repeat(32)));
        assert_eq!(other.decode(&s, 0), Err(CursorError::Tampered));
        let bytes = URL_SAFE_NO_PAD.decode(&s).unwrap();
        for i in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[i] ^= 0x01;
            let r = c.decode(&URL_SAFE_NO_PAD.encode(&changed), 0);
            assert_eq!(r, Err(CursorError::Tampered), "byte {i}");
        }
    }

    #[test]
    fn refuses_what_does_not_decode() {
        let c = cursors();
        for bad in [
            "",
            "!!!",
            "abc",
            "eyJpZCI6MX0",
            &"A".repeat(56),
            &"A".repeat(400),
        ] {
            assert!(c.decode(bad, 0).is_err(), "{bad:?}");
        }
    }
}

/// Property tests: whatever a client sends as a cursor, decoding answers (never panics), and
/// only what this server encoded, unchanged, for the same order, decodes.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn cursors() -> Cursors {
        Cursors::new(&Secret::new("p".repeat(32)))
    }

    /// Any position the server can write: microseconds between its sentinels, any id.
    fn position() -> impl Strategy<Value = Position> {
        let min = Timestamp::MIN.get().unix_timestamp_nanos() / 1_000;
        let max = Timestamp::MAX.get().unix_timestamp_nanos() / 1_000;
        ((min as i64)..=(max as i64), any::<[u8; 16]>()).prop_map(|(micros, id)| Position {
            key: Timestamp::from(
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
                    .expect("in range"),
            ),
            id: Uuid::from_bytes(id),
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn any_string_is_refused_without_panicking(s in ".{0,200}", sort in any::<u8>()) {
            prop_assert!(cursors().decode(&s, sort).is_err());
        }

        #[test]
        fn any_bytes_are_refused_without_panicking(
            bytes in proptest::collection::vec(any::<u8>(), 0..80),
            sort in any::<u8>(),
        ) {
            // Base64url of anything, including exactly 42 bytes with a version and sort
            // that fit: without the key, the MAC does not match.
            prop_assert!(cursors().decode(&URL_SAFE_NO_PAD.encode(&bytes), sort).is_err());
        }

        #[test]
        fn what_the_server_encodes_decodes_to_the_same_position(
            p in position(),
            sort in any::<u8>(),
        ) {
            let c = cursors();
            let s = c.encode(sort, p);
            prop_assert_eq!(s.len(), 56);
            prop_assert_eq!(c.decode(&s, sort), Ok(p));
            prop_assert_eq!(c.decode(&s, sort.wrapping_add(1)), Err(CursorError::Sort));
        }

        #[test]
        fn any_changed_byte_is_refused(
            p in position(),
            sort in any::<u8>(),
            at in 0..(PAYLOAD + MAC),
            flip in 1..=u8::MAX,
        ) {
            let c = cursors();
            let mut bytes = URL_SAFE_NO_PAD.decode(c.encode(sort, p)).unwrap();
            bytes[at] ^= flip;
            prop_assert_eq!(
                c.decode(&URL_SAFE_NO_PAD.encode(&bytes), sort),
                Err(CursorError::Tampered)
            );
        }

        #[test]
        fn any_edit_of_the_text_is_refused(
            p in position(),
            at in 0..56usize,
            ch in "[A-Za-z0-9_=+/.-]",
            cut in 0..56usize,
            extra in "[A-Za-z0-9_-]{1,8}",
        ) {
            let c = cursors();
            let s = c.encode(0, p);
            let mut changed: Vec<char> = s.chars().collect();
            let new = ch.chars().next().unwrap();
            prop_assume!(changed[at] != new);
            changed[at] = new;
            let changed: String = changed.into_iter().collect();
            prop_assert!(c.decode(&changed, 0).is_err(), "{} accepted", changed);
            prop_assert!(c.decode(&s[..cut], 0).is_err());
            let longer = s.clone() + &extra;
            prop_assert!(c.decode(&longer, 0).is_err());
            // Made with another server's key.
            let other = Cursors::new(&Secret::new("q".repeat(32)));
            prop_assert_eq!(other.decode(&s, 0), Err(CursorError::Tampered));
        }
    }
}
