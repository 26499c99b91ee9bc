//! A UTC timestamp with microsecond precision, stored and serialized the same way on both
//! backends.
//!
//! SQLite keeps timestamps as text, and sqlx writes `OffsetDateTime` there as RFC 3339 with
//! a variable number of fraction digits (none at all on a whole second), which breaks text
//! ordering: `…:00Z` sorts after `…:00.5Z`. This type always writes six digits, so text order
//! is time order and keyset pagination is exact. PostgreSQL keeps microseconds, the same
//! precision, so a value reads back equal to what was written.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

const FIXED: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

impl Timestamp {
    /// Later than any timestamp the server writes (keyset sentinels).
    pub const MAX: Timestamp = Timestamp(time::macros::datetime!(9999-12-31 23:59:59.999999 UTC));
    /// Earlier than any timestamp the server writes.
    pub const MIN: Timestamp = Timestamp(time::macros::datetime!(0001-01-01 00:00:00 UTC));

    pub fn now() -> Self {
        Self::from(OffsetDateTime::now_utc())
    }

    pub fn get(self) -> OffsetDateTime {
        self.0
    }
}

impl From<OffsetDateTime> for Timestamp {
    /// Normalises to UTC and truncates to whole microseconds.
    fn from(t: OffsetDateTime) -> Self {
        let t = t.to_offset(UtcOffset::UTC);
        let micros = t.nanosecond() / 1_000 * 1_000;
        Timestamp(t.replace_nanosecond(micros).expect("nanosecond in range"))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.format(FIXED).map_err(|_| fmt::Error)?;
        f.write_str(&s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OffsetDateTime::parse(&s, &Rfc3339)
            .map(Timestamp::from)
            .map_err(serde::de::Error::custom)
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> <Sqlite as sqlx::Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &<Sqlite as sqlx::Database>::TypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as sqlx::Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: <Sqlite as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let s = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Timestamp::from(OffsetDateTime::parse(s, &Rfc3339)?))
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> <Postgres as sqlx::Database>::TypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as sqlx::Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: <Postgres as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Timestamp::from(
            <OffsetDateTime as Decode<Postgres>>::decode(value)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_keep_six_fraction_digits_so_text_order_is_time_order() {
        let whole = Timestamp::from(time::macros::datetime!(2026-01-01 12:00:00 UTC));
        let later = Timestamp::from(time::macros::datetime!(2026-01-01 12:00:00.5 UTC));
        assert_eq!(whole.to_string(), "2026-01-01T12:00:00.000000Z");
        assert!(whole.to_string() < later.to_string());
    }

    #[test]
    fn truncates_to_microseconds_and_normalises_to_utc() {
        let t = time::macros::datetime!(2026-01-01 14:00:00.123456789 +02:00);
        assert_eq!(
            Timestamp::from(t).to_string(),
            "2026-01-01T12:00:00.123456Z"
        );
    }
}
