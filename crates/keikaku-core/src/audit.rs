//! The audit log as a tamper-evident chain: every entry records who changed what, when and
//! through what (a form in the browser, an uploaded file with its SHA-256, the command line,
//! a roll, a publication), which project and field, the old and new value and the comment;
//! and each entry carries the hash of the one before it, so that changing or deleting any
//! entry breaks the chain where it happened.
//!
//! The chain is ordered by `seq`, the order in which writes committed (database ids may be
//! taken in another order by concurrent writers). The hash covers everything but database ids,
//! so a backup restored into another database verifies the same way.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (RFC 3339, UTC, whole seconds).
    pub at: String,
    /// Who: a login, or `cli` for the command line without an account.
    pub actor: String,
    /// Through what: `cli`, `browser`, `upload`, `api`, `system`.
    pub via: String,
    /// What: `import-edition`, `edit-project`, `submit`, `publish`, …
    pub action: String,
    /// The edition or object concerned, e.g. `072052 R3-R5`.
    pub subject: String,
    /// Free detail (counts, the source).
    pub detail: String,
    /// The project's stable id, when the entry concerns one.
    #[serde(default)]
    pub project: String,
    /// The field changed, when the entry records one change (`name`, `cost.2021.total`…).
    #[serde(default)]
    pub field: String,
    /// The value before (`None` when the field or project did not exist).
    #[serde(default)]
    pub old: Option<String>,
    /// The value after (`None` when the field or project is gone).
    #[serde(default)]
    pub new: Option<String>,
    /// The comment given with the change (the reason of a correction, a return's comment).
    #[serde(default)]
    pub comment: String,
    /// The uploaded or imported file's name.
    #[serde(default)]
    pub file_name: String,
    /// The file's SHA-256 (hexadecimal).
    #[serde(default)]
    pub file_sha256: String,
    /// The previous entry's hash (empty for the first).
    #[serde(default)]
    pub prev_hash: String,
    /// This entry's hash.
    #[serde(default)]
    pub hash: String,
}

impl AuditRecord {
    /// The hash of this entry given its `seq` and `prev_hash` (its own `hash` is not part of
    /// it): SHA-256 over every other field, hexadecimal.
    pub fn compute_hash(&self) -> String {
        let fields = serde_json::json!([
            self.seq,
            self.at,
            self.actor,
            self.via,
            self.action,
            self.subject,
            self.detail,
            self.project,
            self.field,
            self.old,
            self.new,
            self.comment,
            self.file_name,
            self.file_sha256,
            self.prev_hash,
        ]);
        let digest = Sha256::digest(fields.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Places the entry after `(seq, hash)` of the chain's head and computes its hash.
    pub fn chain_after(&mut self, seq: i64, hash: &str) {
        self.seq = seq + 1;
        self.prev_hash = hash.to_owned();
        self.hash = self.compute_hash();
    }
}

/// Where a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first entry (seq) that does not verify; the head's seq + 1 when entries are missing
    /// at the end.
    pub seq: i64,
    /// What is wrong, in English.
    pub reason: String,
}

/// Checks entries in chain order against each other and against the head the database keeps
/// (`head_seq`, `head_hash`): sequence numbers without gaps from 1, each entry linked to the
/// one before, each hash matching its content, and the last entry being the head.
pub fn verify_chain(
    entries: &[AuditRecord],
    head_seq: i64,
    head_hash: &str,
) -> Result<(), ChainBreak> {
    let mut previous = String::new();
    for (i, entry) in entries.iter().enumerate() {
        let expected = i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1);
        if entry.seq != expected {
            return Err(ChainBreak {
                seq: expected,
                reason: format!(
                    "entry {expected} is missing (the next one found is {})",
                    entry.seq
                ),
            });
        }
        if entry.prev_hash != previous {
            return Err(ChainBreak {
                seq: entry.seq,
                reason: "its link to the entry before does not match (an entry before it was changed or deleted)".into(),
            });
        }
        if entry.compute_hash() != entry.hash {
            return Err(ChainBreak {
                seq: entry.seq,
                reason: "its content does not match its hash (it was changed)".into(),
            });
        }
        previous = entry.hash.clone();
    }
    let last = entries.last().map_or(0, |e| e.seq);
    if last != head_seq || previous != head_hash {
        return Err(ChainBreak {
            seq: last + 1,
            reason: format!(
                "the log ends at entry {last} but its head says {head_seq} (entries at the end were deleted)"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let mut entry = AuditRecord {
                at: format!("2026-12-01T10:00:{i:02}Z"),
                actor: "tanaka".into(),
                via: "browser".into(),
                action: "edit-project".into(),
                subject: "072052 R3-R5".into(),
                project: "072052-r2-7-1-1".into(),
                field: "name".into(),
                old: Some(format!("名前{i}")),
                new: Some(format!("名前{}", i + 1)),
                ..AuditRecord::default()
            };
            let (seq, hash) = out
                .last()
                .map_or((0, String::new()), |e| (e.seq, e.hash.clone()));
            entry.chain_after(seq, &hash);
            out.push(entry);
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        let entries = chain(5);
        let head = entries.last().expect("entry");
        assert_eq!(verify_chain(&entries, head.seq, &head.hash), Ok(()));
        assert_eq!(verify_chain(&[], 0, ""), Ok(()));
    }

    #[test]
    fn a_changed_a_deleted_or_a_truncated_entry_is_found() {
        let entries = chain(5);
        let head = entries.last().expect("entry").clone();

        let mut changed = entries.clone();
        changed[2].new = Some("書き換え".into());
        assert_eq!(
            verify_chain(&changed, head.seq, &head.hash).map_err(|b| b.seq),
            Err(3)
        );

        let mut rehashed = entries.clone();
        rehashed[2].new = Some("書き換え".into());
        rehashed[2].hash = rehashed[2].compute_hash();
        assert_eq!(
            verify_chain(&rehashed, head.seq, &head.hash).map_err(|b| b.seq),
            Err(4),
            "recomputing a changed entry's hash breaks the next link"
        );

        let mut deleted = entries.clone();
        deleted.remove(1);
        assert_eq!(
            verify_chain(&deleted, head.seq, &head.hash).map_err(|b| b.seq),
            Err(2)
        );

        let truncated = &entries[..4];
        assert_eq!(
            verify_chain(truncated, head.seq, &head.hash).map_err(|b| b.seq),
            Err(5)
        );
    }
}
