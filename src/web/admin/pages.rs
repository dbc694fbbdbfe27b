//! The workspace's pages: sign-in, the list of editions, each edition's dashboard (the
//! departments' parts and their review steps, publishing), the project list and form, and
//! the audit log. Plain HTML forms that work without script; every value is escaped by the
//! templates; every change goes through [`crate::ops::workspace`].

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use keikaku_core::audit::{AuditRecord, FieldChange};
use keikaku_core::form::{FieldError, ProjectForm};
use keikaku_core::workspace::{Action, PartState, Role, Transition, check};
use keikaku_core::{EditionSpan, EditionState, MunicipalityCode, PolicyCode};
use serde::Deserialize;

use super::{
    ClientSource, LOGIN_COOKIE, PAGE_LANG, SESSION_COOKIE, Signed, cookie_value, place, set_cookie,
    status_of,
};
use crate::ops::accounts::{self, SignInRefused, local_time};
use crate::ops::workspace::{self, Acting, Opened, SaveProject, WorkspaceError};
use crate::storage::audit::AuditFilter;
use crate::storage::write::Via;
use crate::web::AppState;
use crate::web::view::Crumb;

/// The signed-in account as the header shows it.
struct User {
    name: String,
    role: &'static str,
    departments: String,
}

/// What every workspace page shares.
struct Frame {
    title: String,
    user: Option<User>,
    csrf: String,
    crumbs: Vec<Crumb>,
    notices: Vec<String>,
}

impl Frame {
    fn new(signed: Option<&Signed>, title: impl Into<String>, mut crumbs: Vec<Crumb>) -> Frame {
        let title = title.into();
        crumbs.insert(
            0,
            Crumb {
                label: "作業画面".into(),
                href: Some("/admin".into()),
            },
        );
        if let Some(last) = crumbs.last_mut() {
            last.href = None;
        }
        Frame {
            user: signed.map(|s| User {
                name: if s.account.display_name.is_empty() {
                    s.account.login.clone()
                } else {
                    s.account.display_name.clone()
                },
                role: s.account.role.label(),
                departments: s.account.departments.join("・"),
            }),
            csrf: signed.map(|s| s.csrf.clone()).unwrap_or_default(),
            title,
            crumbs,
            notices: Vec::new(),
        }
    }
}

fn crumb(label: impl Into<String>, href: impl Into<String>) -> Crumb {
    Crumb {
        label: label.into(),
        href: Some(href.into()),
    }
}

fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot render a workspace page");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "admin/message.html")]
struct MessagePage {
    frame: Frame,
    message: String,
    status: u16,
}

/// A page that says what went wrong.
pub(super) fn message_page(status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "見つかりません",
        StatusCode::FORBIDDEN => "この操作はできません",
        StatusCode::CONFLICT => "いまはこの操作はできません",
        StatusCode::UNAUTHORIZED => "ログインしてください",
        _ => "エラーが発生しました",
    };
    page(
        status,
        &MessagePage {
            frame: Frame::new(None, title, vec![crumb(title, "")]),
            message: message.to_owned(),
            status: status.as_u16(),
        },
    )
}

fn refused(err: &WorkspaceError) -> Response {
    let (status, _) = status_of(err);
    if status.is_server_error() {
        tracing::error!(error = ?err, "workspace page failed");
        return message_page(
            status,
            "ただいま処理できません。しばらくしてからもう一度お試しください。",
        );
    }
    message_page(status, &err.message(PAGE_LANG))
}

/// The edition a path names (`072052`, `r3-r5`), opened for the signed-in account.
async fn open_at(
    state: &AppState,
    signed: &Signed,
    code: &str,
    edition: &str,
) -> Result<Opened, WorkspaceError> {
    let (code, span) = place(code, edition)?;
    workspace::open(&state.store, &signed.actor, &code, span).await
}

fn edition_href(code: &MunicipalityCode, span: EditionSpan) -> String {
    format!("/admin/{code}/{}", span.slug())
}

/// What a path segment or query value keeps unencoded (project ids keep their `-` and `.`).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

fn acting<'a>(signed: &'a Signed, via: Via) -> Acting<'a> {
    Acting {
        actor: &signed.actor,
        login: &signed.account.login,
        via,
    }
}

// ---- sign-in -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    frame: Frame,
    token: String,
    login: String,
    error: Option<String>,
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    login: &str,
    error: Option<String>,
) -> Response {
    let Ok(token) = crate::auth::new_token() else {
        return message_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "ただいまログインできません。",
        );
    };
    let mut response = page(
        status,
        &LoginPage {
            frame: Frame::new(None, "ログイン", vec![crumb("ログイン", "")]),
            token: token.clone(),
            login: login.to_owned(),
            error,
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, LOGIN_COOKIE, Some(&token)),
    );
    response
}

/// `GET /admin/login`.
pub(super) async fn login_form(State(state): State<AppState>) -> Response {
    login_page(&state, StatusCode::OK, "", None)
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
}

/// `POST /admin/login`: a new session (a new id at every sign-in), then the list of editions.
pub(super) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientSource(source): ClientSource,
    Form(form): Form<LoginForm>,
) -> Response {
    // The form must come from this site's own sign-in page (its token is in a cookie that
    // only this site sets and no other site's page can read).
    let expected = cookie_value(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !crate::auth::same_token(&expected, &form.token) {
        return login_page(
            &state,
            StatusCode::FORBIDDEN,
            &form.login,
            Some("画面の有効期限が切れました。もう一度ログインしてください。".into()),
        );
    }
    let result = accounts::sign_in(
        &state.store,
        &state.workspace.config,
        &source,
        form.login.trim(),
        &form.password,
    )
    .await;
    match result {
        Ok(Ok(signed)) => {
            // A session id from before sign-in is never carried over: a fixed session
            // cannot be planted.
            if let Some(old) = cookie_value(&headers, SESSION_COOKIE) {
                let _ = accounts::sign_out(&state.store, &old).await;
            }
            let mut response = Redirect::to("/admin").into_response();
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                set_cookie(&state, SESSION_COOKIE, Some(&signed.token)),
            );
            headers.append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, None));
            response
        }
        Ok(Err(refusal)) => {
            // The same answer for an unknown login, a wrong password and a paused account.
            tracing::info!(
                login = %form.login.trim(),
                reason = %refusal.message(keikaku_core::Lang::En),
                "sign-in refused"
            );
            login_page(
                &state,
                StatusCode::UNAUTHORIZED,
                &form.login,
                Some(SignInRefused::public_message(PAGE_LANG)),
            )
        }
        Err(err) => refused(&WorkspaceError::Ops(err)),
    }
}

/// `POST /admin/logout`: the session ends at once (in the database too).
pub(super) async fn logout(State(state): State<AppState>, signed: Signed) -> Response {
    let _ = accounts::sign_out(&state.store, signed.token()).await;
    let mut response = Redirect::to("/admin/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, None));
    response
}

#[derive(Template)]
#[template(path = "admin/password.html")]
struct PasswordPage {
    frame: Frame,
    error: Option<String>,
    done: bool,
}

/// `GET /admin/password`: the form to change one's own password.
pub(super) async fn password_form(signed: Signed) -> Response {
    page(
        StatusCode::OK,
        &PasswordPage {
            frame: Frame::new(
                Some(&signed),
                "パスワードの変更",
                vec![crumb("パスワードの変更", "")],
            ),
            error: None,
            done: false,
        },
    )
}

/// The password form.
#[derive(Debug, Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// `POST /admin/password`: changes one's own password (the current one is asked again).
pub(super) async fn change_password(
    State(state): State<AppState>,
    signed: Signed,
    ClientSource(source): ClientSource,
    Form(form): Form<PasswordForm>,
) -> Response {
    let result = accounts::change_own_password(
        &state.store,
        &state.workspace.config,
        Via::Browser,
        &signed.account.login,
        &form.current,
        &form.new,
        &form.repeat,
    )
    .await;
    let (status, error, done) = match result {
        Ok(()) => {
            // Changing the password ends every session, this one too: the person goes on in
            // a new session opened with the new password.
            return match accounts::sign_in(
                &state.store,
                &state.workspace.config,
                &source,
                &signed.account.login,
                &form.new,
            )
            .await
            {
                Ok(Ok(fresh)) => {
                    let mut next = signed.clone();
                    next.csrf = fresh.csrf_token.clone();
                    let mut response = page(
                        StatusCode::OK,
                        &PasswordPage {
                            frame: Frame::new(
                                Some(&next),
                                "パスワードの変更",
                                vec![crumb("パスワードの変更", "")],
                            ),
                            error: None,
                            done: true,
                        },
                    );
                    response.headers_mut().append(
                        header::SET_COOKIE,
                        set_cookie(&state, SESSION_COOKIE, Some(&fresh.token)),
                    );
                    response
                }
                _ => Redirect::to("/admin/login").into_response(),
            };
        }
        Err(accounts::AccountError::Invalid(problem)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(problem.message(PAGE_LANG)),
            false,
        ),
        Err(accounts::AccountError::Ops(err)) => return refused(&WorkspaceError::Ops(err)),
    };
    page(
        status,
        &PasswordPage {
            frame: Frame::new(
                Some(&signed),
                "パスワードの変更",
                vec![crumb("パスワードの変更", "")],
            ),
            error,
            done,
        },
    )
}

// ---- editions ------------------------------------------------------------------------------

struct EditionLink {
    href: String,
    label: String,
    state: &'static str,
    state_key: &'static str,
    projects: i64,
}

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    frame: Frame,
    editions: Vec<EditionLink>,
    audit_href: Option<String>,
}

fn state_label(state: EditionState) -> (&'static str, &'static str) {
    match state {
        EditionState::Draft => ("作成中", "draft"),
        EditionState::Published => ("公開中", "published"),
    }
}

/// `GET /admin`: the editions of the account's municipality.
pub(super) async fn home(State(state): State<AppState>, signed: Signed) -> Response {
    let editions = match workspace::editions_for(&state.store, &signed.actor).await {
        Ok(editions) => editions,
        Err(err) => return refused(&WorkspaceError::Ops(err)),
    };
    let audit_href = match (&signed.actor.municipality, signed.actor.role) {
        (Some(code), role) if role != Role::Viewer => Some(format!("/admin/{code}/audit")),
        _ => None,
    };
    let links = editions
        .iter()
        .map(|e| {
            let (label, key) =
                state_label(EditionState::parse(&e.state).unwrap_or(EditionState::Draft));
            EditionLink {
                href: edition_href(&e.municipality.code, e.span),
                label: format!("{} {} {}", e.municipality.name, e.span.label(), e.title),
                state: label,
                state_key: key,
                projects: e.projects,
            }
        })
        .collect();
    page(
        StatusCode::OK,
        &HomePage {
            frame: Frame::new(Some(&signed), "計画期間の一覧", vec![]),
            editions: links,
            audit_href,
        },
    )
}

struct StepButton {
    action: String,
    id: String,
    label: &'static str,
    needs_comment: bool,
}

struct PartRow {
    department: String,
    href: String,
    state: &'static str,
    state_key: &'static str,
    projects: usize,
    missing: usize,
    changed: String,
    updated_at: String,
    updated_by: String,
    comment: String,
    steps: Vec<StepButton>,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    state: &'static str,
    state_key: &'static str,
    projects: usize,
    projects_href: String,
    audit_href: Option<String>,
    parts: Vec<PartRow>,
    publish_action: Option<String>,
    waiting: String,
    sheet_action: Option<String>,
    sheet_links: Vec<crate::web::view::Link>,
}

const STEPS: [Transition; 4] = [
    Transition::Submit,
    Transition::Return,
    Transition::Approve,
    Transition::Finalize,
];

fn opened_title(opened: &Opened) -> String {
    format!(
        "{} {}",
        opened.info.municipality.name,
        opened.info.span.label()
    )
}

/// `GET /admin/{code}/{edition}`: every department's part, the steps the account may take,
/// and publishing.
pub(super) async fn dashboard(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition)): Path<(String, String)>,
) -> Response {
    let opened = match open_at(&state, &signed, &code, &edition).await {
        Ok(opened) => opened,
        Err(err) => return refused(&err),
    };
    let (code, span) = (opened.info.municipality.code.clone(), opened.info.span);
    let base = edition_href(&code, span);
    let changes = workspace::changes_by_department(&state.store, &opened)
        .await
        .unwrap_or_default();
    let parts = opened
        .parts
        .iter()
        .map(|part| {
            let (state_text, key) = part_label(part.state);
            PartRow {
                department: part.department.clone(),
                href: format!("{base}/projects?department={}", encode(&part.department)),
                state: state_text,
                state_key: key,
                projects: part.projects,
                missing: part.missing_amounts,
                changed: changes.as_ref().map_or_else(
                    || "-".to_owned(),
                    |c| c.get(&part.department).copied().unwrap_or(0).to_string(),
                ),
                updated_at: if part.updated_at.is_empty() {
                    String::new()
                } else {
                    local_time(&part.updated_at)
                },
                updated_by: part.updated_by.clone(),
                comment: part.comment.clone(),
                steps: STEPS
                    .iter()
                    .filter(|t| {
                        check(
                            &signed.actor,
                            &code,
                            opened.state,
                            Action::Step(**t, &part.department, part.state),
                        )
                        .is_ok()
                    })
                    .map(|t| StepButton {
                        action: format!(
                            "{base}/departments/{}/{}",
                            encode(&part.department),
                            t.key()
                        ),
                        id: format!(
                            "comment-{}-{}",
                            t.key(),
                            encode(&part.department).replace('%', "")
                        ),
                        label: t.label(),
                        needs_comment: t.needs_comment(),
                    })
                    .collect(),
            }
        })
        .collect();
    let can_publish = opened.state == EditionState::Draft
        && check(&signed.actor, &code, opened.state, Action::Publish).is_ok();
    let waiting = if can_publish {
        workspace::unapproved(&state.store, &opened.info)
            .await
            .unwrap_or_default()
            .iter()
            .map(|(d, s)| format!("{d}（{}）", s.label()))
            .collect::<Vec<_>>()
            .join("、")
    } else {
        String::new()
    };
    let (state_text, key) = state_label(opened.state);
    let title = opened_title(&opened);
    page(
        StatusCode::OK,
        &DashboardPage {
            frame: Frame::new(Some(&signed), title.clone(), vec![crumb(title, "")]),
            state: state_text,
            state_key: key,
            projects: opened.edition.projects().count(),
            projects_href: format!("{base}/projects"),
            audit_href: (signed.account.role != Role::Viewer)
                .then(|| format!("/admin/{code}/audit")),
            parts,
            publish_action: can_publish.then(|| format!("{base}/publish")),
            waiting,
            sheet_action: (opened.state == EditionState::Draft
                && signed.account.role != Role::Viewer)
                .then(|| format!("{base}/sheet")),
            sheet_links: sheet_links(&signed, &opened, &base),
        },
    )
}

fn part_label(state: PartState) -> (&'static str, &'static str) {
    (state.label(), state.key())
}

/// The form of a review step.
#[derive(Debug, Deserialize)]
pub(super) struct StepForm {
    #[serde(default)]
    comment: String,
}

/// `POST /admin/{code}/{edition}/departments/{department}/{step}`.
pub(super) async fn step(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition, department, step)): Path<(String, String, String, String)>,
    Form(form): Form<StepForm>,
) -> Response {
    let (code, span) = match place(&code, &edition) {
        Ok(found) => found,
        Err(err) => return refused(&err),
    };
    let Some(transition) = Transition::parse(&step) else {
        return message_page(StatusCode::NOT_FOUND, "その操作はありません。");
    };
    match workspace::step(
        &state.store,
        &acting(&signed, Via::Browser),
        &code,
        span,
        &department,
        transition,
        &form.comment,
    )
    .await
    {
        Ok(_) => Redirect::to(&edition_href(&code, span)).into_response(),
        Err(err) => refused(&err),
    }
}

/// The publishing form.
#[derive(Debug, Deserialize)]
pub(super) struct PublishForm {
    #[serde(default)]
    force: Option<String>,
}

/// `POST /admin/{code}/{edition}/publish`.
pub(super) async fn publish(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition)): Path<(String, String)>,
    Form(form): Form<PublishForm>,
) -> Response {
    let (code, span) = match place(&code, &edition) {
        Ok(found) => found,
        Err(err) => return refused(&err),
    };
    let force = form.force.is_some_and(|f| !f.is_empty());
    match workspace::publish(
        &state.store,
        &acting(&signed, Via::Browser),
        &code,
        span,
        force,
    )
    .await
    {
        Ok(()) => Redirect::to(&edition_href(&code, span)).into_response(),
        Err(err) => refused(&err),
    }
}

// ---- projects ------------------------------------------------------------------------------

struct ProjectRow {
    reference: String,
    name: String,
    href: String,
    departments: String,
    status: String,
    state: String,
}

#[derive(Template)]
#[template(path = "admin/projects.html")]
struct ProjectsPage {
    frame: Frame,
    rows: Vec<ProjectRow>,
    new_href: Option<String>,
}

/// Which projects to list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProjectsQuery {
    department: Option<String>,
}

/// `GET /admin/{code}/{edition}/projects[?department=…]`: a department account sees its own
/// projects first (all when it asks for another department by name is refused as not its).
pub(super) async fn projects(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition)): Path<(String, String)>,
    Query(query): Query<ProjectsQuery>,
) -> Response {
    let opened = match open_at(&state, &signed, &code, &edition).await {
        Ok(opened) => opened,
        Err(err) => return refused(&err),
    };
    let (code, span) = (opened.info.municipality.code.clone(), opened.info.span);
    let base = edition_href(&code, span);
    let department = query.department.filter(|d| !d.is_empty());
    if let Some(d) = &department
        && !opened.parts.iter().any(|p| &p.department == d)
    {
        return refused(&WorkspaceError::NotFound(workspace::Missing::Department(
            d.clone(),
        )));
    }
    let own_only = signed.account.role == Role::Department && department.is_none();
    let rows = opened
        .edition
        .projects()
        .filter(|(_, p)| match &department {
            Some(d) => p.departments.contains(d),
            None => !own_only || signed.actor.owns_any(&p.departments),
        })
        .map(|(policy, p)| ProjectRow {
            reference: format!("{}-{}", policy.code, p.number),
            name: p.name.clone(),
            href: format!("{base}/projects/{}", encode(p.id.as_str())),
            departments: p.departments.join("・"),
            status: p.status.label().to_owned(),
            state: opened
                .states_of(&p.departments)
                .iter()
                .map(|(_, s)| s.label())
                .collect::<Vec<_>>()
                .join("・"),
        })
        .collect();
    let title = match &department {
        Some(d) => format!("{d}の事業"),
        None if own_only => "担当する事業".to_owned(),
        None => "事業の一覧".to_owned(),
    };
    let can_add = opened.state == EditionState::Draft && signed.account.role != Role::Viewer;
    page(
        StatusCode::OK,
        &ProjectsPage {
            frame: Frame::new(
                Some(&signed),
                title.clone(),
                vec![crumb(opened_title(&opened), base.clone()), crumb(title, "")],
            ),
            rows,
            new_href: can_add.then(|| format!("{base}/projects/new")),
        },
    )
}

struct FieldView {
    id: String,
    name: String,
    label: &'static str,
    hint: Option<&'static str>,
    value: String,
    multiline: bool,
    error: Option<String>,
}

struct CostCell {
    id: String,
    name: String,
    label: &'static str,
    value: String,
    error: Option<String>,
}

struct CostRow {
    label: String,
    cells: Vec<CostCell>,
}

struct ErrorLink {
    href: Option<String>,
    label: String,
    message: String,
}

#[derive(Template)]
#[template(path = "admin/project.html")]
struct ProjectPage {
    frame: Frame,
    action: String,
    version: String,
    fields: Vec<FieldView>,
    costs: Vec<CostRow>,
    comment: String,
    errors: Vec<ErrorLink>,
    differences: Vec<String>,
    editable: bool,
    locked_reason: String,
    history_href: Option<String>,
}

const TEXT_FIELDS: [(&str, &str, Option<&str>, bool); 7] = [
    ("policy", "施策コード", Some("例: 7-1"), false),
    ("number", "事業番号", None, false),
    ("name", "事業名", None, false),
    ("summary", "事業概要", None, true),
    (
        "status",
        "区分",
        Some("新規・継続・拡充・廃止・完了など"),
        false,
    ),
    (
        "departments",
        "担当課",
        Some("複数のときは「、」で区切ります"),
        false,
    ),
    (
        "strategies",
        "地方創生事業（総合戦略）",
        Some("例: Ⅲ(4)"),
        false,
    ),
];
const COST_PARTS: [(&str, &str); 3] = [
    ("total", "事業費"),
    ("earmarked", "特定財源"),
    ("general", "一般財源"),
];

fn field_label(key: &str) -> String {
    keikaku_core::form::field_label(key, PAGE_LANG)
}

fn field_id(key: &str) -> String {
    format!("f-{}", key.replace('.', "-"))
}

fn change_line(change: &FieldChange) -> String {
    format!(
        "{}: {} → {}",
        field_label(&change.field),
        change.old.as_deref().unwrap_or("（なし）"),
        change.new.as_deref().unwrap_or("（なし）")
    )
}

struct FormState<'a> {
    form: &'a ProjectForm,
    span: EditionSpan,
    errors: &'a [FieldError],
    differences: Vec<String>,
    comment: String,
}

#[allow(clippy::too_many_arguments)]
fn project_page(
    signed: &Signed,
    opened: &Opened,
    title: String,
    action: String,
    version: String,
    state: FormState<'_>,
    editable: Result<(), String>,
    history_href: Option<String>,
) -> ProjectPage {
    let error_of = |key: &str| {
        let messages: Vec<&str> = state
            .errors
            .iter()
            .filter(|e| e.field.as_ref().is_some_and(|f| f.0 == key))
            .map(|e| e.message(PAGE_LANG))
            .collect();
        (!messages.is_empty()).then(|| messages.join(" "))
    };
    let text = |key: &str| -> String {
        match key {
            "policy" => state.form.policy.clone(),
            "number" => state.form.number.clone(),
            "name" => state.form.name.clone(),
            "summary" => state.form.summary.clone(),
            "status" => state.form.status.clone(),
            "departments" => state.form.departments.clone(),
            _ => state.form.strategies.clone(),
        }
    };
    let fields = TEXT_FIELDS
        .iter()
        .map(|(key, label, hint, multiline)| FieldView {
            id: field_id(key),
            name: (*key).to_owned(),
            label,
            hint: *hint,
            value: text(key),
            multiline: *multiline,
            error: error_of(key),
        })
        .collect();
    let costs = state
        .span
        .years()
        .map(|year| CostRow {
            label: year.label(),
            cells: COST_PARTS
                .iter()
                .enumerate()
                .map(|(i, (part, label))| {
                    let key = format!("cost.{}.{part}", year.year());
                    CostCell {
                        id: field_id(&key),
                        error: error_of(&key),
                        name: key,
                        label,
                        value: state.form.amount(year, i).to_owned(),
                    }
                })
                .collect(),
        })
        .collect();
    let errors = state
        .errors
        .iter()
        .map(|e| ErrorLink {
            href: e.field.as_ref().map(|f| format!("#{}", field_id(&f.0))),
            label: e
                .field
                .as_ref()
                .map_or_else(String::new, |f| field_label(&f.0)),
            message: e.message(PAGE_LANG).to_owned(),
        })
        .collect();
    let base = edition_href(&opened.info.municipality.code, opened.info.span);
    let (editable, locked_reason) = match editable {
        Ok(()) => (true, String::new()),
        Err(reason) => (false, reason),
    };
    ProjectPage {
        frame: Frame::new(
            Some(signed),
            title.clone(),
            vec![
                crumb(opened_title(opened), base.clone()),
                crumb("事業の一覧", format!("{base}/projects")),
                crumb(title, ""),
            ],
        ),
        action,
        version,
        fields,
        costs,
        comment: state.comment,
        errors,
        differences: state.differences,
        editable,
        locked_reason,
        history_href,
    }
}

/// `GET /admin/{code}/{edition}/projects/{id}`: the project's form (read-only where the
/// account may not change it, with the reason).
pub(super) async fn project_form(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition, id)): Path<(String, String, String)>,
) -> Response {
    let opened = match open_at(&state, &signed, &code, &edition).await {
        Ok(opened) => opened,
        Err(err) => return refused(&err),
    };
    let (code, span) = (opened.info.municipality.code.clone(), opened.info.span);
    let view = match opened.view(&id) {
        Ok(view) => view,
        Err(err) => return refused(&err),
    };
    let form = ProjectForm::of(view.policy, &view.project, span);
    // The planning office corrects a published edition, with a reason the public sees.
    let correcting = opened.state == EditionState::Published && signed.actor.role.reviews();
    let editable = if correcting {
        Ok(())
    } else {
        check(
            &signed.actor,
            &code,
            opened.state,
            Action::EditProject(&view.parts),
        )
        .map_err(|r| r.message(PAGE_LANG))
    };
    let base = edition_href(&code, span);
    let title = view.project.name.clone();
    let mut view_page = project_page(
        &signed,
        &opened,
        title,
        format!("{base}/projects/{}", encode(&id)),
        view.version,
        FormState {
            form: &form,
            span,
            errors: &[],
            differences: Vec::new(),
            comment: String::new(),
        },
        editable,
        (signed.account.role != Role::Viewer)
            .then(|| format!("/admin/{code}/audit?project={}", encode(&id))),
    );
    if correcting {
        view_page.frame.notices.push(
            "この計画は公開中です。保存すると訂正として記録され、訂正の日付と理由（変更理由）が公開ページに表示されます。"
                .into(),
        );
    }
    page(StatusCode::OK, &view_page)
}

/// Which policy a new project goes to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewQuery {
    policy: Option<String>,
}

/// `GET /admin/{code}/{edition}/projects/new[?policy=7-1]`: an empty form.
pub(super) async fn new_project_form(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition)): Path<(String, String)>,
    Query(query): Query<NewQuery>,
) -> Response {
    let opened = match open_at(&state, &signed, &code, &edition).await {
        Ok(opened) => opened,
        Err(err) => return refused(&err),
    };
    let (code, span) = (opened.info.municipality.code.clone(), opened.info.span);
    let mut form = ProjectForm {
        policy: query
            .policy
            .as_deref()
            .and_then(PolicyCode::parse)
            .map(|p| p.to_string())
            .unwrap_or_default(),
        departments: signed.account.departments.join("、"),
        ..ProjectForm::default()
    };
    form.costs = span.years().map(|y| (y, Default::default())).collect();
    let own: Vec<(String, PartState)> = opened.states_of(&signed.account.departments);
    let editable = check(&signed.actor, &code, opened.state, Action::AddProject(&own))
        .map_err(|r| r.message(PAGE_LANG));
    let base = edition_href(&code, span);
    page(
        StatusCode::OK,
        &project_page(
            &signed,
            &opened,
            "事業を追加".into(),
            format!("{base}/projects/new"),
            String::new(),
            FormState {
                form: &form,
                span,
                errors: &[],
                differences: Vec::new(),
                comment: String::new(),
            },
            editable,
            None,
        ),
    )
}

/// A project form as the browser sends it: text fields and `cost.YEAR.PART` amounts.
fn read_form(pairs: &[(String, String)], span: EditionSpan) -> (ProjectForm, String, String) {
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = ProjectForm {
        policy: get("policy"),
        number: get("number"),
        name: get("name"),
        summary: get("summary"),
        status: get("status"),
        departments: get("departments"),
        strategies: get("strategies"),
        costs: span
            .years()
            .map(|y| {
                let cell = |part: &str| get(&format!("cost.{}.{part}", y.year()));
                (y, [cell("total"), cell("earmarked"), cell("general")])
            })
            .collect(),
    };
    (form, get("version"), get("comment"))
}

async fn save(
    state: AppState,
    signed: Signed,
    code: String,
    edition: String,
    id: Option<String>,
    pairs: Vec<(String, String)>,
) -> Response {
    let (code, span) = match place(&code, &edition) {
        Ok(found) => found,
        Err(err) => return refused(&err),
    };
    let (form, version, comment) = read_form(&pairs, span);
    let request = SaveProject {
        code: &code,
        span,
        id: id.as_deref(),
        version: Some(version.as_str()).filter(|_| id.is_some()),
        form: &form,
        comment: &comment,
    };
    let result = workspace::save_project(
        &state.store,
        &state.workspace.rules,
        &acting(&signed, Via::Browser),
        &request,
    )
    .await;
    let base = edition_href(&code, span);
    match result {
        Ok(saved) => {
            Redirect::to(&format!("{base}/projects/{}", encode(&saved.id))).into_response()
        }
        Err(err @ (WorkspaceError::Invalid(_) | WorkspaceError::Stale(_))) => {
            let opened = match workspace::open(&state.store, &signed.actor, &code, span).await {
                Ok(opened) => opened,
                Err(err) => return refused(&err),
            };
            let (errors, differences, version) = match &err {
                WorkspaceError::Invalid(errors) => (errors.clone(), Vec::new(), version.clone()),
                WorkspaceError::Stale(stale) => (
                    Vec::new(),
                    stale.differences.iter().map(change_line).collect(),
                    // The form keeps what was typed; saving again applies it over the current
                    // version, which the person has now seen.
                    stale.current_version.clone(),
                ),
                _ => (Vec::new(), Vec::new(), version.clone()),
            };
            let (status, _) = status_of(&err);
            let action = match &id {
                Some(id) => format!("{base}/projects/{}", encode(id)),
                None => format!("{base}/projects/new"),
            };
            let mut page_view = project_page(
                &signed,
                &opened,
                if form.name.trim().is_empty() {
                    "事業".into()
                } else {
                    form.name.trim().to_owned()
                },
                action,
                version,
                FormState {
                    form: &form,
                    span,
                    errors: &errors,
                    differences,
                    comment,
                },
                Ok(()),
                None,
            );
            if matches!(err, WorkspaceError::Stale(_)) {
                page_view.frame.notices.push(err.message(PAGE_LANG));
            }
            page(status, &page_view)
        }
        Err(err) => refused(&err),
    }
}

/// `POST /admin/{code}/{edition}/projects/{id}`: saves the form.
pub(super) async fn save_project(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition, id)): Path<(String, String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    save(state, signed, code, edition, Some(id), pairs).await
}

/// `POST /admin/{code}/{edition}/projects/new`: adds a project.
pub(super) async fn create_project(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    save(state, signed, code, edition, None, pairs).await
}

// ---- audit ---------------------------------------------------------------------------------

struct AuditRow {
    at: String,
    actor: String,
    via: String,
    action: String,
    project: String,
    field: String,
    change: String,
    comment: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    frame: Frame,
    rows: Vec<AuditRow>,
    limit: i64,
}

/// Which entries to show.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    project: Option<String>,
}

const AUDIT_PAGE_LIMIT: i64 = 500;

fn audit_row(r: &AuditRecord) -> AuditRow {
    AuditRow {
        at: local_time(&r.at),
        actor: r.actor.clone(),
        via: r.via.clone(),
        action: r.action.clone(),
        project: r.project.clone(),
        field: if r.field.is_empty() {
            String::new()
        } else {
            field_label(&r.field)
        },
        change: if r.old.is_none() && r.new.is_none() {
            r.detail.clone()
        } else {
            format!(
                "{} → {}",
                r.old.as_deref().unwrap_or("（なし）"),
                r.new.as_deref().unwrap_or("（なし）")
            )
        },
        comment: r.comment.clone(),
    }
}

/// `GET /admin/{code}/audit[?project=ID]`: the municipality's audit log, newest first.
pub(super) async fn audit(
    State(state): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
    Query(query): Query<AuditQuery>,
) -> Response {
    let Ok(code) = MunicipalityCode::parse(&code) else {
        return message_page(StatusCode::NOT_FOUND, "団体コードが正しくありません。");
    };
    let filter = AuditFilter {
        project: query.project.filter(|p| !p.is_empty()),
        limit: Some(AUDIT_PAGE_LIMIT),
        ..AuditFilter::default()
    };
    let mut records = match workspace::audit(&state.store, &signed.actor, &code, filter).await {
        Ok(records) => records,
        Err(err) => return refused(&err),
    };
    records.reverse();
    page(
        StatusCode::OK,
        &AuditPage {
            frame: Frame::new(Some(&signed), "変更の記録", vec![crumb("変更の記録", "")]),
            rows: records.iter().map(audit_row).collect(),
            limit: AUDIT_PAGE_LIMIT,
        },
    )
}

// ---- entry sheets --------------------------------------------------------------------------

/// The sheets an account may download: a department its own departments' sheets, the
/// planning office the whole edition's.
fn sheet_links(signed: &Signed, opened: &Opened, base: &str) -> Vec<crate::web::view::Link> {
    if signed.account.role == Role::Department {
        signed
            .account
            .departments
            .iter()
            .filter(|d| opened.parts.iter().any(|p| &p.department == *d))
            .map(|d| crate::web::view::Link {
                label: format!("{d}のシートをダウンロード"),
                href: format!("{base}/sheet?department={}", encode(d)),
                current: false,
            })
            .collect()
    } else {
        vec![crate::web::view::Link {
            label: "計画全体のシートをダウンロード".into(),
            href: format!("{base}/sheet"),
            current: false,
        }]
    }
}

/// Which sheet to download.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SheetQuery {
    department: Option<String>,
}

/// `GET /admin/{code}/{edition}/sheet[?department=…]`: the entry sheet (xlsx) with each row's
/// version, as `keikaku template` writes it; a department account gets its own departments'.
pub(super) async fn download_sheet(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition)): Path<(String, String)>,
    Query(query): Query<SheetQuery>,
) -> Response {
    let (code, span) = match open_at(&state, &signed, &code, &edition).await {
        Ok(opened) => (opened.info.municipality.code.clone(), opened.info.span),
        Err(err) => return refused(&err),
    };
    let department = query.department.filter(|d| !d.trim().is_empty());
    if signed.account.role == Role::Department
        && !department
            .as_ref()
            .is_some_and(|d| signed.account.departments.contains(d))
    {
        return message_page(
            StatusCode::FORBIDDEN,
            "自課のシートだけをダウンロードできます。",
        );
    }
    let selector = crate::ops::EditionSelector {
        municipality: Some(code.to_string()),
        span: Some(span),
    };
    let extra = &state.workspace.rules.extra_statuses;
    let download = match &department {
        Some(d) => crate::ops::sheet::department_template(&state.store, &selector, d, false, extra)
            .await
            .map_err(|e| match e {
                crate::ops::sheet::TemplateError::UnknownDepartment(u) => {
                    WorkspaceError::NotFound(workspace::Missing::Department(u.department))
                }
                crate::ops::sheet::TemplateError::Ops(e) => WorkspaceError::Ops(e),
            }),
        None => crate::ops::sheet::template(&state.store, &selector, false, extra)
            .await
            .map_err(WorkspaceError::Ops),
    };
    match download {
        Ok(file) => {
            let disposition = format!(
                "attachment; filename=\"sheet.xlsx\"; filename*=UTF-8''{}",
                encode(&file.file_name)
            );
            let mut response =
                ([(header::CONTENT_TYPE, file.content_type)], file.bytes).into_response();
            if let Ok(value) = axum::http::HeaderValue::from_str(&disposition) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(err) => refused(&err),
    }
}

#[derive(Template)]
#[template(path = "admin/upload.html")]
struct UploadPage {
    frame: Frame,
    summary: String,
    problems: Vec<String>,
    groups: Vec<ChangeGroup>,
    warnings: Vec<String>,
    back: String,
}

struct ChangeGroup {
    title: &'static str,
    items: Vec<String>,
}

/// `POST /admin/{code}/{edition}/sheet` (multipart, field `file`): imports the uploaded
/// sheet by the rules of the sheet import and of the workspace.
pub(super) async fn upload_sheet(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, edition)): Path<(String, String)>,
    mut multipart: axum::extract::Multipart,
) -> Response {
    let (code, span) = match place(&code, &edition) {
        Ok(found) => found,
        Err(err) => return refused(&err),
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field
                    .file_name()
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "upload.xlsx".to_owned());
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes.to_vec())),
                    Err(_) => {
                        return message_page(
                            StatusCode::BAD_REQUEST,
                            "ファイルを読み取れませんでした。",
                        );
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                return message_page(
                    StatusCode::BAD_REQUEST,
                    "送信された内容を読み取れませんでした。",
                );
            }
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return message_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ファイルを選んでください（空のファイルは取り込めません）。",
        );
    };
    let base = edition_href(&code, span);
    let title = format!("{name} の取込み");
    let frame = Frame::new(
        Some(&signed),
        title.clone(),
        vec![
            crumb(format!("{} {}", code, span.label()), base.clone()),
            crumb(title, ""),
        ],
    );
    let result = workspace::upload_sheet(
        &state.store,
        &acting(&signed, Via::Upload),
        &code,
        span,
        &name,
        &bytes,
    )
    .await;
    match result {
        Ok(done) => {
            let c = &done.changes;
            let summary = if c.is_empty() {
                "シートに変更はありませんでした（何も保存していません）。".to_owned()
            } else {
                format!(
                    "取り込みました: 変更 {} 件、追加 {} 件、計画から外す {} 件。変更のない行 {} 件と、シートにない事業 {} 件はそのままです。",
                    c.updated.len(),
                    c.added.len(),
                    c.removed.len(),
                    c.unchanged,
                    c.not_in_sheet
                )
            };
            page(
                StatusCode::OK,
                &UploadPage {
                    frame,
                    summary,
                    problems: Vec::new(),
                    groups: vec![
                        ChangeGroup {
                            title: "変更した事業",
                            items: c.updated.clone(),
                        },
                        ChangeGroup {
                            title: "追加した事業",
                            items: c.added.clone(),
                        },
                        ChangeGroup {
                            title: "計画から外した事業",
                            items: c.removed.clone(),
                        },
                    ],
                    warnings: done
                        .warnings
                        .diagnostics
                        .iter()
                        .map(|d| d.render(&name, PAGE_LANG))
                        .collect(),
                    back: base,
                },
            )
        }
        Err(err) => {
            let (status, _) = status_of(&err);
            if status.is_server_error() {
                return refused(&err);
            }
            let message = err.message(PAGE_LANG);
            let mut lines = message.lines().map(str::to_owned);
            let summary = lines.next().unwrap_or_default();
            page(
                status,
                &UploadPage {
                    frame,
                    summary,
                    problems: lines.collect(),
                    groups: Vec::new(),
                    warnings: Vec::new(),
                    back: base,
                },
            )
        }
    }
}
