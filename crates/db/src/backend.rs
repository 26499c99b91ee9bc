//! The store implementation, written once and instantiated for each backend by
//! [`impl_stores!`]. The backend module supplies the struct and its units of work (see
//! [`crate::pool::Unit`]): `read(name)` for reads, `read_replica(name, user)` for reads a
//! replica may serve, `begin_write(name)` for write transactions (SQLite needs
//! `BEGIN IMMEDIATE`), plus `load_jobs` for bulk loading, the statement that loads a job for
//! update, and its migrations. Every query sets `.persistent(unit.persistent)`: behind a
//! transaction-mode pooler no named statement may outlive its transaction.

/// Implements the profile-item store for one item type: the SQL module of its table and
/// its field names, bound in column order.
macro_rules! impl_item_store {
    ($store:ty, $db:ty, $fields:ty, $sql:ident, $lock:ident, [$($col:ident),+]) => {
        impl $crate::store::ItemStore<$fields> for $store {
            fn list(
                &self,
                user: ::uuid::Uuid,
                page: $crate::models::Page,
            ) -> $crate::store::BoxFut<'_, $crate::DbResult<$crate::models::Paged<$crate::models::Item<$fields>>>> {
                Box::pin(async move {
                    let mut c = self.read(concat!(stringify!($sql), ".list")).await?;
                    let items = sqlx::query_as::<$db, $crate::models::Item<$fields>>($crate::sql::$sql::LIST)
                        .persistent(c.persistent)
                        .bind(user)
                        .bind(page.limit)
                        .bind(page.offset)
                        .fetch_all(&mut *c)
                        .await?;
                    let total = sqlx::query_scalar::<$db, i64>($crate::sql::$sql::COUNT)
                        .persistent(c.persistent)
                        .bind(user)
                        .fetch_one(&mut *c)
                        .await?;
                    Ok($crate::models::Paged { items, total })
                })
            }

            fn list_after(
                &self,
                user: ::uuid::Uuid,
                after: $crate::models::Position,
                limit: i64,
            ) -> $crate::store::BoxFut<'_, $crate::DbResult<Vec<$crate::models::Item<$fields>>>> {
                Box::pin(async move {
                    let mut c = self.read(concat!(stringify!($sql), ".list_after")).await?;
                    Ok(sqlx::query_as::<$db, $crate::models::Item<$fields>>($crate::sql::$sql::AFTER)
                        .persistent(c.persistent)
                        .bind(user)
                        .bind(after.key)
                        .bind(after.id)
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?)
                })
            }

            fn count(&self, user: ::uuid::Uuid) -> $crate::store::BoxFut<'_, $crate::DbResult<i64>> {
                Box::pin(async move {
                    let mut c = self.read(concat!(stringify!($sql), ".count")).await?;
                    Ok(sqlx::query_scalar::<$db, i64>($crate::sql::$sql::COUNT)
                        .persistent(c.persistent)
                        .bind(user)
                        .fetch_one(&mut *c)
                        .await?)
                })
            }

            fn create(
                &self,
                user: ::uuid::Uuid,
                fields: $fields,
            ) -> $crate::store::BoxFut<'_, $crate::DbResult<$crate::models::Item<$fields>>> {
                Box::pin(async move {
                    let now = $crate::Timestamp::now();
                    let mut tx = self.begin_write(concat!(stringify!($sql), ".create")).await?;
                    let row = sqlx::query_as::<$db, $crate::models::Item<$fields>>($crate::sql::$sql::INSERT)
                        .persistent(tx.persistent)
                        .bind(::uuid::Uuid::now_v7())
                        .bind(user)
                        .bind(now)
                        $(.bind(fields.$col))+
                        .fetch_one(&mut *tx)
                        .await?;
                    bump_profile(&mut tx, user, now).await?;
                    tx.commit().await?;
                    self.wrote(user);
                    Ok(row)
                })
            }

            fn get(
                &self,
                user: ::uuid::Uuid,
                id: ::uuid::Uuid,
            ) -> $crate::store::BoxFut<'_, $crate::DbResult<$crate::models::Item<$fields>>> {
                Box::pin(async move {
                    let mut c = self.read(concat!(stringify!($sql), ".get")).await?;
                    Ok(sqlx::query_as::<$db, $crate::models::Item<$fields>>($crate::sql::$sql::GET)
                        .persistent(c.persistent)
                        .bind(id)
                        .bind(user)
                        .fetch_one(&mut *c)
                        .await?)
                })
            }

            fn update(
                &self,
                user: ::uuid::Uuid,
                id: ::uuid::Uuid,
                patch: ::serde_json::Map<String, ::serde_json::Value>,
            ) -> $crate::store::BoxFut<'_, $crate::DbResult<$crate::models::Item<$fields>>> {
                Box::pin(async move {
                    let mut tx = self.begin_write(concat!(stringify!($sql), ".update")).await?;
                    let now = $crate::Timestamp::now();
                    let current = sqlx::query_as::<$db, $crate::models::Item<$fields>>($crate::sql::$sql::$lock)
                        .persistent(tx.persistent)
                        .bind(id)
                        .bind(user)
                        .fetch_one(&mut *tx)
                        .await?;
                    let fields: $fields = $crate::patch::merge(&current.fields, &patch)?;
                    let row = sqlx::query_as::<$db, $crate::models::Item<$fields>>($crate::sql::$sql::UPDATE)
                        .persistent(tx.persistent)
                        .bind(id)
                        .bind(user)
                        .bind(now)
                        $(.bind(fields.$col))+
                        .fetch_one(&mut *tx)
                        .await?;
                    bump_profile(&mut tx, user, now).await?;
                    tx.commit().await?;
                    self.wrote(user);
                    Ok(row)
                })
            }

            fn delete(
                &self,
                user: ::uuid::Uuid,
                id: ::uuid::Uuid,
            ) -> $crate::store::BoxFut<'_, $crate::DbResult<()>> {
                Box::pin(async move {
                    let now = $crate::Timestamp::now();
                    let mut tx = self.begin_write(concat!(stringify!($sql), ".delete")).await?;
                    let done = sqlx::query::<$db>($crate::sql::$sql::DELETE)
                        .persistent(tx.persistent)
                        .bind(id)
                        .bind(user)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err($crate::DbError::NotFound);
                    }
                    bump_profile(&mut tx, user, now).await?;
                    tx.commit().await?;
                    self.wrote(user);
                    Ok(())
                })
            }
        }
    };
}

/// Implements every store trait for `$store` on database `$db`.
macro_rules! impl_stores {
    (
        $store:ident, $db:ident, job_lock = $job_lock:expr, item_lock = $item_lock:ident,
        unlink = $unlink:expr, user_lock = $user_lock:expr $(,)?
    ) => {
        mod stores {
            use super::*;
            use ::serde_json::{Map, Value};
            use ::uuid::Uuid;
            use $crate::models::*;
            use $crate::sql;
            use $crate::store::*;
            use $crate::{DbError, DbResult, Timestamp};

            impl_tracker_stores!($store, $db, $item_lock, $unlink, $job_lock, $user_lock);
            impl_session_stores!($store, $db);

            /// Creates a job with its first event, tags and rule tasks; with `unique`, not
            /// when the user has it already.
            async fn insert_job(store: &$store, user: Uuid, mut f: JobFields, unique: bool) -> DbResult<Job> {
                let now = Timestamp::now();
                let status = f.status;
                f.tags = normalize_tags(&f.tags);
                let (dedup_url, dedup_name) = $crate::dedup::keys(&f);
                let mut tx = store.begin_write("jobs.create_job").await?;
                let p = tx.persistent;
                if unique {
                    lock_user(&mut *tx, user, p).await?;
                    let dup = find_duplicate_in(&mut *tx, user, dedup_url.as_deref(), &dedup_name, p).await?;
                    if let Some(d) = dup {
                        return Err(DbError::Duplicate(d));
                    }
                }
                let tags = std::mem::take(&mut f.tags);
                let q = sqlx::query_as::<$db, Job>(sql::JOB_INSERT)
                    .persistent(p)
                    .bind(Uuid::now_v7())
                    .bind(user)
                    .bind(now);
                let mut job = bind_job_fields!(q, f).fetch_one(&mut *tx).await?;
                insert_event(&mut tx, user, job.id, None, status, now).await?;
                insert_tags(&mut *tx, user, job.id, &tags, p).await?;
                job.fields.tags = tags;
                fire_rules(&mut *tx, user, &job, now, p).await?;
                tx.commit().await?;
                store.wrote(user);
                Ok(job)
            }

            async fn bump_profile(
                tx: &mut $crate::pool::Unit<'_, sqlx::Transaction<'static, $db>>,
                user: Uuid,
                now: Timestamp,
            ) -> DbResult<()> {
                sqlx::query::<$db>(sql::PROFILE_BUMP)
                    .persistent(tx.persistent)
                    .bind(user)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            async fn insert_event(
                tx: &mut $crate::pool::Unit<'_, sqlx::Transaction<'static, $db>>,
                user: Uuid,
                job: Uuid,
                from: Option<JobStatus>,
                to: JobStatus,
                now: Timestamp,
            ) -> DbResult<()> {
                sqlx::query::<$db>(sql::EVENT_INSERT)
                    .persistent(tx.persistent)
                    .bind(Uuid::now_v7())
                    .bind(user)
                    .bind(job)
                    .bind(from.map(JobStatus::as_str))
                    .bind(to.as_str())
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            impl UserStore for $store {
                fn create_user(
                    &self,
                    email: String,
                    name: String,
                    password_hash: String,
                ) -> BoxFut<'_, DbResult<User>> {
                    Box::pin(async move {
                        // PostgreSQL cannot store a NUL; SQLite must not either.
                        for (field, text) in [("email", &email), ("name", &name)] {
                            if text.contains('\0') {
                                return Err(DbError::Invalid($crate::validate::ValidationErrors::single(
                                    field,
                                    $crate::validate::NUL_MESSAGE,
                                )));
                            }
                        }
                        let now = Timestamp::now();
                        let id = Uuid::now_v7();
                        let mut tx = self.begin_write("users.create_user").await?;
                        let user = sqlx::query_as::<$db, User>(sql::USER_INSERT)
                            .persistent(tx.persistent)
                            .bind(id)
                            .bind(email)
                            .bind(password_hash)
                            .bind(name)
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await?;
                        sqlx::query::<$db>(sql::PROFILE_INSERT)
                            .persistent(tx.persistent)
                            .bind(id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        Ok(user)
                    })
                }

                fn credentials(&self, email: String) -> BoxFut<'_, DbResult<Option<Credentials>>> {
                    Box::pin(async move {
                        // No account has a NUL in its address (PostgreSQL would refuse
                        // the query rather than find nothing).
                        if email.contains('\0') {
                            return Ok(None);
                        }
                        let mut c = self.read("users.credentials").await?;
                        Ok(sqlx::query_as::<$db, Credentials>(sql::USER_CREDENTIALS)
                            .persistent(c.persistent)
                            .bind(email)
                            .fetch_optional(&mut *c)
                            .await?)
                    })
                }

                fn get_user(&self, id: Uuid) -> BoxFut<'_, DbResult<User>> {
                    Box::pin(async move {
                        let mut c = self.read("users.get_user").await?;
                        Ok(sqlx::query_as::<$db, User>(sql::USER_GET)
                            .persistent(c.persistent)
                            .bind(id)
                            .fetch_one(&mut *c)
                            .await?)
                    })
                }

                fn user_exists(&self, id: Uuid) -> BoxFut<'_, DbResult<bool>> {
                    Box::pin(async move {
                        let mut c = self.read("users.user_exists").await?;
                        let n = sqlx::query_scalar::<$db, i64>(sql::USER_EXISTS)
                            .persistent(c.persistent)
                            .bind(id)
                            .fetch_one(&mut *c)
                            .await?;
                        Ok(n > 0)
                    })
                }

                fn delete_user(&self, id: Uuid) -> BoxFut<'_, DbResult<()>> {
                    Box::pin(async move {
                        let mut tx = self.begin_write("users.delete_user").await?;
                        for statement in sql::USER_DELETE_ROWS {
                            sqlx::query::<$db>(statement)
                                .persistent(tx.persistent)
                                .bind(id)
                                .execute(&mut *tx)
                                .await?;
                        }
                        let done = sqlx::query::<$db>(sql::USER_DELETE)
                            .persistent(tx.persistent)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        if done.rows_affected() == 0 {
                            return Err(DbError::NotFound);
                        }
                        tx.commit().await?;
                        Ok(())
                    })
                }
            }

            impl ProfileStore for $store {
                fn get_profile(&self, user: Uuid) -> BoxFut<'_, DbResult<Profile>> {
                    Box::pin(async move {
                        let mut c = self.read("profile.get_profile").await?;
                        Ok(sqlx::query_as::<$db, Profile>(sql::PROFILE_GET)
                            .persistent(c.persistent)
                            .bind(user)
                            .fetch_one(&mut *c)
                            .await?)
                    })
                }

                fn put_profile(
                    &self,
                    user: Uuid,
                    f: ProfileFields,
                ) -> BoxFut<'_, DbResult<Profile>> {
                    Box::pin(async move {
                        let mut tx = self.begin_write("profile.put_profile").await?;
                        let profile = sqlx::query_as::<$db, Profile>(sql::PROFILE_PUT)
                            .persistent(tx.persistent)
                            .bind(user)
                            .bind(Timestamp::now())
                            .bind(f.full_name)
                            .bind(f.headline)
                            .bind(f.summary)
                            .bind(f.location)
                            .bind(f.phone)
                            .bind(f.website)
                            .fetch_one(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        self.wrote(user);
                        Ok(profile)
                    })
                }
            }

            impl_item_store!(
                $store,
                $db,
                SkillFields,
                skills,
                $item_lock,
                [name, category, proficiency]
            );
            impl_item_store!(
                $store,
                $db,
                EducationFields,
                education,
                $item_lock,
                [
                    institution,
                    degree,
                    field_of_study,
                    start_date,
                    end_date,
                    gpa
                ]
            );
            impl_item_store!(
                $store,
                $db,
                EmploymentFields,
                employment,
                $item_lock,
                [company, title, start_date, end_date, description]
            );

                /// Rows per multi-row `INSERT`: well under both backends' parameter limits.
            const SEED_CHUNK: usize = 500;

            impl SeedStore for $store {
                fn ensure_users(
                    &self,
                    users: Vec<(String, String)>,
                    password_hash: String,
                ) -> BoxFut<'_, DbResult<Vec<(Uuid, String)>>> {
                    Box::pin(async move {
                        let now = Timestamp::now();
                        let mut tx = self.begin_write("seed.ensure_users").await?;
                        let mut found = Vec::with_capacity(users.len());
                        for chunk in users.chunks(SEED_CHUNK) {
                            let mut q = sqlx::QueryBuilder::<$db>::new(
                                "INSERT INTO users (id, email, password_hash, name, created_at, updated_at) ",
                            );
                            q.push_values(chunk, |mut b, (email, name)| {
                                b.push_bind(Uuid::now_v7())
                                    .push_bind(email.as_str())
                                    .push_bind(password_hash.as_str())
                                    .push_bind(name.as_str())
                                    .push_bind(now)
                                    .push_bind(now);
                            });
                            q.push(" ON CONFLICT (email) DO NOTHING");
                            q.build().persistent(tx.persistent).execute(&mut *tx).await?;

                            let mut q = sqlx::QueryBuilder::<$db>::new(
                                "SELECT id, email FROM users WHERE email IN (",
                            );
                            let mut list = q.separated(", ");
                            for (email, _) in chunk {
                                list.push_bind(email.as_str());
                            }
                            list.push_unseparated(")");
                            let ids: Vec<(Uuid, String)> =
                                q.build_query_as().persistent(tx.persistent).fetch_all(&mut *tx).await?;

                            let mut q = sqlx::QueryBuilder::<$db>::new(
                                "INSERT INTO profiles (user_id, version, created_at, updated_at) ",
                            );
                            q.push_values(&ids, |mut b, (id, _)| {
                                b.push_bind(*id).push_bind(1_i64).push_bind(now).push_bind(now);
                            });
                            q.push(" ON CONFLICT (user_id) DO NOTHING");
                            q.build().persistent(tx.persistent).execute(&mut *tx).await?;
                            found.extend(ids);
                        }
                        tx.commit().await?;
                        Ok(found)
                    })
                }

                fn insert_jobs(
                    &self,
                    user: Uuid,
                    jobs: Vec<(JobFields, Timestamp)>,
                ) -> BoxFut<'_, DbResult<()>> {
                    // Each backend has its own fastest bulk path (COPY on PostgreSQL).
                    Box::pin(self.load_jobs(user, jobs))
                }
            }

        impl ArtifactStore for $store {
                fn create_artifact(&self, user: Uuid, new: NewArtifact) -> BoxFut<'_, DbResult<Artifact>> {
                    Box::pin(async move {
                        let mut tx = self.begin_write("artifacts.create").await?;
                        let row = sqlx::query_as::<$db, Artifact>(sql::ARTIFACT_INSERT)
                            .persistent(tx.persistent)
                            .bind(Uuid::now_v7())
                            .bind(user)
                            .bind(new.job_id)
                            .bind(new.kind)
                            .bind(new.content)
                            .bind(sqlx::types::Json(new.metadata))
                            .bind(new.fingerprint)
                            .bind(Timestamp::now())
                            .fetch_one(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        Ok(row)
                    })
                }

                fn get_artifact(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<Artifact>> {
                    Box::pin(async move {
                        let mut c = self.read("artifacts.get").await?;
                        Ok(sqlx::query_as::<$db, Artifact>(sql::ARTIFACT_GET)
                            .persistent(c.persistent)
                            .bind(id)
                            .bind(user)
                            .fetch_one(&mut *c)
                            .await?)
                    })
                }

                fn update_artifact(
                    &self,
                    user: Uuid,
                    id: Uuid,
                    content: String,
                ) -> BoxFut<'_, DbResult<Artifact>> {
                    Box::pin(async move {
                        let mut tx = self.begin_write("artifacts.update").await?;
                        let row = sqlx::query_as::<$db, Artifact>(sql::ARTIFACT_UPDATE)
                            .persistent(tx.persistent)
                            .bind(id)
                            .bind(user)
                            .bind(content)
                            .bind(Timestamp::now())
                            .fetch_one(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        Ok(row)
                    })
                }

                fn delete_artifact(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<()>> {
                    Box::pin(async move {
                        let mut tx = self.begin_write("artifacts.delete").await?;
                        let done = sqlx::query::<$db>(sql::ARTIFACT_DELETE)
                            .persistent(tx.persistent)
                            .bind(id)
                            .bind(user)
                            .execute(&mut *tx)
                            .await?;
                        if done.rows_affected() == 0 {
                            return Err(DbError::NotFound);
                        }
                        tx.commit().await?;
                        Ok(())
                    })
                }

                fn list_artifacts(
                    &self,
                    user: Uuid,
                    filter: ArtifactFilter,
                    page: Page,
                ) -> BoxFut<'_, DbResult<Paged<Artifact>>> {
                    Box::pin(async move {
                        let mut c = self.read("artifacts.list").await?;
                        let items = sqlx::query_as::<$db, Artifact>(sql::ARTIFACT_PAGES[0])
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(filter.kind.as_deref())
                            .bind(filter.job_id)
                            .bind(page.limit)
                            .bind(page.offset)
                            .fetch_all(&mut *c)
                            .await?;
                        let total = sqlx::query_scalar::<$db, i64>(sql::ARTIFACT_COUNT)
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(filter.kind.as_deref())
                            .bind(filter.job_id)
                            .fetch_one(&mut *c)
                            .await?;
                        Ok(Paged { items, total })
                    })
                }

                fn list_artifacts_after(
                    &self,
                    user: Uuid,
                    filter: ArtifactFilter,
                    after: Position,
                    limit: i64,
                ) -> BoxFut<'_, DbResult<Vec<Artifact>>> {
                    Box::pin(async move {
                        let mut c = self.read("artifacts.list_after").await?;
                        Ok(sqlx::query_as::<$db, Artifact>(sql::ARTIFACT_PAGES[1])
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(filter.kind.as_deref())
                            .bind(filter.job_id)
                            .bind(after.key)
                            .bind(after.id)
                            .bind(limit)
                            .fetch_all(&mut *c)
                            .await?)
                    })
                }

                fn count_artifacts(&self, user: Uuid, filter: ArtifactFilter) -> BoxFut<'_, DbResult<i64>> {
                    Box::pin(async move {
                        let mut c = self.read("artifacts.count").await?;
                        Ok(sqlx::query_scalar::<$db, i64>(sql::ARTIFACT_COUNT)
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(filter.kind.as_deref())
                            .bind(filter.job_id)
                            .fetch_one(&mut *c)
                            .await?)
                    })
                }

                fn reusable_artifact(
                    &self,
                    user: Uuid,
                    job: Uuid,
                    kind: &'static str,
                    fingerprint: String,
                    since: Timestamp,
                ) -> BoxFut<'_, DbResult<Option<Artifact>>> {
                    Box::pin(async move {
                        let mut c = self.read("artifacts.reusable").await?;
                        Ok(sqlx::query_as::<$db, Artifact>(sql::ARTIFACT_REUSE)
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(job)
                            .bind(kind)
                            .bind(fingerprint)
                            .bind(since)
                            .fetch_optional(&mut *c)
                            .await?)
                    })
                }
            }

        impl AnalyticsStore for $store {
                fn get_analytics(
                    &self,
                    user: Uuid,
                    job: Uuid,
                    profile_version: i64,
                ) -> BoxFut<'_, DbResult<Option<StoredAnalytics>>> {
                    Box::pin(async move {
                        let mut c = self.read_replica("analytics.get", user).await?;
                        Ok(sqlx::query_as::<$db, StoredAnalytics>(sql::ANALYTICS_GET)
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(job)
                            .bind(profile_version)
                            .fetch_optional(&mut *c)
                            .await?)
                    })
                }

                fn put_analytics(
                    &self,
                    user: Uuid,
                    job: Uuid,
                    profile_version: i64,
                    score: i64,
                    result: Value,
                ) -> BoxFut<'_, DbResult<()>> {
                    Box::pin(async move {
                        let mut tx = self.begin_write("analytics.put").await?;
                        sqlx::query::<$db>(sql::ANALYTICS_PUT)
                            .persistent(tx.persistent)
                            .bind(Uuid::now_v7())
                            .bind(user)
                            .bind(job)
                            .bind(profile_version)
                            .bind(score)
                            .bind(sqlx::types::Json(result))
                            .bind(Timestamp::now())
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query::<$db>(sql::ANALYTICS_PRUNE)
                            .persistent(tx.persistent)
                            .bind(user)
                            .bind(job)
                            .bind(profile_version)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        Ok(())
                    })
                }
            }

        impl JobStore for $store {
                fn create_job(&self, user: Uuid, f: JobFields) -> BoxFut<'_, DbResult<Job>> {
                    Box::pin(insert_job(self, user, f, false))
                }

                fn create_unique_job(&self, user: Uuid, f: JobFields) -> BoxFut<'_, DbResult<Job>> {
                    Box::pin(insert_job(self, user, f, true))
                }

                fn get_job(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<Job>> {
                    Box::pin(async move {
                        let mut c = self.read("jobs.get_job").await?;
                        let mut job = sqlx::query_as::<$db, Job>(sql::JOB_GET)
                            .persistent(c.persistent)
                            .bind(id)
                            .bind(user)
                            .fetch_one(&mut *c)
                            .await?;
                        let p = c.persistent;
                        load_tags(&mut *c, user, std::slice::from_mut(&mut job), p).await?;
                        Ok(job)
                    })
                }

                fn list_jobs(
                    &self,
                    user: Uuid,
                    filter: JobFilter,
                    sort: JobSort,
                    page: Page,
                ) -> BoxFut<'_, DbResult<Paged<Job>>> {
                    Box::pin(async move {
                        let mut c = self.read("jobs.list_jobs").await?;
                        let status = filter.status.map(JobStatus::as_str);
                        let pattern = filter.q.as_deref().map(sql::like_pattern);
                        let tag = filter.tag.as_deref();
                        let mut items = sqlx::query_as::<$db, Job>(sql::job_pages(sort)[0])
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(status)
                            .bind(pattern.as_deref())
                            .bind(tag)
                            .bind(page.limit)
                            .bind(page.offset)
                            .fetch_all(&mut *c)
                            .await?;
                        let p = c.persistent;
                        load_tags(&mut *c, user, &mut items, p).await?;
                        // On the same connection: a store call never holds one connection
                        // while waiting for another (with a full pool that would deadlock
                        // until the acquire timeout).
                        let total = sqlx::query_scalar::<$db, i64>(sql::JOB_COUNT)
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(status)
                            .bind(pattern.as_deref())
                            .bind(tag)
                            .fetch_one(&mut *c)
                            .await?;
                        Ok(Paged { items, total })
                    })
                }

                fn list_jobs_after(
                    &self,
                    user: Uuid,
                    filter: JobFilter,
                    sort: JobSort,
                    after: Position,
                    limit: i64,
                ) -> BoxFut<'_, DbResult<Vec<Job>>> {
                    Box::pin(async move {
                        let mut c = self.read("jobs.list_jobs_after").await?;
                        let status = filter.status.map(JobStatus::as_str);
                        let pattern = filter.q.as_deref().map(sql::like_pattern);
                        let mut jobs = sqlx::query_as::<$db, Job>(sql::job_pages(sort)[1])
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(status)
                            .bind(pattern.as_deref())
                            .bind(filter.tag.as_deref())
                            .bind(after.key)
                            .bind(after.id)
                            .bind(limit)
                            .fetch_all(&mut *c)
                            .await?;
                        let p = c.persistent;
                        load_tags(&mut *c, user, &mut jobs, p).await?;
                        Ok(jobs)
                    })
                }

                fn count_jobs(&self, user: Uuid, filter: JobFilter) -> BoxFut<'_, DbResult<i64>> {
                    Box::pin(async move {
                        let mut c = self.read("jobs.count_jobs").await?;
                        let status = filter.status.map(JobStatus::as_str);
                        let pattern = filter.q.as_deref().map(sql::like_pattern);
                        Ok(sqlx::query_scalar::<$db, i64>(sql::JOB_COUNT)
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(status)
                            .bind(pattern.as_deref())
                            .bind(filter.tag.as_deref())
                            .fetch_one(&mut *c)
                            .await?)
                    })
                }

                fn update_job(
                    &self,
                    user: Uuid,
                    id: Uuid,
                    patch: Map<String, Value>,
                ) -> BoxFut<'_, DbResult<Job>> {
                    Box::pin(async move {
                        let mut tx = self.begin_write("jobs.update_job").await?;
                        let p = tx.persistent;
                        let mut current = sqlx::query_as::<$db, Job>($job_lock)
                            .persistent(p)
                            .bind(id)
                            .bind(user)
                            .fetch_one(&mut *tx)
                            .await?;
                        load_tags(&mut *tx, user, std::slice::from_mut(&mut current), p).await?;
                        // Read the clock only once the row is ours, so the history's
                        // timestamps follow the order in which the changes were applied.
                        let now = Timestamp::now();
                        let mut f: JobFields = $crate::patch::merge(&current.fields, &patch)?;
                        let tags = normalize_tags(&std::mem::take(&mut f.tags));
                        let status = f.status;
                        let q = sqlx::query_as::<$db, Job>(sql::JOB_UPDATE)
                            .persistent(p)
                            .bind(id)
                            .bind(user)
                            .bind(now);
                        let mut job = bind_job_fields!(q, f).fetch_one(&mut *tx).await?;
                        if tags != current.fields.tags {
                            save_tags(&mut *tx, user, id, &tags, p).await?;
                        }
                        job.fields.tags = tags;
                        if status != current.fields.status {
                            insert_event(
                                &mut tx,
                                user,
                                id,
                                Some(current.fields.status),
                                status,
                                now,
                            )
                            .await?;
                            fire_rules(&mut *tx, user, &job, now, p).await?;
                        }
                        tx.commit().await?;
                        self.wrote(user);
                        Ok(job)
                    })
                }

                fn delete_job(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<()>> {
                    Box::pin(async move {
                        let mut tx = self.begin_write("jobs.delete_job").await?;
                        let done = sqlx::query::<$db>(sql::JOB_DELETE)
                            .persistent(tx.persistent)
                            .bind(id)
                            .bind(user)
                            .execute(&mut *tx)
                            .await?;
                        if done.rows_affected() == 0 {
                            return Err(DbError::NotFound);
                        }
                        tx.commit().await?;
                        self.wrote(user);
                        Ok(())
                    })
                }

                fn list_events(
                    &self,
                    user: Uuid,
                    job: Uuid,
                    page: Page,
                ) -> BoxFut<'_, DbResult<Paged<JobEvent>>> {
                    Box::pin(async move {
                        let mut c = self.read("jobs.list_events").await?;
                        // 404 for a job that is not the user's, rather than an empty list.
                        sqlx::query_as::<$db, Job>(sql::JOB_GET)
                            .persistent(c.persistent)
                            .bind(job)
                            .bind(user)
                            .fetch_one(&mut *c)
                            .await?;
                        let items = sqlx::query_as::<$db, JobEvent>(sql::EVENT_LIST)
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(job)
                            .bind(page.limit)
                            .bind(page.offset)
                            .fetch_all(&mut *c)
                            .await?;
                        let total = sqlx::query_scalar::<$db, i64>(sql::EVENT_COUNT)
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(job)
                            .fetch_one(&mut *c)
                            .await?;
                        Ok(Paged { items, total })
                    })
                }

                fn list_events_after(
                    &self,
                    user: Uuid,
                    job: Uuid,
                    after: Position,
                    limit: i64,
                ) -> BoxFut<'_, DbResult<Vec<JobEvent>>> {
                    Box::pin(async move {
                        let mut c = self.read("jobs.list_events_after").await?;
                        sqlx::query_as::<$db, Job>(sql::JOB_GET)
                            .persistent(c.persistent)
                            .bind(job)
                            .bind(user)
                            .fetch_one(&mut *c)
                            .await?;
                        Ok(sqlx::query_as::<$db, JobEvent>(sql::EVENT_AFTER)
                            .persistent(c.persistent)
                            .bind(user)
                            .bind(job)
                            .bind(after.key)
                            .bind(after.id)
                            .bind(limit)
                            .fetch_all(&mut *c)
                            .await?)
                    })
                }

                fn event_history(&self, user: Uuid) -> BoxFut<'_, DbResult<Vec<StatusChange>>> {
                    Box::pin(async move {
                        let mut c = self.read_replica("jobs.event_history", user).await?;
                        Ok(sqlx::query_as::<$db, StatusChange>(sql::EVENT_HISTORY)
                            .persistent(c.persistent)
                            .bind(user)
                            .fetch_all(&mut *c)
                            .await?)
                    })
                }

                fn job_stats(&self, user: Uuid) -> BoxFut<'_, DbResult<Vec<StatusCount>>> {
                    Box::pin(async move {
                        let mut c = self.read_replica("jobs.job_stats", user).await?;
                        let stats = sqlx::query_as::<$db, StatusCount>(sql::JOB_STATS)
                            .persistent(c.persistent)
                            .bind(user)
                            .fetch_all(&mut *c)
                            .await;
                        match stats {
                            // The replica failed mid-query (shut down, recovery conflict):
                            // the primary answers instead.
                            Err(e) if c.role() == "replica" => {
                                drop(c);
                                self.replica_failed(&e);
                                let mut c = self.read("jobs.job_stats").await?;
                                Ok(sqlx::query_as::<$db, StatusCount>(sql::JOB_STATS)
                                    .persistent(c.persistent)
                                    .bind(user)
                                    .fetch_all(&mut *c)
                                    .await?)
                            }
                            other => Ok(other?),
                        }
                    })
                }
            }
        }
    };
}
