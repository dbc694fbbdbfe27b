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
//! response cache lives inside the snapshot, so a swap also empties it; it is bounded in
//! bytes (`[server] cache_bytes`), so no sequence of requests can grow it past its budget.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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

/// The response cache's size when nothing else is configured (`[server] cache_bytes`).
pub use crate::config::DEFAULT_CACHE_BYTES;

/// Bytes counted for an entry besides its body and key: the header values, the map slot
/// and the bookkeeping.
const ENTRY_OVERHEAD: usize = 256;

/// The largest share of the budget one response may take; a larger one is sent but not
/// kept, so that one download cannot push every page out.
const LARGEST_SHARE: usize = 8;

/// One kept response and when it was last used.
struct Entry {
    cached: Cached,
    /// Bytes counted against the budget.
    size: usize,
    /// Tick of the last use ([`ResponseCache::clock`]): the least recently used go first.
    used: AtomicU64,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    /// Sum of the entries' sizes.
    bytes: usize,
}

/// Rendered responses by path and canonical query (see `web::params`), held within a budget
/// of bytes: when a new response would pass it, the least recently used ones are dropped
/// (down to three quarters of the budget, so that eviction, which sorts the entries, runs
/// once per many insertions rather than on each). A hit takes a read lock only.
pub struct ResponseCache {
    entries: RwLock<Entries>,
    budget: AtomicUsize,
    clock: AtomicU64,
    /// Pages being rendered: requests for the same page wait for the first one instead of
    /// all rendering it at once (after a reload, fifty readers of the same comparison page
    /// would otherwise run fifty sets of queries).
    rendering: std::sync::Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

impl Default for ResponseCache {
    fn default() -> Self {
        ResponseCache::new(DEFAULT_CACHE_BYTES)
    }
}

/// The turn to render one key; dropping it ends the turn (whether or not the response was
/// kept, and also when the request is abandoned half way).
pub struct Turn<'c> {
    cache: &'c ResponseCache,
    key: String,
    lock: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Turn<'_> {
    /// Waits until nobody else renders this key.
    pub async fn wait(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.lock.lock().await
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.cache
            .rendering
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.key);
    }
}

impl ResponseCache {
    /// An empty cache that keeps at most `budget` bytes.
    pub fn new(budget: usize) -> ResponseCache {
        ResponseCache {
            entries: RwLock::default(),
            budget: AtomicUsize::new(budget),
            clock: AtomicU64::new(0),
            rendering: std::sync::Mutex::default(),
        }
    }

    /// The turn to render `key`: wait on it, render, and drop it.
    pub fn turn(&self, key: &str) -> Turn<'_> {
        let lock = self
            .rendering
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key.to_owned())
            .or_default()
            .clone();
        Turn {
            cache: self,
            key: key.to_owned(),
            lock,
        }
    }

    /// The cached response for `key`, if any (and it counts as used now).
    pub fn get(&self, key: &str) -> Option<Cached> {
        let entries = self.entries.read().ok()?;
        let entry = entries.map.get(key)?;
        entry.used.store(
            self.clock.fetch_add(1, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        Some(entry.cached.clone())
    }

    /// The largest body that may be kept: responses larger than this are sent, not kept.
    pub fn largest(&self) -> usize {
        (self.budget.load(Ordering::Relaxed) / LARGEST_SHARE).saturating_sub(ENTRY_OVERHEAD)
    }

    /// Keeps a response, dropping the least recently used ones when over budget. Returns
    /// whether it was kept (a response over [`Self::largest`] is not).
    pub fn put(&self, key: String, value: Cached) -> bool {
        let size = value.body.len() + key.len() + ENTRY_OVERHEAD;
        if value.body.len() > self.largest() {
            return false;
        }
        let Ok(mut entries) = self.entries.write() else {
            return false;
        };
        let used = AtomicU64::new(self.clock.fetch_add(1, Ordering::Relaxed));
        let entry = Entry {
            cached: value,
            size,
            used,
        };
        if let Some(old) = entries.map.insert(key, entry) {
            entries.bytes -= old.size;
        }
        entries.bytes += size;
        self.evict(&mut entries);
        true
    }

    /// Sets the budget (the configured `cache_bytes`), dropping entries if it shrank.
    pub fn set_budget(&self, budget: usize) {
        self.budget.store(budget, Ordering::Relaxed);
        if let Ok(mut entries) = self.entries.write() {
            self.evict(&mut entries);
        }
    }

    /// The budget in bytes.
    pub fn budget(&self) -> usize {
        self.budget.load(Ordering::Relaxed)
    }

    /// Bytes held (bodies, keys and a fixed overhead per entry).
    pub fn bytes(&self) -> usize {
        self.entries.read().map_or(0, |e| e.bytes)
    }

    /// Number of responses held.
    pub fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.map.len())
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When over budget, drops the least recently used entries down to three quarters of it.
    fn evict(&self, entries: &mut Entries) {
        let budget = self.budget.load(Ordering::Relaxed);
        if entries.bytes <= budget {
            return;
        }
        let target = budget / 4 * 3;
        let mut by_age: Vec<(u64, String)> = entries
            .map
            .iter()
            .map(|(key, e)| (e.used.load(Ordering::Relaxed), key.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, key) in by_age {
            if entries.bytes <= target {
                break;
            }
            if let Some(old) = entries.map.remove(&key) {
                entries.bytes -= old.size;
            }
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
    /// Corrections made after publication, by project stable id, oldest first.
    pub corrections: HashMap<String, Vec<keikaku_core::audit::AuditRecord>>,
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
            corrections: HashMap::new(),
        }
    }

    /// The same view with the corrections made to it after publication (audit entries of
    /// the edition, any order).
    pub fn with_corrections(mut self, records: Vec<keikaku_core::audit::AuditRecord>) -> Self {
        for record in records {
            self.corrections
                .entry(record.project.clone())
                .or_default()
                .push(record);
        }
        for list in self.corrections.values_mut() {
            list.sort_by_key(|r| r.seq);
        }
        self
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
                    && e.info.updated_at == info.updated_at
                    && e.info.municipality == info.municipality
            })
            .cloned()
    }

    /// True when `published` lists exactly what this snapshot serves: the same
    /// municipalities (names, populations) and the same stored copies of the same editions.
    /// A change to drafts alone moves the data version but leaves the public set as it was.
    pub fn serves(&self, published: &crate::ops::publish::Published) -> bool {
        let editions = self
            .municipalities
            .iter()
            .map(|m| m.editions.len())
            .sum::<usize>();
        self.version != NOT_LOADED
            && self.municipalities.len() == published.municipalities.len()
            && editions == published.editions.len()
            && published.municipalities.iter().all(|p| {
                self.municipality(p.municipality.code.as_str())
                    .is_some_and(|m| {
                        m.municipality == p.municipality && m.population == p.population
                    })
            })
            && published.editions.iter().all(|info| {
                self.reusable(info).is_some_and(|view| {
                    view.info.state == info.state && view.info.title == info.title
                })
            })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn response(bytes: usize) -> Cached {
        Cached {
            content_type: axum::http::HeaderValue::from_static("text/html"),
            body: Bytes::from(vec![b'x'; bytes]),
            etag: axum::http::HeaderValue::from_static("\"0\""),
            attachment: None,
        }
    }

    #[test]
    fn the_cache_stays_within_its_budget_and_drops_the_least_recently_used() {
        // Entries of 1,000 bytes + a 4-byte key + the overhead: twelve fit in 16 KiB; the
        // thirteenth passes it and the oldest go, down to three quarters of the budget.
        let cache = ResponseCache::new(16 * 1024);
        let size = 1_000 + "/p00".len() + ENTRY_OVERHEAD;
        for i in 0..10 {
            assert!(cache.put(format!("/p{i:02}"), response(1_000)));
        }
        assert_eq!(cache.len(), 10);
        assert_eq!(cache.bytes(), 10 * size);
        for i in 10..20 {
            // /p00 is read all the time: it stays among the most recently used.
            assert!(cache.get("/p00").is_some());
            cache.put(format!("/p{i:02}"), response(1_000));
            assert!(cache.bytes() <= cache.budget(), "{} bytes", cache.bytes());
        }
        assert!(cache.get("/p00").is_some(), "recently used, kept");
        assert!(cache.get("/p01").is_none(), "least recently used, dropped");
        assert!(cache.get("/p19").is_some(), "just added, kept");
        assert_eq!(cache.bytes(), cache.len() * size);
    }

    #[test]
    fn a_response_too_large_for_its_share_is_not_kept_and_a_smaller_budget_evicts() {
        let cache = ResponseCache::new(64 * 1024);
        assert!(!cache.put("/big".into(), response(cache.largest() + 1)));
        assert!(cache.is_empty());
        assert!(cache.put("/fits".into(), response(cache.largest())));
        let replaced = cache.bytes();
        assert!(
            cache.put("/fits".into(), response(10)),
            "replacing counts once"
        );
        assert!(cache.bytes() < replaced);
        for i in 0..40 {
            cache.put(format!("/p{i}"), response(1_000));
        }
        cache.set_budget(8 * 1024);
        assert!(cache.bytes() <= 8 * 1024);
    }

    #[test]
    fn a_turn_ends_when_dropped() {
        let cache = ResponseCache::new(1024);
        {
            let _turn = cache.turn("/p");
            assert_eq!(cache.rendering.lock().map(|r| r.len()).unwrap_or(0), 1);
        }
        assert_eq!(cache.rendering.lock().map(|r| r.len()).unwrap_or(9), 0);
    }
}
