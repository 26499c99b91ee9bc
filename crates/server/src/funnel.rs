//! The application funnel, from the jobs' status history (`job_events`): how many jobs
//! reached each stage of the pipeline, the conversion from one stage to the next, and the
//! median time spent in each status.
//!
//! The pipeline is interested → applied → screening → interviewing → offer → accepted. A
//! job has reached a stage when it was ever in that stage or a later one (skipping a stage
//! still passes it). `rejected` and `withdrawn` end a job's path; they are counted as exits.
//! Time in a status is measured from entering it to the next change; the status a job is in
//! now does not count until it is left.

use flowats_db::models::{JobStatus, StatusChange};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub const PIPELINE: [JobStatus; 6] = [
    JobStatus::Interested,
    JobStatus::Applied,
    JobStatus::Screening,
    JobStatus::Interviewing,
    JobStatus::Offer,
    JobStatus::Accepted,
];

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Stage {
    pub stage: &'static str,
    /// Jobs that were ever in this stage or a later one.
    pub reached: u64,
    /// `reached` of this stage ÷ `reached` of the previous one, as a percentage (two
    /// decimals); `null` for the first stage or when the previous one was never reached.
    pub conversion: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Funnel {
    pub stages: Vec<Stage>,
    /// Jobs that ended rejected / withdrawn (at any time).
    #[schema(value_type = BTreeMap<String, u64>)]
    pub exits: BTreeMap<&'static str, u64>,
    /// Median days spent in each status before the next change (one decimal); `null` when
    /// no job has left that status yet.
    #[schema(value_type = BTreeMap<String, Option<f64>>)]
    pub median_days_in_status: BTreeMap<&'static str, Option<f64>>,
}

/// `history` must be grouped by job and in time order within a job (as the store returns it).
pub fn funnel(history: &[StatusChange]) -> Funnel {
    let mut furthest: Vec<usize> = Vec::new();
    let mut exits: BTreeMap<&'static str, u64> = [JobStatus::Rejected, JobStatus::Withdrawn]
        .iter()
        .map(|s| (s.as_str(), 0))
        .collect();
    let mut durations: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    for job in history.chunk_by(|a, b| a.job_id == b.job_id) {
        let mut best: Option<usize> = None;
        let mut exited: Option<&'static str> = None;
        for (i, change) in job.iter().enumerate() {
            let Some(status) = JobStatus::parse(&change.to_status) else {
                continue;
            };
            if let Some(p) = PIPELINE.iter().position(|s| *s == status) {
                best = best.max(Some(p));
            }
            exited = matches!(status, JobStatus::Rejected | JobStatus::Withdrawn)
                .then(|| status.as_str());
            if let Some(next) = job.get(i + 1) {
                let days =
                    (next.created_at.get() - change.created_at.get()).as_seconds_f64() / 86_400.0;
                durations.entry(status.as_str()).or_default().push(days);
            }
        }
        if let Some(b) = best {
            furthest.push(b);
        }
        if let Some(e) = exited {
            *exits.entry(e).or_default() += 1;
        }
    }
    let mut stages = Vec::with_capacity(PIPELINE.len());
    for (i, stage) in PIPELINE.iter().enumerate() {
        let reached = furthest.iter().filter(|&&f| f >= i).count() as u64;
        let conversion = match stages.last() {
            Some(Stage { reached: prev, .. }) if *prev > 0 => {
                Some((10_000.0 * reached as f64 / *prev as f64).round() / 100.0)
            }
            _ => None,
        };
        stages.push(Stage {
            stage: stage.as_str(),
            reached,
            conversion,
        });
    }
    let median_days_in_status = JobStatus::ALL
        .iter()
        .map(|s| {
            let median = durations.get_mut(s.as_str()).and_then(|d| median(d));
            (s.as_str(), median.map(|m| (m * 10.0).round() / 10.0))
        })
        .collect();
    Funnel {
        stages,
        exits,
        median_days_in_status,
    }
}

/// How fast one source's applications got an answer.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct SourceResponse {
    /// The job's `source`, trimmed and lower-cased; `null` for jobs without one.
    pub source: Option<String>,
    /// Jobs that were ever `applied`.
    pub applied: u64,
    /// Of those, the ones whose status moved on from `applied` to anything but
    /// `withdrawn` (an answer: screening, interviewing, offer, rejected, …).
    pub responded: u64,
    /// `responded` ÷ `applied`, as a percentage (two decimals).
    pub response_rate: Option<f64>,
    /// Median days from entering `applied` to the answer (one decimal).
    pub median_days_to_response: Option<f64>,
}

/// Response times grouped by source, the most applied-to source first. `history` is
/// grouped by job in time order, as for [`funnel`].
pub fn response_by_source(history: &[StatusChange]) -> Vec<SourceResponse> {
    #[derive(Default)]
    struct Acc {
        applied: u64,
        days: Vec<f64>,
    }
    let mut by: BTreeMap<Option<String>, Acc> = BTreeMap::new();
    for job in history.chunk_by(|a, b| a.job_id == b.job_id) {
        let Some(i) = job.iter().position(|c| c.to_status == "applied") else {
            continue;
        };
        let source = job[0]
            .source
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let acc = by.entry(source).or_default();
        acc.applied += 1;
        if let Some(answer) = job[i + 1..]
            .iter()
            .find(|c| c.to_status != "applied")
            .filter(|c| c.to_status != "withdrawn")
        {
            let days =
                (answer.created_at.get() - job[i].created_at.get()).as_seconds_f64() / 86_400.0;
            acc.days.push(days);
        }
    }
    let mut out: Vec<SourceResponse> = by
        .into_iter()
        .map(|(source, mut acc)| {
            let responded = acc.days.len() as u64;
            SourceResponse {
                source,
                applied: acc.applied,
                responded,
                response_rate: Some(
                    (10_000.0 * responded as f64 / acc.applied as f64).round() / 100.0,
                ),
                median_days_to_response: median(&mut acc.days).map(|m| (m * 10.0).round() / 10.0),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.applied
            .cmp(&a.applied)
            .then_with(|| a.source.cmp(&b.source))
    });
    out
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowats_db::Timestamp;
    use uuid::Uuid;

    fn history(jobs: &[&[(&str, i64)]]) -> Vec<StatusChange> {
        sourced(&jobs.iter().map(|j| (None, *j)).collect::<Vec<_>>())
    }

    /// A job's source and its steps: (status, day).
    type Scripted<'a> = (Option<&'a str>, &'a [(&'a str, i64)]);

    fn sourced(jobs: &[Scripted<'_>]) -> Vec<StatusChange> {
        let start = time::macros::datetime!(2026-01-01 00:00 UTC);
        jobs.iter()
            .enumerate()
            .flat_map(|(j, (source, steps))| {
                steps.iter().map(move |(status, day)| StatusChange {
                    job_id: Uuid::from_u128(j as u128 + 1),
                    to_status: (*status).to_owned(),
                    created_at: Timestamp::from(start + time::Duration::days(*day)),
                    source: source.map(str::to_owned),
                })
            })
            .collect()
    }

    #[test]
    fn response_times_by_source() {
        let r = response_by_source(&sourced(&[
            (
                Some("LinkedIn"),
                &[("interested", 0), ("applied", 1), ("screening", 4)],
            ),
            (Some(" linkedin "), &[("applied", 0), ("rejected", 10)]),
            (Some("linkedin"), &[("applied", 0)]),
            (Some("referral"), &[("applied", 0), ("withdrawn", 2)]),
            (None, &[("interested", 0)]),
        ]));
        assert_eq!(
            r,
            [
                SourceResponse {
                    source: Some("linkedin".into()),
                    applied: 3,
                    responded: 2,
                    response_rate: Some(66.67),
                    // 3 and 10 days.
                    median_days_to_response: Some(6.5),
                },
                SourceResponse {
                    source: Some("referral".into()),
                    applied: 1,
                    responded: 0,
                    response_rate: Some(0.0),
                    median_days_to_response: None,
                },
            ]
        );
    }

    #[test]
    fn stages_conversions_exits_and_medians_on_a_scripted_history() {
        let f = funnel(&history(&[
            &[
                ("interested", 0),
                ("applied", 2),
                ("screening", 5),
                ("interviewing", 9),
                ("offer", 20),
                ("accepted", 22),
            ],
            &[("interested", 0), ("applied", 4), ("rejected", 10)],
            &[
                ("interested", 0),
                ("applied", 1),
                ("interviewing", 3),
                ("withdrawn", 4),
            ],
            &[("interested", 0)],
        ]));
        let reached: Vec<(&str, u64, Option<f64>)> = f
            .stages
            .iter()
            .map(|s| (s.stage, s.reached, s.conversion))
            .collect();
        assert_eq!(
            reached,
            [
                ("interested", 4, None),
                ("applied", 3, Some(75.0)),
                // The third job skipped screening on its way to interviewing: it passed it.
                ("screening", 2, Some(66.67)),
                ("interviewing", 2, Some(100.0)),
                ("offer", 1, Some(50.0)),
                ("accepted", 1, Some(100.0)),
            ]
        );
        assert_eq!(f.exits["rejected"], 1);
        assert_eq!(f.exits["withdrawn"], 1);
        // interested: 2, 4, 1 days (the fourth job is still interested) → 2.
        assert_eq!(f.median_days_in_status["interested"], Some(2.0));
        // applied: 3, 6, 2 → 3.
        assert_eq!(f.median_days_in_status["applied"], Some(3.0));
        // interviewing: 11, 1 → 6.
        assert_eq!(f.median_days_in_status["interviewing"], Some(6.0));
        assert_eq!(f.median_days_in_status["accepted"], None);
        assert_eq!(f.median_days_in_status["rejected"], None);
    }

    #[test]
    fn no_history_no_division() {
        let f = funnel(&[]);
        assert!(
            f.stages
                .iter()
                .all(|s| s.reached == 0 && s.conversion.is_none())
        );
    }
}
