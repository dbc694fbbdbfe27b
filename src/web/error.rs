//! Errors as the web server shows them: a Japanese HTML page for people, a JSON object with a
//! stable code for programs. Messages describe the request's problem; internal details
//! (database errors and the like) go to the log, never to the client.

use crate::ops::OpsError;
use askama::Template;
use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::view::{Layout, Link};

/// An error answered with JSON: `{"error": {"code": "not_found", "message": "…"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

/// The JSON body of every API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code: `not_found`, `bad_request`, `uri_too_long`, `method_not_allowed`,
    /// `unavailable`, `internal`.
    pub code: String,
    /// A human-readable explanation (English).
    pub message: String,
}

impl ApiError {
    /// An error with a status, a stable code and a message for the client.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<OpsError> for ApiError {
    fn from(err: OpsError) -> ApiError {
        match err {
            OpsError::NotFound(message) => ApiError::not_found(message),
            OpsError::BadRequest(message) => ApiError::bad_request(message),
            OpsError::Store(store) => {
                if store.is_unavailable() {
                    tracing::warn!(error = %store, "database unavailable");
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the database is not reachable; try again shortly",
                    )
                } else {
                    tracing::error!(error = %store, "storage error");
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "internal error; it has been logged",
                    )
                }
            }
        }
    }
}

/// An error answered with an HTML page.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    message: String,
    /// Where to go instead (e.g. the list of departments), shown first.
    links: Vec<Link>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: String,
    message: String,
    links: Vec<Link>,
}

impl PageError {
    /// An error page with this status and explanation (in Japanese).
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
            links: Vec::new(),
        }
    }

    /// The same error, suggesting a page to go to instead.
    pub fn with_link(mut self, label: impl Into<String>, href: impl Into<String>) -> PageError {
        self.links.push(Link {
            label: label.into(),
            href: href.into(),
            current: false,
        });
        self
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::NOT_FOUND, message)
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let heading = match self.status {
            StatusCode::NOT_FOUND => "ページが見つかりません",
            StatusCode::BAD_REQUEST => "リクエストの内容に誤りがあります",
            StatusCode::URI_TOO_LONG => "URL が長すぎます",
            StatusCode::METHOD_NOT_ALLOWED => "この操作はできません",
            StatusCode::SERVICE_UNAVAILABLE => "ただいま表示できません",
            _ => "エラーが発生しました",
        };
        let page = ErrorPage {
            layout: Layout::plain(heading),
            status: self.status.as_u16(),
            heading: heading.to_owned(),
            message: self.message,
            links: self.links,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(err) => {
                tracing::error!(error = %err, "cannot render the error page");
                (self.status, heading).into_response()
            }
        }
    }
}

/// 404 for any path no route matches: JSON under `/api/`, a page elsewhere. A page path
/// with a trailing slash (`/072052/r2-r4/`, as people type and other sites link) is
/// redirected permanently to the same path without it.
pub async fn not_found(request: Request) -> Response {
    let path = request.uri().path();
    let trimmed = path.trim_end_matches('/');
    // `//host` (or `/\host`, which browsers read the same) would leave the site: only plain
    // paths are redirected.
    if trimmed.len() < path.len()
        && trimmed.starts_with('/')
        && !trimmed[1..].starts_with(['/', '\\'])
        && !trimmed.contains('\\')
        && !path.starts_with("/api/")
    {
        let target = match request.uri().query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_owned(),
        };
        return axum::response::Redirect::permanent(&target).into_response();
    }
    if path.starts_with("/api/") {
        ApiError::not_found(format!("no such endpoint: {path}")).into_response()
    } else {
        PageError::not_found(
            "お探しのページは見つかりませんでした。URL を確かめるか、上の検索をお使いください。",
        )
        .into_response()
    }
}

/// 405 for methods other than GET and HEAD.
pub async fn method_not_allowed(request: Request) -> Response {
    let method = request.method().clone();
    if request.uri().path().starts_with("/api/") {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{method} is not allowed here; the API is read-only (GET)"),
        )
        .into_response()
    } else {
        PageError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} は使えません。このサイトは閲覧専用です。"),
        )
        .into_response()
    }
}
