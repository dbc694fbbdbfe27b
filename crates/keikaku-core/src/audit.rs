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

/// One field of a project changed: the key (as the form names it: `name`, `cost.2021.total`…),
/// and the values before and after as text (`None` where the project or year was absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// The field's key.
    pub field: String,
    /// The value before.
    pub old: Option<String>,
    /// The value after.
    pub new: Option<String>,
}

fn amount(value: Option<crate::Money>) -> String {
    value.map_or_else(|| "-".to_owned(), |m| m.thousand_yen().to_string())
}

/// Every field of a project as `(key, value)`, for the years of `span`.
fn fields(
    policy: crate::PolicyCode,
    project: &crate::Project,
    span: crate::EditionSpan,
) -> Vec<(String, Option<String>)> {
    let mut out = vec![
        ("policy".to_owned(), Some(policy.to_string())),
        ("number".to_owned(), Some(project.number.to_string())),
        ("name".to_owned(), Some(project.name.clone())),
        ("summary".to_owned(), Some(project.summary.clone())),
        ("status".to_owned(), Some(project.status.label().to_owned())),
        (
            "departments".to_owned(),
            Some(project.departments.join("、")),
        ),
        (
            "strategies".to_owned(),
            Some(
                project
                    .strategies
                    .iter()
                    .map(|s| s.code.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        ),
    ];
    for year in span.years() {
        let cost = project.cost(year);
        let y = year.year();
        out.push((format!("cost.{y}.total"), cost.map(|c| amount(c.total))));
        out.push((
            format!("cost.{y}.earmarked"),
            cost.map(|c| amount(c.earmarked)),
        ));
        out.push((format!("cost.{y}.general"), cost.map(|c| amount(c.general))));
        for kind in crate::FundingKind::ALL {
            let part = cost.and_then(|c| c.earmarked_breakdown.iter().find(|(k, _)| *k == kind));
            out.push((
                format!("cost.{y}.{}", kind.key()),
                part.map(|(_, m)| m.thousand_yen().to_string()),
            ));
        }
    }
    out
}

/// The fields that differ between two versions of a project (`None`: it did not exist, or
/// it is gone), in form order.
pub fn field_changes(
    old: Option<(crate::PolicyCode, &crate::Project)>,
    new: Option<(crate::PolicyCode, &crate::Project)>,
    span: crate::EditionSpan,
) -> Vec<FieldChange> {
    let before = old.map(|(p, j)| fields(p, j, span));
    let after = new.map(|(p, j)| fields(p, j, span));
    let keys: Vec<String> = before
        .as_ref()
        .or(after.as_ref())
        .map(|f| f.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    let value = |list: &Option<Vec<(String, Option<String>)>>, i: usize| {
        list.as_ref()
            .and_then(|l| l.get(i))
            .and_then(|(_, v)| v.clone())
    };
    keys.into_iter()
        .enumerate()
        .filter_map(|(i, field)| {
            let (old, new) = (value(&before, i), value(&after, i));
            (old != new).then_some(FieldChange { field, old, new })
        })
        .collect()
}

/// The changes between two versions of an edition's structure (its goals and policies), in
/// the order of `after` then of what `before` had alone. Keys: `goal.3` for a goal added
/// (`old` is `None`) or removed (`new` is `None`), with its title; `goal.3.title` and
/// `goal.3.field` for a changed 基本目標 or 分野; `policy.1-1` for a policy added or removed;
/// `policy.1-1.title` and `policy.1-1.vision` for a changed 施策名 or めざすまちの姿.
pub fn structure_changes(before: &crate::Edition, after: &crate::Edition) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut change = |field: String, old: Option<&str>, new: Option<&str>| {
        if old != new {
            out.push(FieldChange {
                field,
                old: old.map(str::to_owned),
                new: new.map(str::to_owned),
            });
        }
    };
    let goal_in = |e: &'_ crate::Edition, n: u32| e.goals.iter().find(|g| g.number == n).cloned();
    for goal in &after.goals {
        match goal_in(before, goal.number) {
            None => change(format!("goal.{}", goal.number), None, Some(&goal.title)),
            Some(old) => {
                change(
                    format!("goal.{}.title", goal.number),
                    Some(&old.title),
                    Some(&goal.title),
                );
                change(
                    format!("goal.{}.field", goal.number),
                    Some(&old.field),
                    Some(&goal.field),
                );
            }
        }
    }
    for goal in before
        .goals
        .iter()
        .filter(|g| goal_in(after, g.number).is_none())
    {
        change(format!("goal.{}", goal.number), Some(&goal.title), None);
    }
    for policy in after.policies() {
        match before.policies().find(|p| p.code == policy.code) {
            None => change(format!("policy.{}", policy.code), None, Some(&policy.title)),
            Some(old) => {
                change(
                    format!("policy.{}.title", policy.code),
                    Some(&old.title),
                    Some(&policy.title),
                );
                change(
                    format!("policy.{}.vision", policy.code),
                    Some(&old.vision),
                    Some(&policy.vision),
                );
            }
        }
    }
    for policy in before.policies() {
        if !after.policies().any(|p| p.code == policy.code) {
            change(format!("policy.{}", policy.code), Some(&policy.title), None);
        }
    }
    out
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

    #[test]
    fn field_changes_name_each_changed_field_with_both_values() {
        use crate::{
            EditionSpan, FiscalYear, Money, PolicyCode, Project, ProjectId, Status, YearCost,
        };
        let span = EditionSpan::parse("R3-R5").expect("span");
        let policy = PolicyCode::new(7, 1).expect("code");
        let before = Project {
            id: ProjectId::parse("072052-r2-7-1-1").expect("id"),
            number: 1,
            name: "旧名".into(),
            summary: "概要".into(),
            status: Status::Continuing,
            departments: vec!["企画政策課".into()],
            strategies: Vec::new(),
            costs: vec![YearCost {
                total: Some(Money::from_thousand_yen(100)),
                ..YearCost::empty(FiscalYear::new(2021).expect("year"))
            }],
        };
        let mut after = before.clone();
        after.name = "新名".into();
        after.costs[0].total = None;
        let changes = field_changes(Some((policy, &before)), Some((policy, &after)), span);
        let keys: Vec<(&str, Option<&str>, Option<&str>)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.old.as_deref(), c.new.as_deref()))
            .collect();
        assert_eq!(
            keys,
            [
                ("name", Some("旧名"), Some("新名")),
                ("cost.2021.total", Some("100"), Some("-")),
            ]
        );
        let added = field_changes(None, Some((policy, &after)), span);
        assert!(added.iter().any(|c| c.field == "name" && c.old.is_none()));
        assert!(field_changes(Some((policy, &before)), Some((policy, &before)), span).is_empty());
    }

    #[test]
    fn structure_changes_name_each_goal_and_policy_change() {
        use crate::{Edition, EditionSpan, Goal, Policy, PolicyCode};
        let policy = |goal: u32, number: u32, title: &str| Policy {
            code: PolicyCode::new(goal, number).expect("code"),
            title: title.into(),
            vision: String::new(),
            projects: Vec::new(),
        };
        let before = Edition {
            municipality: crate::municipality::Municipality::unspecified(),
            span: EditionSpan::parse("R6-R8").expect("span"),
            title: String::new(),
            source: String::new(),
            state: crate::EditionState::Draft,
            goals: vec![
                Goal {
                    number: 1,
                    title: "安心".into(),
                    field: "福祉".into(),
                    policies: vec![policy(1, 1, "子育て"), policy(1, 2, "高齢者")],
                },
                Goal {
                    number: 2,
                    title: "活力".into(),
                    field: String::new(),
                    policies: vec![policy(2, 1, "農業")],
                },
            ],
        };
        let mut after = before.clone();
        after.goals[0].field = "健康・福祉".into();
        after.goals[0].policies[0].vision = "元気なまち".into();
        after.goals[0].policies.remove(1);
        after.goals.remove(1);
        after.goals.push(Goal {
            number: 3,
            title: "協働".into(),
            field: String::new(),
            policies: vec![policy(3, 1, "地域づくり")],
        });
        let changes: Vec<(String, Option<String>, Option<String>)> =
            structure_changes(&before, &after)
                .into_iter()
                .map(|c| (c.field, c.old, c.new))
                .collect();
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            changes,
            [
                ("goal.1.field".into(), some("福祉"), some("健康・福祉")),
                ("goal.3".into(), None, some("協働")),
                ("goal.2".into(), some("活力"), None),
                ("policy.1-1.vision".into(), some(""), some("元気なまち")),
                ("policy.3-1".into(), None, some("地域づくり")),
                ("policy.1-2".into(), some("高齢者"), None),
                ("policy.2-1".into(), some("農業"), None),
            ]
        );
    }
}
