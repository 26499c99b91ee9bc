//! [`crate::sessions`]'s stores, written once and instantiated for each backend by
//! [`impl_session_stores!`] (called from `impl_stores!`, inside the same module, so it
//! shares the backend's units of work).

macro_rules! impl_session_stores {
    ($store:ident, $db:ident) => {
        use $crate::sessions::sql as ssql;
        use $crate::sessions::{Claim, IdempotencyStore, SessionStore, StoredAnswer};

        impl SessionStore for $store {
            fn create_session(
                &self,
                user: Uuid,
                id: Uuid,
                expires_at: Timestamp,
            ) -> BoxFut<'_, DbResult<()>> {
                Box::pin(async move {
                    let mut tx = self.begin_write("sessions.create").await?;
                    sqlx::query::<$db>(ssql::SESSION_INSERT)
                        .persistent(tx.persistent)
                        .bind(id)
                        .bind(user)
                        .bind(Timestamp::now())
                        .bind(expires_at)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                })
            }

            fn session_live(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<bool>> {
                Box::pin(async move {
                    let mut c = self.read("sessions.live").await?;
                    let n = sqlx::query_scalar::<$db, i64>(ssql::SESSION_LIVE)
                        .persistent(c.persistent)
                        .bind(id)
                        .bind(user)
                        .fetch_one(&mut *c)
                        .await?;
                    Ok(n > 0)
                })
            }

            fn end_session(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<()>> {
                Box::pin(async move {
                    let mut tx = self.begin_write("sessions.end").await?;
                    sqlx::query::<$db>(ssql::SESSION_DELETE)
                        .persistent(tx.persistent)
                        .bind(id)
                        .bind(user)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                })
            }

            fn change_password(
                &self,
                user: Uuid,
                keep: Uuid,
                password_hash: String,
            ) -> BoxFut<'_, DbResult<u64>> {
                Box::pin(async move {
                    let mut tx = self.begin_write("sessions.change_password").await?;
                    let set = sqlx::query::<$db>(ssql::PASSWORD_SET)
                        .persistent(tx.persistent)
                        .bind(user)
                        .bind(password_hash)
                        .bind(Timestamp::now())
                        .execute(&mut *tx)
                        .await?;
                    if set.rows_affected() == 0 {
                        return Err(DbError::NotFound);
                    }
                    let ended = sqlx::query::<$db>(ssql::SESSION_DELETE_OTHERS)
                        .persistent(tx.persistent)
                        .bind(user)
                        .bind(keep)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(ended.rows_affected())
                })
            }

            fn purge(
                &self,
                now: Timestamp,
                keys_before: Timestamp,
            ) -> BoxFut<'_, DbResult<(u64, u64)>> {
                Box::pin(async move {
                    let mut tx = self.begin_write("sessions.purge").await?;
                    let sessions = sqlx::query::<$db>(ssql::SESSION_PURGE)
                        .persistent(tx.persistent)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    let keys = sqlx::query::<$db>(ssql::KEY_PURGE)
                        .persistent(tx.persistent)
                        .bind(keys_before)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok((sessions.rows_affected(), keys.rows_affected()))
                })
            }
        }

        type StoredKey = (
            String,
            Option<i64>,
            Option<String>,
            Option<Vec<u8>>,
            Timestamp,
        );

        impl IdempotencyStore for $store {
            fn claim(
                &self,
                user: Uuid,
                key: String,
                fingerprint: String,
                expired_before: Timestamp,
                stale_before: Timestamp,
            ) -> BoxFut<'_, DbResult<Claim>> {
                Box::pin(async move {
                    let now = Timestamp::now();
                    let mut tx = self.begin_write("idempotency.claim").await?;
                    let p = tx.persistent;
                    sqlx::query::<$db>(ssql::KEY_EXPIRE)
                        .persistent(p)
                        .bind(user)
                        .bind(&key)
                        .bind(expired_before)
                        .execute(&mut *tx)
                        .await?;
                    let inserted = sqlx::query::<$db>(ssql::KEY_INSERT)
                        .persistent(p)
                        .bind(user)
                        .bind(&key)
                        .bind(&fingerprint)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    if inserted.rows_affected() == 1 {
                        tx.commit().await?;
                        return Ok(Claim::Claimed);
                    }
                    let (stored, status, content_type, body, _) =
                        sqlx::query_as::<$db, StoredKey>(ssql::KEY_GET)
                            .persistent(p)
                            .bind(user)
                            .bind(&key)
                            .fetch_one(&mut *tx)
                            .await?;
                    let claim = if stored != fingerprint {
                        Claim::Mismatch
                    } else if let Some(status) = status {
                        Claim::Replay(StoredAnswer {
                            status: u16::try_from(status).unwrap_or(500),
                            content_type,
                            body: body.unwrap_or_default(),
                        })
                    } else {
                        let taken = sqlx::query::<$db>(ssql::KEY_TAKE_OVER)
                            .persistent(p)
                            .bind(user)
                            .bind(&key)
                            .bind(stale_before)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        if taken.rows_affected() == 1 {
                            Claim::Claimed
                        } else {
                            Claim::InProgress
                        }
                    };
                    tx.commit().await?;
                    Ok(claim)
                })
            }

            fn complete(
                &self,
                user: Uuid,
                key: String,
                answer: StoredAnswer,
            ) -> BoxFut<'_, DbResult<()>> {
                Box::pin(async move {
                    let mut tx = self.begin_write("idempotency.complete").await?;
                    sqlx::query::<$db>(ssql::KEY_COMPLETE)
                        .persistent(tx.persistent)
                        .bind(user)
                        .bind(key)
                        .bind(i64::from(answer.status))
                        .bind(answer.content_type)
                        .bind(answer.body)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                })
            }

            fn release(&self, user: Uuid, key: String) -> BoxFut<'_, DbResult<()>> {
                Box::pin(async move {
                    let mut tx = self.begin_write("idempotency.release").await?;
                    sqlx::query::<$db>(ssql::KEY_RELEASE)
                        .persistent(tx.persistent)
                        .bind(user)
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                })
            }
        }
    };
}
