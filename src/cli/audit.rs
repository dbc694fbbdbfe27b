//! `keikaku audit`: the audit log, oldest first: who changed what, when (in JST), through
//! what, which project and field, the old and new value, the comment and the file it came
//! from. Filters by project, actor and date; as a table, JSON or CSV (UTF-8 with BOM, CRLF).
//!
//! It only reads: the log is written by the changes it records, and verified by
//! `keikaku check`.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use jiff::Timestamp;
use jiff::tz::{TimeZone, offset};
use keikaku::config::Config;
use keikaku::storage::audit::AuditFilter;
use keikaku_core::Lang;
use keikaku_core::audit::AuditRecord;
use keikaku_core::export::csv::{Field, Writer};
use serde::Serialize;

use super::open_store;
use super::output::table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// One line per entry.
    Table,
    /// JSON: one object per entry.
    Json,
    /// CSV (UTF-8 with BOM, CRLF), the JSON's fields as columns.
    Csv,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Entries about this project (its stable id, e.g. 072052-r2-7-1-1).
    #[arg(long, value_name = "ID")]
    pub project: Option<String>,
    /// Entries by this actor: a login, or `cli:NAME` for the command line.
    #[arg(long, value_name = "LOGIN")]
    pub user: Option<String>,
    /// Entries from this day on (YYYY-MM-DD, a day in JST) or this time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// The newest N entries only.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
    pub limit: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: AuditFormat,
}

/// An entry in JSON and CSV. The field names are stable (documented in docs/cli.md).
#[derive(Serialize)]
struct EntryView<'a> {
    seq: i64,
    /// RFC 3339, UTC, as stored.
    at: &'a str,
    /// The same time in JST: `2026-12-01T19:00:00+09:00`.
    at_jst: String,
    actor: &'a str,
    via: &'a str,
    action: &'a str,
    subject: &'a str,
    detail: Option<&'a str>,
    project: Option<&'a str>,
    field: Option<&'a str>,
    old: Option<&'a str>,
    new: Option<&'a str>,
    comment: Option<&'a str>,
    file_name: Option<&'a str>,
    file_sha256: Option<&'a str>,
    prev_hash: &'a str,
    hash: &'a str,
}

/// The CSV columns, in order (the JSON's fields).
const CSV_HEADER: [&str; 17] = [
    "seq",
    "at",
    "at_jst",
    "actor",
    "via",
    "action",
    "subject",
    "detail",
    "project",
    "field",
    "old",
    "new",
    "comment",
    "file_name",
    "file_sha256",
    "prev_hash",
    "hash",
];

fn jst() -> TimeZone {
    TimeZone::fixed(offset(9))
}

fn present(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// A stored time (RFC 3339, UTC) in JST with `format`; the stored text when it does not parse.
fn in_jst(at: &str, format: &str) -> String {
    at.parse::<Timestamp>()
        .map(|t| t.to_zoned(jst()).strftime(format).to_string())
        .unwrap_or_else(|_| at.to_owned())
}

fn view(entry: &AuditRecord) -> EntryView<'_> {
    EntryView {
        seq: entry.seq,
        at: &entry.at,
        at_jst: in_jst(&entry.at, "%Y-%m-%dT%H:%M:%S%:z"),
        actor: &entry.actor,
        via: &entry.via,
        action: &entry.action,
        subject: &entry.subject,
        detail: present(&entry.detail),
        project: present(&entry.project),
        field: present(&entry.field),
        old: entry.old.as_deref(),
        new: entry.new.as_deref(),
        comment: present(&entry.comment),
        file_name: present(&entry.file_name),
        file_sha256: present(&entry.file_sha256),
        prev_hash: &entry.prev_hash,
        hash: &entry.hash,
    }
}

/// `--since` as the stored times compare with it (RFC 3339, UTC, whole seconds): a day is
/// its start in JST, a time with an offset is that instant. `None` for anything else.
pub fn since_utc(text: &str) -> Option<String> {
    let text = text.trim();
    let instant = if text.len() == 10 {
        jiff::civil::Date::strptime("%Y-%m-%d", text)
            .ok()?
            .to_zoned(jst())
            .ok()?
            .timestamp()
    } else {
        text.parse::<Timestamp>().ok()?
    };
    // A time within a second counts from that second (stored times are whole seconds).
    let whole = instant.round(jiff::Unit::Second).ok()?;
    let whole = if whole > instant {
        whole.checked_sub(jiff::SignedDuration::from_secs(1)).ok()?
    } else {
        whole
    };
    Some(whole.to_string())
}

fn bad_since(text: &str, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!(
            "--since「{text}」は日付（YYYY-MM-DD、日本時間の日）でも日時（RFC 3339、例 2026-12-01T09:00:00+09:00）でもありません。"
        ),
        Lang::En => format!(
            "--since {text:?} is not a date (YYYY-MM-DD, a day in JST) or a time (RFC 3339, e.g. 2026-12-01T09:00:00+09:00)"
        ),
    }
}

/// At most `max` characters of `text`, with `…` when cut (long texts stay whole in JSON/CSV).
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `old → new` as the table shows it (`（なし）` for a value that did not exist).
fn change(entry: &AuditRecord) -> String {
    if entry.old.is_none() && entry.new.is_none() {
        return String::new();
    }
    let value = |v: &Option<String>| v.as_deref().map_or("（なし）".to_owned(), |v| cut(v, 40));
    format!("{} → {}", value(&entry.old), value(&entry.new))
}

fn table_rows(entries: &[AuditRecord]) -> Vec<Vec<String>> {
    entries
        .iter()
        .map(|e| {
            vec![
                in_jst(&e.at, "%Y-%m-%d %H:%M:%S"),
                e.actor.clone(),
                e.via.clone(),
                e.action.clone(),
                e.subject.clone(),
                e.project.clone(),
                e.field.clone(),
                change(e),
                cut(&e.comment, 40),
                cut(&e.detail, 60),
                match (e.file_name.as_str(), e.file_sha256.as_str()) {
                    ("", "") => String::new(),
                    (name, "") => name.to_owned(),
                    (name, sha) => format!(
                        "{name} (sha256 {}…)",
                        sha.chars().take(12).collect::<String>()
                    ),
                },
            ]
        })
        .collect()
}

fn csv(entries: &[AuditRecord]) -> String {
    let mut writer = Writer::new();
    writer.header(CSV_HEADER);
    for entry in entries {
        let v = view(entry);
        let text = |t: Option<&str>| Field::text(t.unwrap_or_default().to_owned());
        writer.row([
            Field::integer(Some(v.seq)),
            Field::text(v.at),
            Field::text(v.at_jst.clone()),
            Field::text(v.actor),
            Field::text(v.via),
            Field::text(v.action),
            Field::text(v.subject),
            text(v.detail),
            text(v.project),
            text(v.field),
            text(v.old),
            text(v.new),
            text(v.comment),
            text(v.file_name),
            text(v.file_sha256),
            Field::text(v.prev_hash),
            Field::text(v.hash),
        ]);
    }
    writer.into_string_with_bom()
}

/// Runs `audit`.
pub async fn run(config: &Config, args: AuditArgs) -> anyhow::Result<ExitCode> {
    let since = match &args.since {
        Some(text) => match since_utc(text) {
            Some(since) => Some(since),
            None => {
                eprintln!("error: {}", bad_since(text, config.lang));
                return Ok(ExitCode::FAILURE);
            }
        },
        None => None,
    };
    let store = open_store(config).await?;
    let entries = store
        .audit_entries(&AuditFilter {
            project: args.project,
            actor: args.user,
            since,
            limit: args.limit,
            ..AuditFilter::default()
        })
        .await;
    store.close().await;
    let entries = entries?;
    match args.format {
        AuditFormat::Json => {
            let views: Vec<EntryView<'_>> = entries.iter().map(view).collect();
            println!("{}", serde_json::to_string_pretty(&views)?);
        }
        AuditFormat::Csv => print!("{}", csv(&entries)),
        AuditFormat::Table => println!(
            "{}",
            table(
                &[
                    "日時（JST）",
                    "操作者",
                    "経路",
                    "操作",
                    "対象",
                    "事業",
                    "項目",
                    "変更前 → 変更後",
                    "コメント",
                    "詳細",
                    "ファイル",
                ],
                &[],
                table_rows(&entries),
            )
        ),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_day_in_jst_or_an_instant() {
        assert_eq!(
            since_utc("2026-12-01").as_deref(),
            Some("2026-11-30T15:00:00Z")
        );
        assert_eq!(
            since_utc("2026-12-01T09:30:00+09:00").as_deref(),
            Some("2026-12-01T00:30:00Z")
        );
        assert_eq!(
            since_utc("2026-12-01T00:30:00.7Z").as_deref(),
            Some("2026-12-01T00:30:00Z")
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "2026/12/01",
            "2026-12-01T09:00:00",
            "令和8年12月1日",
        ] {
            assert_eq!(since_utc(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn times_are_shown_in_jst() {
        assert_eq!(
            in_jst("2026-12-01T15:00:00Z", "%Y-%m-%d %H:%M:%S"),
            "2026-12-02 00:00:00"
        );
        assert_eq!(
            in_jst("2026-12-01T15:00:00Z", "%Y-%m-%dT%H:%M:%S%:z"),
            "2026-12-02T00:00:00+09:00"
        );
        assert_eq!(in_jst("not a time", "%Y"), "not a time");
    }

    #[test]
    fn changes_and_long_texts_in_the_table() {
        let entry = AuditRecord {
            old: None,
            new: Some("新しい事業".into()),
            ..AuditRecord::default()
        };
        assert_eq!(change(&entry), "（なし） → 新しい事業");
        assert_eq!(change(&AuditRecord::default()), "");
        assert_eq!(cut("あいうえお", 5), "あいうえお");
        assert_eq!(cut("あいうえおか", 5), "あいうえ…");
    }
}
