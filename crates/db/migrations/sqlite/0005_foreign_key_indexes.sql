-- An index for every foreign key whose column no index leads with. Deleting (or
-- cascading to) a parent row looks its children up by the referencing column; without
-- these, each deleted job scanned job_events, interviews, tasks, notes and the analytics
-- cache whole, and each deleted contact scanned job_contacts and notes. The per-user
-- indexes lead with user_id, so they cannot serve these look-ups. The user_id foreign keys
-- are served by those per-user indexes; job_tags(job_id) and job_contacts(job_id) by their
-- primary keys. A test checks every foreign key of every table.
CREATE INDEX idx_job_events_job ON job_events (job_id);
CREATE INDEX idx_ai_artifacts_job ON ai_artifacts (job_id);
CREATE INDEX idx_analytics_job ON job_analytics_cache (job_id);
CREATE INDEX idx_job_contacts_contact_id ON job_contacts (contact_id);
CREATE INDEX idx_interviews_job ON interviews (job_id);
CREATE INDEX idx_tasks_job ON tasks (job_id);
CREATE INDEX idx_tasks_rule ON tasks (rule_id);
CREATE INDEX idx_notes_job ON notes (job_id);
CREATE INDEX idx_notes_contact ON notes (contact_id);
