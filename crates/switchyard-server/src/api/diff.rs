//! `GET /api/v1/environments/{env}/diff?from=&to=`: the plain-words diff and the impact preview
//! between two commits of the environment's history, compiled from the local objects.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchyard_core::{diff, impact};
use switchyard_sync::at_commit::AtError;

use crate::error::ApiError;
use crate::impact_json::ImpactJson;
use crate::state::AppState;

/// `?from=&to=`: two commits (full SHA or at least 7 hex digits) of the history.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The diff and impact of going from `from` to `to`; at most [`crate::state::MAX_DIFFS`] run at
/// once (a 503 beyond), each on a blocking thread.
pub(crate) async fn diff_commits(
    State(state): State<AppState>,
    Path(env): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, ApiError> {
    let required = |v: Option<String>, name: &str| {
        v.filter(|s| !s.is_empty()).ok_or_else(|| {
            ApiError::invalid(format!(
                "query parameter {name} is required: a commit of the environment's history (/api/v1/sync/history)"
            ))
        })
    };
    let (from, to) = (required(q.from, "from")?, required(q.to, "to")?);
    let Ok(permit) = state.diff_permits().clone().try_acquire_owned() else {
        return Err(ApiError::not_ready(
            "too many diffs are being computed; retry in a moment",
        ));
    };
    let sync = state.sync_arc();
    let body = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let old = sync.compile_recorded(&env, &from).map_err(at_error)?;
        let new = sync.compile_recorded(&env, &to).map_err(at_error)?;
        let d = diff(&old, &new);
        let i = impact(&old, &new, &d, &[]);
        let (a, b) = (old.revision.unwrap_or(from), new.revision.unwrap_or(to));
        serde_json::to_vec(&ImpactJson::new(&env, (&a, &b), &d, &i))
            .map_err(|e| ApiError::internal(format!("writing the diff: {e}")))
    })
    .await
    .map_err(|e| ApiError::internal(format!("computing the diff: {e}")))??;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

fn at_error(e: AtError) -> ApiError {
    match e {
        AtError::UnknownEnvironment(_)
        | AtError::NotInHistory { .. }
        | AtError::UnknownRevision { .. } => ApiError::not_found(e.to_string()),
        AtError::NoRepository(_) | AtError::Invalid { .. } => ApiError::invalid(e.to_string()),
        AtError::Read(_) | AtError::Open { .. } => ApiError::internal(e.to_string()),
    }
}
