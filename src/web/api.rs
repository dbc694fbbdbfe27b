//! The JSON API under `/api/v1`, described by an OpenAPI 3.1 document generated from these
//! handlers (`/api/openapi.json`) and browsable at `/api/docs/` (Swagger UI, served from the
//! binary: nothing from a CDN).
//!
//! Everything is read-only (GET). Errors are `{"error": {"code", "message"}}` with stable
//! codes; malformed parameters are 400, unknown resources 404. Amounts are integers of 千円
//! and `null` means "no amount", never 0.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use keikaku_core::aggregate::{Aggregate, GroupBy, Totals};
use keikaku_core::filter::{Field, FilterError, ProjectFilter};
use keikaku_core::{FiscalYear, Lang, Project, YearCost};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::params::{self, NoParams};
use super::snapshot::{EditionView, MunicipalityView, ProjectEntry, Snapshot};

/// Largest page of a listing.
pub const MAX_PER_PAGE: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// Highest page number accepted.
pub const MAX_PAGE: u32 = 100_000;

/// The API routes (mounted under `/api`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/municipalities", get(municipalities))
        .route("/v1/municipalities/{code}", get(municipality))
        .route("/v1/municipalities/{code}/editions", get(editions))
        .route("/v1/municipalities/{code}/editions/{edition}", get(edition))
        .route(
            "/v1/municipalities/{code}/editions/{edition}/goals",
            get(goals),
        )
        .route(
            "/v1/municipalities/{code}/editions/{edition}/policies",
            get(policies),
        )
        .route(
            "/v1/municipalities/{code}/editions/{edition}/policies/{policy}",
            get(policy),
        )
        .route(
            "/v1/municipalities/{code}/editions/{edition}/projects",
            get(projects),
        )
        .route(
            "/v1/municipalities/{code}/editions/{edition}/projects/{project}",
            get(project),
        )
        .route(
            "/v1/municipalities/{code}/editions/{edition}/aggregates/{by}",
            get(aggregate),
        )
        .route(
            "/v1/municipalities/{code}/editions/{edition}/search",
            get(search),
        )
        .route("/v1/compare", get(compare))
}

/// The OpenAPI document and the Swagger UI that shows it.
pub fn docs() -> Router {
    SwaggerUi::new("/api/docs")
        .url("/api/openapi.json", openapi())
        .into()
}

/// The whole OpenAPI document: the public API and the admin API of the staff workspace.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::admin::api::AdminApiDoc::openapi());
    doc
}

/// The OpenAPI description of the public API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "keikaku API",
        description = "市町村の実施計画（事業・事業費・財源）を返す API です。/api/v1 は公開中の計画を誰でも読めます（読み取り専用）。/api/admin/v1 は作業画面の API で、ログインが必要です。金額は千円単位の整数で、null は計上なし（0 ではありません）を表します。\n\nAPI over municipalities' 実施計画 (rolling implementation plans). /api/v1 reads the published plans, for anyone (read-only); /api/admin/v1 is the staff workspace and needs a session. Amounts are integers of 千円 (thousand yen); null means no amount, never zero.",
        license(name = "Data: CC-BY-4.0", identifier = "CC-BY-4.0")
    ),
    paths(municipalities, municipality, editions, edition, goals, policies, policy, projects, project, aggregate, search, compare),
    components(schemas(ErrorBody, By, CompareBy)),
    tags((name = "plans", description = "Municipalities, editions, goals, policies and projects"),
         (name = "analysis", description = "Totals and search"))
)]
pub struct ApiDoc;

// ----- extractors that answer malformed input with the API's JSON errors -----

/// Query parameters; unknown (named in the message) or malformed ones give 400. An
/// endpoint that takes none says so with [`NoParams`].
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        params::check_names::<T>(parts).map_err(|u| ApiError::bad_request(u.english()))?;
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| {
                ApiError::bad_request(format!("invalid query parameters: {}", e.body_text()))
            })
    }
}

/// Path parameters; undecodable ones give 400.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::bad_request(format!("invalid path: {}", e.body_text())))
    }
}

// ----- response types -----

/// Project count and amounts (千円).
#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsBody {
    /// Number of projects.
    pub projects: u64,
    /// 事業費 in 千円 (projects with no amount add nothing); null when no project states
    /// one (no amount, which is not 0).
    pub cost: Option<i64>,
    /// 特定財源 in 千円, null as `cost`.
    pub earmarked: Option<i64>,
    /// 一般財源 in 千円, null as `cost`.
    pub general: Option<i64>,
}

impl From<&Totals> for TotalsBody {
    fn from(t: &Totals) -> Self {
        TotalsBody {
            projects: t.projects,
            cost: t
                .amount(keikaku_core::aggregate::Sum::Cost)
                .map(|m| m.thousand_yen()),
            earmarked: t
                .amount(keikaku_core::aggregate::Sum::Earmarked)
                .map(|m| m.thousand_yen()),
            general: t
                .amount(keikaku_core::aggregate::Sum::General)
                .map(|m| m.thousand_yen()),
        }
    }
}

/// An edition, as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditionSummaryBody {
    /// Label, e.g. `R2-R4`.
    pub edition: String,
    /// URL segment, e.g. `r2-r4`.
    pub slug: String,
    /// First fiscal year (Western), e.g. 2020.
    pub first_year: i32,
    /// Last fiscal year, e.g. 2022.
    pub last_year: i32,
    /// Title.
    pub title: String,
    /// Number of projects.
    pub projects: u64,
    /// Portal page.
    pub html_url: String,
}

/// A municipality and its published editions.
#[derive(Debug, Serialize, ToSchema)]
pub struct MunicipalityBody {
    /// 全国地方公共団体コード (6 digits).
    pub code: String,
    /// Name, e.g. 白河市.
    pub name: String,
    /// Prefecture, e.g. 福島県.
    pub prefecture: String,
    /// Published editions, oldest first.
    pub editions: Vec<EditionSummaryBody>,
}

/// A goal (基本目標).
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalBody {
    /// Number.
    pub number: u32,
    /// Title.
    pub title: String,
    /// Field (分野); may be empty.
    pub field: String,
    /// Codes of its policies.
    pub policies: Vec<String>,
    /// Totals over the edition's years.
    pub totals: TotalsBody,
}

/// A policy (施策).
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyBody {
    /// Code, e.g. `7-1`.
    pub code: String,
    /// Goal number.
    pub goal: u32,
    /// Title.
    pub title: String,
    /// めざすまちの姿 (lines joined with `\n`).
    pub vision: String,
    /// Totals over the edition's years.
    pub totals: TotalsBody,
}

/// An edition with its goals.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditionBody {
    /// Municipality code.
    pub municipality_code: String,
    /// Municipality name.
    pub municipality_name: String,
    /// Label, e.g. `R2-R4`.
    pub edition: String,
    /// URL segment.
    pub slug: String,
    /// First fiscal year.
    pub first_year: i32,
    /// Last fiscal year.
    pub last_year: i32,
    /// Title.
    pub title: String,
    /// The document it was read from.
    pub source: String,
    /// When it was stored (RFC 3339).
    pub imported_at: String,
    /// Totals over every year.
    pub totals: TotalsBody,
    /// Goals.
    pub goals: Vec<GoalBody>,
}

/// A link to the strategy (総合戦略).
#[derive(Debug, Serialize, ToSchema)]
pub struct StrategyBody {
    /// Normalised code, e.g. `Ⅲ(4)`.
    pub code: String,
    /// As written in the plan, e.g. `III(4)`.
    pub raw: String,
}

/// One fiscal year's amounts in 千円; null is "no amount".
#[derive(Debug, Serialize, ToSchema)]
pub struct CostBody {
    /// Fiscal year (Western, the year it starts).
    pub year: i32,
    /// Japanese label, e.g. 令和2年度.
    pub label: String,
    /// 事業費.
    pub total: Option<i64>,
    /// 特定財源.
    pub earmarked: Option<i64>,
    /// 一般財源.
    pub general: Option<i64>,
    /// Breakdown of 特定財源 by kind (national, prefectural, national_prefectural, bonds, other).
    pub earmarked_breakdown: std::collections::BTreeMap<String, i64>,
}

/// A project (事業).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectBody {
    /// Stable id across editions.
    pub id: String,
    /// Reference within the edition: policy code and number, e.g. `7-1-3`.
    pub reference: String,
    /// Policy code.
    pub policy: String,
    /// Number within the policy.
    pub number: u32,
    /// 事業名.
    pub name: String,
    /// 事業概要.
    pub summary: String,
    /// 区分, e.g. 継続.
    pub status: String,
    /// 担当課.
    pub departments: Vec<String>,
    /// 地方創生事業.
    pub strategies: Vec<StrategyBody>,
    /// Cost per fiscal year.
    pub costs: Vec<CostBody>,
    /// Portal page.
    pub html_url: String,
}

/// Declares the body of one page of a listing: every listing pages the same way.
macro_rules! page_body {
    ($(#[$doc:meta])* $name:ident of $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            /// The items on this page.
            pub items: Vec<$item>,
            /// Page number (from 1).
            pub page: u32,
            /// Page size.
            pub per_page: u32,
            /// Items in all.
            pub total: u64,
            /// Number of pages (0 when there are no items).
            pub pages: u64,
        }

        impl From<Paged<$item>> for $name {
            fn from(p: Paged<$item>) -> $name {
                $name {
                    items: p.items,
                    page: p.page,
                    per_page: p.per_page,
                    total: p.total,
                    pages: p.pages,
                }
            }
        }
    };
}

page_body!(
    /// A page of municipalities.
    MunicipalityPageBody of MunicipalityBody
);
page_body!(
    /// A page of a municipality's editions.
    EditionPageBody of EditionSummaryBody
);
page_body!(
    /// A page of goals.
    GoalPageBody of GoalBody
);
page_body!(
    /// A page of policies.
    PolicyPageBody of PolicyBody
);
page_body!(
    /// A page of projects.
    ProjectPageBody of ProjectBody
);

/// One group of an aggregate.
#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateRowBody {
    /// Key: policy code, goal number, department, strategy code (or `none`), 区分, year.
    pub key: String,
    /// Name: title, department, code, 区分 or year label.
    pub name: String,
    /// Number of projects.
    pub projects: u64,
    /// 事業費 (千円); null when no project of the group states one.
    pub cost: Option<i64>,
    /// 特定財源 (千円); null as `cost`.
    pub earmarked: Option<i64>,
    /// 一般財源 (千円); null as `cost`.
    pub general: Option<i64>,
}

/// Totals grouped one way (the same shape as `keikaku report --format json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateBody {
    /// Edition label.
    pub edition: String,
    /// Grouping.
    pub by: String,
    /// Groups. A project with several departments or strategy codes counts under each.
    pub rows: Vec<AggregateRowBody>,
    /// Every project once.
    pub total: TotalsBody,
}

/// Where a search matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchBody {
    /// Field: name, department, policy, summary or codes.
    pub field: String,
    /// The field's text.
    pub text: String,
    /// Matched character ranges `[start, end)` (Unicode scalar values) of `text`.
    pub ranges: Vec<[usize; 2]>,
}

/// One search result.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitBody {
    /// The project.
    pub project: ProjectBody,
    /// Relevance (higher is better).
    pub score: u32,
    /// Where the words matched.
    pub matches: Vec<MatchBody>,
}

/// Search results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchBody {
    /// The query.
    pub query: String,
    /// Results on this page, best first.
    pub items: Vec<HitBody>,
    /// Page number.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// Results in all.
    pub total: u64,
    /// Number of pages (0 when nothing matched).
    pub pages: u64,
}

// ----- conversions -----

fn cost_body(cost: &YearCost) -> CostBody {
    CostBody {
        year: cost.year.year(),
        label: cost.year.label(),
        total: cost.total.map(|m| m.thousand_yen()),
        earmarked: cost.earmarked.map(|m| m.thousand_yen()),
        general: cost.general.map(|m| m.thousand_yen()),
        earmarked_breakdown: cost
            .earmarked_breakdown
            .iter()
            .map(|(k, m)| (k.key().to_owned(), m.thousand_yen()))
            .collect(),
    }
}

fn project_body(edition: &EditionView, entry: &ProjectEntry) -> ProjectBody {
    let (_, policy, project): (_, _, &Project) = edition.resolve(entry);
    ProjectBody {
        id: project.id.to_string(),
        reference: entry.reference.clone(),
        policy: policy.code.to_string(),
        number: project.number,
        name: project.name.clone(),
        summary: project.summary.clone(),
        status: project.status.label().to_owned(),
        departments: project.departments.clone(),
        strategies: project
            .strategies
            .iter()
            .map(|s| StrategyBody {
                code: s.code.to_string(),
                raw: s.raw.clone(),
            })
            .collect(),
        costs: project.costs.iter().map(cost_body).collect(),
        html_url: format!("{}/projects/{}", edition.base, entry.reference),
    }
}

fn summary_body(edition: &EditionView) -> EditionSummaryBody {
    EditionSummaryBody {
        edition: edition.info.span.label(),
        slug: edition.slug.clone(),
        first_year: edition.info.span.first().year(),
        last_year: edition.info.span.last().year(),
        title: edition.info.title.clone(),
        projects: edition.projects.len() as u64,
        html_url: edition.base.clone(),
    }
}

fn municipality_body(m: &MunicipalityView) -> MunicipalityBody {
    MunicipalityBody {
        code: m.municipality.code.to_string(),
        name: m.municipality.name.clone(),
        prefecture: m.municipality.code.prefecture_name().to_owned(),
        editions: m.editions.iter().map(|e| summary_body(e)).collect(),
    }
}

fn aggregate_body(edition: &EditionView, aggregate: &Aggregate) -> AggregateBody {
    AggregateBody {
        edition: edition.info.span.label(),
        by: aggregate.by.as_str().to_owned(),
        rows: aggregate
            .rows
            .iter()
            .map(|r| {
                let t = TotalsBody::from(&r.totals);
                AggregateRowBody {
                    key: r.key.clone(),
                    name: r.name.clone(),
                    projects: t.projects,
                    cost: t.cost,
                    earmarked: t.earmarked,
                    general: t.general,
                }
            })
            .collect(),
        total: (&aggregate.total).into(),
    }
}

// ----- lookups with the API's errors -----

fn check_code(code: &str) -> Result<(), ApiError> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "municipality code {code:?} is not 6 digits"
        )))
    }
}

fn find_municipality<'s>(
    snapshot: &'s Snapshot,
    code: &str,
) -> Result<&'s MunicipalityView, ApiError> {
    check_code(code)?;
    snapshot
        .municipality(code)
        .ok_or_else(|| ApiError::not_found(format!("no published plan for municipality {code}")))
}

/// True for an edition segment of the documented form: `latest` or `r2-r4` (era letter and
/// number, twice; either case).
fn well_formed_edition(slug: &str) -> bool {
    if slug == "latest" {
        return true;
    }
    let part = |p: &str| {
        let mut chars = p.chars();
        matches!(chars.next(), Some('r' | 'h' | 'R' | 'H'))
            && (1..=2).contains(&chars.clone().count())
            && chars.all(|c| c.is_ascii_digit())
    };
    slug.split_once('-')
        .is_some_and(|(a, b)| part(a) && part(b))
}

fn find_edition<'s>(
    snapshot: &'s Snapshot,
    code: &str,
    slug: &str,
) -> Result<&'s EditionView, ApiError> {
    let municipality = find_municipality(snapshot, code)?;
    if !well_formed_edition(slug) {
        return Err(ApiError::bad_request(format!(
            "edition {slug:?} is not a span such as r2-r4 (or `latest`)"
        )));
    }
    municipality
        .edition(&slug.to_ascii_lowercase())
        .map(AsRef::as_ref)
        .ok_or_else(|| {
            let known: Vec<String> = municipality
                .editions
                .iter()
                .map(|e| e.slug.clone())
                .collect();
            ApiError::not_found(format!(
                "no published edition {slug} for {code} (published: {})",
                known.join(", ")
            ))
        })
}

/// True for a fiscal year of the documented form: `2020` or `R2`.
fn well_formed_year(text: &str) -> bool {
    let digits = text
        .strip_prefix(['R', 'r', 'H', 'h'])
        .map_or((4, 4), |_| (1, 2));
    let body = text.trim_start_matches(['R', 'r', 'H', 'h']);
    (digits.0..=digits.1).contains(&body.len())
        && body.bytes().all(|b| b.is_ascii_digit())
        && text.len() - body.len() <= 1
}

fn paging(page: Option<u32>, per_page: Option<u32>) -> Result<(u32, u32), ApiError> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(ApiError::bad_request(format!(
            "page must be between 1 and {MAX_PAGE}"
        )));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ApiError::bad_request(format!(
            "per_page must be between 1 and {MAX_PER_PAGE}"
        )));
    }
    Ok((page, per_page))
}

fn slice<T>(items: Vec<T>, page: u32, per_page: u32) -> Vec<T> {
    let start = (page as usize - 1).saturating_mul(per_page as usize);
    items
        .into_iter()
        .skip(start)
        .take(per_page as usize)
        .collect()
}

/// One page of a listing, before conversion to its JSON body.
struct Paged<T> {
    items: Vec<T>,
    page: u32,
    per_page: u32,
    total: u64,
    pages: u64,
}

/// The page asked for of `items`: the same rules for every listing. `page` and `per_page`
/// out of their bounds are 400; a page past the last is 404 (as `/compare` answers), except
/// page 1, which an empty listing has (with no items).
fn paged<T>(items: Vec<T>, paging: &Paging, what: &str) -> Result<Paged<T>, ApiError> {
    let (page, per_page) = self::paging(paging.page, paging.per_page)?;
    let total = items.len() as u64;
    let pages = total.div_ceil(u64::from(per_page));
    if u64::from(page) > pages.max(1) {
        return Err(ApiError::not_found(format!(
            "page {page} is past the last page ({pages}) of {what}"
        )));
    }
    Ok(Paged {
        items: slice(items, page, per_page),
        page,
        per_page,
        total,
        pages,
    })
}

/// Paging of a listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page number, from 1; a page past the last is 404.
    #[param(minimum = 1, maximum = 100000)]
    page: Option<u32>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
}

/// The API's error for a filter value: 404 when it names nothing in the edition (with where
/// the values that exist are listed), 400 when it is malformed.
fn filter_error(view: &EditionView, err: &FilterError) -> ApiError {
    if err.is_not_found() {
        ApiError::not_found(format!(
            "{}; {} lists them",
            err.message(Lang::En),
            format_args!(
                "/api/v1/municipalities/{}/editions/{}/aggregates/{}",
                view.info.municipality.code,
                view.slug,
                err.field.group_by().as_str()
            )
        ))
    } else {
        ApiError::bad_request(err.message(Lang::En))
    }
}

/// The project filter of a listing or search, checked against the edition (the rules of
/// `keikaku_core::filter`, as the CLI and the portal apply them).
fn project_filter(
    view: &EditionView,
    values: [(Field, Option<&str>); 4],
) -> Result<ProjectFilter, ApiError> {
    let filter = values
        .into_iter()
        .try_fold(ProjectFilter::default(), |f, (field, text)| {
            f.with(field, text)
        })
        .map_err(|e| filter_error(view, &e))?;
    filter
        .check(&view.edition)
        .map_err(|e| filter_error(view, &e))?;
    Ok(filter)
}

/// True when the project of `entry` passes `filter`.
fn keep(view: &EditionView, filter: &ProjectFilter, entry: &ProjectEntry) -> bool {
    let (_, policy, project) = view.resolve(entry);
    filter.matches(policy, project)
}

// ----- handlers -----

/// Every municipality with a published plan, by code, a page at a time.
#[utoipa::path(get, path = "/api/v1/municipalities", tag = "plans",
    params(Paging),
    responses(
        (status = 200, description = "A page of municipalities by code", body = MunicipalityPageBody),
        (status = 400, description = "Malformed or unknown parameter (page sizes are bounded)", body = ErrorBody),
        (status = 404, description = "A page past the last", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody)))]
async fn municipalities(
    State(state): State<AppState>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<MunicipalityPageBody>, ApiError> {
    let snapshot = state.snapshot();
    let all: Vec<&MunicipalityView> = snapshot.municipalities.iter().collect();
    let page = paged(all, &paging, "municipalities")?;
    Ok(Json(
        Paged {
            items: page.items.into_iter().map(municipality_body).collect(),
            page: page.page,
            per_page: page.per_page,
            total: page.total,
            pages: page.pages,
        }
        .into(),
    ))
}

/// One municipality and its published editions.
#[utoipa::path(get, path = "/api/v1/municipalities/{code}", tag = "plans",
    params(("code" = String, Path, description = "全国地方公共団体コード (6 digits)", pattern = "^[0-9]{6}$", example = "072052")),
    responses(
        (status = 200, description = "The municipality", body = MunicipalityBody),
        (status = 400, description = "Malformed code, or a query parameter (this endpoint takes none)", body = ErrorBody),
        (status = 404, description = "No published plan for this code", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody)))]
async fn municipality(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
) -> Result<Json<MunicipalityBody>, ApiError> {
    let snapshot = state.snapshot();
    Ok(Json(municipality_body(find_municipality(
        &snapshot, &code,
    )?)))
}

/// A municipality's published editions, oldest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/municipalities/{code}/editions", tag = "plans",
    params(("code" = String, Path, description = "全国地方公共団体コード", pattern = "^[0-9]{6}$", example = "072052"),
        Paging),
    responses(
        (status = 200, description = "A page of editions", body = EditionPageBody),
        (status = 400, description = "Malformed code or parameter", body = ErrorBody),
        (status = 404, description = "Unknown municipality, or a page past the last", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody)))]
async fn editions(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<EditionPageBody>, ApiError> {
    let snapshot = state.snapshot();
    let all: Vec<EditionSummaryBody> = find_municipality(&snapshot, &code)?
        .editions
        .iter()
        .map(|e| summary_body(e))
        .collect();
    Ok(Json(paged(all, &paging, "editions")?.into()))
}

/// One edition with its goals and totals.
#[utoipa::path(get, path = "/api/v1/municipalities/{code}/editions/{edition}", tag = "plans",
    params(("code" = String, Path, description = "全国地方公共団体コード", pattern = "^[0-9]{6}$", example = "072052"),
        ("edition" = String, Path, description = "Edition span such as r2-r4, or `latest`", pattern = "^(latest|[RrHh][0-9]{1,2}-[RrHh][0-9]{1,2})$", example = "r2-r4")),
    responses(
        (status = 200, description = "The edition", body = EditionBody),
        (status = 400, description = "Malformed code or edition, or a query parameter (this endpoint takes none)", body = ErrorBody),
        (status = 404, description = "Unknown municipality or edition", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody)))]
async fn edition(
    State(state): State<AppState>,
    ApiPath((code, slug)): ApiPath<(String, String)>,
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
) -> Result<Json<EditionBody>, ApiError> {
    let snapshot = state.snapshot();
    let view = find_edition(&snapshot, &code, &slug)?;
    let by_goal = view.aggregate(GroupBy::Goal);
    Ok(Json(EditionBody {
        municipality_code: view.info.municipality.code.to_string(),
        municipality_name: view.info.municipality.name.clone(),
        edition: view.info.span.label(),
        slug: view.slug.clone(),
        first_year: view.info.span.first().year(),
        last_year: view.info.span.last().year(),
        title: view.info.title.clone(),
        source: view.info.source.clone(),
        imported_at: view.info.imported_at.clone(),
        totals: (&by_goal.total).into(),
        goals: goal_bodies(view),
    }))
}

fn goal_bodies(view: &EditionView) -> Vec<GoalBody> {
    let by_goal = view.aggregate(GroupBy::Goal);
    view.edition
        .goals
        .iter()
        .map(|g| GoalBody {
            number: g.number,
            title: g.title.clone(),
            field: g.field.clone(),
            policies: g.policies.iter().map(|p| p.code.to_string()).collect(),
            totals: by_goal
                .rows
                .iter()
                .find(|r| r.key == g.number.to_string())
                .map(|r| (&r.totals).into())
                .unwrap_or(TotalsBody {
                    projects: 0,
                    cost: None,
                    earmarked: None,
                    general: None,
                }),
        })
        .collect()
}

/// The goals (基本目標) of an edition, a page at a time.
#[utoipa::path(get, path = "/api/v1/municipalities/{code}/editions/{edition}/goals", tag = "plans",
    params(("code" = String, Path, description = "全国地方公共団体コード", pattern = "^[0-9]{6}$", example = "072052"),
        ("edition" = String, Path, description = "Edition span such as r2-r4, or `latest`", pattern = "^(latest|[RrHh][0-9]{1,2}-[RrHh][0-9]{1,2})$", example = "r2-r4"),
        Paging),
    responses(
        (status = 200, description = "A page of goals", body = GoalPageBody),
        (status = 400, description = "Malformed code, edition or parameter", body = ErrorBody),
        (status = 404, description = "Unknown municipality or edition, or a page past the last", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody)))]
async fn goals(
    State(state): State<AppState>,
    ApiPath((code, slug)): ApiPath<(String, String)>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<GoalPageBody>, ApiError> {
    let snapshot = state.snapshot();
    let all = goal_bodies(find_edition(&snapshot, &code, &slug)?);
    Ok(Json(paged(all, &paging, "goals")?.into()))
}

fn policy_bodies(view: &EditionView) -> Vec<PolicyBody> {
    let by_policy = view.aggregate(GroupBy::Policy);
    view.edition
        .goals
        .iter()
        .flat_map(|g| g.policies.iter().map(move |p| (g, p)))
        .map(|(g, p)| {
            let key = p.code.to_string();
            PolicyBody {
                goal: g.number,
                title: p.title.clone(),
                vision: p.vision.clone(),
                totals: by_policy
                    .rows
                    .iter()
                    .find(|r| r.key == key)
                    .map(|r| (&r.totals).into())
                    .unwrap_or(TotalsBody {
                        projects: 0,
                        cost: None,
                        earmarked: None,
                        general: None,
                    }),
                code: key,
            }
        })
        .collect()
}

/// The policies (施策) of an edition, a page at a time.
#[utoipa::path(get, path = "/api/v1/municipalities/{code}/editions/{edition}/policies", tag = "plans",
    params(("code" = String, Path, description = "全国地方公共団体コード", pattern = "^[0-9]{6}$", example = "072052"),
        ("edition" = String, Path, description = "Edition span such as r2-r4, or `latest`", pattern = "^(latest|[RrHh][0-9]{1,2}-[RrHh][0-9]{1,2})$", example = "r2-r4"),
        Paging),
    responses(
        (status = 200, description = "A page of policies", body = PolicyPageBody),
        (status = 400, description = "Malformed code, edition or parameter", body = ErrorBody),
        (status = 404, description = "Unknown municipality or edition, or a page past the last", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody)))]
async fn policies(
    State(state): State<AppState>,
    ApiPath((code, slug)): ApiPath<(String, String)>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<PolicyPageBody>, ApiError> {
    let snapshot = state.snapshot();
    let all = policy_bodies(find_edition(&snapshot, &code, &slug)?);
    Ok(Json(paged(all, &paging, "policies")?.into()))
}

/// One policy (施策).
#[utoipa::path(get, path = "/api/v1/municipalities/{code}/editions/{edition}/policies/{policy}", tag = "plans",
    params(("code" = String, Path, description = "全国地方公共団体コード", pattern = "^[0-9]{6}$", example = "072052"),
        ("edition" = String, Path, description = "Edition span such as r2-r4, or `latest`", pattern = "^(latest|[RrHh][0-9]{1,2}-[RrHh][0-9]{1,2})$", example = "r2-r4"),
        ("policy" = String, Path, description = "Policy code", pattern = "^[0-9]{1,3}-[0-9]{1,3}$", example = "7-1")),
    responses(
        (status = 200, description = "The policy", body = PolicyBody),
        (status = 400, description = "Malformed parameter, or a query parameter (this endpoint takes none)", body = ErrorBody),
        (status = 404, description = "Unknown municipality, edition or policy", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody)))]
async fn policy(
    State(state): State<AppState>,
    ApiPath((code, slug, policy)): ApiPath<(String, String, String)>,
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
) -> Result<Json<PolicyBody>, ApiError> {
    let snapshot = state.snapshot();
    let view = find_edition(&snapshot, &code, &slug)?;
    // The path segment follows the rules of the `policy` filter: malformed is 400.
    let wanted = project_filter(
        view,
        [
            (Field::Policy, Some(&policy)),
            (Field::Department, None),
            (Field::Status, None),
            (Field::Strategy, None),
        ],
    )?
    .policy()
    .map(|c| c.to_string());
    policy_bodies(view)
        .into_iter()
        .find(|p| Some(&p.code) == wanted.as_ref())
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no policy {policy} in {code} {slug}")))
}

/// Filters and paging of the project listing.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProjectsQuery {
    /// Only this policy, e.g. `7-1` (empty: no filter).
    #[param(pattern = "^([0-9]{1,3}-[0-9]{1,3})?$")]
    policy: Option<String>,
    /// Only projects of this department, e.g. 企画政策課.
    #[param(max_length = 100)]
    department: Option<String>,
    /// Only this 区分, e.g. 新規 (拡大 is 拡充).
    #[param(max_length = 100)]
    status: Option<String>,
    /// Only projects linked to this strategy code, e.g. `Ⅲ(4)` or `III(4)` (empty: no filter).
    #[param(pattern = "^(([IVXLivxl]{1,8}|[Ⅰ-Ⅻ])[(（]([0-9]{1,2}|[０-９]{1,2})[)）])?$")]
    strategy: Option<String>,
    /// Page number, from 1; a page past the last is 404.
    #[param(minimum = 1, maximum = 100000)]
    page: Option<u32>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
}

/// Projects of an edition, filtered and paged, in document order.
///
/// An empty filter value is no filter; a value that names nothing in the edition is 404,
/// never an empty list.
#[utoipa::path(get, path = "/api/v1/municipalities/{code}/editions/{edition}/projects", tag = "plans",
    params(("code" = String, Path, description = "全国地方公共団体コード", pattern = "^[0-9]{6}$", example = "072052"),
        ("edition" = String, Path, description = "Edition span such as r2-r4, or `latest`", pattern = "^(latest|[RrHh][0-9]{1,2}-[RrHh][0-9]{1,2})$", example = "r2-r4"),
        ProjectsQuery),
    responses(
        (status = 200, description = "A page of projects", body = ProjectPageBody),
        (status = 400, description = "Malformed or unknown parameter (page sizes are bounded)", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody),
        (status = 404, description = "Unknown municipality or edition, a filter naming nothing in it, or a page past the last", body = ErrorBody)))]
async fn projects(
    State(state): State<AppState>,
    ApiPath((code, slug)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ProjectsQuery>,
) -> Result<Json<ProjectPageBody>, ApiError> {
    let paging = Paging {
        page: query.page,
        per_page: query.per_page,
    };
    self::paging(paging.page, paging.per_page)?;
    let snapshot = state.snapshot();
    let view = find_edition(&snapshot, &code, &slug)?;
    let filter = project_filter(
        view,
        [
            (Field::Policy, query.policy.as_deref()),
            (Field::Department, query.department.as_deref()),
            (Field::Status, query.status.as_deref()),
            (Field::Strategy, query.strategy.as_deref()),
        ],
    )?;
    let matching: Vec<&ProjectEntry> = view
        .projects
        .iter()
        .filter(|e| keep(view, &filter, e))
        .collect();
    let page = paged(matching, &paging, "projects")?;
    Ok(Json(
        Paged {
            items: page
                .items
                .into_iter()
                .map(|e| project_body(view, e))
                .collect(),
            page: page.page,
            per_page: page.per_page,
            total: page.total,
            pages: page.pages,
        }
        .into(),
    ))
}

/// One project, by reference (`7-1-3`) or stable id.
#[utoipa::path(get, path = "/api/v1/municipalities/{code}/editions/{edition}/projects/{project}", tag = "plans",
    params(("code" = String, Path, description = "全国地方公共団体コード", pattern = "^[0-9]{6}$", example = "072052"),
        ("edition" = String, Path, description = "Edition span such as r2-r4, or `latest`", pattern = "^(latest|[RrHh][0-9]{1,2}-[RrHh][0-9]{1,2})$", example = "r2-r4"),
        ("project" = String, Path, description = "Reference `7-1-3` (policy code and number) or stable id", example = "7-1-3")),
    responses(
        (status = 200, description = "The project", body = ProjectBody),
        (status = 400, description = "Malformed parameter, or a query parameter (this endpoint takes none)", body = ErrorBody),
        (status = 404, description = "Unknown municipality, edition or project", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody)))]
async fn project(
    State(state): State<AppState>,
    ApiPath((code, slug, reference)): ApiPath<(String, String, String)>,
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
) -> Result<Json<ProjectBody>, ApiError> {
    let snapshot = state.snapshot();
    let view = find_edition(&snapshot, &code, &slug)?;
    let entry = view
        .project(&reference)
        .ok_or_else(|| ApiError::not_found(format!("no project {reference} in {code} {slug}")))?;
    Ok(Json(project_body(view, entry)))
}

/// Grouping of the aggregates.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// 施策.
    Policy,
    /// 基本目標.
    Goal,
    /// 分野 (the goal's field).
    Field,
    /// 担当課.
    Department,
    /// 地方創生事業.
    Strategy,
    /// 区分.
    Status,
    /// 年度.
    Year,
}

impl From<By> for GroupBy {
    fn from(by: By) -> GroupBy {
        match by {
            By::Policy => GroupBy::Policy,
            By::Goal => GroupBy::Goal,
            By::Field => GroupBy::Field,
            By::Department => GroupBy::Department,
            By::Strategy => GroupBy::Strategy,
            By::Status => GroupBy::Status,
            By::Year => GroupBy::Year,
        }
    }
}

/// Year filter of the aggregates.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AggregateQuery {
    /// Only this fiscal year (`2020`, `R2`); default: every year of the edition.
    #[param(pattern = "^([0-9]{4}|[RrHh][0-9]{1,2})$")]
    year: Option<String>,
}

/// Totals of an edition grouped by policy, goal, department, strategy code, 区分 or year.
#[utoipa::path(get, path = "/api/v1/municipalities/{code}/editions/{edition}/aggregates/{by}", tag = "analysis",
    params(
        ("code" = String, Path, description = "全国地方公共団体コード", pattern = "^[0-9]{6}$", example = "072052"),
        ("edition" = String, Path, description = "Edition span such as r2-r4, or `latest`", pattern = "^(latest|[RrHh][0-9]{1,2}-[RrHh][0-9]{1,2})$", example = "r2-r4"),
        ("by" = By, Path, description = "Grouping"),
        AggregateQuery),
    responses(
        (status = 200, description = "Totals per group and overall", body = AggregateBody),
        (status = 400, description = "Malformed parameter", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody),
        (status = 404, description = "Unknown municipality or edition, or a year outside the edition", body = ErrorBody)))]
async fn aggregate(
    State(state): State<AppState>,
    ApiPath((code, slug, by)): ApiPath<(String, String, By)>,
    ApiQuery(query): ApiQuery<AggregateQuery>,
) -> Result<Json<AggregateBody>, ApiError> {
    let snapshot = state.snapshot();
    let view = find_edition(&snapshot, &code, &slug)?;
    let year = match &query.year {
        Some(text) if !well_formed_year(text) => {
            return Err(ApiError::bad_request(format!(
                "year {text:?} is not a fiscal year such as 2020 or R2"
            )));
        }
        Some(text) => match FiscalYear::parse(text).filter(|y| view.info.span.contains(*y)) {
            Some(year) => Some(year),
            None => {
                return Err(ApiError::not_found(format!(
                    "the edition {} has no fiscal year {text}",
                    view.info.span
                )));
            }
        },
        None => None,
    };
    let by = GroupBy::from(by);
    let body = match year {
        None => aggregate_body(view, view.aggregate(by)),
        Some(year) => aggregate_body(
            view,
            &keikaku_core::aggregate::aggregate(&view.edition, by, Some(year)),
        ),
    };
    Ok(Json(body))
}

/// Search query and filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (space-separated; all must match). Width, case and kana are folded:
    /// `ＲＰＡ` finds RPA, `フルサト` finds ふるさと.
    #[param(min_length = 1, max_length = 200)]
    q: String,
    /// Only this policy, e.g. `7-1` (empty: no filter).
    #[param(pattern = "^([0-9]{1,3}-[0-9]{1,3})?$")]
    policy: Option<String>,
    /// Only projects of this department.
    #[param(max_length = 100)]
    department: Option<String>,
    /// Only this 区分 (拡大 is 拡充).
    #[param(max_length = 100)]
    status: Option<String>,
    /// Only projects linked to this strategy code, e.g. `Ⅲ(4)` or `III(4)` (empty: no filter).
    #[param(pattern = "^(([IVXLivxl]{1,8}|[Ⅰ-Ⅻ])[(（]([0-9]{1,2}|[０-９]{1,2})[)）])?$")]
    strategy: Option<String>,
    /// Page number, from 1; a page past the last is 404.
    #[param(minimum = 1, maximum = 100000)]
    page: Option<u32>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
}

/// Full-text search over an edition's projects (name, summary, departments, policy, codes).
#[utoipa::path(get, path = "/api/v1/municipalities/{code}/editions/{edition}/search", tag = "analysis",
    params(
        ("code" = String, Path, description = "全国地方公共団体コード", pattern = "^[0-9]{6}$", example = "072052"),
        ("edition" = String, Path, description = "Edition span such as r2-r4, or `latest`", pattern = "^(latest|[RrHh][0-9]{1,2}-[RrHh][0-9]{1,2})$", example = "r2-r4"),
        SearchQuery),
    responses(
        (status = 200, description = "Results, best first (an empty list when nothing matches)", body = SearchBody),
        (status = 400, description = "Missing, malformed or unknown parameter", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody),
        (status = 404, description = "Unknown municipality or edition, a filter naming nothing in it, or a page past the last", body = ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    ApiPath((code, slug)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<SearchBody>, ApiError> {
    let paging = Paging {
        page: query.page,
        per_page: query.per_page,
    };
    self::paging(paging.page, paging.per_page)?;
    let length = query.q.chars().count();
    if length == 0 || length > super::portal::MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!(
            "q must have 1 to {} characters",
            super::portal::MAX_QUERY_CHARS
        )));
    }
    let snapshot = state.snapshot();
    let view = find_edition(&snapshot, &code, &slug)?;
    let filter = project_filter(
        view,
        [
            (Field::Policy, query.policy.as_deref()),
            (Field::Department, query.department.as_deref()),
            (Field::Status, query.status.as_deref()),
            (Field::Strategy, query.strategy.as_deref()),
        ],
    )?;
    let hits = view.index.search(&query.q, |i| {
        view.projects.get(i).is_some_and(|e| keep(view, &filter, e))
    });
    let page = paged(hits, &paging, "search results")?;
    let items = page
        .items
        .into_iter()
        .filter_map(|hit| {
            let entry = view.projects.get(hit.document)?;
            let project = project_body(view, entry);
            let matches = hit
                .matches
                .iter()
                .map(|m| MatchBody {
                    field: m.field.key().to_owned(),
                    text: view
                        .index
                        .text(hit.document)
                        .map(|t| t.field(m.field).to_owned())
                        .unwrap_or_default(),
                    ranges: m.ranges.iter().map(|(a, b)| [*a, *b]).collect(),
                })
                .collect();
            Some(HitBody {
                project,
                score: hit.score,
                matches,
            })
        })
        .collect();
    Ok(Json(SearchBody {
        query: query.q,
        items,
        page: page.page,
        per_page: page.per_page,
        total: page.total,
        pages: page.pages,
    }))
}

// ----- comparing municipalities -----

/// Grouping of a comparison.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CompareBy {
    /// 分野 (the goal's field).
    Field,
    /// 地方創生事業.
    Strategy,
    /// 区分.
    Status,
    /// Totals only.
    Total,
}

impl From<CompareBy> for GroupBy {
    fn from(by: CompareBy) -> GroupBy {
        match by {
            CompareBy::Field => GroupBy::Field,
            CompareBy::Strategy => GroupBy::Strategy,
            CompareBy::Status => GroupBy::Status,
            CompareBy::Total => GroupBy::Year,
        }
    }
}

/// The JSON name of a comparison's grouping.
fn compare_by_name(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Field | GroupBy::Strategy | GroupBy::Status => by.as_str(),
        _ => "total",
    }
}

/// Which municipalities, how to group and which year.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompareParams {
    /// Municipality codes, comma-separated (up to 200), e.g. `072052,072010`.
    #[param(pattern = "^[0-9]{6}(,[0-9]{6}){0,199}$", example = "072052")]
    municipalities: Option<String>,
    /// Every municipality of a prefecture as well: its number, 1–47.
    #[param(minimum = 1, maximum = 47)]
    prefecture: Option<u8>,
    /// Grouping (default `field`).
    by: Option<CompareBy>,
    /// Fiscal year (`2024`, `R6`); default: the latest first year of the editions compared.
    #[param(pattern = "^([0-9]{4}|[RrHh][0-9]{1,2})$")]
    year: Option<String>,
    /// When neither `municipalities` nor `prefecture` is given, every municipality in code
    /// order is compared, a page at a time: the page number, from 1.
    #[param(minimum = 1, maximum = 100000)]
    page: Option<u32>,
    /// Page size for the all-municipalities comparison, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
}

/// Population and the date it was counted.
#[derive(Debug, Serialize, ToSchema)]
pub struct PopulationBody {
    /// Inhabitants.
    pub count: u64,
    /// The date of the count, `YYYY-MM-DD`.
    pub as_of: String,
}

/// One group's figures in a comparison.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiguresBody {
    /// Group key: the field, the strategy code (`none` for projects without one), the 区分,
    /// or `all` for the total.
    pub key: String,
    /// Group name.
    pub name: String,
    /// Projects.
    pub projects: i64,
    /// 事業費 in 千円; null when no project of the group states one in the year (no
    /// amount, which is not 0).
    pub cost: Option<i64>,
    /// 特定財源 in 千円; null as `cost`.
    pub earmarked: Option<i64>,
    /// 一般財源 in 千円; null as `cost`.
    pub general: Option<i64>,
    /// 事業費 per inhabitant in yen (rounded), or null when no population is recorded.
    pub cost_per_capita_yen: Option<i64>,
}

/// One municipality in a comparison.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComparedBody {
    /// 全国地方公共団体コード.
    pub code: String,
    /// Name.
    pub name: String,
    /// Prefecture, e.g. 福島県.
    pub prefecture: String,
    /// Recorded population, or null.
    pub population: Option<PopulationBody>,
    /// The edition the figures come from (the latest published one covering the year).
    pub edition: String,
    /// All projects of that edition.
    pub total: FiguresBody,
    /// By group, largest cost first (empty for `by=total`).
    pub groups: Vec<FiguresBody>,
}

/// A comparison of municipalities in one fiscal year.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompareBody {
    /// The fiscal year compared (Western year in which it starts).
    pub year: i32,
    /// `field`, `strategy`, `status` or `total`.
    pub by: String,
    /// Municipalities by code.
    pub municipalities: Vec<ComparedBody>,
    /// Codes asked for that have no published edition covering the year.
    pub missing: Vec<String>,
    /// When every municipality is compared a page at a time: the next page, or null on the
    /// last one (always null for a chosen list or a prefecture).
    pub next_page: Option<u32>,
}

/// The JSON of one group's figures (also `keikaku compare --national --format json`).
pub fn figures_body(f: &crate::ops::compare::Figures) -> FiguresBody {
    FiguresBody {
        key: f.key.clone(),
        name: f.name.clone(),
        projects: f.projects,
        cost: f
            .amount(keikaku_core::aggregate::Sum::Cost)
            .map(|m| m.thousand_yen()),
        earmarked: f
            .amount(keikaku_core::aggregate::Sum::Earmarked)
            .map(|m| m.thousand_yen()),
        general: f
            .amount(keikaku_core::aggregate::Sum::General)
            .map(|m| m.thousand_yen()),
        cost_per_capita_yen: f.per_capita_yen,
    }
}

/// The JSON of a comparison (the API's and `keikaku compare --format json`).
pub fn compare_body(c: &crate::ops::compare::Comparison) -> CompareBody {
    CompareBody {
        year: c.year.year(),
        by: compare_by_name(c.by).to_owned(),
        municipalities: c
            .municipalities
            .iter()
            .map(|m| ComparedBody {
                code: m.code.to_string(),
                name: m.name.clone(),
                prefecture: m.code.prefecture_name().to_owned(),
                population: m.population.map(|p| PopulationBody {
                    count: p.count,
                    as_of: p.as_of.to_string(),
                }),
                edition: m.edition.clone(),
                total: figures_body(&m.total),
                groups: m.groups.iter().map(figures_body).collect(),
            })
            .collect(),
        missing: c.missing.clone(),
        next_page: None,
    }
}

fn compare_year(text: Option<&str>) -> Result<Option<FiscalYear>, ApiError> {
    match text {
        None => Ok(None),
        Some(text) if !well_formed_year(text) => Err(ApiError::bad_request(format!(
            "year {text:?} is not a fiscal year such as 2024 or R6"
        ))),
        Some(text) => FiscalYear::parse(text)
            .map(Some)
            .ok_or_else(|| ApiError::not_found(format!("no fiscal year {text}"))),
    }
}

/// Compares municipalities in one fiscal year by policy field, strategy code or 区分: totals,
/// project counts and 事業費 per inhabitant where a population is recorded.
#[utoipa::path(get, path = "/api/v1/compare", tag = "analysis",
    params(CompareParams),
    responses(
        (status = 200, description = "The comparison", body = CompareBody),
        (status = 400, description = "Malformed parameter, or more than 200 municipalities chosen", body = ErrorBody),
        (status = 404, description = "A municipality code that is not in the database", body = ErrorBody),
        (status = 414, description = "Request URL longer than 8,192 bytes", body = ErrorBody),
        (status = 503, description = "The database is not reachable", body = ErrorBody)))]
async fn compare(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<CompareParams>,
) -> Result<Json<CompareBody>, ApiError> {
    let mut municipalities = Vec::new();
    for code in params
        .municipalities
        .as_deref()
        .map(|list| list.split(',').collect::<Vec<_>>())
        .unwrap_or_default()
    {
        check_code(code)?;
        municipalities.push(code.to_owned());
    }
    if let Some(p) = params.prefecture
        && !(1..=47).contains(&p)
    {
        return Err(ApiError::bad_request(format!("prefecture {p} is not 1–47")));
    }
    let year = compare_year(params.year.as_deref())?;
    let mut next_page = None;
    if municipalities.is_empty() && params.prefecture.is_none() {
        let (page, per_page) = paging(params.page, params.per_page)?;
        let all = state
            .store
            .municipalities()
            .await
            .map_err(crate::ops::OpsError::from)?;
        let pages = all.len().div_ceil(per_page as usize);
        next_page = ((page as usize) < pages).then_some(page + 1);
        municipalities = slice(all, page, per_page)
            .into_iter()
            .map(|m| m.code.to_string())
            .collect();
        if municipalities.is_empty() {
            return Err(ApiError::not_found(format!(
                "page {page} is past the last page ({pages}) of municipalities"
            )));
        }
    }
    let selection = crate::ops::compare::Selection {
        municipalities,
        prefecture: params.prefecture.map(|p| p.to_string()),
    };
    let by = params.by.map_or(GroupBy::Field, GroupBy::from);
    let comparison = crate::ops::compare::compare(&state.store, &selection, by, year).await?;
    Ok(Json(CompareBody {
        next_page,
        ..compare_body(&comparison)
    }))
}
