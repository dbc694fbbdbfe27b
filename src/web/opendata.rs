//! The open-data page and its downloads: every published edition (and everything together)
//! as CSV (UTF-8 with BOM, or Shift_JIS), xlsx, canonical JSON and a Frictionless Data
//! Package. File names carry the edition and the date of the data.
//!
//! One edition's files are rendered once per snapshot and cached. The whole database's CSV
//! and JSON are streamed instead (a national database's CSV is hundreds of megabytes): a
//! batch of editions at a time, by the encoder `keikaku export` uses, off the threads that
//! answer requests, never through the response cache. The whole database's xlsx and Data
//! Package are one document each that must be built whole in memory (and a national xlsx
//! would exceed Excel's row limit): they are offered up to [`MAX_WHOLE_PROJECTS`] projects,
//! beyond which the page points at the CSV and JSON and at each edition's files.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::ops::export::{self, Format};
use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use keikaku_core::Edition;
use tokio::sync::mpsc;

use super::params::NoParams;
use super::portal::{PagePath, PageQuery};
use super::snapshot::{EditionView, Snapshot};
use super::view::{Crumb, Layout, Link};
use super::{AppState, PageError};

/// Most projects for which the whole database is offered as one xlsx workbook or Data
/// Package (about a prefecture's plans; a few megabytes, built in a second or two).
pub const MAX_WHOLE_PROJECTS: i64 = 20_000;

/// Editions rendered together when streaming the whole database: about 1–3 MB of output.
const STREAM_BATCH: usize = 16;

/// The open-data routes that go through the response cache.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/opendata", get(page))
        .route("/opendata/all/{format}", get(download_all))
        .route("/opendata/{code}/{edition}/{format}", get(download_edition))
}

/// The whole database's CSV and JSON, streamed: these routes must stay outside the response
/// cache (they take precedence over `/opendata/all/{format}`).
pub fn streamed_routes() -> Router<AppState> {
    let route = |format: Format| {
        get(
            // The one rule for parameters holds here too, though the cache (which refuses
            // parameters no handler read) is not in front of these routes.
            move |state: State<AppState>,
                  _: PageQuery<NoParams>,
                  method: Method,
                  headers: HeaderMap| { stream_all(state, method, headers, format) },
        )
    };
    Router::new()
        .route("/opendata/all/csv", route(Format::Csv))
        .route("/opendata/all/csv-sjis", route(Format::CsvSjis))
        .route("/opendata/all/json", route(Format::Json))
}

#[derive(Template)]
#[template(path = "opendata.html")]
struct OpenDataPage {
    layout: Layout,
    groups: Vec<DownloadGroup>,
    all: Vec<Link>,
    /// Why the whole database is not offered as xlsx or Data Package, when it is not.
    all_note: Option<String>,
}

struct DownloadGroup {
    heading: String,
    href: String,
    files: Vec<Link>,
}

fn file_links(prefix: &str, stem: &str, bundles: bool) -> Vec<Link> {
    Format::ALL
        .iter()
        .filter(|f| bundles || streams(**f))
        .map(|f| Link {
            label: format!("{}（{stem}{}）", f.label(), f.suffix()),
            href: format!("{prefix}/{}", f.key()),
            current: false,
        })
        .collect()
}

async fn page(State(state): State<AppState>) -> Response {
    let snapshot = state.snapshot();
    let mut groups = Vec::new();
    for m in &snapshot.municipalities {
        for e in m.editions.iter().rev() {
            let date = e.info.imported_at.get(..10).unwrap_or("");
            groups.push(DownloadGroup {
                heading: format!(
                    "{} 実施計画 {}（{}）",
                    m.municipality.name,
                    e.info.span.label(),
                    e.info.span.long_label()
                ),
                href: e.base.clone(),
                files: file_links(
                    &format!("/opendata/{}/{}", m.municipality.code, e.slug),
                    &format!("keikaku-{}-{}-{date}", m.municipality.code, e.slug),
                    true,
                ),
            });
        }
    }
    let all_date = snapshot
        .municipalities
        .iter()
        .flat_map(|m| &m.editions)
        .map(|e| e.info.imported_at.get(..10).unwrap_or(""))
        .max()
        .unwrap_or("")
        .to_owned();
    let mut layout = Layout::plain("オープンデータ");
    layout.crumbs = vec![
        Crumb {
            label: "トップ".into(),
            href: Some("/".into()),
        },
        Crumb {
            label: "オープンデータ".into(),
            href: None,
        },
    ];
    let projects = whole_projects(&snapshot);
    let bundles = projects <= MAX_WHOLE_PROJECTS;
    let page = OpenDataPage {
        layout,
        groups,
        all: file_links("/opendata/all", &format!("keikaku-all-{all_date}"), bundles),
        all_note: (!bundles).then(|| too_large(projects)),
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "template failed");
            PageError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "ページを表示できませんでした。",
            )
            .into_response()
        }
    }
}

fn format_of(key: &str) -> Result<Format, PageError> {
    Format::parse(key).ok_or_else(|| {
        let known: Vec<&str> = Format::ALL.iter().map(|f| f.key()).collect();
        PageError::not_found(format!(
            "形式「{key}」は提供していません（{}）。",
            known.join("、")
        ))
    })
}

/// Renders a download and sends it as an attachment whose file name carries the scope and the
/// date of the data. Rendering is CPU work: it runs off the threads that answer requests.
async fn send(
    views: Vec<Arc<EditionView>>,
    populations: keikaku_core::canonical::Populations,
    scope: String,
    format: Format,
) -> Response {
    let rendered = tokio::task::spawn_blocking(move || {
        let editions: Vec<Edition> = views.iter().map(|v| v.edition.clone()).collect();
        let as_of = views
            .iter()
            .map(|v| v.info.imported_at.as_str())
            .max()
            .unwrap_or("")
            .to_owned();
        export::render(&editions, &populations, &scope, format, &as_of)
    })
    .await;
    match rendered {
        Ok(Ok(download)) => {
            let disposition = format!("attachment; filename=\"{}\"", download.file_name);
            (
                [
                    (header::CONTENT_TYPE, format.content_type().to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                download.bytes,
            )
                .into_response()
        }
        Ok(Err(err)) => {
            tracing::error!(error = %err, "cannot render a download");
            cannot_render()
        }
        Err(err) => {
            tracing::error!(error = %err, "rendering a download failed");
            cannot_render()
        }
    }
}

fn cannot_render() -> Response {
    PageError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "ファイルを作成できませんでした。",
    )
    .into_response()
}

async fn download_edition(
    State(state): State<AppState>,
    PagePath((code, slug, format)): PagePath<(String, String, String)>,
) -> Response {
    let snapshot = state.snapshot();
    let format = match format_of(&format) {
        Ok(format) => format,
        Err(err) => return err.into_response(),
    };
    let Some(view) = snapshot.edition(&code, &slug) else {
        return PageError::not_found(format!("{code} の計画期間「{slug}」は公開されていません。"))
            .into_response();
    };
    let scope = format!("{}-{}", view.info.municipality.code, view.slug);
    send(vec![view.clone()], snapshot.populations(), scope, format).await
}

/// Every published edition, in the order of the store's listing (municipality code, span),
/// which is the order `keikaku export` writes.
fn whole(snapshot: &Snapshot) -> Vec<Arc<EditionView>> {
    let mut views: Vec<Arc<EditionView>> = snapshot
        .municipalities
        .iter()
        .flat_map(|m| m.editions.iter().cloned())
        .collect();
    views.sort_by(|a, b| {
        (a.info.municipality.code.as_str(), a.info.span)
            .cmp(&(b.info.municipality.code.as_str(), b.info.span))
    });
    views
}

/// Projects in every published edition.
fn whole_projects(snapshot: &Snapshot) -> i64 {
    snapshot
        .municipalities
        .iter()
        .flat_map(|m| &m.editions)
        .map(|e| e.info.projects)
        .sum()
}

/// Why the whole database is not offered as one workbook or package.
fn too_large(projects: i64) -> String {
    format!(
        "全団体・全期間の Excel と Data Package は、事業が {projects} 件と多いため提供していません（{MAX_WHOLE_PROJECTS} 件まで）。\
         全体は CSV または JSON を、Excel と Data Package は上の計画期間ごとのファイルをご利用ください。"
    )
}

/// The whole database's xlsx or Data Package (CSV and JSON are [`streamed_routes`]).
async fn download_all(
    State(state): State<AppState>,
    PagePath(format): PagePath<String>,
) -> Response {
    let snapshot = state.snapshot();
    let format = match format_of(&format) {
        Ok(format) => format,
        Err(err) => return err.into_response(),
    };
    let projects = whole_projects(&snapshot);
    if projects > MAX_WHOLE_PROJECTS {
        return PageError::not_found(too_large(projects)).into_response();
    }
    send(
        whole(&snapshot),
        snapshot.populations(),
        "all".to_owned(),
        format,
    )
    .await
}

/// Whether the whole database is streamed in `format` (and so offered at any size).
fn streams(format: Format) -> bool {
    export::Encoder::new(format, keikaku_core::canonical::Populations::new()).is_some()
}

/// A response body fed by the task that renders it; a full channel holds the task back
/// until the client has taken what was sent. Each piece says whether it is the last: if the
/// task stops before the last (it failed), the body ends in an error, so that the client sees
/// a broken download rather than a file that looks complete.
struct Streamed {
    pieces: mpsc::Receiver<(Bytes, bool)>,
    complete: bool,
}

impl http_body::Body for Streamed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        match self.pieces.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some((bytes, last))) => {
                self.complete |= last;
                Poll::Ready(Some(Ok(http_body::Frame::data(bytes))))
            }
            Poll::Ready(None) if self.complete => Poll::Ready(None),
            Poll::Ready(None) => Poll::Ready(Some(Err(std::io::Error::other(
                "the download stopped before its end",
            )))),
        }
    }
}

/// Streams the whole database's CSV or JSON: the same bytes as `keikaku export` of the same
/// editions, a batch of editions at a time. The ETag is the data version, which names the
/// content exactly (the rendering is deterministic).
async fn stream_all(
    State(state): State<AppState>,
    method: Method,
    request: HeaderMap,
    format: Format,
) -> Response {
    let snapshot = state.snapshot();
    let views = whole(&snapshot);
    let as_of = views
        .iter()
        .map(|v| v.info.imported_at.as_str())
        .max()
        .unwrap_or("");
    let file_name = export::all_file_name(format, as_of);
    let tag = format!("\"v{}-{}\"", snapshot.version, format.key());
    let mut headers = HeaderMap::new();
    if let Ok(tag) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, tag);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let not_modified = request.get(header::IF_NONE_MATCH).is_some_and(|v| {
        v.as_bytes()
            .split(|b| *b == b',')
            .any(|t| t.trim_ascii() == tag.as_bytes())
    });
    if not_modified {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    // The file name is ASCII digits, letters and dashes.
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    if method == Method::HEAD {
        return (headers, Body::empty()).into_response();
    }
    let Some(mut encoder) = export::Encoder::new(format, snapshot.populations()) else {
        return cannot_render();
    };
    // Two batches in flight at most: memory stays bounded however slow the client.
    let (sender, receiver) = mpsc::channel::<(Bytes, bool)>(2);
    tokio::task::spawn_blocking(move || {
        for batch in views.chunks(STREAM_BATCH) {
            let editions: Vec<Edition> = batch.iter().map(|v| v.edition.clone()).collect();
            let bytes = encoder.batch(&editions);
            if !bytes.is_empty() && sender.blocking_send((Bytes::from(bytes), false)).is_err() {
                // The client went away.
                return;
            }
        }
        let _ = sender.blocking_send((Bytes::from(encoder.finish()), true));
    });
    let body = Streamed {
        pieces: receiver,
        complete: false,
    };
    (headers, Body::new(body)).into_response()
}
