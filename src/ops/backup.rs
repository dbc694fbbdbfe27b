//! Backups: the whole database as one zip of keikaku's canonical JSON with a SHA-256 per
//! file, and restoring such a zip into an empty database of either backend — so a backup
//! also moves a database from SQLite to PostgreSQL and back.
//!
//! The zip holds `manifest.json` (format, counts, every municipality with its population,
//! every edition with its state and the time it was first stored, and the checksum of every
//! other file), `plans/CODE.json` (one canonical JSON file per municipality, drafts
//! included) and `audit.json` (the audit log, oldest first). One file per municipality keeps
//! memory bounded by the largest municipality, not the database.
//!
//! A restore checks every checksum and validates every plan before it writes anything, then
//! stores everything in one transaction, compares the row counts with the manifest before
//! committing, and afterwards exports each municipality again and compares it byte for byte
//! with the backup.

use std::collections::HashMap;
use std::io::{Read, Seek, Write};

use keikaku_core::canonical::{self, Populations};
use keikaku_core::import::{Context, layout_by_name};
use keikaku_core::{Lang, MunicipalityCode, Population};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::OpsError;
use crate::storage::Store;
use crate::storage::write::Replace;

/// The `format` of a backup manifest.
pub const FORMAT: &str = "keikaku-backup";
/// The manifest version this keikaku writes and reads.
pub const VERSION: u32 = 1;
/// The largest file a backup may hold (a municipality's plans, or the audit log).
pub const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// Row counts of a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Municipalities.
    pub municipalities: i64,
    /// Editions (drafts included).
    pub editions: i64,
    /// Projects.
    pub projects: i64,
    /// Project-year cost rows.
    pub cost_rows: i64,
}

impl Counts {
    fn from_array([municipalities, editions, projects, cost_rows]: [i64; 4]) -> Counts {
        Counts {
            municipalities,
            editions,
            projects,
            cost_rows,
        }
    }
}

/// A municipality in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestMunicipality {
    /// 全国地方公共団体コード.
    pub code: String,
    /// Name.
    pub name: String,
    /// Population and the date of the count, when recorded.
    pub population: Option<canonical::PopulationRecord>,
    /// Its plans file, when it has editions.
    pub file: Option<String>,
}

/// An edition in the manifest: what the canonical JSON does not carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEdition {
    /// Municipality code.
    pub municipality: String,
    /// Span label, e.g. R2-R4.
    pub edition: String,
    /// When it was first stored (RFC 3339).
    pub imported_at: String,
}

/// A file in the backup with its checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path inside the zip.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The keikaku that wrote it.
    pub generator: String,
    /// When (RFC 3339, UTC).
    pub created_at: String,
    /// Row counts of the database backed up.
    pub counts: Counts,
    /// Every municipality.
    pub municipalities: Vec<ManifestMunicipality>,
    /// Every edition.
    pub editions: Vec<ManifestEdition>,
    /// Every other file in the zip.
    pub files: Vec<ManifestFile>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

fn bad(message: impl Into<String>) -> OpsError {
    OpsError::BadRequest(message.into())
}

fn zip_error(error: zip::result::ZipError) -> OpsError {
    bad(format!("the backup is not a readable zip archive: {error}"))
}

/// Writes a backup of everything in the store to `out`; returns its manifest. Fails (and
/// the caller discards the file) if the database changed while it was being read.
pub async fn backup<W: Write + Seek>(store: &Store, out: W) -> Result<Manifest, OpsError> {
    let version = store.data_version().await?;
    let municipalities = store.municipalities().await?;
    let populations = store.populations().await?;
    let infos = store.editions().await?;
    let mut zip = zip::ZipWriter::new(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let mut files = Vec::new();
    let mut add = |zip: &mut zip::ZipWriter<W>, path: String, bytes: &[u8]| {
        zip.start_file(path.as_str(), options)
            .and_then(|()| zip.write_all(bytes).map_err(Into::into))
            .map_err(|e| bad(format!("cannot write the backup: {e}")))?;
        files.push(ManifestFile {
            path,
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        });
        Ok::<(), OpsError>(())
    };
    let mut manifest_municipalities = Vec::with_capacity(municipalities.len());
    for m in &municipalities {
        let ids: Vec<i64> = infos
            .iter()
            .filter(|e| e.municipality.code == m.code)
            .map(|e| e.id)
            .collect();
        let population = populations.get(&m.code).map(population_record);
        let file = if ids.is_empty() {
            None
        } else {
            let editions = store.editions_by_id(&ids).await?;
            let own: Populations = populations
                .get(&m.code)
                .map(|p| (m.code.clone(), *p))
                .into_iter()
                .collect();
            let path = format!("plans/{}.json", m.code);
            add(
                &mut zip,
                path.clone(),
                canonical::to_json_with(&editions, &own).as_bytes(),
            )?;
            Some(path)
        };
        manifest_municipalities.push(ManifestMunicipality {
            code: m.code.to_string(),
            name: m.name.clone(),
            population,
            file,
        });
    }
    let audit = store
        .audit_entries(&crate::storage::audit::AuditFilter::default())
        .await?;
    let audit_json = serde_json::to_vec_pretty(&audit)
        .map_err(|e| bad(format!("cannot write the audit log: {e}")))?;
    add(&mut zip, "audit.json".into(), &audit_json)?;
    let counts = Counts::from_array(store.counts().await?);
    if store.data_version().await? != version {
        return Err(bad(
            "the database changed while the backup was being written; run the backup again",
        ));
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        generator: format!("keikaku {}", env!("CARGO_PKG_VERSION")),
        created_at: jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_else(|_| jiff::Timestamp::now())
            .to_string(),
        counts,
        municipalities: manifest_municipalities,
        editions: infos
            .iter()
            .map(|e| ManifestEdition {
                municipality: e.municipality.code.to_string(),
                edition: e.span.label(),
                imported_at: e.imported_at.clone(),
            })
            .collect(),
        files,
    };
    let manifest_json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| bad(format!("cannot write the manifest: {e}")))?;
    zip.start_file("manifest.json", options)
        .and_then(|()| zip.write_all(&manifest_json).map_err(Into::into))
        .and_then(|()| zip.finish().map(|_| ()))
        .map_err(|e| bad(format!("cannot write the backup: {e}")))?;
    Ok(manifest)
}

fn population_record(p: &Population) -> canonical::PopulationRecord {
    canonical::PopulationRecord {
        count: p.count,
        as_of: p.as_of.to_string(),
    }
}

/// A backup opened for reading: its manifest, checked.
struct Archive<R: Read + Seek> {
    zip: zip::ZipArchive<R>,
    manifest: Manifest,
}

impl<R: Read + Seek> Archive<R> {
    fn open(reader: R) -> Result<Self, OpsError> {
        let mut zip = zip::ZipArchive::new(reader).map_err(zip_error)?;
        const MAX_MANIFEST: u64 = 256 << 20;
        let bytes = read_entry(&mut zip, "manifest.json", MAX_MANIFEST)?;
        if bytes.len() as u64 >= MAX_MANIFEST {
            return Err(bad(
                "manifest.json: larger than any keikaku backup manifest",
            ));
        }
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("manifest.json: not a keikaku backup manifest: {e}")))?;
        if manifest.format != FORMAT {
            return Err(bad(format!(
                "manifest.json: format {:?} is not {FORMAT:?}",
                manifest.format
            )));
        }
        if manifest.version == 0 || manifest.version > VERSION {
            return Err(bad(format!(
                "manifest.json: backup version {} is not readable by this keikaku (reads up to {VERSION})",
                manifest.version
            )));
        }
        for name in zip.file_names() {
            let name = name.map_err(zip_error)?;
            if name != "manifest.json" && !manifest.files.iter().any(|f| f.path == name) {
                return Err(bad(format!(
                    "{name}: a file the manifest does not list (the backup was altered)"
                )));
            }
        }
        Ok(Archive { zip, manifest })
    }

    /// A file's bytes, checked against the manifest's size and checksum.
    fn file(&mut self, path: &str) -> Result<Vec<u8>, OpsError> {
        let listed = self
            .manifest
            .files
            .iter()
            .find(|f| f.path == path)
            .cloned()
            .ok_or_else(|| bad(format!("{path}: not listed in manifest.json")))?;
        if listed.bytes > MAX_ENTRY_BYTES {
            return Err(bad(format!(
                "{path}: {} bytes, more than the {MAX_ENTRY_BYTES} any backup file may hold",
                listed.bytes
            )));
        }
        let bytes = read_entry(&mut self.zip, path, listed.bytes + 1)?;
        if bytes.len() as u64 != listed.bytes || sha256_hex(&bytes) != listed.sha256 {
            return Err(bad(format!(
                "{path}: checksum mismatch (the manifest says {} bytes, SHA-256 {}); the backup is damaged",
                listed.bytes, listed.sha256
            )));
        }
        Ok(bytes)
    }
}

/// Reads a zip entry, at most `limit` bytes (a longer entry is cut there, which the caller's
/// size check reports).
fn read_entry<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    path: &str,
    limit: u64,
) -> Result<Vec<u8>, OpsError> {
    let entry = zip.by_name(path).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => bad(format!("{path}: missing from the backup")),
        other => zip_error(other),
    })?;
    let mut bytes = Vec::new();
    entry
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(format!("{path}: cannot be read from the backup: {e}")))?;
    Ok(bytes)
}

/// Reads and validates one municipality's plans file.
fn plans(
    path: &str,
    bytes: &[u8],
    code: &str,
) -> Result<Vec<keikaku_core::import::ReadEdition>, OpsError> {
    let layout = layout_by_name("keikaku-json");
    let parsed = super::import::validate(path, bytes, layout, &Context::default());
    if parsed.report.has_errors() {
        let first: Vec<String> = parsed
            .report
            .diagnostics
            .iter()
            .take(5)
            .map(|d| d.render(path, Lang::En))
            .collect();
        return Err(bad(format!(
            "{path}: not a valid plan ({} error(s)):\n{}",
            parsed.report.error_count(),
            first.join("\n")
        )));
    }
    if let Some(other) = parsed
        .editions
        .iter()
        .find(|e| e.edition.municipality.code.as_str() != code)
    {
        return Err(bad(format!(
            "{path}: holds municipality {} where the manifest says {code}",
            other.edition.municipality.code
        )));
    }
    Ok(parsed.editions)
}

/// What a restore stored.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The backup's manifest.
    pub manifest: Manifest,
}

/// Restores a backup into the store, which must be empty. Nothing is written unless every
/// file checks out; afterwards every municipality's export is compared with the backup.
pub async fn restore<R: Read + Seek>(
    store: &Store,
    reader: R,
    actor: &str,
) -> Result<Restored, OpsError> {
    let mut archive = Archive::open(reader)?;
    let manifest = archive.manifest.clone();
    // Pass 1: every checksum and every plan, before anything is written.
    for m in &manifest.municipalities {
        MunicipalityCode::parse(&m.code)
            .map_err(|e| bad(format!("manifest.json: municipality {:?}: {e}", m.code)))?;
        if let Some(path) = &m.file {
            let bytes = archive.file(path)?;
            plans(path, &bytes, &m.code)?;
        }
    }
    let audit = audit_records(&archive.file("audit.json")?)?;
    let imported_at: HashMap<(String, String), String> = manifest
        .editions
        .iter()
        .map(|e| {
            (
                (e.municipality.clone(), e.edition.clone()),
                e.imported_at.clone(),
            )
        })
        .collect();

    // Pass 2: one transaction.
    let mut tx = store.begin_write(actor).await?;
    let before = tx.counts().await?;
    if before[0] > 0 || before[1] > 0 {
        return Err(bad(format!(
            "the database already holds {} municipalities and {} editions; restore into an empty database",
            before[0], before[1]
        )));
    }
    let mark = tx.audit_mark();
    for m in &manifest.municipalities {
        let code = MunicipalityCode::parse(&m.code)
            .map_err(|e| bad(format!("manifest.json: municipality {:?}: {e}", m.code)))?;
        tx.upsert_municipality(&code, &m.name).await?;
        if let Some(p) = &m.population {
            let as_of = keikaku_core::Date::parse(&p.as_of).ok_or_else(|| {
                bad(format!(
                    "manifest.json: municipality {}: population date {:?} is not YYYY-MM-DD",
                    m.code, p.as_of
                ))
            })?;
            tx.set_population(
                &code,
                None,
                Population {
                    count: p.count,
                    as_of,
                },
            )
            .await?;
        }
        let Some(path) = &m.file else { continue };
        let bytes = archive.file(path)?;
        for read in plans(path, &bytes, &m.code)? {
            let edition = read.edition;
            let stored = tx.store_edition(&edition, Replace::Refuse).await?;
            let key = (m.code.clone(), edition.span.label());
            let at = imported_at.get(&key).ok_or_else(|| {
                bad(format!(
                    "{path}: edition {} is not listed in manifest.json",
                    edition.span
                ))
            })?;
            tx.set_imported_at(stored.id, at).await?;
        }
    }
    // The log of the database backed up, not the rows this restore's writes recorded.
    tx.discard_audit_since(mark).await?;
    tx.append_audit_records(&audit).await?;
    let counts = Counts::from_array(tx.counts().await?);
    if counts != manifest.counts {
        return Err(bad(format!(
            "the restored database would hold {counts:?} where the backup recorded {:?}; nothing was written",
            manifest.counts
        )));
    }
    tx.audit(
        "restore",
        "database",
        &format!(
            "from backup of {} ({} municipalities, {} editions)",
            manifest.created_at, counts.municipalities, counts.editions
        ),
    )
    .await?;
    tx.commit().await?;
    store.analyze().await?;
    verify(store, &mut archive).await?;
    Ok(Restored { manifest })
}

/// Exports every municipality again and compares it with the backup, byte for byte.
async fn verify<R: Read + Seek>(store: &Store, archive: &mut Archive<R>) -> Result<(), OpsError> {
    let infos = store.editions().await?;
    let populations = store.populations().await?;
    for m in archive.manifest.municipalities.clone() {
        let Some(path) = &m.file else { continue };
        let code =
            MunicipalityCode::parse(&m.code).map_err(|e| bad(format!("manifest.json: {e}")))?;
        let ids: Vec<i64> = infos
            .iter()
            .filter(|e| e.municipality.code == code)
            .map(|e| e.id)
            .collect();
        let editions = store.editions_by_id(&ids).await?;
        let own: Populations = populations
            .get(&code)
            .map(|p| (code.clone(), *p))
            .into_iter()
            .collect();
        if canonical::to_json_with(&editions, &own).as_bytes() != archive.file(path)?.as_slice() {
            return Err(bad(format!(
                "{path}: restored, but its export differs from the backup; keep the backup and report this"
            )));
        }
    }
    Ok(())
}

/// The audit log of a backup: entries with their chain, which must verify (a changed or
/// removed entry refuses the restore), or, from backups made before the chain existed,
/// `[at, actor, action, subject, detail]` rows.
fn audit_records(bytes: &[u8]) -> Result<Vec<keikaku_core::audit::AuditRecord>, OpsError> {
    use keikaku_core::audit::{AuditRecord, verify_chain};
    if let Ok(records) = serde_json::from_slice::<Vec<AuditRecord>>(bytes) {
        if let Some(last) = records.last()
            && !last.hash.is_empty()
            && let Err(broken) = verify_chain(&records, last.seq, &last.hash)
        {
            return Err(bad(format!(
                "audit.json: the audit log does not verify at entry {}: {}",
                broken.seq, broken.reason
            )));
        }
        return Ok(records);
    }
    let rows: Vec<[String; 5]> = serde_json::from_slice(bytes)
        .map_err(|e| bad(format!("audit.json: not an audit log: {e}")))?;
    Ok(rows
        .into_iter()
        .map(|[at, actor, action, subject, detail]| AuditRecord {
            at,
            actor,
            via: "cli".into(),
            action,
            subject,
            detail,
            ..AuditRecord::default()
        })
        .collect())
}
