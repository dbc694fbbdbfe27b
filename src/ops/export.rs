//! Downloads of stored plans in every open-data format, for the CLI (`keikaku export`) and the
//! portal (`/opendata/…`) alike: canonical JSON, CSV (UTF-8 with BOM), CSV in Shift_JIS,
//! xlsx, and a Frictionless Data Package (zip).
//!
//! File names carry the scope and the date of the data, e.g.
//! `keikaku-072052-r2-r4-2026-11-25.csv`; the date is the latest import of the editions
//! included, so the same data always gives the same file (and the same bytes).

use keikaku_core::export::{csv, datapackage, tables, xlsx};
use keikaku_core::{Edition, canonical};

use super::{EditionSelector, OpsError, find_edition};
use crate::storage::Store;
use crate::storage::read::EditionInfo;

/// A download format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// keikaku's canonical JSON.
    Json,
    /// 事業 table as CSV, UTF-8 with BOM.
    Csv,
    /// 事業 table as CSV, Shift_JIS (CP932).
    CsvSjis,
    /// Every table as a sheet of an Excel workbook.
    Xlsx,
    /// Every table as CSV with `datapackage.json`, zipped.
    DataPackage,
}

impl Format {
    /// Every format, in the order the portal lists them.
    pub const ALL: [Format; 5] = [
        Format::Csv,
        Format::CsvSjis,
        Format::Xlsx,
        Format::Json,
        Format::DataPackage,
    ];

    /// The name used on the command line and in URLs.
    pub fn key(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::CsvSjis => "csv-sjis",
            Format::Xlsx => "xlsx",
            Format::DataPackage => "datapackage",
        }
    }

    /// The format called `key`.
    pub fn parse(key: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.key() == key)
    }

    /// File name ending.
    pub fn suffix(self) -> &'static str {
        match self {
            Format::Json => ".json",
            Format::Csv => ".csv",
            Format::CsvSjis => "-sjis.csv",
            Format::Xlsx => ".xlsx",
            Format::DataPackage => "-datapackage.zip",
        }
    }

    /// HTTP content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::CsvSjis => "text/csv; charset=Shift_JIS",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::DataPackage => "application/zip",
        }
    }

    /// A Japanese description for the open-data page.
    pub fn label(self) -> &'static str {
        match self {
            Format::Json => "JSON（keikaku 正規形式・全項目）",
            Format::Csv => "CSV（UTF-8 BOM 付き・Excel 対応）",
            Format::CsvSjis => "CSV（Shift_JIS）",
            Format::Xlsx => "Excel（xlsx・事業／施策／基本目標の3シート）",
            Format::DataPackage => "Frictionless Data Package（CSV とスキーマの zip）",
        }
    }
}

/// A file ready to be saved or sent.
#[derive(Debug, Clone)]
pub struct Download {
    /// File name with scope and date.
    pub file_name: String,
    /// HTTP content type.
    pub content_type: &'static str,
    /// Content.
    pub bytes: Vec<u8>,
    /// Characters replaced because Shift_JIS cannot hold them (0 for other formats).
    pub replaced_characters: usize,
}

/// The scope part of file names: `072052-r2-r4` for one edition, `all` otherwise.
pub fn scope(editions: &[Edition], one: bool) -> String {
    match editions {
        [edition] if one => format!("{}-{}", edition.municipality.code, edition.span.slug()),
        _ => "all".to_owned(),
    }
}

/// The date of the data: the latest `imported_at` (RFC 3339) of the editions, as YYYY-MM-DD.
pub fn data_date(infos: &[&EditionInfo]) -> String {
    infos
        .iter()
        .map(|i| i.imported_at.get(..10).unwrap_or(""))
        .max()
        .unwrap_or("")
        .to_owned()
}

/// Renders `editions` in `format` (the JSON carries the recorded `populations`). `as_of` is
/// the data's time (RFC 3339) used in the file name and as the Data Package's generation date.
pub fn render(
    editions: &[Edition],
    populations: &canonical::Populations,
    scope: &str,
    format: Format,
    as_of: &str,
) -> Result<Download, OpsError> {
    let date = as_of.get(..10).unwrap_or(as_of);
    let stem = format!("keikaku-{scope}-{date}");
    let file_name = format!("{stem}{}", format.suffix());
    let title = match editions {
        [one] => format!("{} 実施計画 {}", one.municipality.name, one.span.label()),
        _ => "実施計画（全団体・全期間）".to_owned(),
    };
    let mut replaced_characters = 0;
    let bytes = match format {
        Format::Json => canonical::to_json_with(editions, populations).into_bytes(),
        Format::Csv => csv::to_utf8_bom(&tables::projects(editions)),
        Format::CsvSjis => {
            let (bytes, replaced) = csv::to_shift_jis(&tables::projects(editions));
            replaced_characters = replaced;
            bytes
        }
        Format::Xlsx => xlsx::to_xlsx(&tables::all(editions), &title)
            .map_err(|e| OpsError::BadRequest(format!("cannot write the workbook: {e}")))?,
        Format::DataPackage => {
            let publisher = match editions {
                [one] => one.municipality.name.clone(),
                _ => editions
                    .iter()
                    .map(|e| e.municipality.name.as_str())
                    .collect::<Vec<_>>()
                    .join("・"),
            };
            let meta = datapackage::Meta {
                name: stem.clone(),
                title: title.clone(),
                description: format!(
                    "{title}の事業・施策・基本目標。金額は千円、空欄は計上なし。keikaku により作成。"
                ),
                created: as_of.to_owned(),
                publisher,
            };
            datapackage::zip(&datapackage::files(&tables::all(editions), &meta), &stem)
                .map_err(|e| OpsError::BadRequest(format!("cannot write the package: {e}")))?
        }
    };
    Ok(Download {
        file_name,
        content_type: format.content_type(),
        bytes,
        replaced_characters,
    })
}

/// The selected edition, or every edition when `selector` is `None`, with their listings.
pub async fn editions(
    store: &Store,
    selector: Option<&EditionSelector>,
) -> Result<(Vec<EditionInfo>, Vec<Edition>), OpsError> {
    let infos = match selector {
        Some(selector) => vec![find_edition(store, selector).await?],
        None => store.editions().await?,
    };
    let ids: Vec<i64> = infos.iter().map(|i| i.id).collect();
    let editions = store.editions_by_id(&ids).await?;
    Ok((infos, editions))
}

/// Loads and renders a download from the store.
pub async fn download(
    store: &Store,
    selector: Option<&EditionSelector>,
    format: Format,
) -> Result<Download, OpsError> {
    let (infos, editions) = editions(store, selector).await?;
    let as_of = infos
        .iter()
        .map(|i| i.imported_at.as_str())
        .max()
        .unwrap_or("")
        .to_owned();
    let populations = store.populations().await?;
    render(
        &editions,
        &populations,
        &scope(&editions, selector.is_some()),
        format,
        &as_of,
    )
}

fn write_error(e: std::io::Error) -> OpsError {
    OpsError::BadRequest(format!("cannot write the file: {e}"))
}

/// Editions read and written together by [`stream_all`].
pub const STREAM_BATCH: usize = 200;

/// The file name of a whole-database download whose newest edition was stored at `as_of`
/// (RFC 3339): `keikaku-all-2026-11-25.csv`.
pub fn all_file_name(format: Format, as_of: &str) -> String {
    let date = as_of.get(..10).unwrap_or(as_of);
    format!("keikaku-all-{date}{}", format.suffix())
}

/// Writes a whole-database download a batch of editions at a time, for `keikaku export`
/// (batches read from the store) and the portal's `/opendata/all/…` (batches taken from the
/// plans in memory) alike: memory stays bounded by a batch however large the database, and
/// the bytes are those of [`render`] of every edition at once. Only [`Format::Csv`],
/// [`Format::CsvSjis`] and [`Format::Json`] can be written this way (see [`Encoder::new`]).
///
/// Editions must come in the order of the store's listing: by municipality code, then span.
#[derive(Debug)]
pub struct Encoder {
    format: Format,
    populations: canonical::Populations,
    /// Whether anything was written yet (the BOM and header row, or the JSON's opening).
    started: bool,
    /// JSON: the last municipality seen, held until its editions are complete (the next
    /// batch may carry more of them).
    pending: Option<canonical::MunicipalityRecord>,
    replaced_characters: usize,
}

impl Encoder {
    /// An encoder for `format` (the JSON carries `populations`); `None` for the formats
    /// that are one document built whole (xlsx, the Data Package's zip).
    pub fn new(format: Format, populations: canonical::Populations) -> Option<Encoder> {
        matches!(format, Format::Csv | Format::CsvSjis | Format::Json).then_some(Encoder {
            format,
            populations,
            started: false,
            pending: None,
            replaced_characters: 0,
        })
    }

    /// Characters replaced so far because Shift_JIS cannot hold them.
    pub fn replaced_characters(&self) -> usize {
        self.replaced_characters
    }

    /// The bytes that follow for the next editions.
    pub fn batch(&mut self, editions: &[Edition]) -> Vec<u8> {
        match self.format {
            Format::Json => self.json_batch(editions),
            _ => {
                let text = csv::rows_to_string(&tables::projects(editions), !self.started);
                self.csv_piece(&text)
            }
        }
    }

    /// The bytes that end the file.
    pub fn finish(mut self) -> Vec<u8> {
        match self.format {
            Format::Json => {
                let (open, close) = json_frame(&self.populations);
                let mut out = Vec::new();
                if !self.started {
                    out.extend_from_slice(open.as_bytes());
                }
                match self.pending.take() {
                    Some(last) => {
                        out.extend(self.json_municipality(&last));
                        out.extend_from_slice(b"\n  ");
                    }
                    // Nothing at all: the empty list, as the whole-file rendering writes it.
                    None if !self.started => {}
                    None => out.extend_from_slice(b"\n  "),
                }
                out.extend_from_slice(close.as_bytes());
                out
            }
            // No edition at all: the header alone, as the whole-file rendering writes it.
            _ if !self.started => {
                let text = csv::rows_to_string(&tables::projects(&[]), true);
                self.csv_piece(&text)
            }
            _ => Vec::new(),
        }
    }

    fn csv_piece(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.started && self.format == Format::Csv {
            out.extend_from_slice(csv::BOM);
        }
        self.started = true;
        if self.format == Format::CsvSjis {
            let (bytes, replaced) = csv::encode_shift_jis(text);
            self.replaced_characters += replaced;
            out.extend(bytes);
        } else {
            out.extend_from_slice(text.as_bytes());
        }
        out
    }

    fn json_batch(&mut self, editions: &[Edition]) -> Vec<u8> {
        let mut out = Vec::new();
        for record in canonical::to_file_with(editions, &self.populations).municipalities {
            match &mut self.pending {
                Some(pending) if pending.code == record.code => {
                    pending.editions.extend(record.editions);
                }
                _ => {
                    if let Some(done) = self.pending.replace(record) {
                        if !self.started {
                            out.extend_from_slice(json_frame(&self.populations).0.as_bytes());
                        }
                        out.extend(self.json_municipality(&done));
                    }
                }
            }
        }
        out
    }

    /// One municipality as an element of the list, indented as the whole document has it,
    /// after the opening or the previous element.
    fn json_municipality(&mut self, record: &canonical::MunicipalityRecord) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(if self.started { b",\n" } else { b"\n" });
        self.started = true;
        // Pretty JSON never breaks a line inside a string, so indenting line by line nests
        // the element exactly as the whole document's rendering does.
        let text = serde_json::to_string_pretty(record)
            .unwrap_or_else(|err| format!("{{\"error\": {:?}}}", err.to_string()));
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            out.extend_from_slice(b"    ");
            out.extend_from_slice(line.as_bytes());
        }
        out
    }
}

/// The canonical JSON document around its list of municipalities: the text before the
/// first element (ending in `[`) and after the last (starting with `]`), cut from the
/// rendering of an empty document so that both always match it.
fn json_frame(populations: &canonical::Populations) -> (String, String) {
    let empty = canonical::to_json_with(&[], populations);
    match empty.split_once("[]") {
        Some((open, close)) => (format!("{open}["), format!("]{close}")),
        None => (empty, String::new()),
    }
}

/// What [`stream_all`] wrote.
#[derive(Debug, Clone)]
pub struct Streamed {
    /// The file name the same download would have.
    pub file_name: String,
    /// Characters replaced because Shift_JIS cannot hold them.
    pub replaced_characters: usize,
    /// Editions written.
    pub editions: usize,
}

/// Writes every stored edition in `format` (CSV, CSV in Shift_JIS, or JSON) to `out`,
/// `batch` editions at a time through an [`Encoder`]: the same bytes as [`download`] of
/// everything. Fails if the database changed while it was being written, or if `format`
/// cannot be written a batch at a time.
pub async fn stream_all<W: std::io::Write>(
    store: &Store,
    format: Format,
    batch: usize,
    out: &mut W,
) -> Result<Streamed, OpsError> {
    let version = store.data_version().await?;
    let infos = store.editions().await?;
    let as_of = infos
        .iter()
        .map(|i| i.imported_at.as_str())
        .max()
        .unwrap_or("");
    let file_name = all_file_name(format, as_of);
    let populations = store.populations().await?;
    let mut encoder = Encoder::new(format, populations).ok_or_else(|| {
        OpsError::BadRequest(format!(
            "{} cannot be written a batch at a time",
            format.key()
        ))
    })?;
    let ids: Vec<i64> = infos.iter().map(|i| i.id).collect();
    for chunk in ids.chunks(batch.max(1)) {
        let editions = store.editions_by_id(chunk).await?;
        out.write_all(&encoder.batch(&editions))
            .map_err(write_error)?;
    }
    let replaced_characters = encoder.replaced_characters();
    out.write_all(&encoder.finish()).map_err(write_error)?;
    out.flush().map_err(write_error)?;
    if store.data_version().await? != version {
        return Err(OpsError::BadRequest(
            "the database changed while the file was being written; run the export again".into(),
        ));
    }
    Ok(Streamed {
        file_name,
        replaced_characters,
        editions: infos.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same bytes as the whole-file rendering, for any cut into batches (municipalities
    /// split across batches included), with and without populations.
    #[test]
    fn batches_give_the_bytes_of_the_whole_file() {
        let mut generator = keikaku_core::synth::Generator::new(5);
        let mut editions: Vec<Edition> = Vec::new();
        for (code, name) in [("072010", "福島市"), ("072052", "白河市")] {
            let municipality = keikaku_core::Municipality {
                code: keikaku_core::MunicipalityCode::parse(code).expect("code"),
                name: name.into(),
            };
            for span in ["R2-R4", "R3-R5", "R4-R6"] {
                let span = keikaku_core::EditionSpan::parse(span).expect("span");
                editions.push(generator.edition(&municipality, span, 3, 2, false));
            }
        }
        let mut populations = canonical::Populations::new();
        populations.insert(
            editions[0].municipality.code.clone(),
            keikaku_core::Population {
                count: 1234,
                as_of: keikaku_core::municipality::Date::CENSUS_2020,
            },
        );
        for format in [Format::Csv, Format::CsvSjis, Format::Json] {
            for editions in [&editions[..], &editions[..1], &[]] {
                let whole = render(editions, &populations, "all", format, "2026-11-25")
                    .expect("render")
                    .bytes;
                for batch in [1, 2, 4, 100] {
                    let mut encoder = Encoder::new(format, populations.clone()).expect("streams");
                    let mut out = Vec::new();
                    for chunk in editions.chunks(batch) {
                        out.extend(encoder.batch(chunk));
                    }
                    out.extend(encoder.finish());
                    assert!(
                        out == whole,
                        "{format:?}, {} editions, batch {batch}:\n{}\n---\n{}",
                        editions.len(),
                        String::from_utf8_lossy(&out),
                        String::from_utf8_lossy(&whole)
                    );
                }
            }
        }
        assert!(Encoder::new(Format::Xlsx, populations.clone()).is_none());
        assert!(Encoder::new(Format::DataPackage, populations).is_none());
    }
}
