//! The public portal: server-rendered Japanese HTML pages for every level of the plan
//! (edition, goal, policy, project), for departments, strategy codes and 区分, and search.
//! Pages read the snapshot only; rendered pages are cached per snapshot.
//!
//! URLs are stable and readable: `/072052/r2-r4`, `/072052/r2-r4/policies/7-1`,
//! `/072052/r2-r4/projects/7-1-3`, `/072052/r2-r4/departments/企画政策課`.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use keikaku_core::aggregate::{GroupBy, NO_STRATEGY, Row};
use keikaku_core::filter::{Field, FilterError, ProjectFilter};
use keikaku_core::search::{SearchField, highlight};
use keikaku_core::{Lang, Money, Project, Status, StrategyCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::chart::{self, Chart};
use super::params::{self, NoParams};
use super::snapshot::{EditionView, MunicipalityView, ProjectEntry, Snapshot};
use super::view::{self, Crumb, Layout, Link, amount, amount_text, segment, total};
use super::{AppState, PageError};

/// The portal's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{code}", get(municipality))
        .route("/{code}/{edition}", get(edition_home))
        .route("/{code}/{edition}/goals/{goal}", get(goal))
        .route("/{code}/{edition}/policies", get(policies))
        .route("/{code}/{edition}/policies/{policy}", get(policy))
        .route("/{code}/{edition}/projects/{project}", get(project))
        .route("/{code}/{edition}/departments", get(departments))
        .route(
            "/{code}/{edition}/departments/{department}",
            get(department),
        )
        .route("/{code}/{edition}/strategies", get(strategies))
        .route("/{code}/{edition}/strategies/{strategy}", get(strategy))
        .route("/{code}/{edition}/status", get(statuses))
        .route("/{code}/{edition}/status/{status}", get(status))
        .route("/{code}/{edition}/search", get(search))
        .route("/{code}/diff", get(diff_choice))
        .route("/{code}/diff/{from}/{to}", get(diff_page))
}

/// Query parameters, refused with a 400 page when unknown (naming them and the ones the page
/// takes) or malformed. A page that takes none says so with [`NoParams`].
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        params::check_names::<T>(parts).map_err(|u| PageError::bad_request(u.japanese()))?;
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(PageQuery(value)),
            Err(err) => Err(PageError::bad_request(format!(
                "URL のパラメータが正しくありません（{}）。",
                err.body_text()
            ))),
        }
    }
}

/// Path segments, refused with a 400 page when they cannot be decoded.
pub struct PagePath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PagePath<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PagePath(value)),
            Err(err) => Err(PageError::bad_request(format!(
                "URL が正しくありません（{}）。",
                err.body_text()
            ))),
        }
    }
}

/// Listing order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Document order (policy code, project number).
    #[default]
    Number,
    /// Largest cost first.
    Cost,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    sort: Option<Sort>,
}

/// The sort switch shown above a listing.
#[derive(Debug, Clone)]
struct SortLinks {
    links: Vec<Link>,
}

impl SortLinks {
    fn new(path: &str, sort: Sort) -> SortLinks {
        SortLinks {
            links: vec![
                Link {
                    label: "番号順".into(),
                    href: path.to_owned(),
                    current: sort == Sort::Number,
                },
                Link {
                    label: "事業費の多い順".into(),
                    href: format!("{path}?sort=cost"),
                    current: sort == Sort::Cost,
                },
            ],
        }
    }
}

/// Renders a page from the current snapshot (the response cache in front of the router keeps
/// the result).
fn page(state: &AppState, render: impl FnOnce(&Snapshot) -> Result<String, PageError>) -> Response {
    match render(&state.snapshot()) {
        Ok(html) => Html(html).into_response(),
        Err(err) => err.into_response(),
    }
}

pub(super) fn render(template: &impl Template) -> Result<String, PageError> {
    template.render().map_err(|err| {
        tracing::error!(error = %err, "template failed");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ページを表示できませんでした。",
        )
    })
}

/// Finds a municipality and one of its editions, or says what exists.
fn find<'s>(
    snapshot: &'s Snapshot,
    code: &str,
    slug: &str,
) -> Result<(&'s MunicipalityView, &'s Arc<EditionView>), PageError> {
    let municipality = snapshot.municipality(code).ok_or_else(|| {
        PageError::not_found(format!(
            "団体コード {code} の計画は公開されていません。トップページから団体を選んでください。"
        ))
    })?;
    let edition = municipality.edition(slug).ok_or_else(|| {
        let known: Vec<String> = municipality
            .editions
            .iter()
            .map(|e| e.info.span.label())
            .collect();
        PageError::not_found(format!(
            "{}の計画期間「{slug}」は公開されていません（公開中: {}）。",
            municipality.municipality.name,
            known.join("、")
        ))
    })?;
    Ok((municipality, edition))
}

/// The page answering a filter value that cannot be used: 404 when it names nothing in
/// the edition, 400 when it is malformed; either way with a link to the list of the values
/// that exist.
fn filter_error(edition: &EditionView, err: &FilterError) -> PageError {
    let section = match err.field {
        Field::Policy => "policies",
        Field::Department => Dimension::Department.section(),
        Field::Status => Dimension::Status.section(),
        Field::Strategy => Dimension::Strategy.section(),
    };
    let message = format!(
        "{}{}の一覧からお選びください。",
        err.message(Lang::Ja),
        err.field.label()
    );
    let error = if err.is_not_found() {
        PageError::not_found(message)
    } else {
        PageError::bad_request(message)
    };
    error.with_link(
        format!("{}の一覧", err.field.label()),
        format!("{}/{section}", edition.base),
    )
}

// ----- rows shared by listings -----

/// A project as a row of a listing.
#[derive(Debug, Clone)]
struct ProjectRow {
    href: String,
    reference: String,
    name: String,
    status: String,
    departments: String,
    strategies: String,
    cost: String,
    earmarked: String,
    general: String,
    sort_cost: Option<Money>,
}

/// The amounts a listing shows for a project: its only stated year, or the plan period's sum;
/// `None` when nothing is stated (shown as `-`, never 0).
fn listed_amounts(project: &Project) -> (Option<Money>, Option<Money>, Option<Money>) {
    let sum = |pick: fn(&keikaku_core::YearCost) -> Option<Money>| -> Option<Money> {
        let values: Vec<Money> = project.costs.iter().filter_map(pick).collect();
        (!values.is_empty()).then(|| values.into_iter().sum())
    };
    (sum(|c| c.total), sum(|c| c.earmarked), sum(|c| c.general))
}

/// The listed 事業費 in running text; `記載なし` when the plan states no year at all (a
/// rolled edition not filled in yet), which is not the same as `-`.
fn listed_cost_text(project: &Project) -> String {
    if project.costs.is_empty() {
        NOT_STATED.to_owned()
    } else {
        amount_text(listed_amounts(project).0)
    }
}

/// Shown where the plan states no amount for any year.
const NOT_STATED: &str = "記載なし";

/// What the amount columns of listings mean for this edition.
fn amount_heading(edition: &EditionView) -> String {
    let mut years: Vec<_> = edition
        .edition
        .projects()
        .flat_map(|(_, p)| p.costs.iter().map(|c| c.year))
        .collect();
    years.sort_unstable();
    years.dedup();
    match years.as_slice() {
        [one] => one.label(),
        _ => "計画期間計".to_owned(),
    }
}

fn project_row(edition: &EditionView, entry: &ProjectEntry) -> ProjectRow {
    let (_, _, project) = edition.resolve(entry);
    let (cost, earmarked, general) = listed_amounts(project);
    ProjectRow {
        href: format!("{}/projects/{}", edition.base, entry.reference),
        reference: entry.reference.clone(),
        name: project.name.clone(),
        status: project.status.label().to_owned(),
        departments: project.departments.join("、"),
        strategies: project
            .strategies
            .iter()
            .map(|s| s.code.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        cost: if project.costs.is_empty() {
            NOT_STATED.to_owned()
        } else {
            amount(cost)
        },
        earmarked: amount(earmarked),
        general: amount(general),
        sort_cost: cost,
    }
}

/// A table of projects with its caption and the period its amounts cover.
#[derive(Debug, Clone)]
struct ProjectTable {
    caption: String,
    amount_heading: String,
    rows: Vec<ProjectRow>,
    sort: SortLinks,
}

fn project_table(
    edition: &EditionView,
    caption: String,
    entries: &[&ProjectEntry],
    path: &str,
    sort: Sort,
) -> ProjectTable {
    let mut rows: Vec<ProjectRow> = entries.iter().map(|e| project_row(edition, e)).collect();
    if sort == Sort::Cost {
        rows.sort_by_key(|r| std::cmp::Reverse(r.sort_cost));
    }
    ProjectTable {
        caption,
        amount_heading: amount_heading(edition),
        rows,
        sort: SortLinks::new(path, sort),
    }
}

/// A group (goal, policy, department…) as a row of a listing.
#[derive(Debug, Clone)]
struct GroupRow {
    href: String,
    key: String,
    name: String,
    projects: u64,
    cost: String,
    earmarked: String,
    general: String,
}

fn group_rows(rows: &[Row], href: impl Fn(&Row) -> String, sort: Sort) -> Vec<GroupRow> {
    let mut ordered: Vec<&Row> = rows.iter().collect();
    if sort == Sort::Cost {
        ordered.sort_by_key(|r| std::cmp::Reverse(r.totals.cost));
    }
    ordered
        .into_iter()
        .map(|r| GroupRow {
            href: href(r),
            key: r.key.clone(),
            name: r.name.clone(),
            projects: r.totals.projects,
            cost: amount(r.totals.amount(keikaku_core::aggregate::Sum::Cost)),
            earmarked: amount(r.totals.amount(keikaku_core::aggregate::Sum::Earmarked)),
            general: amount(r.totals.amount(keikaku_core::aggregate::Sum::General)),
        })
        .collect()
}

/// Totals line under a listing.
#[derive(Debug, Clone)]
struct Totals {
    projects: u64,
    /// Table cells: amounts in 千円, or `-` when no project states a 事業費.
    cost: String,
    earmarked: String,
    general: String,
    /// Running text: `184,787千円（特定財源 …千円・一般財源 …千円）` or `-（計上なし）`.
    summary: String,
}

fn totals(t: &keikaku_core::aggregate::Totals) -> Totals {
    let summary = match t.amount(keikaku_core::aggregate::Sum::Cost) {
        Some(cost) => format!(
            "{}千円（特定財源 {}千円・一般財源 {}千円）",
            total(cost),
            total(t.earmarked),
            total(t.general)
        ),
        None => amount_text(None),
    };
    Totals {
        projects: t.projects,
        cost: amount(t.amount(keikaku_core::aggregate::Sum::Cost)),
        earmarked: amount(t.amount(keikaku_core::aggregate::Sum::Earmarked)),
        general: amount(t.amount(keikaku_core::aggregate::Sum::General)),
        summary,
    }
}

fn sum_entries(edition: &EditionView, entries: &[&ProjectEntry]) -> Totals {
    let mut t = keikaku_core::aggregate::Totals::default();
    for entry in entries {
        let (cost, earmarked, general) = listed_amounts(edition.resolve(entry).2);
        t.add_project(cost, earmarked, general);
    }
    totals(&t)
}

// ----- root and municipality -----

async fn municipality(
    State(state): State<AppState>,
    PagePath(code): PagePath<String>,
    PageQuery(NoParams {}): PageQuery<NoParams>,
) -> Response {
    let snapshot = state.snapshot();
    match snapshot
        .municipality(&code)
        .and_then(MunicipalityView::latest)
    {
        Some(latest) => Redirect::to(&latest.base).into_response(),
        None => PageError::not_found(format!("団体コード {code} の計画は公開されていません。"))
            .into_response(),
    }
}

// ----- edition home -----

#[derive(Template)]
#[template(path = "edition.html")]
struct EditionPage {
    layout: Layout,
    heading: String,
    municipality: String,
    period: String,
    source: String,
    imported: String,
    counts: String,
    total: Totals,
    goals: Vec<GroupRow>,
    chart: Chart,
    base: String,
    notes: Vec<String>,
    compare: Option<Link>,
}

async fn edition_home(
    State(state): State<AppState>,
    PagePath((code, slug)): PagePath<(String, String)>,
    PageQuery(NoParams {}): PageQuery<NoParams>,
) -> Response {
    page(&state, |snapshot| {
        let (municipality, edition) = find(snapshot, &code, &slug)?;
        let name = &municipality.municipality.name;
        let by_policy = edition.aggregate(GroupBy::Policy);
        let by_goal = edition.aggregate(GroupBy::Goal);
        let policies = edition.edition.policies().count();
        let position = municipality
            .editions
            .iter()
            .position(|e| e.base == edition.base)
            .unwrap_or(0);
        let compare = position.checked_sub(1).map(|i| {
            let previous = &municipality.editions[i];
            Link {
                label: format!("前の計画期間（{}）からの変更", previous.info.span.label()),
                href: format!(
                    "/{}/diff/{}/{}",
                    municipality.municipality.code, previous.slug, edition.slug
                ),
                current: false,
            }
        });
        let page = EditionPage {
            compare,
            layout: Layout::edition(municipality, edition, format!("{name} 実施計画"), None, Vec::new()),
            heading: format!("{name} 実施計画"),
            municipality: view::municipality_label(&municipality.municipality),
            period: format!("{}（{}）", edition.info.span.long_label(), edition.info.span.label()),
            source: edition.info.source.clone(),
            imported: edition.info.imported_at.get(..10).unwrap_or("").to_owned(),
            counts: format!("基本目標 {} ・施策 {} ・事業 {}", edition.edition.goals.len(), policies, by_policy.total.projects),
            total: totals(&by_policy.total),
            goals: group_rows(&by_goal.rows, |r| format!("{}/goals/{}", edition.base, r.key), Sort::Number)
                .into_iter()
                .map(|g| GroupRow { key: format!("基本目標{}", g.key), ..g })
                .collect(),
            chart: chart::stacked_cost(
                "chart-policy",
                format!("施策別の事業費（{}、千円）", amount_heading(edition)),
                "施策",
                &by_policy.rows,
                |r| format!("{} {}", r.key, r.name),
            ),
            base: edition.base.clone(),
            notes: vec![
                "金額の単位は千円です。「-」は計上なし（0 ではありません）を表します。".to_owned(),
                "事業費 = 特定財源（国・県の補助金、地方債、使用料、寄附金など使い道の決まった収入）＋ 一般財源（市税など）。".to_owned(),
            ],
        };
        render(&page)
    })
}

// ----- goal -----

#[derive(Template)]
#[template(path = "goal.html")]
struct GoalPage {
    layout: Layout,
    heading: String,
    field: String,
    policies: Vec<GroupRow>,
    total: Totals,
    sort: SortLinks,
    chart: Chart,
}

async fn goal(
    State(state): State<AppState>,
    PagePath((code, slug, number)): PagePath<(String, String, String)>,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    page(&state, |snapshot| {
        let (municipality, edition) = find(snapshot, &code, &slug)?;
        let goal = number
            .parse::<u32>()
            .ok()
            .and_then(|n| edition.goal(n))
            .ok_or_else(|| {
                PageError::not_found(format!("基本目標「{number}」はこの計画にありません。"))
            })?;
        let prefix = format!("{}-", goal.number);
        let rows: Vec<Row> = edition
            .aggregate(GroupBy::Policy)
            .rows
            .iter()
            .filter(|r| r.key.starts_with(&prefix))
            .cloned()
            .collect();
        let goal_totals = edition
            .aggregate(GroupBy::Goal)
            .rows
            .iter()
            .find(|r| r.key == goal.number.to_string())
            .map(|r| r.totals)
            .unwrap_or_default();
        let heading = format!("基本目標{} {}", goal.number, goal.title);
        let path = format!("{}/goals/{}", edition.base, goal.number);
        let sort = query.sort.unwrap_or_default();
        let page = GoalPage {
            layout: Layout::edition(
                municipality,
                edition,
                heading.clone(),
                None,
                vec![Crumb {
                    label: heading.clone(),
                    href: None,
                }],
            ),
            field: goal.field.clone(),
            policies: group_rows(
                &rows,
                |r| format!("{}/policies/{}", edition.base, r.key),
                sort,
            ),
            total: totals(&goal_totals),
            sort: SortLinks::new(&path, sort),
            chart: chart::stacked_cost(
                "chart-goal",
                format!("施策別の事業費（{}、千円）", amount_heading(edition)),
                "施策",
                &rows,
                |r| format!("{} {}", r.key, r.name),
            ),
            heading,
        };
        render(&page)
    })
}

// ----- policies -----

#[derive(Template)]
#[template(path = "policies.html")]
struct PoliciesPage {
    layout: Layout,
    heading: String,
    goals: Vec<PolicyGroup>,
}

struct PolicyGroup {
    heading: String,
    href: String,
    policies: Vec<GroupRow>,
}

async fn policies(
    State(state): State<AppState>,
    PagePath((code, slug)): PagePath<(String, String)>,
    PageQuery(NoParams {}): PageQuery<NoParams>,
) -> Response {
    page(&state, |snapshot| {
        let (municipality, edition) = find(snapshot, &code, &slug)?;
        let rows = &edition.aggregate(GroupBy::Policy).rows;
        let heading = "施策一覧".to_owned();
        let page = PoliciesPage {
            layout: Layout::edition(
                municipality,
                edition,
                heading.clone(),
                Some("policies"),
                vec![Crumb {
                    label: heading.clone(),
                    href: None,
                }],
            ),
            heading,
            goals: edition
                .edition
                .goals
                .iter()
                .map(|g| {
                    let prefix = format!("{}-", g.number);
                    let mine: Vec<Row> = rows
                        .iter()
                        .filter(|r| r.key.starts_with(&prefix))
                        .cloned()
                        .collect();
                    PolicyGroup {
                        heading: format!("基本目標{} {}", g.number, g.title),
                        href: format!("{}/goals/{}", edition.base, g.number),
                        policies: group_rows(
                            &mine,
                            |r| format!("{}/policies/{}", edition.base, r.key),
                            Sort::Number,
                        ),
                    }
                })
                .collect(),
        };
        render(&page)
    })
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    layout: Layout,
    heading: String,
    goal_label: String,
    goal_href: String,
    vision: Vec<String>,
    table: ProjectTable,
    total: Totals,
}

async fn policy(
    State(state): State<AppState>,
    PagePath((code, slug, policy_code)): PagePath<(String, String, String)>,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    page(&state, |snapshot| {
        let (municipality, edition) = find(snapshot, &code, &slug)?;
        let (goal, policy) = edition.policy(&policy_code).ok_or_else(|| {
            PageError::not_found(format!(
                "施策「{policy_code}」はこの計画にありません。施策一覧からお選びください。"
            ))
        })?;
        let heading = format!("施策 {} {}", policy.code, policy.title);
        let goal_label = format!("基本目標{} {}", goal.number, goal.title);
        let goal_href = format!("{}/goals/{}", edition.base, goal.number);
        let path = format!("{}/policies/{}", edition.base, policy.code);
        let entries = edition.policy_projects(&policy.code.to_string());
        let page = PolicyPage {
            layout: Layout::edition(
                municipality,
                edition,
                heading.clone(),
                Some("policies"),
                vec![
                    Crumb {
                        label: goal_label.clone(),
                        href: Some(goal_href.clone()),
                    },
                    Crumb {
                        label: heading.clone(),
                        href: None,
                    },
                ],
            ),
            vision: policy.vision.lines().map(str::to_owned).collect(),
            table: project_table(
                edition,
                format!("施策 {} の事業", policy.code),
                &entries,
                &path,
                query.sort.unwrap_or_default(),
            ),
            total: sum_entries(edition, &entries),
            heading,
            goal_label,
            goal_href,
        };
        render(&page)
    })
}

// ----- project -----

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    layout: Layout,
    heading: String,
    reference: String,
    id: String,
    goal_label: String,
    goal_href: String,
    policy_label: String,
    policy_href: String,
    status: Link,
    departments: Vec<Link>,
    strategies: Vec<Link>,
    summary: String,
    costs: Vec<CostRow>,
    has_breakdown: bool,
    previous: Option<Link>,
    next: Option<Link>,
    history: Vec<HistoryRow>,
    corrections: Vec<CorrectionRow>,
}

/// A correction made to the project after its edition was published.
struct CorrectionRow {
    date: String,
    field: String,
    change: String,
    reason: String,
    by: Option<String>,
}

/// The published corrections of a project: date, field, old → new and the reason; who made
/// them only where the municipality shows editors' names.
fn correction_rows(
    records: &[keikaku_core::audit::AuditRecord],
    show_editors: bool,
) -> Vec<CorrectionRow> {
    records
        .iter()
        .map(|r| CorrectionRow {
            date: crate::ops::accounts::local_time(&r.at)
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_owned(),
            field: keikaku_core::form::field_label(&r.field, keikaku_core::Lang::Ja),
            change: format!(
                "{} → {}",
                r.old.as_deref().unwrap_or("（なし）"),
                r.new.as_deref().unwrap_or("（なし）")
            ),
            reason: r.comment.clone(),
            by: show_editors.then(|| r.actor.clone()),
        })
        .collect()
}

/// The project in one edition of its municipality.
struct HistoryRow {
    edition: String,
    link: Option<Link>,
    status: String,
    cost: String,
    current: bool,
}

struct CostRow {
    year: String,
    total: String,
    earmarked: String,
    general: String,
    breakdown: String,
}

fn status_href(edition: &EditionView, status: &Status) -> String {
    format!("{}/status/{}", edition.base, segment(status.label()))
}

fn strategy_href(edition: &EditionView, code: StrategyCode) -> String {
    format!("{}/strategies/{}", edition.base, code.slug())
}

async fn project(
    State(state): State<AppState>,
    PagePath((code, slug, reference)): PagePath<(String, String, String)>,
    PageQuery(NoParams {}): PageQuery<NoParams>,
) -> Response {
    let show_editors = state.workspace.config.public_editors;
    page(&state, |snapshot| {
        let (municipality, edition) = find(snapshot, &code, &slug)?;
        let entry = edition.project(&reference).ok_or_else(|| {
            PageError::not_found(format!(
                "事業「{reference}」はこの計画にありません。検索をお使いください。"
            ))
        })?;
        let (goal, policy, project) = edition.resolve(entry);
        let goal_label = format!("基本目標{} {}", goal.number, goal.title);
        let goal_href = format!("{}/goals/{}", edition.base, goal.number);
        let policy_label = format!("施策 {} {}", policy.code, policy.title);
        let policy_href = format!("{}/policies/{}", edition.base, policy.code);
        let siblings = edition.policy_projects(&policy.code.to_string());
        let at = siblings
            .iter()
            .position(|e| e.reference == entry.reference)
            .unwrap_or(0);
        let neighbour = |e: Option<&&ProjectEntry>| {
            e.map(|e| Link {
                label: format!("{} {}", e.reference, edition.resolve(e).2.name),
                href: format!("{}/projects/{}", edition.base, e.reference),
                current: false,
            })
        };
        let has_breakdown = project
            .costs
            .iter()
            .any(|c| !c.earmarked_breakdown.is_empty());
        let mut costs: Vec<CostRow> = project
            .costs
            .iter()
            .map(|c| CostRow {
                year: format!("{}（{}）", c.year.label(), c.year.short()),
                total: amount(c.total),
                earmarked: amount(c.earmarked),
                general: amount(c.general),
                breakdown: c
                    .earmarked_breakdown
                    .iter()
                    .map(|(k, m)| format!("{} {}", k.label(), m.grouped()))
                    .collect::<Vec<_>>()
                    .join("、"),
            })
            .collect();
        for year in edition.info.span.years() {
            if project.cost(year).is_none() {
                costs.push(CostRow {
                    year: format!("{}（{}）", year.label(), year.short()),
                    total: NOT_STATED.into(),
                    earmarked: String::new(),
                    general: String::new(),
                    breakdown: String::new(),
                });
            }
        }
        let history = project_history(municipality, edition, &entry.reference);
        let corrections = correction_rows(
            edition
                .corrections
                .get(project.id.as_str())
                .map_or(&[][..], Vec::as_slice),
            show_editors,
        );
        let page = ProjectPage {
            history,
            corrections,
            layout: Layout::edition(
                municipality,
                edition,
                project.name.clone(),
                Some("policies"),
                vec![
                    Crumb {
                        label: goal_label.clone(),
                        href: Some(goal_href.clone()),
                    },
                    Crumb {
                        label: policy_label.clone(),
                        href: Some(policy_href.clone()),
                    },
                    Crumb {
                        label: project.name.clone(),
                        href: None,
                    },
                ],
            ),
            heading: project.name.clone(),
            reference: format!("{} No.{}", policy.code, project.number),
            id: project.id.to_string(),
            status: Link {
                label: project.status.label().to_owned(),
                href: status_href(edition, &project.status),
                current: false,
            },
            departments: project
                .departments
                .iter()
                .map(|d| Link {
                    label: d.clone(),
                    href: format!("{}/departments/{}", edition.base, segment(d)),
                    current: false,
                })
                .collect(),
            strategies: project
                .strategies
                .iter()
                .map(|s| Link {
                    label: if s.raw == s.code.to_string() {
                        s.raw.clone()
                    } else {
                        format!("{}（{}）", s.code, s.raw)
                    },
                    href: strategy_href(edition, s.code),
                    current: false,
                })
                .collect(),
            summary: project.summary.clone(),
            costs,
            has_breakdown,
            previous: neighbour(at.checked_sub(1).and_then(|i| siblings.get(i))),
            next: neighbour(siblings.get(at + 1)),
            goal_label,
            goal_href,
            policy_label,
            policy_href,
        };
        render(&page)
    })
}

/// The project through the municipality's published editions (followed by its stable id, or
/// by its name between editions read from separate documents); empty with one edition.
fn project_history(
    municipality: &MunicipalityView,
    edition: &EditionView,
    reference: &str,
) -> Vec<HistoryRow> {
    if municipality.editions.len() < 2 {
        return Vec::new();
    }
    let editions: Vec<&keikaku_core::Edition> =
        municipality.editions.iter().map(|e| &e.edition).collect();
    let Some(start) = municipality
        .editions
        .iter()
        .position(|e| e.base == edition.base)
    else {
        return Vec::new();
    };
    let Some(trail) = keikaku_core::diff::history(&editions, start, reference) else {
        return Vec::new();
    };
    municipality
        .editions
        .iter()
        .zip(trail)
        .map(|(view, found)| HistoryRow {
            edition: format!(
                "{}（{}）",
                view.info.span.label(),
                view.info.span.long_label()
            ),
            current: view.base == edition.base,
            link: found.map(|(policy, project)| Link {
                label: format!("{}-{} {}", policy.code, project.number, project.name),
                href: format!("{}/projects/{}-{}", view.base, policy.code, project.number),
                current: false,
            }),
            status: found
                .map(|(_, p)| p.status.label().to_owned())
                .unwrap_or_default(),
            cost: found.map(|(_, p)| listed_cost_text(p)).unwrap_or_default(),
        })
        .collect()
}

// ----- comparing editions -----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "diff_choice.html")]
struct DiffChoicePage {
    layout: Layout,
    action: String,
    editions: Vec<(String, String)>,
    from: String,
    to: String,
}

/// `/{code}/diff`: choose two editions (a form), or go to the comparison chosen.
async fn diff_choice(
    State(state): State<AppState>,
    PagePath(code): PagePath<String>,
    PageQuery(query): PageQuery<DiffQuery>,
) -> Response {
    if let (Some(from), Some(to)) = (&query.from, &query.to) {
        return Redirect::to(&format!("/{code}/diff/{}/{}", segment(from), segment(to)))
            .into_response();
    }
    page(&state, |snapshot| {
        let municipality = snapshot.municipality(&code).ok_or_else(|| {
            PageError::not_found(format!("団体コード {code} の計画は公開されていません。"))
        })?;
        let latest = municipality
            .latest()
            .ok_or_else(|| PageError::not_found("公開中の計画がありません。"))?;
        let editions: Vec<(String, String)> = municipality
            .editions
            .iter()
            .map(|e| (e.slug.clone(), e.info.span.long_label()))
            .collect();
        let from = municipality
            .editions
            .len()
            .checked_sub(2)
            .map_or_else(String::new, |i| municipality.editions[i].slug.clone());
        let heading = "計画期間の比較".to_owned();
        let page = DiffChoicePage {
            layout: Layout::edition(
                municipality,
                latest,
                heading.clone(),
                None,
                vec![Crumb {
                    label: heading,
                    href: None,
                }],
            ),
            action: format!("/{code}/diff"),
            editions,
            from,
            to: latest.slug.clone(),
        };
        render(&page)
    })
}

/// A project as the comparison links it.
struct SideLink {
    href: String,
    reference: String,
    name: String,
}

struct ChangedRow {
    project: SideLink,
    details: Vec<String>,
}

/// One policy's or goal's totals in both editions, formatted for the table.
struct TotalsRow {
    key: String,
    name: String,
    from_cost: String,
    to_cost: String,
    change: String,
    from_general: String,
    to_general: String,
}

impl TotalsRow {
    /// Over the compared years: `（なし）` where the edition has no such group, `-` for no
    /// amount (never 0), and a change only where both editions state an amount.
    fn of(group: &keikaku_core::diff::GroupChange) -> TotalsRow {
        let text = |t: &Option<keikaku_core::aggregate::Totals>,
                    which: keikaku_core::aggregate::Sum| {
            match t {
                None => "（なし）".to_owned(),
                Some(t) => t.amount(which).map_or_else(|| "-".to_owned(), view::total),
            }
        };
        TotalsRow {
            key: group.key.clone(),
            name: group.name.clone(),
            from_cost: text(&group.from, keikaku_core::aggregate::Sum::Cost),
            to_cost: text(&group.to, keikaku_core::aggregate::Sum::Cost),
            change: group.cost_change().text(),
            from_general: text(&group.from, keikaku_core::aggregate::Sum::General),
            to_general: text(&group.to, keikaku_core::aggregate::Sum::General),
        }
    }
}

#[derive(Template)]
#[template(path = "diff.html")]
struct DiffPage {
    layout: Layout,
    heading: String,
    counts: Vec<(String, usize)>,
    chart: Chart,
    new: Vec<SideLink>,
    ended: Vec<SideLink>,
    renamed: Vec<(SideLink, SideLink)>,
    moved: Vec<(SideLink, SideLink)>,
    changed: Vec<ChangedRow>,
    uncertain: Vec<(SideLink, SideLink, u8)>,
    from_label: String,
    to_label: String,
    /// The fiscal years the totals are summed over (those both editions cover), as a phrase.
    compared: String,
    totals: Vec<TotalsSection>,
}

/// A table of totals on the diff page.
struct TotalsSection {
    id: &'static str,
    title: &'static str,
    rows: Vec<TotalsRow>,
}

fn side_link(edition: &EditionView, side: &keikaku_core::diff::Side) -> SideLink {
    SideLink {
        href: format!("{}/projects/{}", edition.base, side.reference),
        reference: side.reference.clone(),
        name: side.name.clone(),
    }
}

/// The details of a changed project, one sentence each.
fn change_details(c: &keikaku_core::diff::Changed) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = &c.status {
        out.push(format!("区分: {} → {}", s.from, s.to));
    }
    if let Some(s) = &c.departments {
        out.push(format!(
            "担当課: {} → {}",
            s.from.join("、"),
            s.to.join("、")
        ));
    }
    if let Some(s) = &c.strategies {
        let show = |v: &Vec<String>| {
            if v.is_empty() {
                "なし".to_owned()
            } else {
                v.join(" ")
            }
        };
        out.push(format!("地方創生事業: {} → {}", show(&s.from), show(&s.to)));
    }
    if c.summary {
        out.push("事業概要を変更".to_owned());
    }
    for a in &c.amounts {
        let label = match a.field {
            "total" => "事業費",
            "earmarked" => "特定財源",
            "general" => "一般財源",
            other => keikaku_core::FundingKind::from_key(other).map_or(other, |k| k.label()),
        };
        out.push(format!(
            "{} {}: {} → {}",
            a.year.label(),
            label,
            amount_text(a.from),
            amount_text(a.to)
        ));
    }
    out
}

/// `/{code}/diff/{from}/{to}`: what changed between two published editions.
async fn diff_page(
    State(state): State<AppState>,
    PagePath((code, from, to)): PagePath<(String, String, String)>,
) -> Response {
    page(&state, |snapshot| {
        let (municipality, a) = find(snapshot, &code, &from)?;
        let (_, b) = find(snapshot, &code, &to)?;
        let d = keikaku_core::diff::diff(&a.edition, &b.edition, &[])
            .map_err(|e| PageError::bad_request(e.to_string()))?;
        let heading = format!(
            "計画期間の比較: {} → {}",
            a.info.span.label(),
            b.info.span.label()
        );
        let compared = keikaku_core::diff::compared_label(d.compared);
        let changes: Vec<chart::ChangeRow> = d
            .policies
            .iter()
            .map(|g| chart::ChangeRow {
                label: format!("{} {}", g.key, g.name),
                before: g.from_cost().map(keikaku_core::Money::thousand_yen),
                after: g.to_cost().map(keikaku_core::Money::thousand_yen),
                change: g.cost_change().text(),
            })
            .collect();
        let page = DiffPage {
            layout: Layout::edition(
                municipality,
                b,
                heading.clone(),
                None,
                vec![
                    Crumb {
                        label: "計画期間の比較".into(),
                        href: Some(format!("/{code}/diff")),
                    },
                    Crumb {
                        label: heading.clone(),
                        href: None,
                    },
                ],
            ),
            counts: vec![
                ("新規".into(), d.new.len()),
                ("終了".into(), d.ended.len()),
                ("名称変更".into(), d.renamed.len()),
                ("施策の移動".into(), d.moved.len()),
                ("内容の変更".into(), d.changed.len()),
            ],
            chart: chart::change(
                "chart-diff",
                format!(
                    "施策別の事業費の増減（{} → {}、{compared}、千円）",
                    a.info.span.label(),
                    b.info.span.label()
                ),
                "施策",
                ["変更前（千円）", "変更後（千円）"],
                &changes,
            ),
            new: d.new.iter().map(|s| side_link(b, s)).collect(),
            ended: d.ended.iter().map(|s| side_link(a, s)).collect(),
            renamed: d
                .renamed
                .iter()
                .map(|c| (side_link(a, &c.from), side_link(b, &c.to)))
                .collect(),
            moved: d
                .moved
                .iter()
                .map(|c| (side_link(a, &c.from), side_link(b, &c.to)))
                .collect(),
            changed: d
                .changed
                .iter()
                .map(|c| ChangedRow {
                    project: side_link(b, &c.to),
                    details: change_details(c),
                })
                .collect(),
            from_label: a.info.span.label(),
            to_label: b.info.span.label(),
            compared,
            totals: vec![
                TotalsSection {
                    id: "goals",
                    title: "基本目標別の合計",
                    rows: d.goals.iter().map(TotalsRow::of).collect(),
                },
                TotalsSection {
                    id: "policies",
                    title: "施策別の合計",
                    rows: d.policies.iter().map(TotalsRow::of).collect(),
                },
            ],
            uncertain: d
                .uncertain
                .iter()
                .map(|u| (side_link(a, &u.from), side_link(b, &u.to), u.similarity))
                .collect(),
            heading,
        };
        render(&page)
    })
}

// ----- departments, strategies, status -----

/// A page listing groups (departments, strategy codes, 区分) with a chart.
#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    layout: Layout,
    heading: String,
    intro: String,
    first_header: &'static str,
    groups: Vec<GroupRow>,
    sort: SortLinks,
    chart: Option<Chart>,
    note: String,
}

/// A page listing the projects of one group.
#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    layout: Layout,
    heading: String,
    intro: String,
    table: ProjectTable,
    total: Totals,
}

/// The ways of grouping projects that have a listing page and a page per group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dimension {
    /// 担当課.
    Department,
    /// 地方創生事業 (strategy code).
    Strategy,
    /// 区分.
    Status,
}

impl Dimension {
    fn group_by(self) -> GroupBy {
        match self {
            Dimension::Department => GroupBy::Department,
            Dimension::Strategy => GroupBy::Strategy,
            Dimension::Status => GroupBy::Status,
        }
    }

    /// The project filter's field for this dimension.
    fn field(self) -> Field {
        match self {
            Dimension::Department => Field::Department,
            Dimension::Strategy => Field::Strategy,
            Dimension::Status => Field::Status,
        }
    }

    /// URL segment and navigation key.
    fn section(self) -> &'static str {
        match self {
            Dimension::Department => "departments",
            Dimension::Strategy => "strategies",
            Dimension::Status => "status",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Dimension::Department => "担当課別",
            Dimension::Strategy => "地方創生事業（総合戦略）",
            Dimension::Status => "区分別",
        }
    }

    fn crumb(self) -> &'static str {
        match self {
            Dimension::Strategy => "地方創生事業",
            other => other.heading(),
        }
    }

    fn intro(self) -> &'static str {
        match self {
            Dimension::Department => "事業を担当課ごとにまとめています。",
            Dimension::Strategy => {
                "総合戦略（まち・ひと・しごと創生総合戦略）の基本目標と具体的な施策の番号ごとに、対応する事業をまとめています。Ⅲ(4) は基本目標Ⅲの施策(4)を表します。"
            }
            Dimension::Status => "新規・継続などの区分ごとに事業をまとめています。",
        }
    }

    fn first_header(self) -> &'static str {
        match self {
            Dimension::Department => "担当課",
            Dimension::Strategy => "番号",
            Dimension::Status => "区分",
        }
    }

    /// The URL segment of a group.
    fn segment_of(self, row: &Row) -> String {
        match self {
            Dimension::Strategy => StrategyCode::parse(&row.key)
                .map_or_else(|| NO_STRATEGY.to_owned(), StrategyCode::slug),
            _ => segment(&row.key),
        }
    }

    /// How a group is named on pages.
    fn label_of(self, row: &Row) -> String {
        match self {
            Dimension::Strategy if row.key == NO_STRATEGY => "地方創生事業以外".to_owned(),
            Dimension::Strategy => format!("総合戦略 {}", row.key),
            _ => row.name.clone(),
        }
    }

    fn chart(self, edition: &EditionView, rows: &[Row]) -> Option<Chart> {
        match self {
            Dimension::Department => Some(chart::stacked_cost(
                "chart-department",
                format!("担当課別の事業費（{}、千円）", amount_heading(edition)),
                "担当課",
                rows,
                |r| r.name.clone(),
            )),
            Dimension::Strategy => Some(chart::share(
                "chart-strategy",
                "地方創生事業の番号別の事業費の割合".into(),
                "番号",
                rows,
                |r| self.label_of(r),
            )),
            Dimension::Status => None,
        }
    }

    fn note(self, aggregate: &keikaku_core::aggregate::Aggregate) -> String {
        match (self, aggregate.counted_more_than_once) {
            (_, 0) | (Dimension::Status, _) => String::new(),
            (Dimension::Department, n) => format!(
                "担当課が複数ある事業（{n}件）はそれぞれの課に計上しているため、各課の合計の和は計画全体の合計（{}千円）を上回ります。",
                total(aggregate.total.cost)
            ),
            (Dimension::Strategy, n) => {
                format!("複数の番号に該当する事業（{n}件）はそれぞれに計上しています。")
            }
        }
    }

    /// The group named by a URL segment, checked against the edition by the rules of the
    /// project filter (a department or 区分 that no project has is not a page: 404, with a
    /// link to the list).
    fn select(self, segment: &str, edition: &EditionView) -> Result<Selection, PageError> {
        let field = self.field();
        let list = |message: String| {
            PageError::not_found(message).with_link(
                format!("{}の一覧", field.label()),
                format!("{}/{}", edition.base, self.section()),
            )
        };
        let filter = match self {
            Dimension::Strategy if segment == NO_STRATEGY => {
                return Ok(Selection {
                    label: "地方創生事業以外".to_owned(),
                    intro: "総合戦略の番号が付いていない事業です。".to_owned(),
                    filter: None,
                });
            }
            Dimension::Strategy => {
                let code = StrategyCode::from_slug(segment).ok_or_else(|| {
                    list(format!(
                        "地方創生事業の番号「{segment}」が読めません（例: 3-4 は Ⅲ(4)）。"
                    ))
                })?;
                ProjectFilter::default().with_strategy(code)
            }
            _ => ProjectFilter::default()
                .with(field, Some(segment))
                .map_err(|e| filter_error(edition, &e))?,
        };
        if filter.is_empty() {
            return Err(list(format!("{}が指定されていません。", field.label())));
        }
        filter
            .check(&edition.edition)
            .map_err(|e| filter_error(edition, &e))?;
        Ok(match self {
            Dimension::Department => {
                let name = filter.department().unwrap_or_default().to_owned();
                Selection {
                    intro: format!(
                        "{name}が担当する事業です（他の課と共同で担当する事業を含みます）。"
                    ),
                    label: name,
                    filter: Some(filter),
                }
            }
            Dimension::Status => {
                let status = filter
                    .status()
                    .map(|s| s.label().to_owned())
                    .unwrap_or_default();
                Selection {
                    label: format!("区分: {status}"),
                    intro: format!("区分が「{status}」の事業です。"),
                    filter: Some(filter),
                }
            }
            Dimension::Strategy => {
                let code = filter.strategy().map(|c| c.to_string()).unwrap_or_default();
                let measure = filter.strategy().map_or(0, StrategyCode::measure);
                let numeral = code.split('(').next().unwrap_or("").to_owned();
                Selection {
                    label: format!("総合戦略 {code}"),
                    intro: format!(
                        "総合戦略の基本目標{numeral}・施策({measure})に位置づけられた事業です。"
                    ),
                    filter: Some(filter),
                }
            }
        })
    }
}

/// One group of a dimension: how pages name it and which projects belong to it (`None`:
/// the projects without a strategy code).
struct Selection {
    label: String,
    intro: String,
    filter: Option<ProjectFilter>,
}

/// The listing of one dimension: chart, table of groups, note.
fn groups(
    state: &AppState,
    dimension: Dimension,
    code: &str,
    slug: &str,
    sort: Option<Sort>,
) -> Response {
    page(state, |snapshot| {
        let (municipality, edition) = find(snapshot, code, slug)?;
        let aggregate = edition.aggregate(dimension.group_by());
        let sort = sort.unwrap_or_default();
        let base = format!("{}/{}", edition.base, dimension.section());
        let mut groups = group_rows(
            &aggregate.rows,
            |r| format!("{base}/{}", dimension.segment_of(r)),
            sort,
        );
        for (group, row) in groups.iter_mut().zip(&aggregate.rows) {
            if row.key == NO_STRATEGY {
                group.name = dimension.label_of(row);
            }
        }
        let heading = dimension.heading().to_owned();
        let page = GroupsPage {
            layout: Layout::edition(
                municipality,
                edition,
                heading.clone(),
                Some(dimension.section()),
                vec![Crumb {
                    label: dimension.crumb().to_owned(),
                    href: None,
                }],
            ),
            heading,
            intro: dimension.intro().to_owned(),
            first_header: dimension.first_header(),
            groups,
            sort: SortLinks::new(&base, sort),
            chart: dimension.chart(edition, &aggregate.rows),
            note: dimension.note(aggregate),
        };
        render(&page)
    })
}

/// The projects of one group of a dimension.
fn group(
    state: &AppState,
    dimension: Dimension,
    code: &str,
    slug: &str,
    key: &str,
    sort: Option<Sort>,
) -> Response {
    page(state, |snapshot| {
        let (municipality, edition) = find(snapshot, code, slug)?;
        let Selection {
            label,
            intro,
            filter,
        } = dimension.select(key, edition)?;
        let entries: Vec<&ProjectEntry> = edition
            .projects
            .iter()
            .filter(|e| {
                let (_, policy, project) = edition.resolve(e);
                match &filter {
                    Some(filter) => filter.matches(policy, project),
                    None => project.strategies.is_empty(),
                }
            })
            .collect();
        if entries.is_empty() {
            return Err(PageError::not_found(format!(
                "「{label}」に当たる事業はこの計画にありません。"
            ))
            .with_link(
                format!("{}の一覧", dimension.field().label()),
                format!("{}/{}", edition.base, dimension.section()),
            ));
        }
        let base = format!("{}/{}", edition.base, dimension.section());
        let path = format!(
            "{base}/{}",
            if dimension == Dimension::Strategy {
                key.to_owned()
            } else {
                segment(key)
            }
        );
        let page = GroupPage {
            layout: Layout::edition(
                municipality,
                edition,
                label.clone(),
                Some(dimension.section()),
                vec![
                    Crumb {
                        label: dimension.crumb().to_owned(),
                        href: Some(base),
                    },
                    Crumb {
                        label: label.clone(),
                        href: None,
                    },
                ],
            ),
            intro,
            table: project_table(
                edition,
                format!("{label}の事業"),
                &entries,
                &path,
                sort.unwrap_or_default(),
            ),
            total: sum_entries(edition, &entries),
            heading: label,
        };
        render(&page)
    })
}

async fn departments(
    State(state): State<AppState>,
    PagePath((code, slug)): PagePath<(String, String)>,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    groups(&state, Dimension::Department, &code, &slug, query.sort)
}

async fn department(
    State(state): State<AppState>,
    PagePath((code, slug, key)): PagePath<(String, String, String)>,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    group(
        &state,
        Dimension::Department,
        &code,
        &slug,
        &key,
        query.sort,
    )
}

async fn strategies(
    State(state): State<AppState>,
    PagePath((code, slug)): PagePath<(String, String)>,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    groups(&state, Dimension::Strategy, &code, &slug, query.sort)
}

async fn strategy(
    State(state): State<AppState>,
    PagePath((code, slug, key)): PagePath<(String, String, String)>,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    group(&state, Dimension::Strategy, &code, &slug, &key, query.sort)
}

async fn statuses(
    State(state): State<AppState>,
    PagePath((code, slug)): PagePath<(String, String)>,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    groups(&state, Dimension::Status, &code, &slug, query.sort)
}

async fn status(
    State(state): State<AppState>,
    PagePath((code, slug, key)): PagePath<(String, String, String)>,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    group(&state, Dimension::Status, &code, &slug, &key, query.sort)
}

// ----- search -----

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    q: Option<String>,
    policy: Option<String>,
    department: Option<String>,
    status: Option<String>,
    strategy: Option<String>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    query: String,
    action: String,
    filters: Vec<Filter>,
    results: Vec<SearchResult>,
    searched: bool,
    filtered: bool,
    summary: String,
    suggestions: Vec<Link>,
}

/// A filter drop-down of the search form.
struct Filter {
    name: &'static str,
    label: &'static str,
    options: Vec<(String, String, bool)>,
}

struct SearchResult {
    href: String,
    reference: String,
    name: Vec<(String, bool)>,
    policy: String,
    status: String,
    departments: String,
    cost: String,
    snippets: Vec<Snippet>,
}

struct Snippet {
    field: &'static str,
    pieces: Vec<(String, bool)>,
}

fn filter_options(
    values: Vec<(String, String)>,
    chosen: Option<&str>,
) -> Vec<(String, String, bool)> {
    let mut options = vec![(String::new(), "すべて".to_owned(), chosen.is_none())];
    options.extend(values.into_iter().map(|(value, label)| {
        let selected = chosen == Some(value.as_str());
        (value, label, selected)
    }));
    options
}

async fn search(
    State(state): State<AppState>,
    PagePath((code, slug)): PagePath<(String, String)>,
    PageQuery(query): PageQuery<SearchQuery>,
) -> Response {
    page(&state, |snapshot| {
        let (municipality, edition) = find(snapshot, &code, &slug)?;
        let q = query.q.clone().unwrap_or_default();
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(PageError::bad_request(format!(
                "検索語が長すぎます（{MAX_QUERY_CHARS}文字まで）。"
            )));
        }
        let filter = [
            (Field::Policy, &query.policy),
            (Field::Department, &query.department),
            (Field::Status, &query.status),
            (Field::Strategy, &query.strategy),
        ]
        .into_iter()
        .try_fold(ProjectFilter::default(), |f, (field, text)| {
            f.with(field, text.as_deref())
        })
        .and_then(|f| f.check(&edition.edition).map(|()| f))
        .map_err(|e| filter_error(edition, &e))?;
        let keep = |i: usize| {
            edition.projects.get(i).is_some_and(|entry| {
                let (_, policy, project) = edition.resolve(entry);
                filter.matches(policy, project)
            })
        };
        let searched = !q.trim().is_empty();
        let hits = if searched {
            edition.index.search(&q, keep)
        } else {
            Vec::new()
        };
        let results: Vec<SearchResult> = hits
            .iter()
            .filter_map(|hit| {
                let entry = edition.projects.get(hit.document)?;
                let (_, policy, project) = edition.resolve(entry);
                let text = edition.index.text(hit.document);
                let snippets = hit
                    .matches
                    .iter()
                    .filter(|m| m.field != SearchField::Name)
                    .map(|m| Snippet {
                        field: m.field.label(),
                        pieces: highlight(text.map_or("", |t| t.field(m.field)), &m.ranges),
                    })
                    .collect();
                Some(SearchResult {
                    href: format!("{}/projects/{}", edition.base, entry.reference),
                    reference: entry.reference.clone(),
                    name: highlight(&project.name, hit.ranges(SearchField::Name)),
                    policy: format!("施策 {} {}", policy.code, policy.title),
                    status: project.status.label().to_owned(),
                    departments: project.departments.join("、"),
                    cost: listed_cost_text(project),
                    snippets,
                })
            })
            .collect();
        let filtered = !filter.is_empty();
        // The drop-downs show the values as the lists name them (拡大 is shown as 拡充).
        let policy = filter.policy().map(|c| c.to_string());
        let department = filter.department().map(str::to_owned);
        let status = filter.status().map(|s| s.label().to_owned());
        let strategy = filter.strategy().map(|c| c.to_string());
        let summary = if !searched {
            "検索語を入力してください。事業名・事業概要・担当課・施策名から探します。".to_owned()
        } else if results.is_empty() {
            format!("「{q}」に一致する事業は見つかりませんでした。")
        } else {
            format!(
                "「{q}」に一致する事業が {} 件見つかりました{}。",
                results.len(),
                if filtered {
                    "（絞り込み中）"
                } else {
                    ""
                }
            )
        };
        let heading = if searched {
            format!("「{q}」の検索結果")
        } else {
            "事業を探す".to_owned()
        };
        let policies_list: Vec<(String, String)> = edition
            .edition
            .policies()
            .map(|p| (p.code.to_string(), format!("{} {}", p.code, p.title)))
            .collect();
        let page = SearchPage {
            layout: Layout::edition(
                municipality,
                edition,
                heading.clone(),
                None,
                vec![Crumb {
                    label: heading,
                    href: None,
                }],
            )
            .with_query(&q),
            action: format!("{}/search", edition.base),
            filters: vec![
                Filter {
                    name: "policy",
                    label: "施策",
                    options: filter_options(policies_list, policy.as_deref()),
                },
                Filter {
                    name: "department",
                    label: "担当課",
                    options: filter_options(
                        edition
                            .departments()
                            .into_iter()
                            .map(|d| (d.to_owned(), d.to_owned()))
                            .collect(),
                        department.as_deref(),
                    ),
                },
                Filter {
                    name: "status",
                    label: "区分",
                    options: filter_options(
                        edition
                            .aggregate(GroupBy::Status)
                            .rows
                            .iter()
                            .map(|r| (r.key.clone(), r.key.clone()))
                            .collect(),
                        status.as_deref(),
                    ),
                },
                Filter {
                    name: "strategy",
                    label: "地方創生事業",
                    options: filter_options(
                        edition
                            .aggregate(GroupBy::Strategy)
                            .rows
                            .iter()
                            .filter(|r| r.key != NO_STRATEGY)
                            .map(|r| (r.key.clone(), r.key.clone()))
                            .collect(),
                        strategy.as_deref(),
                    ),
                },
            ],
            suggestions: if searched && results.is_empty() {
                let mut links = vec![Link {
                    label: "施策一覧から探す".into(),
                    href: format!("{}/policies", edition.base),
                    current: false,
                }];
                links.push(Link {
                    label: "担当課から探す".into(),
                    href: format!("{}/departments", edition.base),
                    current: false,
                });
                if filtered {
                    links.insert(
                        0,
                        Link {
                            label: "絞り込みを外して探す".into(),
                            href: format!("{}/search?q={}", edition.base, view::query_value(&q)),
                            current: false,
                        },
                    );
                }
                links
            } else {
                Vec::new()
            },
            query: q,
            results,
            searched,
            filtered,
            summary,
        };
        render(&page)
    })
}
