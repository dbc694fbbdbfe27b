//! Pages across municipalities: the list of municipalities (grouped by prefecture, filtered
//! by name or code), the comparison of chosen municipalities, and search over every
//! municipality's latest plan.
//!
//! The list and search read the in-memory snapshot; the comparison reads the per-year
//! totals from the database (its result is kept by the response cache like every page), so
//! it answers 503 while the database is unreachable.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use keikaku_core::aggregate::GroupBy;
use keikaku_core::municipality::PREFECTURES;
use keikaku_core::search::{SearchField, fold, highlight};
use keikaku_core::{FiscalYear, Municipality};
use serde::Deserialize;

use super::chart::{self, Chart};
use super::params::NoParams;
use super::portal::{PageQuery, render};
use super::snapshot::{MunicipalityView, Snapshot};
use super::view::{self, Layout, Link, amount_text, query_value};
use super::{AppState, PageError};
use crate::ops::OpsError;
use crate::ops::compare::{self, Comparison, DIMENSIONS, MAX_MUNICIPALITIES, Selection};

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/municipalities", get(municipalities))
        .route("/compare", get(compare_page))
        .route("/search", get(search))
}

/// Longest accepted search or filter text, in characters.
const MAX_TEXT: usize = 200;
/// Results per page of the search across municipalities.
const PER_PAGE: usize = 50;
/// Most results collected for one search; beyond, people are asked to narrow it.
const MAX_HITS: usize = 1_000;

/// Text as search compares it (width, case and kana folded).
fn folded(text: &str) -> String {
    fold(text).chars.into_iter().collect()
}

fn too_long(text: &str) -> Result<(), PageError> {
    if text.chars().count() > MAX_TEXT {
        Err(PageError::bad_request(format!(
            "入力が長すぎます（{MAX_TEXT}文字まで）。"
        )))
    } else {
        Ok(())
    }
}

fn prefecture_param(text: Option<&str>) -> Result<Option<u8>, PageError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => compare::prefecture_number(t).map(Some).ok_or_else(|| {
            PageError::bad_request(format!(
                "都道府県「{t}」が正しくありません（1〜47 の番号）。"
            ))
        }),
    }
}

fn prefecture_options(selected: Option<u8>, counts: &[usize; 47]) -> Vec<(String, String, bool)> {
    std::iter::once((
        String::new(),
        "すべての都道府県".to_owned(),
        selected.is_none(),
    ))
    .chain(PREFECTURES.iter().enumerate().filter_map(|(i, name)| {
        let number = u8::try_from(i + 1).ok()?;
        (counts[i] > 0).then(|| {
            (
                number.to_string(),
                format!("{name}（{}）", counts[i]),
                selected == Some(number),
            )
        })
    }))
    .collect()
}

fn prefecture_counts(snapshot: &Snapshot) -> [usize; 47] {
    let mut counts = [0usize; 47];
    for m in &snapshot.municipalities {
        if let Some(slot) =
            counts.get_mut(usize::from(m.municipality.code.prefecture_number()).wrapping_sub(1))
        {
            *slot += 1;
        }
    }
    counts
}

fn population_text(m: &MunicipalityView) -> String {
    m.population.map_or_else(String::new, |p| {
        format!(
            "人口 {}人（{}現在）",
            keikaku_core::money::group_thousands(i64::try_from(p.count).unwrap_or(i64::MAX)),
            p.as_of.japanese()
        )
    })
}

// ----- the list -----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    q: Option<String>,
    pref: Option<String>,
}

struct ListEntry {
    name: String,
    code: String,
    href: String,
    population: String,
    editions: Vec<Link>,
}

struct PrefectureGroup {
    id: String,
    name: String,
    entries: Vec<ListEntry>,
}

#[derive(Template)]
#[template(path = "municipalities.html")]
struct ListPage {
    layout: Layout,
    summary: String,
    query: String,
    prefectures: Vec<(String, String, bool)>,
    groups: Vec<PrefectureGroup>,
    jump: Vec<Link>,
    filtered: bool,
}

/// `/`: the only (or the configured) municipality's latest plan, or the list.
async fn root(
    State(state): State<AppState>,
    PageQuery(NoParams {}): PageQuery<NoParams>,
) -> Response {
    let snapshot = state.snapshot();
    let target = match (
        &state.default_municipality,
        snapshot.municipalities.as_slice(),
    ) {
        (Some(code), _) => snapshot.municipality(code),
        (None, [only]) => Some(only),
        _ => None,
    };
    if let Some(latest) = target.and_then(MunicipalityView::latest) {
        return Redirect::to(&latest.base).into_response();
    }
    list(&snapshot, ListQuery::default())
}

/// `/municipalities?q=&pref=`: every municipality with a published plan, by prefecture.
async fn municipalities(
    State(state): State<AppState>,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    list(&state.snapshot(), query)
}

fn list(snapshot: &Snapshot, query: ListQuery) -> Response {
    let result = (|| {
        let q = query.q.clone().unwrap_or_default();
        too_long(&q)?;
        let prefecture = prefecture_param(query.pref.as_deref())?;
        let wanted = folded(q.trim());
        let matches = |m: &Municipality| {
            prefecture.is_none_or(|p| m.code.prefecture_number() == p)
                && (wanted.is_empty()
                    || m.code.as_str().contains(wanted.as_str())
                    || folded(&m.name).contains(wanted.as_str()))
        };
        let mut groups: Vec<PrefectureGroup> = Vec::new();
        let (mut shown, mut editions) = (0usize, 0usize);
        for m in snapshot
            .municipalities
            .iter()
            .filter(|m| matches(&m.municipality))
        {
            let Some(latest) = m.latest() else { continue };
            let number = m.municipality.code.prefecture_number();
            let entry = ListEntry {
                name: m.municipality.name.clone(),
                code: m.municipality.code.to_string(),
                href: latest.base.clone(),
                population: population_text(m),
                editions: m
                    .editions
                    .iter()
                    .rev()
                    .map(|e| Link {
                        label: e.info.span.label(),
                        href: e.base.clone(),
                        current: false,
                    })
                    .collect(),
            };
            shown += 1;
            editions += m.editions.len();
            match groups.last_mut() {
                Some(g) if g.id == format!("pref-{number:02}") => g.entries.push(entry),
                _ => groups.push(PrefectureGroup {
                    id: format!("pref-{number:02}"),
                    name: m.municipality.code.prefecture_name().to_owned(),
                    entries: vec![entry],
                }),
            }
        }
        let filtered = !wanted.is_empty() || prefecture.is_some();
        let summary = if snapshot.municipalities.is_empty() {
            "公開中の計画はまだありません。管理者は keikaku import で計画を取り込んでください。"
                .to_owned()
        } else if shown == 0 {
            format!("「{}」に当てはまる団体はありません。", q.trim())
        } else {
            format!("{shown} 団体・{editions} 計画期間の実施計画を公開しています。")
        };
        let jump = if filtered || groups.len() < 2 {
            Vec::new()
        } else {
            groups
                .iter()
                .map(|g| Link {
                    label: g.name.clone(),
                    href: format!("#{}", g.id),
                    current: false,
                })
                .collect()
        };
        render(&ListPage {
            layout: Layout::plain("公開中の実施計画").with_query(""),
            summary,
            query: q,
            prefectures: prefecture_options(prefecture, &prefecture_counts(snapshot)),
            groups,
            jump,
            filtered,
        })
    })();
    match result {
        Ok(html) => Html(html).into_response(),
        Err(err) => err.into_response(),
    }
}

// ----- comparison -----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareQuery {
    /// Codes or names separated by commas, 、 or spaces.
    m: Option<String>,
    pref: Option<String>,
    by: Option<String>,
    year: Option<String>,
    metric: Option<String>,
}

/// What the comparison table shows in each cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    PerCapita,
    Cost,
    Projects,
}

impl Metric {
    const ALL: [(Metric, &'static str, &'static str); 3] = [
        (Metric::PerCapita, "per_capita", "1人あたり事業費（円）"),
        (Metric::Cost, "cost", "事業費（千円）"),
        (Metric::Projects, "projects", "事業数"),
    ];

    fn parse(text: &str) -> Option<Metric> {
        Metric::ALL
            .iter()
            .find(|(_, key, _)| *key == text)
            .map(|m| m.0)
    }

    fn key(self) -> &'static str {
        Metric::ALL
            .iter()
            .find(|m| m.0 == self)
            .map_or("cost", |m| m.1)
    }

    fn label(self) -> &'static str {
        Metric::ALL.iter().find(|m| m.0 == self).map_or("", |m| m.2)
    }

    fn cell(self, f: &compare::Figures) -> String {
        match self {
            Metric::PerCapita => f
                .per_capita_yen
                .map_or_else(|| "-".to_owned(), keikaku_core::money::group_thousands),
            Metric::Cost => f
                .amount(keikaku_core::aggregate::Sum::Cost)
                .map_or_else(|| "-".to_owned(), |m| m.grouped()),
            Metric::Projects => f.projects.to_string(),
        }
    }
}

struct CompareRow {
    name: String,
    href: String,
    note: String,
    cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage {
    layout: Layout,
    m: String,
    prefectures: Vec<(String, String, bool)>,
    dimensions: Vec<(String, String, bool)>,
    metrics: Vec<(String, String, bool)>,
    year: String,
    summary: String,
    columns: Vec<String>,
    rows: Vec<CompareRow>,
    caption: String,
    chart: Option<Chart>,
    missing: String,
    api: String,
    chosen: bool,
}

fn split_names(text: &str) -> Vec<String> {
    text.split([',', '、', '，', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(ToOwned::to_owned)
        .collect()
}

fn page_error(err: OpsError) -> PageError {
    match err {
        OpsError::NotFound(message) => PageError::not_found(japanese(&message)),
        OpsError::BadRequest(message) => PageError::bad_request(japanese(&message)),
        OpsError::Store(store) if store.is_unavailable() => {
            tracing::warn!(error = %store, "database unavailable");
            PageError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "データベースに接続できないため、比較を表示できません。しばらくしてからもう一度お試しください。",
            )
        }
        OpsError::Store(store) => {
            tracing::error!(error = %store, "storage error");
            PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "比較を表示できませんでした。",
            )
        }
    }
}

/// The comparison's messages for people: what was not found or is not allowed.
fn japanese(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("no municipality ") {
        format!(
            "団体 {} はデータベースにありません。",
            rest.trim_end_matches(" in the database")
        )
    } else if message.contains("at most") {
        format!("一度に比べられるのは {MAX_MUNICIPALITIES} 団体までです。")
    } else {
        message.to_owned()
    }
}

/// `/compare?m=072052,072010&pref=7&by=field&year=R6&metric=per_capita`.
async fn compare_page(
    State(state): State<AppState>,
    PageQuery(query): PageQuery<CompareQuery>,
) -> Response {
    match compare_html(&state, &query).await {
        Ok(html) => Html(html).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn compare_html(state: &AppState, query: &CompareQuery) -> Result<String, PageError> {
    let m = query.m.clone().unwrap_or_default();
    too_long(&m)?;
    let prefecture = prefecture_param(query.pref.as_deref())?;
    let by = match query.by.as_deref().filter(|b| !b.is_empty()) {
        None => GroupBy::Field,
        Some(text) => DIMENSIONS
            .into_iter()
            .find(|d| d.as_str() == text)
            .ok_or_else(|| {
                PageError::bad_request(format!("集計の区分け「{text}」は使えません。"))
            })?,
    };
    let metric = match query.metric.as_deref().filter(|t| !t.is_empty()) {
        None => Metric::PerCapita,
        Some(text) => Metric::parse(text)
            .ok_or_else(|| PageError::bad_request(format!("表示する値「{text}」は使えません。")))?,
    };
    let year = match query
        .year
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(text) => Some(FiscalYear::parse(text).ok_or_else(|| {
            PageError::bad_request(format!("年度「{text}」が読めません（例: R6、2024）。"))
        })?),
    };
    let snapshot = state.snapshot();
    let selection = Selection {
        municipalities: split_names(&m),
        prefecture: prefecture.map(|p| p.to_string()),
    };
    let chosen = !selection.municipalities.is_empty() || prefecture.is_some();
    let comparison = if chosen {
        Some(
            compare::compare(&state.store, &selection, by, year)
                .await
                .map_err(page_error)?,
        )
    } else {
        None
    };
    let options = |items: Vec<(String, String)>, selected: &str| -> Vec<(String, String, bool)> {
        items
            .into_iter()
            .map(|(value, label)| {
                let is = value == selected;
                (value, label, is)
            })
            .collect()
    };
    let mut page = ComparePage {
        layout: Layout::plain("団体をくらべる"),
        m: m.clone(),
        prefectures: prefecture_options(prefecture, &prefecture_counts(&snapshot)),
        dimensions: options(
            DIMENSIONS
                .iter()
                .map(|d| (d.as_str().to_owned(), format!("{}別", d.label())))
                .collect(),
            by.as_str(),
        ),
        metrics: options(
            Metric::ALL
                .iter()
                .map(|(_, key, label)| ((*key).to_owned(), (*label).to_owned()))
                .collect(),
            metric.key(),
        ),
        year: query.year.clone().unwrap_or_default(),
        summary: "比べたい団体の団体コードか名前（カンマ区切り）、または都道府県を選んでください。"
            .to_owned(),
        columns: Vec::new(),
        rows: Vec::new(),
        caption: String::new(),
        chart: None,
        missing: String::new(),
        api: String::new(),
        chosen,
    };
    if let Some(c) = &comparison {
        fill(&mut page, c, metric, &snapshot);
        let mut api = format!("/api/v1/compare?by={}", by.as_str());
        let codes: Vec<String> = c
            .municipalities
            .iter()
            .map(|m| m.code.to_string())
            .collect();
        if !codes.is_empty() {
            api.push_str(&format!("&municipalities={}", codes.join(",")));
        }
        api.push_str(&format!("&year={}", c.year.year()));
        page.api = api;
    }
    render(&page)
}

fn fill(page: &mut ComparePage, c: &Comparison, metric: Metric, snapshot: &Snapshot) {
    // Columns: the total, then every group any municipality has, by overall size.
    let mut keys: Vec<(String, String, i64)> = Vec::new();
    for m in &c.municipalities {
        for g in &m.groups {
            match keys.iter_mut().find(|k| k.0 == g.key) {
                Some(k) => k.2 += g.total.thousand_yen(),
                None => keys.push((g.key.clone(), g.name.clone(), g.total.thousand_yen())),
            }
        }
    }
    keys.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    page.columns = std::iter::once("合計".to_owned())
        .chain(keys.iter().map(|k| k.1.clone()))
        .collect();
    page.rows = c
        .municipalities
        .iter()
        .map(|m| {
            let href = snapshot
                .municipality(m.code.as_str())
                .and_then(MunicipalityView::latest)
                .map_or_else(|| format!("/{}", m.code), |e| e.base.clone());
            let mut cells = vec![metric.cell(&m.total)];
            cells.extend(keys.iter().map(|k| {
                m.groups
                    .iter()
                    .find(|g| g.key == k.0)
                    .map_or_else(|| "-".to_owned(), |g| metric.cell(g))
            }));
            CompareRow {
                name: format!("{}（{}）", m.name, m.code.prefecture_name()),
                href,
                note: match m.population {
                    Some(p) => format!(
                        "{}・人口 {}人（{}）",
                        m.edition,
                        keikaku_core::money::group_thousands(
                            i64::try_from(p.count).unwrap_or(i64::MAX)
                        ),
                        p.as_of.japanese()
                    ),
                    None => format!("{}・人口の記録なし", m.edition),
                },
                cells,
            }
        })
        .collect();
    page.caption = format!(
        "{}の{}（{}別）",
        c.year.label(),
        metric.label(),
        c.by.label()
    );
    page.summary = format!(
        "{} 団体を{}の{}で比べています。各団体の、その年度を含む最新の公開計画の数値です。",
        c.municipalities.len(),
        c.year.label(),
        metric.label()
    );
    let bars: Vec<(String, i64)> = c
        .municipalities
        .iter()
        .filter_map(|m| {
            let value = match metric {
                Metric::PerCapita => m.total.per_capita_yen?,
                Metric::Cost => m
                    .total
                    .amount(keikaku_core::aggregate::Sum::Cost)?
                    .thousand_yen(),
                Metric::Projects => m.total.projects,
            };
            Some((m.name.clone(), value))
        })
        .collect();
    if !bars.is_empty() && bars.len() <= 60 {
        let mut sorted = bars;
        sorted.sort_by_key(|b| std::cmp::Reverse(b.1));
        let unit = match metric {
            Metric::PerCapita => "円",
            Metric::Cost => "千円",
            Metric::Projects => "件",
        };
        page.chart = Some(chart::values(
            "chart-compare",
            format!("{}の{}（合計）", c.year.label(), metric.label()),
            ["団体", metric.label()],
            unit,
            &sorted,
        ));
    }
    if !c.missing.is_empty() {
        page.missing = format!(
            "{}を含む公開計画がない団体: {}",
            c.year.label(),
            c.missing.join("、")
        );
    }
}

// ----- search across municipalities -----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    q: Option<String>,
    pref: Option<String>,
    m: Option<String>,
    page: Option<u32>,
}

struct Hit {
    href: String,
    municipality: String,
    reference: String,
    name: Vec<(String, bool)>,
    policy: String,
    cost: String,
    snippet: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "national_search.html")]
struct SearchPage {
    layout: Layout,
    query: String,
    m: String,
    prefectures: Vec<(String, String, bool)>,
    summary: String,
    hits: Vec<Hit>,
    pager: Vec<Link>,
}

/// `/search?q=&pref=&m=&page=`: every municipality's latest plan (or a single
/// municipality's, when it is the only one).
async fn search(
    State(state): State<AppState>,
    PageQuery(query): PageQuery<SearchQuery>,
) -> Response {
    let snapshot = state.snapshot();
    let q = query.q.clone().unwrap_or_default();
    if let [only] = snapshot.municipalities.as_slice()
        && let Some(latest) = only.latest()
        && query.pref.is_none()
        && query.m.is_none()
    {
        return Redirect::to(&format!("{}/search?q={}", latest.base, query_value(&q)))
            .into_response();
    }
    match search_html(&snapshot, &query) {
        Ok(html) => Html(html).into_response(),
        Err(err) => err.into_response(),
    }
}

fn search_html(snapshot: &Snapshot, query: &SearchQuery) -> Result<String, PageError> {
    let q = query.q.clone().unwrap_or_default();
    let m = query.m.clone().unwrap_or_default();
    too_long(&q)?;
    too_long(&m)?;
    let prefecture = prefecture_param(query.pref.as_deref())?;
    let page_number = query.page.unwrap_or(1);
    if page_number == 0 || page_number as usize > MAX_HITS / PER_PAGE {
        return Err(PageError::bad_request(format!(
            "ページ番号は 1〜{} です。",
            MAX_HITS / PER_PAGE
        )));
    }
    let wanted = folded(m.trim());
    let scope: Vec<&MunicipalityView> = snapshot
        .municipalities
        .iter()
        .filter(|v| prefecture.is_none_or(|p| v.municipality.code.prefecture_number() == p))
        .filter(|v| {
            wanted.is_empty()
                || v.municipality.code.as_str() == wanted
                || folded(&v.municipality.name).contains(wanted.as_str())
        })
        .collect();
    let searched = !q.trim().is_empty();
    let mut found = Vec::new();
    let mut capped = false;
    if searched {
        'outer: for view in &scope {
            let Some(edition) = view.latest() else {
                continue;
            };
            for hit in edition.index.search(&q, |_| true) {
                if found.len() == MAX_HITS {
                    capped = true;
                    break 'outer;
                }
                found.push((hit.score, view, edition, hit));
            }
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    let total = found.len();
    let start = (page_number as usize - 1) * PER_PAGE;
    let hits = found
        .iter()
        .skip(start)
        .take(PER_PAGE)
        .filter_map(|(_, view, edition, hit)| {
            let entry = edition.projects.get(hit.document)?;
            let (_, policy, project) = edition.resolve(entry);
            let text = edition.index.text(hit.document);
            let snippet = hit
                .matches
                .iter()
                .find(|m| m.field != SearchField::Name)
                .map(|m| highlight(text.map_or("", |t| t.field(m.field)), &m.ranges))
                .unwrap_or_default();
            Some(Hit {
                href: format!("{}/projects/{}", edition.base, entry.reference),
                municipality: view::municipality_label(&view.municipality),
                reference: entry.reference.clone(),
                name: highlight(&project.name, hit.ranges(SearchField::Name)),
                policy: format!("施策 {} {}", policy.code, policy.title),
                cost: if project.costs.is_empty() {
                    "記載なし".to_owned()
                } else {
                    amount_text(
                        project
                            .costs
                            .iter()
                            .filter_map(|c| c.total)
                            .reduce(|a, b| a + b),
                    )
                },
                snippet,
            })
        })
        .collect();
    let scope_text = match (prefecture, wanted.is_empty()) {
        (Some(p), _) => PREFECTURES
            .get(usize::from(p) - 1)
            .copied()
            .unwrap_or("")
            .to_owned(),
        (None, false) => format!("「{}」", m.trim()),
        (None, true) => "全団体".to_owned(),
    };
    let summary = if !searched {
        format!(
            "{} 団体の最新の計画から事業を探します。検索語を入力してください。",
            scope.len()
        )
    } else if total == 0 {
        format!(
            "{scope_text}の計画に「{}」に一致する事業は見つかりませんでした。",
            q.trim()
        )
    } else if capped {
        format!(
            "{scope_text}の計画で「{}」に一致する事業が {MAX_HITS} 件以上あります。都道府県や団体で絞り込んでください（上位 {MAX_HITS} 件を表示）。",
            q.trim()
        )
    } else {
        format!(
            "{scope_text}の計画で「{}」に一致する事業が {total} 件見つかりました。",
            q.trim()
        )
    };
    let pages = total.div_ceil(PER_PAGE);
    let link = |n: usize| {
        let mut href = format!("/search?q={}", query_value(&q));
        if let Some(p) = prefecture {
            href.push_str(&format!("&pref={p}"));
        }
        if !m.trim().is_empty() {
            href.push_str(&format!("&m={}", query_value(m.trim())));
        }
        if n > 1 {
            href.push_str(&format!("&page={n}"));
        }
        href
    };
    let pager = if pages > 1 {
        (1..=pages)
            .map(|n| Link {
                label: n.to_string(),
                href: link(n),
                current: n == page_number as usize,
            })
            .collect()
    } else {
        Vec::new()
    };
    let heading = if searched {
        format!("「{}」の検索結果（全団体）", q.trim())
    } else {
        "全団体から事業を探す".to_owned()
    };
    render(&SearchPage {
        layout: Layout::plain(heading).with_query(&q),
        query: q,
        m,
        prefectures: prefecture_options(prefecture, &prefecture_counts(snapshot)),
        summary,
        hits,
        pager,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_on_every_separator_people_type() {
        assert_eq!(
            split_names("072052, 白河市、郡山市　いわき市"),
            ["072052", "白河市", "郡山市", "いわき市"]
        );
        assert!(split_names(" ,、 ").is_empty());
    }
}
