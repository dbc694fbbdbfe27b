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
    OpsError::BadRequest(format!("cannot write the CSV: {e}"))
}

/// Editions read and written together by [`stream_csv`].
pub const STREAM_BATCH: usize = 200;

/// What [`stream_csv`] wrote.
#[derive(Debug, Clone)]
pub struct Streamed {
    /// The file name the same download would have.
    pub file_name: String,
    /// Characters replaced because Shift_JIS cannot hold them.
    pub replaced_characters: usize,
    /// Editions written.
    pub editions: usize,
}

/// Writes the 事業 CSV of every stored edition (UTF-8 with BOM, or Shift_JIS) to `out`,
/// `batch` editions at a time, so that memory stays bounded by a batch however large the
/// database: the same bytes as [`download`] of everything in `format`. Fails if the database
/// changed while it was being written.
pub async fn stream_csv<W: std::io::Write>(
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
    let date = as_of.get(..10).unwrap_or(as_of);
    let file_name = format!("keikaku-all-{date}{}", format.suffix());
    let mut replaced_characters = 0;
    let mut write = |out: &mut W, text: &str| {
        let written = if format == Format::CsvSjis {
            let (bytes, replaced) = csv::encode_shift_jis(text);
            replaced_characters += replaced;
            out.write_all(&bytes)
        } else {
            out.write_all(text.as_bytes())
        };
        written.map_err(write_error)
    };
    if format == Format::Csv {
        out.write_all(csv::BOM).map_err(write_error)?;
    }
    let ids: Vec<i64> = infos.iter().map(|i| i.id).collect();
    if ids.is_empty() {
        // No edition at all: the header alone, as the whole-file rendering writes it.
        write(out, &csv::rows_to_string(&tables::projects(&[]), true))?;
    }
    for (i, chunk) in ids.chunks(batch.max(1)).enumerate() {
        let editions = store.editions_by_id(chunk).await?;
        write(
            out,
            &csv::rows_to_string(&tables::projects(&editions), i == 0),
        )?;
    }
    out.flush().map_err(write_error)?;
    if store.data_version().await? != version {
        return Err(OpsError::BadRequest(
            "the database changed while the CSV was being written; run the export again".into(),
        ));
    }
    Ok(Streamed {
        file_name,
        replaced_characters,
        editions: infos.len(),
    })
}
