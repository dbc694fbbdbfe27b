//! The admin API under `/api/admin/v1`: the workspace's actions for programs, in JSON.
//! Sign in with `POST /api/admin/v1/session` (the answer sets the session cookie and gives
//! the CSRF token, which every unsafe request repeats in `X-CSRF-Token`); read a project
//! with its `ETag`, change it with `PATCH` and `If-Match` (412 when it changed meanwhile);
//! take review steps; read the audit log. Errors are `{"error": {"code", "message"}}` with the
//! field errors of a 422 in `fields`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keikaku_core::audit::{AuditRecord, FieldChange};
use keikaku_core::diagnostic::Lang;
use keikaku_core::form::{FieldError, ProjectForm};
use keikaku_core::workspace::Transition;
use keikaku_core::{FiscalYear, MunicipalityCode};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::{ClientSource, SESSION_COOKIE, Signed, place, set_cookie, status_of};
use crate::ops::accounts::{self, SignInRefused};
use crate::ops::workspace::{self, Acting, ProjectView, SaveProject, WorkspaceError};
use crate::storage::audit::AuditFilter;
use crate::storage::write::Via;
use crate::web::AppState;

const LANG: Lang = Lang::En;

/// A JSON request body whose problems (not JSON, wrong content type, missing or unknown
/// fields) are answered as the API's JSON errors.
pub(super) struct Body<T>(T);

impl<T, S> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => {
                let status = rejection.status();
                let code = match status {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
                    StatusCode::UNPROCESSABLE_ENTITY => "invalid",
                    StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
                    _ => "bad_request",
                };
                Err(error(
                    status,
                    code,
                    rejection.body_text(),
                    serde_json::json!({}),
                ))
            }
        }
    }
}

/// The admin API's part of the OpenAPI document (merged into the public API's).
#[derive(OpenApi)]
#[openapi(
    paths(sign_in, sign_out, get_project, patch_project, step, audit),
    components(schemas(SignIn, SignedInBody, ProjectJson, ProjectPatch, CostJson, StepBody, StepDone, PartJson)),
    tags((name = "admin", description = "The staff workspace (sign-in required): projects of draft editions, review steps, the audit log. \
        Sign in with POST /api/admin/v1/session; send the session cookie it sets, and on every unsafe request the X-CSRF-Token header with the csrf_token it answered. \
        Error codes: unauthorized (401), csrf and forbidden (403), not_found (404, also for another municipality's objects), \
        published, locked, conflict, unapproved, incomplete (409), stale (412), invalid, comment_required, reason_required (422), version_required (428)."))
)]
pub struct AdminApiDoc;

fn error(status: StatusCode, code: &str, message: String, extra: serde_json::Value) -> Response {
    let mut body = serde_json::json!({ "error": { "code": code, "message": message } });
    if let (Some(target), serde_json::Value::Object(fields)) =
        (body["error"].as_object_mut(), extra)
    {
        target.extend(fields);
    }
    (status, Json(body)).into_response()
}

fn field_json(e: &FieldError) -> serde_json::Value {
    serde_json::json!({
        "field": e.field.as_ref().map(|f| f.0.clone()),
        "code": e.code.as_str(),
        "message": e.message(LANG),
    })
}

fn change_json(c: &FieldChange) -> serde_json::Value {
    serde_json::json!({ "field": c.field, "old": c.old, "new": c.new })
}

fn refused(err: &WorkspaceError) -> Response {
    let (status, code) = status_of(err);
    if status.is_server_error() {
        tracing::error!(error = ?err, "admin API request failed");
        return error(
            status,
            code,
            "the request could not be completed".into(),
            serde_json::json!({}),
        );
    }
    let extra = match err {
        WorkspaceError::Invalid(errors) => {
            serde_json::json!({ "fields": errors.iter().map(field_json).collect::<Vec<_>>() })
        }
        WorkspaceError::Stale(stale) => serde_json::json!({
            "current_version": stale.current_version,
            "differences": stale.differences.iter().map(change_json).collect::<Vec<_>>(),
        }),
        _ => serde_json::json!({}),
    };
    error(status, code, err.message(LANG), extra)
}

fn acting(signed: &Signed) -> Acting<'_> {
    Acting {
        actor: &signed.actor,
        login: &signed.account.login,
        via: Via::Api,
    }
}

/// Sign-in request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SignIn {
    login: String,
    password: String,
}

/// The answer to a sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SignedInBody {
    /// Repeat in the `X-CSRF-Token` header of every unsafe request.
    csrf_token: String,
    login: String,
    /// admin, planning, department or viewer.
    role: String,
    municipality: Option<String>,
    departments: Vec<String>,
}

/// `POST /api/admin/v1/session`: `{"login", "password"}` → the session cookie and
/// `{"csrf_token", "login", "role"}`. JSON only: a form of another site cannot send it.
#[utoipa::path(post, path = "/api/admin/v1/session", tag = "admin",
    request_body = SignIn,
    responses(
        (status = 200, description = "Signed in: the session cookie is set (HttpOnly, SameSite=Strict)", body = SignedInBody),
        (status = 400, description = "Malformed JSON", body = crate::web::error::ErrorBody),
        (status = 401, description = "Wrong login or password, or sign-in paused after repeated failures (the same answer either way)", body = crate::web::error::ErrorBody),
        (status = 415, description = "Not JSON", body = crate::web::error::ErrorBody),
        (status = 422, description = "Missing fields", body = crate::web::error::ErrorBody),
))]
pub(super) async fn sign_in(
    State(state): State<AppState>,
    ClientSource(source): ClientSource,
    Body(body): Body<SignIn>,
) -> Response {
    match accounts::sign_in(
        &state.store,
        &state.workspace.config,
        &source,
        body.login.trim(),
        &body.password,
    )
    .await
    {
        Ok(Ok(signed)) => {
            let mut response = Json(SignedInBody {
                csrf_token: signed.csrf_token,
                login: signed.account.login,
                role: signed.account.role.as_str().to_owned(),
                municipality: signed
                    .account
                    .municipality
                    .as_ref()
                    .map(|c| c.as_str().to_owned()),
                departments: signed.account.departments,
            })
            .into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&state, SESSION_COOKIE, Some(&signed.token)),
            );
            response
        }
        Ok(Err(refusal)) => {
            // The same answer for an unknown login, a wrong password and a paused account.
            tracing::info!(login = %body.login.trim(), reason = %refusal.message(LANG), "sign-in refused");
            error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                SignInRefused::public_message(LANG),
                serde_json::json!({}),
            )
        }
        Err(err) => refused(&WorkspaceError::Ops(err)),
    }
}

/// `DELETE /api/admin/v1/session`: ends the session.
#[utoipa::path(delete, path = "/api/admin/v1/session", tag = "admin",
    params(("X-CSRF-Token" = String, Header, description = "The csrf_token of the sign-in")),
    responses(
        (status = 204, description = "Signed out; the session ends in the database too"),
        (status = 401, description = "No session", body = crate::web::error::ErrorBody),
        (status = 403, description = "Missing or wrong X-CSRF-Token (csrf)", body = crate::web::error::ErrorBody)))]
pub(super) async fn sign_out(State(state): State<AppState>, signed: Signed) -> Response {
    let _ = accounts::sign_out(&state.store, signed.token()).await;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, None));
    response
}

/// One year's amounts in 千円: `null` is a stated "no amount" (`-`), never 0.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CostJson {
    year: i32,
    total: Option<i64>,
    #[serde(default)]
    earmarked: Option<i64>,
    #[serde(default)]
    general: Option<i64>,
}

/// A department's part of the edition and its review state.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PartJson {
    department: String,
    /// open, submitted, returned, approved or final.
    state: String,
}

/// A project as the admin API shows it (the canonical JSON's field names).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ProjectJson {
    id: String,
    policy: String,
    number: u32,
    name: String,
    summary: String,
    status: String,
    departments: Vec<String>,
    strategies: Vec<String>,
    costs: Vec<CostJson>,
    /// The version to send back in `If-Match` (also the `ETag`).
    version: String,
    parts: Vec<PartJson>,
}

fn project_json(view: &ProjectView) -> ProjectJson {
    let p = &view.project;
    ProjectJson {
        id: p.id.as_str().to_owned(),
        policy: view.policy.to_string(),
        number: p.number,
        name: p.name.clone(),
        summary: p.summary.clone(),
        status: p.status.label().to_owned(),
        departments: p.departments.clone(),
        strategies: p.strategies.iter().map(|s| s.raw.clone()).collect(),
        costs: p
            .costs
            .iter()
            .map(|c| CostJson {
                year: c.year.year(),
                total: c.total.map(|m| m.thousand_yen()),
                earmarked: c.earmarked.map(|m| m.thousand_yen()),
                general: c.general.map(|m| m.thousand_yen()),
            })
            .collect(),
        version: view.version.clone(),
        parts: view
            .parts
            .iter()
            .map(|(d, s)| PartJson {
                department: d.clone(),
                state: s.key().to_owned(),
            })
            .collect(),
    }
}

fn with_etag(view: &ProjectView) -> Response {
    let mut response = Json(project_json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", view.version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// `GET …/projects/{id}`: the project with its `ETag`.
#[utoipa::path(get, path = "/api/admin/v1/municipalities/{code}/editions/{edition}/projects/{id}", tag = "admin",
    params(
        ("code" = String, Path, description = "全国地方公共団体コード", example = "072052"),
        ("edition" = String, Path, description = "計画期間", example = "r3-r5"),
        ("id" = String, Path, description = "The project's stable id")),
    responses(
        (status = 200, description = "The project; the ETag header is its version", body = ProjectJson),
        (status = 401, description = "No session", body = crate::web::error::ErrorBody),
        (status = 404, description = "No such project, edition or municipality (another municipality's objects read as not found)", body = crate::web::error::ErrorBody)))]
pub(super) async fn get_project(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition, id)): Path<(String, String, String)>,
) -> Response {
    let (code, span) = match place(&code, &edition) {
        Ok(found) => found,
        Err(err) => return refused(&err),
    };
    match workspace::project(&state.store, &signed.actor, &code, span, &id).await {
        Ok((_, view)) => with_etag(&view),
        Err(err) => refused(&err),
    }
}

/// A change to a project: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ProjectPatch {
    policy: Option<String>,
    number: Option<u32>,
    name: Option<String>,
    summary: Option<String>,
    status: Option<String>,
    departments: Option<Vec<String>>,
    strategies: Option<Vec<String>>,
    /// Years given replace those years; other years keep their amounts.
    costs: Option<Vec<CostJson>>,
    /// The reason for the change (変更理由), recorded with it.
    #[serde(default)]
    comment: String,
}

fn amount(value: Option<i64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// `PATCH …/projects/{id}` with `If-Match`: changes the fields given.
#[utoipa::path(patch, path = "/api/admin/v1/municipalities/{code}/editions/{edition}/projects/{id}", tag = "admin",
    params(
        ("code" = String, Path, description = "全国地方公共団体コード", example = "072052"),
        ("edition" = String, Path, description = "計画期間", example = "r3-r5"),
        ("id" = String, Path, description = "The project's stable id"),
        ("If-Match" = String, Header, description = "The version (ETag) the change was made from"),
        ("X-CSRF-Token" = String, Header, description = "The csrf_token of the sign-in")),
    request_body = ProjectPatch,
    responses(
        (status = 200, description = "Saved (validated as every import; each changed field on record)", body = ProjectJson),
        (status = 401, description = "No session", body = crate::web::error::ErrorBody),
        (status = 403, description = "The role or department may not (forbidden), or the CSRF token is wrong (csrf)", body = crate::web::error::ErrorBody),
        (status = 404, description = "Not found (or another municipality's)", body = crate::web::error::ErrorBody),
        (status = 409, description = "Published edition (published) or a part handed in (locked)", body = crate::web::error::ErrorBody),
        (status = 412, description = "Changed since the version given (stale): error.differences lists the fields", body = crate::web::error::ErrorBody),
        (status = 422, description = "Invalid (error.fields names each field), or a correction without a reason", body = crate::web::error::ErrorBody),
        (status = 428, description = "If-Match missing", body = crate::web::error::ErrorBody)))]
pub(super) async fn patch_project(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path((code, edition, id)): Path<(String, String, String)>,
    Body(patch): Body<ProjectPatch>,
) -> Response {
    let (code, span) = match place(&code, &edition) {
        Ok(found) => found,
        Err(err) => return refused(&err),
    };
    let (_, view) = match workspace::project(&state.store, &signed.actor, &code, span, &id).await {
        Ok(found) => found,
        Err(err) => return refused(&err),
    };
    let version = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_owned()
        });
    let mut form = ProjectForm::of(view.policy, &view.project, span);
    if let Some(v) = patch.policy {
        form.policy = v;
    }
    if let Some(v) = patch.number {
        form.number = v.to_string();
    }
    if let Some(v) = patch.name {
        form.name = v;
    }
    if let Some(v) = patch.summary {
        form.summary = v;
    }
    if let Some(v) = patch.status {
        form.status = v;
    }
    if let Some(v) = patch.departments {
        form.departments = v.join("、");
    }
    if let Some(v) = patch.strategies {
        form.strategies = v.join(" ");
    }
    for cost in patch.costs.unwrap_or_default() {
        let Some(year) = FiscalYear::new(cost.year).filter(|y| span.contains(*y)) else {
            return refused(&WorkspaceError::Invalid(vec![FieldError::outside_span(
                cost.year, span,
            )]));
        };
        let texts = [
            amount(cost.total),
            amount(cost.earmarked),
            amount(cost.general),
        ];
        match form.costs.iter_mut().find(|(y, _)| *y == year) {
            Some((_, slot)) => *slot = texts,
            None => form.costs.push((year, texts)),
        }
    }
    let request = SaveProject {
        code: &code,
        span,
        id: Some(&id),
        version: version.as_deref(),
        form: &form,
        comment: &patch.comment,
    };
    match workspace::save_project(
        &state.store,
        &state.workspace.rules,
        &acting(&signed),
        &request,
    )
    .await
    {
        Ok(saved) => with_etag(&saved.view),
        Err(err) => refused(&err),
    }
}

/// A review step's body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StepBody {
    #[serde(default)]
    comment: String,
}

/// The part's state after a step.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct StepDone {
    department: String,
    /// open, submitted, returned, approved or final.
    state: String,
}

/// `POST …/departments/{department}/{submit|return|approve|finalize}`.
#[utoipa::path(post, path = "/api/admin/v1/municipalities/{code}/editions/{edition}/departments/{department}/{step}", tag = "admin",
    params(
        ("code" = String, Path, description = "全国地方公共団体コード", example = "072052"),
        ("edition" = String, Path, description = "計画期間", example = "r3-r5"),
        ("department" = String, Path, description = "担当課"),
        ("step" = String, Path, description = "submit (department), return (needs a comment), approve, finalize (planning)"),
        ("X-CSRF-Token" = String, Header, description = "The csrf_token of the sign-in")),
    request_body = StepBody,
    responses(
        (status = 200, description = "The part's new state", body = StepDone),
        (status = 401, description = "No session", body = crate::web::error::ErrorBody),
        (status = 403, description = "The role or department may not, or the CSRF token is wrong", body = crate::web::error::ErrorBody),
        (status = 404, description = "No such step, department, edition or municipality", body = crate::web::error::ErrorBody),
        (status = 409, description = "The step does not apply in the part's state, or someone else took a step meanwhile", body = crate::web::error::ErrorBody),
        (status = 422, description = "A return without a comment", body = crate::web::error::ErrorBody)))]
pub(super) async fn step(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition, department, step)): Path<(String, String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let (code, span) = match place(&code, &edition) {
        Ok(found) => found,
        Err(err) => return refused(&err),
    };
    let Some(transition) = Transition::parse(&step) else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no step {step:?}: submit, return, approve or finalize"),
            serde_json::json!({}),
        );
    };
    // The body is optional: `{"comment": "…"}` (a return needs one).
    let comment = if body.iter().all(u8::is_ascii_whitespace) {
        String::new()
    } else {
        match serde_json::from_slice::<StepBody>(&body) {
            Ok(step) => step.comment,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("the body is not a step: {e}"),
                    serde_json::json!({}),
                );
            }
        }
    };
    match workspace::step(
        &state.store,
        &acting(&signed),
        &code,
        span,
        &department,
        transition,
        &comment,
    )
    .await
    {
        Ok(to) => {
            Json(serde_json::json!({ "department": department, "state": to.key() })).into_response()
        }
        Err(err) => refused(&err),
    }
}

/// Which audit entries to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    municipality: Option<String>,
    project: Option<String>,
    user: Option<String>,
    since: Option<String>,
    limit: Option<i64>,
}

fn record_json(r: &AuditRecord) -> serde_json::Value {
    serde_json::json!({
        "seq": r.seq, "at": r.at, "actor": r.actor, "via": r.via, "action": r.action,
        "subject": r.subject, "detail": r.detail, "project": r.project, "field": r.field,
        "old": r.old, "new": r.new, "comment": r.comment, "file_name": r.file_name,
        "file_sha256": r.file_sha256, "hash": r.hash,
    })
}

/// `GET /api/admin/v1/audit?municipality=&project=&user=&since=&limit=`: entries, oldest
/// first.
#[utoipa::path(get, path = "/api/admin/v1/audit", tag = "admin",
    params(AuditQuery),
    responses(
        (status = 200, description = "Entries, oldest first: who (login), when, through what (browser, upload, api, cli), project, field, old and new value, comment, file and its SHA-256, chain hash"),
        (status = 400, description = "No municipality named (an administrator of every municipality must name one)", body = crate::web::error::ErrorBody),
        (status = 401, description = "No session", body = crate::web::error::ErrorBody),
        (status = 403, description = "Viewers do not read the audit log", body = crate::web::error::ErrorBody),
        (status = 404, description = "Another municipality", body = crate::web::error::ErrorBody)))]
pub(super) async fn audit(
    State(state): State<AppState>,
    signed: Signed,
    crate::web::api::ApiQuery(query): crate::web::api::ApiQuery<AuditQuery>,
) -> Response {
    let code = match query.municipality.or_else(|| {
        signed
            .actor
            .municipality
            .as_ref()
            .map(|c| c.as_str().to_owned())
    }) {
        Some(code) => match MunicipalityCode::parse(&code) {
            Ok(code) => code,
            Err(_) => {
                return error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "no such municipality".into(),
                    serde_json::json!({}),
                );
            }
        },
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "name the municipality (?municipality=CODE)".into(),
                serde_json::json!({}),
            );
        }
    };
    let filter = AuditFilter {
        project: query.project,
        actor: query.user,
        since: query.since,
        limit: Some(query.limit.unwrap_or(1_000).clamp(1, 10_000)),
        ..AuditFilter::default()
    };
    match workspace::audit(&state.store, &signed.actor, &code, filter).await {
        Ok(records) => Json(serde_json::json!({
            "items": records.iter().map(record_json).collect::<Vec<_>>()
        }))
        .into_response(),
        Err(err) => refused(&err),
    }
}
