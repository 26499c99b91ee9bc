//! The tracker's store implementation, written once and instantiated for each backend by
//! [`impl_tracker_stores!`] (called from `impl_stores!`, inside the same module, so it
//! shares the backend's units of work and the job helpers). See `backend.rs` for the rules
//! every query follows.

/// Binds the record filter's seven parameters in order (see [`crate::sql::tracker`]).
macro_rules! bind_record_filter {
    ($q:expr, $user:expr, $filter:expr) => {{
        let text = $filter.text.as_deref().map($crate::sql::like_pattern);
        $q.bind($user)
            .bind($filter.parent)
            .bind(text)
            .bind($filter.kind.clone())
            .bind($filter.from)
            .bind($filter.to)
            .bind($filter.flag)
    }};
}

/// Binds a job's fields in the column order of `JOB_INSERT` and `JOB_UPDATE` (from `title`
/// on), with its duplicate-detection keys last.
macro_rules! bind_job_fields {
    ($q:expr, $f:expr) => {{
        let f: JobFields = $f;
        let (dedup_url, dedup_name) = $crate::dedup::keys(&f);
        $q.bind(f.title)
            .bind(f.company)
            .bind(f.location)
            .bind(f.url)
            .bind(f.description)
            .bind(f.salary_min)
            .bind(f.salary_max)
            .bind(f.status.as_str())
            .bind(f.deadline)
            .bind(f.notes)
            .bind(f.source)
            .bind(dedup_url)
            .bind(dedup_name)
    }};
}

/// Implements [`crate::store::RecordStore`] for one record table: its SQL module, the
/// parent columns it is created with, its fields in column order, a check of the fields
/// against the database (`no_check` when there is none) and a step before deletion
/// (`no_hook`).
macro_rules! impl_record_store {
    (
        $store:ty, $db:ty, $fields:ty, $sql:ident, $lock:ident,
        parents = [$($parent:ident),*],
        cols = [$($col:ident),+],
        check = $check:ident,
        before_delete = $before_delete:ident $(,)?
    ) => {
        impl RecordStore<$fields> for $store {
            fn list(
                &self,
                user: Uuid,
                filter: RecordFilter,
                page: Page,
            ) -> BoxFut<'_, DbResult<Paged<Record<$fields>>>> {
                Box::pin(async move {
                    let mut c = self.read(concat!(stringify!($sql), ".list")).await?;
                    let q = sqlx::query_as::<$db, Record<$fields>>(sql::tracker::$sql::LIST);
                    let items = bind_record_filter!(q, user, filter)
                        .bind(page.limit)
                        .bind(page.offset)
                        .persistent(c.persistent)
                        .fetch_all(&mut *c)
                        .await?;
                    let q = sqlx::query_scalar::<$db, i64>(sql::tracker::$sql::COUNT);
                    let total = bind_record_filter!(q, user, filter)
                        .persistent(c.persistent)
                        .fetch_one(&mut *c)
                        .await?;
                    Ok(Paged { items, total })
                })
            }

            fn list_after(
                &self,
                user: Uuid,
                filter: RecordFilter,
                after: Position,
                limit: i64,
            ) -> BoxFut<'_, DbResult<Vec<Record<$fields>>>> {
                Box::pin(async move {
                    let mut c = self.read(concat!(stringify!($sql), ".list_after")).await?;
                    let q = sqlx::query_as::<$db, Record<$fields>>(sql::tracker::$sql::AFTER);
                    Ok(bind_record_filter!(q, user, filter)
                        .bind(after.key)
                        .bind(after.id)
                        .bind(limit)
                        .persistent(c.persistent)
                        .fetch_all(&mut *c)
                        .await?)
                })
            }

            fn count(&self, user: Uuid, filter: RecordFilter) -> BoxFut<'_, DbResult<i64>> {
                Box::pin(async move {
                    let mut c = self.read(concat!(stringify!($sql), ".count")).await?;
                    let q = sqlx::query_scalar::<$db, i64>(sql::tracker::$sql::COUNT);
                    Ok(bind_record_filter!(q, user, filter)
                        .persistent(c.persistent)
                        .fetch_one(&mut *c)
                        .await?)
                })
            }

            fn create(
                &self,
                user: Uuid,
                parent: Parent,
                fields: $fields,
            ) -> BoxFut<'_, DbResult<Record<$fields>>> {
                Box::pin(async move {
                    let now = Timestamp::now();
                    let mut tx = self.begin_write(concat!(stringify!($sql), ".create")).await?;
                    let p = tx.persistent;
                    check_parent(&mut *tx, user, parent, p).await?;
                    $check(&mut *tx, user, &fields, p).await?;
                    let row = sqlx::query_as::<$db, Record<$fields>>(sql::tracker::$sql::INSERT)
                        .persistent(p)
                        .bind(Uuid::now_v7())
                        .bind(user)
                        .bind(now)
                        $(.bind(parent.$parent()))*
                        $(.bind(fields.$col))+
                        .fetch_one(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    self.wrote(user);
                    Ok(row)
                })
            }

            fn get(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<Record<$fields>>> {
                Box::pin(async move {
                    let mut c = self.read(concat!(stringify!($sql), ".get")).await?;
                    Ok(sqlx::query_as::<$db, Record<$fields>>(sql::tracker::$sql::GET)
                        .persistent(c.persistent)
                        .bind(id)
                        .bind(user)
                        .fetch_one(&mut *c)
                        .await?)
                })
            }

            fn update(
                &self,
                user: Uuid,
                id: Uuid,
                patch: Map<String, Value>,
            ) -> BoxFut<'_, DbResult<Record<$fields>>> {
                Box::pin(async move {
                    let mut tx = self.begin_write(concat!(stringify!($sql), ".update")).await?;
                    let p = tx.persistent;
                    let current = sqlx::query_as::<$db, Record<$fields>>(sql::tracker::$sql::$lock)
                        .persistent(p)
                        .bind(id)
                        .bind(user)
                        .fetch_one(&mut *tx)
                        .await?;
                    let now = Timestamp::now();
                    let fields: $fields = $crate::patch::merge(&current.fields, &patch)?;
                    $check(&mut *tx, user, &fields, p).await?;
                    let row = sqlx::query_as::<$db, Record<$fields>>(sql::tracker::$sql::UPDATE)
                        .persistent(p)
                        .bind(id)
                        .bind(user)
                        .bind(now)
                        $(.bind(fields.$col))+
                        .fetch_one(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    self.wrote(user);
                    Ok(row)
                })
            }

            fn delete(&self, user: Uuid, id: Uuid) -> BoxFut<'_, DbResult<()>> {
                Box::pin(async move {
                    let mut tx = self.begin_write(concat!(stringify!($sql), ".delete")).await?;
                    let p = tx.persistent;
                    $before_delete(&mut *tx, user, id, p).await?;
                    let done = sqlx::query::<$db>(sql::tracker::$sql::DELETE)
                        .persistent(p)
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
        }
    };
}

/// The tracker's stores and the job helpers `impl_stores!` uses (tags, duplicate keys,
/// follow-up rules). `$lock` picks the record statement a read-modify-write starts with
/// (`LOCK` on PostgreSQL, `GET` on SQLite); `$unlink` is the backend's statement that takes
/// a deleted contact out of interviews.
macro_rules! impl_tracker_stores {
    ($store:ident, $db:ident, $lock:ident, $unlink:expr, $job_lock:expr, $user_lock:expr) => {
        use std::collections::HashMap;
        use $crate::tracker::*;

        type Conn = <$db as sqlx::Database>::Connection;

        async fn no_check<F>(_: &mut Conn, _: Uuid, _: &F, _: bool) -> DbResult<()> {
            Ok(())
        }

        async fn no_hook(_: &mut Conn, _: Uuid, _: Uuid, _: bool) -> DbResult<()> {
            Ok(())
        }

        /// `NotFound` unless the parent is the user's.
        async fn check_parent(c: &mut Conn, user: Uuid, parent: Parent, p: bool) -> DbResult<()> {
            let (statement, id) = match parent {
                Parent::None => return Ok(()),
                Parent::Job(id) => (sql::tracker::JOB_OWNED, id),
                Parent::Contact(id) => (sql::tracker::CONTACT_OWNED, id),
            };
            let n = sqlx::query_scalar::<$db, i64>(statement)
                .persistent(p)
                .bind(id)
                .bind(user)
                .fetch_one(&mut *c)
                .await?;
            if n == 0 {
                Err(DbError::NotFound)
            } else {
                Ok(())
            }
        }

        /// How many of `ids` are the user's contacts.
        async fn owned_contacts(
            c: &mut Conn,
            user: Uuid,
            ids: &[Uuid],
            p: bool,
        ) -> DbResult<usize> {
            if ids.is_empty() {
                return Ok(0);
            }
            let mut q =
                sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*) FROM contacts WHERE user_id = ");
            q.push_bind(user);
            q.push(" AND id IN (");
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
            let n: i64 = q
                .build_query_scalar()
                .persistent(p)
                .fetch_one(&mut *c)
                .await?;
            Ok(n as usize)
        }

        /// Every interviewer must be one of the user's contacts.
        async fn check_interviewers(
            c: &mut Conn,
            user: Uuid,
            f: &InterviewFields,
            p: bool,
        ) -> DbResult<()> {
            if owned_contacts(c, user, &f.interviewer_ids, p).await? != f.interviewer_ids.len() {
                return Err(DbError::Invalid(
                    $crate::validate::ValidationErrors::single(
                        "interviewer_ids",
                        "every interviewer must be one of your contacts",
                    ),
                ));
            }
            Ok(())
        }

        /// A deleted contact leaves the interviews that named it.
        async fn unlink_interviewer(c: &mut Conn, user: Uuid, id: Uuid, p: bool) -> DbResult<()> {
            sqlx::query::<$db>($unlink)
                .persistent(p)
                .bind(user)
                .bind(id.to_string())
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        /// Fills in the tags of each job.
        async fn load_tags(c: &mut Conn, user: Uuid, jobs: &mut [Job], p: bool) -> DbResult<()> {
            match jobs {
                [] => {}
                [job] => {
                    job.fields.tags = sqlx::query_scalar::<$db, String>(sql::tracker::TAGS_OF_JOB)
                        .persistent(p)
                        .bind(user)
                        .bind(job.id)
                        .fetch_all(&mut *c)
                        .await?;
                    job.fields.tags.sort();
                }
                jobs => {
                    let mut q = sqlx::QueryBuilder::<$db>::new(sql::tracker::TAGS_OF_JOBS);
                    q.push_bind(user);
                    q.push(" AND job_id IN (");
                    let mut list = q.separated(", ");
                    for job in jobs.iter() {
                        list.push_bind(job.id);
                    }
                    list.push_unseparated(") ORDER BY job_id, tag");
                    let rows: Vec<(Uuid, String)> =
                        q.build_query_as().persistent(p).fetch_all(&mut *c).await?;
                    let mut by_job: HashMap<Uuid, Vec<String>> = HashMap::new();
                    for (job, tag) in rows {
                        by_job.entry(job).or_default().push(tag);
                    }
                    for job in jobs.iter_mut() {
                        job.fields.tags = by_job.remove(&job.id).unwrap_or_default();
                        // Byte order, as `normalize_tags` sorts: the database's collation
                        // may order otherwise.
                        job.fields.tags.sort();
                    }
                }
            }
            Ok(())
        }

        /// Replaces a job's tags (already normalized).
        async fn save_tags(
            c: &mut Conn,
            user: Uuid,
            job: Uuid,
            tags: &[String],
            p: bool,
        ) -> DbResult<()> {
            sqlx::query::<$db>(sql::tracker::TAGS_DELETE)
                .persistent(p)
                .bind(user)
                .bind(job)
                .execute(&mut *c)
                .await?;
            insert_tags(c, user, job, tags, p).await
        }

        /// Adds tags to a job that has none (a new one).
        async fn insert_tags(
            c: &mut Conn,
            user: Uuid,
            job: Uuid,
            tags: &[String],
            p: bool,
        ) -> DbResult<()> {
            for tag in tags {
                sqlx::query::<$db>(sql::tracker::TAG_INSERT)
                    .persistent(p)
                    .bind(user)
                    .bind(job)
                    .bind(tag.as_str())
                    .execute(&mut *c)
                    .await?;
            }
            Ok(())
        }

        /// The tasks of the user's enabled rules for the status the job just entered.
        async fn fire_rules(
            c: &mut Conn,
            user: Uuid,
            job: &Job,
            now: Timestamp,
            p: bool,
        ) -> DbResult<()> {
            let rules = sqlx::query_as::<$db, TaskRule>(sql::tracker::RULES_FOR_STATUS)
                .persistent(p)
                .bind(user)
                .bind(job.fields.status)
                .bind(true)
                .fetch_all(&mut *c)
                .await?;
            for rule in rules {
                let due = now.get().date() + time::Duration::days(rule.fields.delay_days);
                sqlx::query::<$db>(sql::tracker::TASK_FROM_RULE)
                    .persistent(p)
                    .bind(Uuid::now_v7())
                    .bind(user)
                    .bind(now)
                    .bind(job.id)
                    .bind(rule.id)
                    .bind(
                        rule.fields
                            .task_title(&job.fields.title, &job.fields.company),
                    )
                    .bind(due)
                    .bind(rule.fields.priority)
                    .bind(false)
                    .execute(&mut *c)
                    .await?;
            }
            Ok(())
        }

        /// Takes the user's lock for duplicate-checked writes (`NotFound` if the user is gone).
        async fn lock_user(c: &mut Conn, user: Uuid, p: bool) -> DbResult<()> {
            sqlx::query_scalar::<$db, Uuid>($user_lock)
                .persistent(p)
                .bind(user)
                .fetch_one(&mut *c)
                .await?;
            Ok(())
        }

        /// Computes the duplicate-detection keys of jobs stored before they existed, in
        /// batches; returns how many rows it filled.
        pub(super) async fn backfill_dedup_keys(store: &$store) -> DbResult<u64> {
            const BATCH: i64 = 500;
            let mut filled = 0;
            loop {
                let mut tx = store.begin_write("jobs.backfill_dedup").await?;
                let p = tx.persistent;
                let rows = sqlx::query_as::<$db, (Uuid, Option<String>, String, String)>(
                    sql::tracker::DEDUP_MISSING,
                )
                .persistent(p)
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await?;
                for (id, url, company, title) in &rows {
                    sqlx::query::<$db>(sql::tracker::DEDUP_SET)
                        .persistent(p)
                        .bind(*id)
                        .bind($crate::dedup::url_key(url.as_deref()))
                        .bind($crate::dedup::name_key(company, title))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                filled += rows.len() as u64;
                if (rows.len() as i64) < BATCH {
                    return Ok(filled);
                }
            }
        }

        /// The user's oldest job with the same URL key, else the same name key.
        async fn find_duplicate_in(
            c: &mut Conn,
            user: Uuid,
            url_key: Option<&str>,
            name_key: &str,
            p: bool,
        ) -> DbResult<Option<$crate::error::Duplicate>> {
            if let Some(key) = url_key {
                let found = sqlx::query_scalar::<$db, Uuid>(sql::tracker::DUPLICATE_URL)
                    .persistent(p)
                    .bind(user)
                    .bind(key)
                    .fetch_optional(&mut *c)
                    .await?;
                if let Some(existing_id) = found {
                    return Ok(Some($crate::error::Duplicate {
                        existing_id,
                        matched_on: "url",
                    }));
                }
            }
            let found = sqlx::query_scalar::<$db, Uuid>(sql::tracker::DUPLICATE_NAME)
                .persistent(p)
                .bind(user)
                .bind(name_key)
                .fetch_optional(&mut *c)
                .await?;
            Ok(found.map(|existing_id| $crate::error::Duplicate {
                existing_id,
                matched_on: "company_and_title",
            }))
        }

        impl_record_store!(
            $store,
            $db,
            ContactFields,
            contacts,
            $lock,
            parents = [],
            cols = [name, email, phone, company, role, notes],
            check = no_check,
            before_delete = unlink_interviewer,
        );
        impl_record_store!(
            $store,
            $db,
            InterviewFields,
            interviews,
            $lock,
            parents = [job_id],
            cols = [
                kind,
                scheduled_at,
                duration_minutes,
                format,
                location,
                interviewer_ids,
                preparation_notes,
                outcome
            ],
            check = check_interviewers,
            before_delete = no_hook,
        );
        impl_record_store!(
            $store,
            $db,
            TaskFields,
            tasks,
            $lock,
            parents = [job_id],
            cols = [title, due_date, priority, done, notes],
            check = no_check,
            before_delete = no_hook,
        );
        impl_record_store!(
            $store,
            $db,
            TaskRuleFields,
            task_rules,
            $lock,
            parents = [],
            cols = [status, delay_days, title, priority, enabled],
            check = no_check,
            before_delete = no_hook,
        );
        impl_record_store!(
            $store,
            $db,
            NoteFields,
            notes,
            $lock,
            parents = [job_id, contact_id],
            cols = [body],
            check = no_check,
            before_delete = no_hook,
        );

        async fn job_links(
            c: &mut Conn,
            user: Uuid,
            job: Uuid,
            limit: i64,
            offset: i64,
            p: bool,
        ) -> DbResult<Vec<JobContact>> {
            Ok(sqlx::query_as::<$db, JobContact>(sql::tracker::LINK_LIST)
                .persistent(p)
                .bind(user)
                .bind(job)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *c)
                .await?)
        }

        /// Appends ` AND {column} IN (…ids)` and the ordering to a batch query.
        fn push_ids(
            q: &mut sqlx::QueryBuilder<$db>,
            user: Uuid,
            column: &str,
            ids: &[Uuid],
            order: &str,
        ) {
            q.push_bind(user);
            q.push(format!(" AND {column} IN ("));
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            list.push_unseparated(") ");
            q.push(order.to_owned());
        }

        impl TrackerStore for $store {
            fn check_parent(&self, user: Uuid, parent: Parent) -> BoxFut<'_, DbResult<()>> {
                Box::pin(async move {
                    let mut c = self.read("tracker.check_parent").await?;
                    let p = c.persistent;
                    check_parent(&mut *c, user, parent, p).await
                })
            }

            fn job_contacts(
                &self,
                user: Uuid,
                job: Uuid,
                page: Page,
            ) -> BoxFut<'_, DbResult<Paged<JobContact>>> {
                Box::pin(async move {
                    let mut c = self.read("tracker.job_contacts").await?;
                    let p = c.persistent;
                    check_parent(&mut *c, user, Parent::Job(job), p).await?;
                    let items = job_links(&mut *c, user, job, page.limit, page.offset, p).await?;
                    let total = sqlx::query_scalar::<$db, i64>(sql::tracker::LINK_COUNT)
                        .persistent(p)
                        .bind(user)
                        .bind(job)
                        .fetch_one(&mut *c)
                        .await?;
                    Ok(Paged { items, total })
                })
            }

            fn job_contacts_after(
                &self,
                user: Uuid,
                job: Uuid,
                after: Position,
                limit: i64,
            ) -> BoxFut<'_, DbResult<Vec<JobContact>>> {
                Box::pin(async move {
                    let mut c = self.read("tracker.job_contacts_after").await?;
                    let p = c.persistent;
                    check_parent(&mut *c, user, Parent::Job(job), p).await?;
                    Ok(sqlx::query_as::<$db, JobContact>(sql::tracker::LINK_AFTER)
                        .persistent(p)
                        .bind(user)
                        .bind(job)
                        .bind(after.key)
                        .bind(after.id)
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?)
                })
            }

            fn set_job_contacts(
                &self,
                user: Uuid,
                job: Uuid,
                links: Vec<ContactLink>,
            ) -> BoxFut<'_, DbResult<Vec<JobContact>>> {
                Box::pin(async move {
                    let now = Timestamp::now();
                    let mut tx = self.begin_write("tracker.set_job_contacts").await?;
                    let p = tx.persistent;
                    // The job's row, locked on PostgreSQL: replacements of one job's links
                    // queue instead of colliding on the links' key.
                    sqlx::query_as::<$db, Job>($job_lock)
                        .persistent(p)
                        .bind(job)
                        .bind(user)
                        .fetch_one(&mut *tx)
                        .await?;
                    let ids: Vec<Uuid> = links.iter().map(|l| l.contact_id).collect();
                    if owned_contacts(&mut *tx, user, &ids, p).await? != ids.len() {
                        return Err(DbError::NotFound);
                    }
                    let kept: HashMap<Uuid, Timestamp> =
                        sqlx::query_as::<$db, (Uuid, Timestamp)>(sql::tracker::LINK_TIMES)
                            .persistent(p)
                            .bind(user)
                            .bind(job)
                            .fetch_all(&mut *tx)
                            .await?
                            .into_iter()
                            .collect();
                    sqlx::query::<$db>(sql::tracker::LINK_DELETE)
                        .persistent(p)
                        .bind(user)
                        .bind(job)
                        .execute(&mut *tx)
                        .await?;
                    for link in &links {
                        sqlx::query::<$db>(sql::tracker::LINK_INSERT)
                            .persistent(p)
                            .bind(user)
                            .bind(job)
                            .bind(link.contact_id)
                            .bind(link.role)
                            .bind(kept.get(&link.contact_id).copied().unwrap_or(now))
                            .execute(&mut *tx)
                            .await?;
                    }
                    let all = job_links(&mut *tx, user, job, MAX_JOB_CONTACTS as i64, 0, p).await?;
                    tx.commit().await?;
                    self.wrote(user);
                    Ok(all)
                })
            }

            fn stale_jobs(
                &self,
                user: Uuid,
                before: Timestamp,
                limit: i64,
            ) -> BoxFut<'_, DbResult<(Vec<StaleJob>, i64)>> {
                Box::pin(async move {
                    let mut c = self.read("tracker.stale_jobs").await?;
                    let p = c.persistent;
                    let jobs = sqlx::query_as::<$db, StaleJob>(sql::tracker::STALE_JOBS)
                        .persistent(p)
                        .bind(user)
                        .bind(before)
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?;
                    let count = sqlx::query_scalar::<$db, i64>(sql::tracker::STALE_COUNT)
                        .persistent(p)
                        .bind(user)
                        .bind(before)
                        .fetch_one(&mut *c)
                        .await?;
                    Ok((jobs, count))
                })
            }

            fn export_page(
                &self,
                user: Uuid,
                after: Position,
                limit: i64,
            ) -> BoxFut<'_, DbResult<Vec<ExportedJob>>> {
                Box::pin(async move {
                    let mut c = self.read("tracker.export_page").await?;
                    let p = c.persistent;
                    let mut jobs = sqlx::query_as::<$db, Job>(sql::JOB_PAGES_OLDEST[1])
                        .persistent(p)
                        .bind(user)
                        .bind(None::<&str>)
                        .bind(None::<&str>)
                        .bind(None::<&str>)
                        .bind(after.key)
                        .bind(after.id)
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?;
                    if jobs.is_empty() {
                        return Ok(Vec::new());
                    }
                    load_tags(&mut *c, user, &mut jobs, p).await?;
                    let ids: Vec<Uuid> = jobs.iter().map(|j| j.id).collect();
                    let mut q = sqlx::QueryBuilder::<$db>::new(sql::tracker::EXPORT_EVENTS);
                    push_ids(
                        &mut q,
                        user,
                        "job_id",
                        &ids,
                        "ORDER BY job_id, created_at, id",
                    );
                    let events: Vec<(Uuid, String, Timestamp)> =
                        q.build_query_as().persistent(p).fetch_all(&mut *c).await?;
                    let mut q = sqlx::QueryBuilder::<$db>::new(sql::tracker::EXPORT_CONTACTS);
                    push_ids(
                        &mut q,
                        user,
                        "l.job_id",
                        &ids,
                        "ORDER BY l.job_id, c.name, c.email, l.contact_id",
                    );
                    let contacts: Vec<(Uuid, String, Option<String>, Option<ContactRole>)> =
                        q.build_query_as().persistent(p).fetch_all(&mut *c).await?;
                    let mut history: HashMap<Uuid, Vec<(String, Timestamp)>> = HashMap::new();
                    for (job, status, at) in events {
                        history.entry(job).or_default().push((status, at));
                    }
                    let mut linked: HashMap<Uuid, Vec<ExportedContact>> = HashMap::new();
                    for (job, name, email, role) in contacts {
                        linked
                            .entry(job)
                            .or_default()
                            .push(ExportedContact { name, email, role });
                    }
                    Ok(jobs
                        .into_iter()
                        .map(|job| ExportedJob {
                            history: history.remove(&job.id).unwrap_or_default(),
                            contacts: linked.remove(&job.id).unwrap_or_default(),
                            job,
                        })
                        .collect())
                })
            }

            fn import_jobs(
                &self,
                user: Uuid,
                jobs: Vec<ImportedJob>,
                unique: bool,
            ) -> BoxFut<'_, DbResult<ImportOutcome>> {
                Box::pin(async move {
                    let now = Timestamp::now();
                    let mut tx = self.begin_write("tracker.import_jobs").await?;
                    let p = tx.persistent;
                    if unique {
                        lock_user(&mut *tx, user, p).await?;
                        let mut found = Vec::new();
                        let mut urls: HashMap<String, usize> = HashMap::new();
                        let mut names: HashMap<String, usize> = HashMap::new();
                        for (i, job) in jobs.iter().enumerate() {
                            let (url, name) = $crate::dedup::keys(&job.fields);
                            let existing =
                                find_duplicate_in(&mut *tx, user, url.as_deref(), &name, p).await?;
                            let earlier = url
                                .as_ref()
                                .and_then(|u| urls.get(u))
                                .or_else(|| names.get(&name));
                            match (existing, earlier) {
                                (Some(d), _) => found.push((i, DuplicateOf::Job(d))),
                                (None, Some(j)) => found.push((i, DuplicateOf::Earlier(*j))),
                                (None, None) => {}
                            }
                            if let Some(u) = url {
                                urls.entry(u).or_insert(i);
                            }
                            names.entry(name).or_insert(i);
                        }
                        if !found.is_empty() {
                            return Ok(ImportOutcome::Duplicates(found));
                        }
                    }
                    let mut known: HashMap<String, Uuid> = HashMap::new();
                    let mut summary = ImportSummary {
                        imported: 0,
                        contacts_created: 0,
                    };
                    for job in jobs {
                        let id = Uuid::now_v7();
                        let tags = normalize_tags(&job.fields.tags);
                        let q = sqlx::query::<$db>(sql::tracker::JOB_IMPORT)
                            .persistent(p)
                            .bind(id)
                            .bind(user)
                            .bind(job.created_at)
                            .bind(job.updated_at);
                        bind_job_fields!(q, job.fields).execute(&mut *tx).await?;
                        let mut from = None;
                        for (status, at) in job.history {
                            insert_event(&mut tx, user, id, from, status, at).await?;
                            from = Some(status);
                        }
                        insert_tags(&mut *tx, user, id, &tags, p).await?;
                        for contact in job.contacts {
                            let key = match &contact.email {
                                Some(e) => format!("email:{}", e.to_lowercase()),
                                None => format!("name:{}", contact.name),
                            };
                            let contact_id = match known.get(&key) {
                                Some(id) => *id,
                                None => {
                                    let found = match &contact.email {
                                        Some(e) => {
                                            sqlx::query_scalar::<$db, Uuid>(
                                                sql::tracker::CONTACT_BY_EMAIL,
                                            )
                                            .persistent(p)
                                            .bind(user)
                                            .bind(e.to_lowercase())
                                            .fetch_optional(&mut *tx)
                                            .await?
                                        }
                                        None => {
                                            sqlx::query_scalar::<$db, Uuid>(
                                                sql::tracker::CONTACT_BY_NAME,
                                            )
                                            .persistent(p)
                                            .bind(user)
                                            .bind(contact.name.as_str())
                                            .fetch_optional(&mut *tx)
                                            .await?
                                        }
                                    };
                                    let id = match found {
                                        Some(id) => id,
                                        None => {
                                            let id = Uuid::now_v7();
                                            sqlx::query::<$db>(sql::tracker::contacts::INSERT)
                                                .persistent(p)
                                                .bind(id)
                                                .bind(user)
                                                .bind(now)
                                                .bind(contact.name.as_str())
                                                .bind(contact.email.as_deref())
                                                .bind(None::<&str>)
                                                .bind(None::<&str>)
                                                .bind(contact.role)
                                                .bind(None::<&str>)
                                                .execute(&mut *tx)
                                                .await?;
                                            summary.contacts_created += 1;
                                            id
                                        }
                                    };
                                    known.insert(key, id);
                                    id
                                }
                            };
                            sqlx::query::<$db>(sql::tracker::LINK_INSERT)
                                .persistent(p)
                                .bind(user)
                                .bind(id)
                                .bind(contact_id)
                                .bind(contact.role)
                                .bind(now)
                                .execute(&mut *tx)
                                .await?;
                        }
                        summary.imported += 1;
                    }
                    tx.commit().await?;
                    self.wrote(user);
                    Ok(ImportOutcome::Imported(summary))
                })
            }
        }
    };
}
