//! The open-data page and its downloads: every published edition (and everything together)
//! as CSV (UTF-8 with BOM, or Shift_JIS), xlsx, canonical JSON and a Frictionless Data
//! Package. File names carry the edition and the date of the data; files are rendered once
//! per snapshot and cached.

use crate::ops::export::{self, Format};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use keikaku_core::Edition;

use super::portal::PagePath;
use super::snapshot::EditionView;
use super::view::{Crumb, Layout, Link};
use super::{AppState, PageError};

/// The open-data routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/opendata", get(page))
        .route("/opendata/all/{format}", get(download_all))
        .route("/opendata/{code}/{edition}/{format}", get(download_edition))
}

#[derive(Template)]
#[template(path = "opendata.html")]
struct OpenDataPage {
    layout: Layout,
    groups: Vec<DownloadGroup>,
    all: Vec<Link>,
}

struct DownloadGroup {
    heading: String,
    href: String,
    files: Vec<Link>,
}

fn file_links(prefix: &str, stem: &str) -> Vec<Link> {
    Format::ALL
        .iter()
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
    let page = OpenDataPage {
        layout,
        groups,
        all: file_links("/opendata/all", &format!("keikaku-all-{all_date}")),
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
/// date of the data.
fn send(
    views: &[&EditionView],
    populations: &keikaku_core::canonical::Populations,
    scope: &str,
    format: Format,
) -> Response {
    let editions: Vec<Edition> = views.iter().map(|v| v.edition.clone()).collect();
    let as_of = views
        .iter()
        .map(|v| v.info.imported_at.as_str())
        .max()
        .unwrap_or("")
        .to_owned();
    match export::render(&editions, populations, scope, format, &as_of) {
        Ok(download) => {
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
        Err(err) => {
            tracing::error!(error = %err, "cannot render a download");
            PageError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "ファイルを作成できませんでした。",
            )
            .into_response()
        }
    }
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
    send(&[view.as_ref()], &snapshot.populations(), &scope, format)
}

async fn download_all(
    State(state): State<AppState>,
    PagePath(format): PagePath<String>,
) -> Response {
    let snapshot = state.snapshot();
    let format = match format_of(&format) {
        Ok(format) => format,
        Err(err) => return err.into_response(),
    };
    let views: Vec<&EditionView> = snapshot
        .municipalities
        .iter()
        .flat_map(|m| m.editions.iter().map(AsRef::as_ref))
        .collect();
    send(&views, &snapshot.populations(), "all", format)
}
