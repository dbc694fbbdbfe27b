//! Reading plans from documents. Each document layout is one implementation of [`Layout`]
//! in its own file; adding a municipality's layout means adding a file here and listing it
//! in [`layouts`], not changing the others.
//!
//! A layout turns bytes into editions plus a [`SourceMap`] and reports what only it can see
//! (cells that are not numbers, a truncated file); [`read`] then runs the layout-independent
//! checks of [`crate::validate`] on each edition, so every layout is held to the same rules.

pub mod bulletin;
pub mod canonical_json;
pub mod own;
pub mod pdf_text;
pub mod sheet;

use std::collections::HashMap;

use encoding_rs::Encoding;

use crate::diagnostic::{Code, Diagnostic, Position, Report};
use crate::fiscal::EditionSpan;
use crate::model::Edition;
use crate::municipality::Municipality;
use crate::source::Source;
use crate::validate::{Rules, SourceMap, check_edition};

/// What the caller knows that a document may not say.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The municipality, for layouts that do not name it (the PDF table text does not).
    pub municipality: Option<Municipality>,
    /// The edition the user says this is (`--edition R2-R4`); checked against the document.
    pub span: Option<EditionSpan>,
    /// The encoding the user named (`--encoding sjis`); `None` means UTF-8 or a BOM.
    pub encoding: Option<&'static Encoding>,
    /// The title to give the edition, if the document states none.
    pub title: Option<String>,
    /// Validation rules.
    pub rules: Rules,
    /// For layouts that update a stored edition (spreadsheets): that edition and its
    /// surroundings.
    pub base: Option<Base>,
    /// For a town's own workbook ([`own`]): the user's mapping file, overriding what keikaku
    /// detects.
    pub mapping: Option<own::Overrides>,
    /// How large a spreadsheet may be read (rows, cells, text, uncompressed parts): the
    /// command line's defaults, or the tighter [`Limits::upload`] for a file sent to the
    /// server.
    pub limits: crate::sheet::workbook::Limits,
    /// For keikaku's planning workbook: apply its structure sheet (goals and policies added
    /// or changed). Off by default, so that only the planning office's `keikaku import` changes
    /// the structure; elsewhere (a department's upload) a changed structure sheet is not
    /// applied, with a warning.
    pub structure_edits: bool,
}

/// The stored edition a spreadsheet updates, and what the database knows around it.
#[derive(Debug, Clone)]
pub struct Base {
    /// The edition as stored: its goals and policies stay, its projects are replaced.
    pub edition: Edition,
    /// Stable ids stored in the municipality's other editions, with where each lives
    /// (`072052 白河市 R2-R4`), to tell an id of another edition from a mistyped one.
    pub other_ids: HashMap<String, String>,
    /// The municipality's edition before this one, for plausibility checks of amounts.
    pub previous: Option<Edition>,
}

/// One edition read from a document, with where each part came from.
#[derive(Debug, Clone)]
pub struct ReadEdition {
    /// The edition.
    pub edition: Edition,
    /// Positions of its parts in the source.
    pub map: SourceMap,
    /// The municipality's population, when the document records it (keikaku's JSON).
    pub population: Option<crate::municipality::Population>,
    /// For a spreadsheet that updates a stored edition: what it changes.
    pub changes: Option<sheet::SheetChanges>,
}

/// What a layout read: editions (possibly partial when there are errors) and problems.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The editions found.
    pub editions: Vec<ReadEdition>,
    /// Problems found while reading.
    pub report: Report,
}

/// A document layout keikaku can read.
pub trait Layout: Sync {
    /// The name used with `--layout`, e.g. `pdf-text`.
    fn name(&self) -> &'static str;

    /// One line describing the layout.
    fn description(&self) -> &'static str;

    /// True when the bytes look like this layout; cheap, and never fails.
    fn sniff(&self, source: &Source<'_>, context: &Context) -> bool;

    /// True when documents in this layout name their municipality themselves.
    fn names_municipality(&self) -> bool;

    /// True for layouts that update a stored edition (they need [`Context::base`]).
    fn updates_existing(&self) -> bool {
        false
    }

    /// The municipality code and edition label the document says it is for, if it says.
    fn identify(&self, _source: &Source<'_>) -> Option<(String, String)> {
        None
    }

    /// Reads the document. Never panics, whatever the bytes.
    fn read(&self, source: &Source<'_>, context: &Context) -> Parsed;

    /// When [`Layout::sniff`] refused the source: how close it came and what was missing, for
    /// the message that says no layout fits. `None` when the source is nothing like it.
    fn near_miss(&self, _source: &Source<'_>, _context: &Context) -> Option<NearMiss> {
        None
    }
}

/// How close a document came to a layout that refused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearMiss {
    /// How much of the layout was found (compared between layouts: the highest wins).
    pub score: usize,
    /// What was missing, in Japanese.
    pub ja: String,
    /// The same in English.
    pub en: String,
}

/// Every layout keikaku reads, most specific first.
pub fn layouts() -> &'static [&'static dyn Layout] {
    &[
        &canonical_json::CanonicalJson,
        // Before the spreadsheet layouts: it takes every workbook and CSV/TSV except the
        // spreadsheet `keikaku template` writes.
        &own::OwnPlan,
        &sheet::SheetXlsx,
        &sheet::SheetCsv,
        &pdf_text::PdfTableText,
        // Last: any text with two lines like ○事業名 1億円.
        &bulletin::BulletinList,
    ]
}

/// The layout called `name`.
pub fn layout_by_name(name: &str) -> Option<&'static dyn Layout> {
    layouts().iter().copied().find(|l| l.name() == name)
}

/// The first layout whose sniff accepts the source.
pub fn detect(source: &Source<'_>, context: &Context) -> Option<&'static dyn Layout> {
    layouts().iter().copied().find(|l| l.sniff(source, context))
}

/// Reads and validates a document: picks the layout (or uses `layout`), reads it, runs the
/// common checks on every edition and applies the user's severity overrides. The result
/// may be stored only when its report has no errors.
pub fn read(source: &Source<'_>, layout: Option<&dyn Layout>, context: &Context) -> Parsed {
    let layout = match layout.or_else(|| detect(source, context)) {
        Some(layout) => layout,
        None => return not_a_plan(source, context),
    };
    let mut parsed = layout.read(source, context);
    for read in &parsed.editions {
        let checks = check_edition(&read.edition, &read.map, &context.rules);
        parsed.report.append(checks);
    }
    check_editions_once(&parsed.editions, &mut parsed.report);
    parsed
        .report
        .apply_overrides(&context.rules.severity_overrides);
    parsed.report.sort();
    parsed
}

/// A document holds each edition (municipality and years) once: a second copy could only
/// replace the first, which is never what was meant.
fn check_editions_once(editions: &[ReadEdition], report: &mut Report) {
    let mut seen: HashMap<(String, EditionSpan), &Position> = HashMap::new();
    for read in editions {
        let edition = &read.edition;
        let key = (edition.municipality.code.to_string(), edition.span);
        if let Some(first) = seen.get(&key) {
            let (code, span) = (&key.0, edition.span);
            report.push(Diagnostic::new(
                Code::DuplicateEdition,
                read.map.edition.clone(),
                format!(
                    "{code} {} の計画期間 {span} がこのファイルに2回あります（最初は {first}）。",
                    edition.municipality.name
                ),
                format!(
                    "the edition {span} of {code} appears twice in this file (first at {first})"
                ),
            ));
        } else {
            seen.insert(key, &read.map.edition);
        }
    }
}

/// The report for bytes no layout recognises (after ruling out encoding problems and
/// empty files, which explain themselves better).
fn not_a_plan(source: &Source<'_>, context: &Context) -> Parsed {
    let mut report = Report::default();
    let lower = source.name.to_lowercase();
    let named_workbook = lower.ends_with(".xlsx") || lower.ends_with(".xlsm");
    if named_workbook && !crate::sheet::grid::looks_like_xlsx(source.bytes) {
        report.push(Diagnostic::new(
            Code::NotAPlan,
            Position::File,
            "名前は xlsx ですが、Excel ブック（xlsx）として読めません。ファイルが壊れているか、別の形式です。Excel で開いて xlsx 形式で保存し直してください。",
            "the file is named .xlsx but is not an Excel workbook (xlsx): it is damaged or of another kind; open it in Excel and save it as xlsx again",
        ));
        return Parsed {
            editions: Vec::new(),
            report,
        };
    }
    match crate::source::decode_text(source.bytes, context.encoding) {
        Err(diagnostic) => report.push(diagnostic),
        Ok(_) => {
            let closest = layouts()
                .iter()
                .filter_map(|l| l.near_miss(source, context).map(|m| (l.name(), m)))
                .max_by_key(|(_, m)| m.score);
            let (ja, en) = match closest {
                Some((name, miss)) => (
                    format!(
                        "実施計画として読めません。最も近い形式は {name} ですが、{}。形式の一覧は keikaku layouts で確かめられます。",
                        miss.ja
                    ),
                    format!(
                        "this is not a plan keikaku can read: the closest layout is {name}, but {} (keikaku layouts lists them all)",
                        miss.en
                    ),
                ),
                None => (
                    "実施計画として読めません。No・事業名・事業概要・事業費の見出しを持つ表（PDF の表のテキスト）、\
                     広報の事業一覧（○事業名 1億円）、町の計画表（xlsx・CSV）か、keikaku の JSON 形式の\
                     ファイルを指定してください（形式の一覧は keikaku layouts）。"
                        .to_owned(),
                    "this is not a plan keikaku can read: expected the text of plan tables (a header row \
                     with No, 事業名, 事業概要, 事業費), a bulletin-style list (○事業名 1億円), a plan \
                     workbook or CSV, or keikaku's JSON format (keikaku layouts lists them all)"
                        .to_owned(),
                ),
            };
            report.push(Diagnostic::new(Code::NotAPlan, Position::File, ja, en));
        }
    }
    Parsed {
        editions: Vec::new(),
        report,
    }
}
