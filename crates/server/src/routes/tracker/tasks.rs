//! Tasks (optionally tied to a job) and the follow-up rules that create them when a job
//! enters a status.

use super::{Parent, RecordList, create_record, list_records, one_of, record_item_routes};
use crate::app::AppState;
use crate::cache::Ns;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AuthUser, Input, PathId};
use crate::pagination::{ListQuery, PageOf, PageParams};
use crate::routes::CachedJson;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use flowats_db::models::JobStatus;
use flowats_db::tracker::Record;
use flowats_db::tracker::{Priority, RecordFilter, Task, TaskFields, TaskRule, TaskRuleFields};
use serde::Deserialize;
use time::{Date, Duration};
use utoipa::{IntoParams, ToSchema};

/// `due`: which open tasks by due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Due {
    /// Due before today.
    Overdue,
    /// Due today.
    Today,
    /// Due today or in the seven days after.
    Week,
}

impl Due {
    const ALL: [Due; 3] = [Due::Overdue, Due::Today, Due::Week];

    fn as_str(self) -> &'static str {
        match self {
            Due::Overdue => "overdue",
            Due::Today => "today",
            Due::Week => "week",
        }
    }
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; parsing is done by ListQuery
pub struct TaskListParams {
    /// Open tasks due before today (`overdue`), today (`today`), or from today through
    /// today + 7 days (`week`).
    #[param(inline)]
    due: Option<Due>,
    /// Only done (`true`) or open (`false`) tasks. With `due`, only `false`.
    done: Option<bool>,
    #[param(inline)]
    priority: Option<Priority>,
    /// Your local date (`YYYY-MM-DD`), which `due` counts from; default the server's UTC
    /// date. At most a day from it.
    #[param(format = Date)]
    today: Option<String>,
}

fn param_error(name: &str, message: String) -> ApiError {
    ApiError::bad_request(message).with_details(serde_json::json!({"parameter": name}))
}

fn task_filter(query: &ListQuery, job: Option<uuid::Uuid>) -> ApiResult<RecordFilter> {
    let names = || Due::ALL.map(Due::as_str).join(", ");
    let due = one_of(
        query,
        "due",
        |s| Due::ALL.into_iter().find(|d| d.as_str() == s),
        names(),
    )?;
    let done = match query.filter("done") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(v) => {
            return Err(param_error(
                "done",
                format!("`done` must be true or false, got {v:?}"),
            ));
        }
    };
    let priority = one_of(query, "priority", Priority::parse, Priority::names())?;
    let server_today = time::OffsetDateTime::now_utc().date();
    let today = match query.filter("today") {
        None => server_today,
        Some(v) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            match Date::parse(v, &format) {
                Ok(d) if (d - server_today).whole_days().abs() <= 1 => d,
                _ => {
                    return Err(param_error(
                        "today",
                        format!(
                            "`today` must be a date (YYYY-MM-DD) within a day of {server_today}, got {v:?}"
                        ),
                    ));
                }
            }
        }
    };
    let (from, to) = match due {
        None => (None, None),
        Some(Due::Overdue) => (None, today.previous_day()),
        Some(Due::Today) => (Some(today), Some(today)),
        Some(Due::Week) => (Some(today), today.checked_add(Duration::days(7))),
    };
    if due.is_some() && done == Some(true) {
        return Err(param_error(
            "done",
            "`due` lists open tasks: leave out `done` or send `done=false`".into(),
        ));
    }
    Ok(RecordFilter {
        parent: job,
        kind: priority.map(|p| p.as_str().to_owned()),
        from,
        to,
        flag: if due.is_some() { Some(false) } else { done },
        ..RecordFilter::default()
    })
}

fn task_list(
    state: &AppState,
    user: uuid::Uuid,
    filter: RecordFilter,
    parent: Parent,
) -> RecordList<'_, TaskFields> {
    RecordList {
        state,
        user,
        store: &state.db.tasks,
        ns: Ns::Tasks,
        kind: "tasks",
        filter,
        parent,
    }
}

const TASK_FILTERS: &[&str] = &["due", "done", "priority", "today"];

/// Your tasks, newest first; `due=overdue|today|week` for what needs doing.
#[utoipa::path(get, path = "/api/tasks", tag = "tracker", security(("bearer" = [])),
    params(PageParams, TaskListParams),
    responses((status = 200, body = PageOf<Record<TaskFields>>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    query: ListQuery,
) -> ApiResult<CachedJson> {
    let query = query.allow(TASK_FILTERS)?;
    let filter = task_filter(&query, None)?;
    list_records(task_list(&state, user, filter, Parent::None), &query).await
}

/// Add a task that is not tied to a job.
#[utoipa::path(post, path = "/api/tasks", tag = "tracker", security(("bearer" = [])),
    request_body = TaskFields,
    responses((status = 201, body = Record<TaskFields>), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Input(fields): Input<TaskFields>,
) -> ApiResult<(StatusCode, Json<Task>)> {
    let parent = Parent::None;
    create_record(
        &state,
        user,
        &state.db.tasks,
        parent,
        fields,
        Ns::invalidated_by_task_write(),
    )
    .await
}

/// The job's tasks, newest first.
#[utoipa::path(get, path = "/api/jobs/{id}/tasks", tag = "tracker", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), PageParams, TaskListParams),
    responses((status = 200, body = PageOf<Record<TaskFields>>), (status = 404, body = ErrorBody)))]
pub async fn list_for_job(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    query: ListQuery,
) -> ApiResult<CachedJson> {
    let query = query.allow(TASK_FILTERS)?;
    let filter = task_filter(&query, Some(id))?;
    list_records(task_list(&state, user, filter, Parent::Job(id)), &query).await
}

/// Add a task tied to the job (deleted with it).
#[utoipa::path(post, path = "/api/jobs/{id}/tasks", tag = "tracker", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    request_body = TaskFields,
    responses((status = 201, body = Record<TaskFields>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_for_job(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    Input(fields): Input<TaskFields>,
) -> ApiResult<(StatusCode, Json<Task>)> {
    let parent = Parent::Job(id);
    create_record(
        &state,
        user,
        &state.db.tasks,
        parent,
        fields,
        Ns::invalidated_by_task_write(),
    )
    .await
}

record_item_routes!(
    tasks,
    TaskFields,
    "tasks",
    Ns::Tasks,
    Ns::invalidated_by_task_write(),
    "/api/tasks/{id}",
    "tracker"
);

/// Follow-up rules: `/api/task-rules`.
pub mod rules {
    use super::*;

    #[derive(IntoParams)]
    #[into_params(parameter_in = Query)]
    #[allow(dead_code)] // documents the parameters; parsing is done by ListQuery
    pub struct RuleListParams {
        /// Only rules for this status.
        status: Option<JobStatus>,
    }

    /// Your follow-up rules, newest first.
    #[utoipa::path(get, path = "/api/task-rules", tag = "tracker", security(("bearer" = [])),
        params(PageParams, RuleListParams),
        responses((status = 200, body = PageOf<Record<TaskRuleFields>>), (status = 400, body = ErrorBody)))]
    pub async fn list(
        State(state): State<AppState>,
        AuthUser(user): AuthUser,
        query: ListQuery,
    ) -> ApiResult<CachedJson> {
        let query = query.allow(&["status"])?;
        let names = JobStatus::ALL.map(JobStatus::as_str).join(", ");
        let status = one_of(&query, "status", JobStatus::parse, names)?;
        let list = RecordList {
            state: &state,
            user,
            store: &state.db.task_rules,
            ns: Ns::Tasks,
            kind: "task_rules",
            filter: RecordFilter {
                kind: status.map(|s| s.as_str().to_owned()),
                ..RecordFilter::default()
            },
            parent: Parent::None,
        };
        list_records(list, &query).await
    }

    /// Add a rule: whenever one of your jobs enters `status` (created in it, or changed to
    /// it), a task titled from the rule is created for that job, due `delay_days` later.
    #[utoipa::path(post, path = "/api/task-rules", tag = "tracker", security(("bearer" = [])),
        request_body = TaskRuleFields,
        responses((status = 201, body = Record<TaskRuleFields>), (status = 422, body = ErrorBody)))]
    pub async fn create(
        State(state): State<AppState>,
        AuthUser(user): AuthUser,
        Input(fields): Input<TaskRuleFields>,
    ) -> ApiResult<(StatusCode, Json<TaskRule>)> {
        let parent = Parent::None;
        let store = &state.db.task_rules;
        create_record(
            &state,
            user,
            store,
            parent,
            fields,
            Ns::invalidated_by_task_write(),
        )
        .await
    }

    record_item_routes!(
        task_rules,
        TaskRuleFields,
        "task_rules",
        Ns::Tasks,
        Ns::invalidated_by_task_write(),
        "/api/task-rules/{id}",
        "tracker"
    );
}
