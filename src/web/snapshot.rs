//! The published plans as the web server holds them in memory: every published edition with
//! its aggregates and search index computed once, and a cache of rendered responses.
//!
//! Plans are read-mostly and compact (a city's plan is a few hundred projects; every
//! municipality of Japan with three editions each is about half a million projects), so pages
//! are served from this snapshot, not from the database: a request never waits for SQL, and
//! the portal keeps answering while the database is busy or briefly away. When the data
//! changes (any write bumps the data version), a new snapshot is swapped in whole; editions
//! that did not change are carried over from the old one, so an import of one edition costs
//! the reload of that edition only. Requests in flight finish on the old snapshot. The
//! response cache lives inside the snapshot, so a swap also empties it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::ops::publish::PublicMunicipality;
use crate::storage::read::EditionInfo;
use axum::body::Bytes;
use keikaku_core::aggregate::{Aggregate, GroupBy, aggregate};
use keikaku_core::search::{DocumentText, Index};
use keikaku_core::{Edition, Goal, Municipality, Policy, Project};

/// The version of the empty snapshot a starting server holds before its first load.
pub const NOT_LOADED: i64 = -1;

/// A rendered response kept for reuse.
#[derive(Clone)]
pub struct Cached {
    /// Content type.
    pub content_type: axum::http::HeaderValue,
    /// Body.
    pub body: Bytes,
    /// Strong validator for conditional requests.
    pub etag: axum::http::HeaderValue,
    /// For downloads, the `Content-Disposition` value naming the file.
    pub attachment: Option<axum::http::HeaderValue>,
}

/// Most responses kept per snapshot; beyond it, new ones are rendered but not kept.
const CACHE_LIMIT: usize = 4_096;

/// Rendered responses by request path and query.
#[derive(Default)]
pub struct ResponseCache {
    entries: RwLock<HashMap<String, Cached>>,
    /// Pages being rendered: requests for the same page wait for the first one instead of
    /// all rendering it at once (after a reload, fifty readers of the same comparison page
    /// would otherwise run fifty sets of queries).
    rendering: std::sync::Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

impl ResponseCache {
    /// The turn to render `key`: hold the guard while rendering, then [`Self::done`].
    pub fn turn(&self, key: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        let mut rendering = self
            .rendering
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rendering.entry(key.to_owned()).or_default().clone()
    }

    /// Rendering `key` is over (whether or not it was kept).
    pub fn done(&self, key: &str) {
        self.rendering
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }

    /// The cached response for `key`, if any.
    pub fn get(&self, key: &str) -> Option<Cached> {
        self.entries.read().ok()?.get(key).cloned()
    }

    /// Keeps a response unless the cache is full.
    pub fn put(&self, key: String, value: Cached) {
        if let Ok(mut entries) = self.entries.write()
            && entries.len() < CACHE_LIMIT
        {
            entries.insert(key, value);
        }
    }
}

/// Where one project sits in its edition.
#[derive(Debug, Clone)]
pub struct ProjectEntry {
    /// Goal index.
    pub goal: usize,
    /// Policy index within the goal.
    pub policy: usize,
    /// Project index within the policy.
    pub project: usize,
    /// Reference used in URLs: policy code and number, `7-1-3`.
    pub reference: String,
}

/// One published edition, ready to serve.
pub struct EditionView {
    /// Its listing (id, municipality, span, dates).
    pub info: EditionInfo,
    /// Its contents.
    pub edition: Edition,
    /// URL segment: `r2-r4`.
    pub slug: String,
    /// URL prefix of its pages: `/072052/r2-r4`.
    pub base: String,
    /// Every project in document order (search results refer to these positions).
    pub projects: Vec<ProjectEntry>,
    /// Totals over every year, one per grouping.
    aggregates: HashMap<GroupBy, Aggregate>,
    /// Search index over the projects (with their text as search sees it).
    pub index: Index,
}

impl EditionView {
    /// Prepares an edition for serving: its entries, aggregates and search index.
    pub fn new(info: EditionInfo, edition: Edition) -> EditionView {
        let slug = info.span.slug();
        let base = format!("/{}/{}", info.municipality.code, slug);
        let mut projects = Vec::new();
        for (g, goal) in edition.goals.iter().enumerate() {
            for (p, policy) in goal.policies.iter().enumerate() {
                for (j, project) in policy.projects.iter().enumerate() {
                    projects.push(ProjectEntry {
                        goal: g,
                        policy: p,
                        project: j,
                        reference: format!("{}-{}", policy.code, project.number),
                    });
                }
            }
        }
        let aggregates = GroupBy::ALL
            .iter()
            .map(|by| (*by, aggregate(&edition, *by, None)))
            .collect();
        let index = Index::build(DocumentText::of_edition(&edition));
        EditionView {
            info,
            edition,
            slug,
            base,
            projects,
            aggregates,
            index,
        }
    }

    /// Totals grouped by `by`, over every year.
    pub fn aggregate(&self, by: GroupBy) -> &Aggregate {
        // Every grouping is computed in `new`.
        &self.aggregates[&by]
    }

    /// The goal, policy and project of an entry.
    pub fn resolve(&self, entry: &ProjectEntry) -> (&Goal, &Policy, &Project) {
        let goal = &self.edition.goals[entry.goal];
        let policy = &goal.policies[entry.policy];
        (goal, policy, &policy.projects[entry.project])
    }

    /// The project with reference `7-1-3` or stable id `072052-r2-7-1-3`.
    pub fn project(&self, reference: &str) -> Option<&ProjectEntry> {
        self.projects
            .iter()
            .find(|e| e.reference == reference)
            .or_else(|| {
                self.projects
                    .iter()
                    .find(|e| self.resolve(e).2.id.as_str() == reference)
            })
    }

    /// The goal numbered `number`.
    pub fn goal(&self, number: u32) -> Option<&Goal> {
        self.edition.goals.iter().find(|g| g.number == number)
    }

    /// The policy with code `code` and its goal.
    pub fn policy(&self, code: &str) -> Option<(&Goal, &Policy)> {
        self.edition
            .goals
            .iter()
            .flat_map(|g| g.policies.iter().map(move |p| (g, p)))
            .find(|(_, p)| p.code.to_string() == code)
    }

    /// Projects of a policy, as entries.
    pub fn policy_projects(&self, code: &str) -> Vec<&ProjectEntry> {
        self.projects
            .iter()
            .filter(|e| self.resolve(e).1.code.to_string() == code)
            .collect()
    }

    /// Every department, in order of first appearance.
    pub fn departments(&self) -> Vec<&str> {
        self.aggregate(GroupBy::Department)
            .rows
            .iter()
            .map(|r| r.key.as_str())
            .collect()
    }
}

/// One municipality with its published editions, oldest first.
pub struct MunicipalityView {
    /// The municipality.
    pub municipality: Municipality,
    /// Its recorded population, if any.
    pub population: Option<keikaku_core::Population>,
    /// Its editions, by first year.
    pub editions: Vec<Arc<EditionView>>,
}

impl MunicipalityView {
    /// The latest edition.
    pub fn latest(&self) -> Option<&Arc<EditionView>> {
        self.editions.last()
    }

    /// The edition with URL segment `slug` (`r2-r4`), or the latest for `latest`.
    pub fn edition(&self, slug: &str) -> Option<&Arc<EditionView>> {
        if slug == "latest" {
            return self.latest();
        }
        self.editions.iter().find(|e| e.slug == slug)
    }
}

/// Everything the server shows, at one data version.
pub struct Snapshot {
    /// The data version it was read at.
    pub version: i64,
    /// Municipalities by code.
    pub municipalities: Vec<MunicipalityView>,
    /// Position in `municipalities` by code.
    index: HashMap<String, usize>,
    /// Rendered responses.
    pub cache: ResponseCache,
}

impl Snapshot {
    /// Builds the snapshot from the public municipalities and their edition views (in any
    /// order; each view belongs to one of the municipalities).
    pub fn build(
        version: i64,
        municipalities: Vec<PublicMunicipality>,
        views: Vec<Arc<EditionView>>,
    ) -> Snapshot {
        let mut by_code: HashMap<String, Vec<Arc<EditionView>>> = HashMap::new();
        for view in views {
            by_code
                .entry(view.info.municipality.code.to_string())
                .or_default()
                .push(view);
        }
        let mut municipalities: Vec<MunicipalityView> = municipalities
            .into_iter()
            .filter_map(|m| {
                let mut editions = by_code.remove(m.municipality.code.as_str())?;
                editions.sort_by_key(|e| e.info.span);
                Some(MunicipalityView {
                    municipality: m.municipality,
                    population: m.population,
                    editions,
                })
            })
            .collect();
        municipalities.sort_by(|a, b| a.municipality.code.cmp(&b.municipality.code));
        let index = municipalities
            .iter()
            .enumerate()
            .map(|(i, m)| (m.municipality.code.to_string(), i))
            .collect();
        Snapshot {
            version,
            municipalities,
            index,
            cache: ResponseCache::default(),
        }
    }

    /// The edition view for `info` if this snapshot already holds it unchanged (same stored
    /// copy, same municipality name), to carry over into the next snapshot.
    pub fn reusable(&self, info: &EditionInfo) -> Option<Arc<EditionView>> {
        self.municipality(info.municipality.code.as_str())?
            .editions
            .iter()
            .find(|e| {
                e.info.id == info.id
                    && e.info.imported_at == info.imported_at
                    && e.info.municipality == info.municipality
            })
            .cloned()
    }

    /// The recorded populations of the public municipalities.
    pub fn populations(&self) -> keikaku_core::canonical::Populations {
        self.municipalities
            .iter()
            .filter_map(|m| Some((m.municipality.code.clone(), m.population?)))
            .collect()
    }

    /// The municipality with this code.
    pub fn municipality(&self, code: &str) -> Option<&MunicipalityView> {
        self.municipalities.get(*self.index.get(code)?)
    }

    /// The edition of municipality `code` with URL segment `slug`.
    pub fn edition(&self, code: &str, slug: &str) -> Option<&Arc<EditionView>> {
        self.municipality(code)?.edition(slug)
    }
}
