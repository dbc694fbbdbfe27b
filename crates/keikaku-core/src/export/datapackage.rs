//! A Frictionless Data Package: the open-data tables as CSV (UTF-8 with BOM) plus
//! `datapackage.json`, which describes each file with a Table Schema (field names, types,
//! required values, primary key), its size and SHA-256, the licence (CC BY 4.0, compatible with
//! the 公共データ利用規約 PDL 1.0) and the generation date. [`zip`] bundles the files. The
//! description also says how text cells that could start a formula are written
//! ([`csv::neutralise`]).

use std::io::Write;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::export::csv;
use crate::export::tables::{Kind, Table};

/// Metadata of a package.
#[derive(Debug, Clone)]
pub struct Meta {
    /// Machine name: lower-case letters, digits, `-`, `_`, `.` (e.g. `keikaku-072052-r2-r4`).
    pub name: String,
    /// Human title, e.g. `白河市 実施計画 R2-R4`.
    pub title: String,
    /// A sentence or two about the data.
    pub description: String,
    /// Generation time, RFC 3339 (the caller's clock: this crate has none).
    pub created: String,
    /// Who publishes the data, e.g. 白河市.
    pub publisher: String,
}

/// One file of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Path inside the package.
    pub path: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// The SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn field(column: &crate::export::tables::Column) -> Value {
    let kind = match column.kind {
        Kind::Text => "string",
        Kind::Integer | Kind::Amount => "integer",
    };
    let mut value = json!({ "name": column.name, "type": kind, "description": column.description });
    if column.required {
        value["constraints"] = json!({ "required": true });
    }
    if column.kind == Kind::Amount {
        value["unit"] = json!("千円");
    }
    value
}

/// The package's files: one CSV per table, then `datapackage.json`.
pub fn files(tables: &[Table], meta: &Meta) -> Vec<File> {
    let mut files = Vec::new();
    let mut resources = Vec::new();
    for table in tables {
        let bytes = csv::to_utf8_bom(table);
        let path = format!("{}.csv", table.name);
        resources.push(json!({
            "name": table.name,
            "title": table.title,
            "path": path,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "bytes": bytes.len(),
            "hash": format!("sha256:{}", sha256_hex(&bytes)),
            "dialect": { "delimiter": ",", "lineTerminator": "\r\n", "header": true },
            "schema": {
                "fields": table.columns.iter().map(field).collect::<Vec<_>>(),
                "primaryKey": table.primary_key,
                "missingValues": [""],
            },
        }));
        files.push(File { path, bytes });
    }
    let descriptor = json!({
        "profile": "tabular-data-package",
        "name": meta.name,
        "title": meta.title,
        // The CSV's text cells may carry a neutralising quote: say so where readers look.
        "description": format!("{} {}", meta.description, csv::NEUTRALISED_NOTE),
        "created": meta.created,
        "licenses": [{
            "name": "CC-BY-4.0",
            "title": "Creative Commons Attribution 4.0 International（公共データ利用規約（第1.0版）と互換）",
            "path": "https://creativecommons.org/licenses/by/4.0/legalcode.ja",
        }],
        "contributors": [{ "title": meta.publisher, "role": "publisher" }],
        "keywords": ["実施計画", "総合計画", "オープンデータ"],
        "resources": resources,
    });
    let mut text = serde_json::to_string_pretty(&descriptor).unwrap_or_default();
    text.push('\n');
    files.push(File {
        path: "datapackage.json".to_owned(),
        bytes: text.into_bytes(),
    });
    files
}

/// The files in a zip archive under a folder named after the package.
pub fn zip(files: &[File], folder: &str) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        // A fixed timestamp keeps archives of the same data identical.
        .last_modified_time(zip::DateTime::default());
    for file in files {
        writer.start_file(format!("{folder}/{}", file.path), options)?;
        writer.write_all(&file.bytes)?;
    }
    Ok(writer.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tables::{Cell, Column};

    #[test]
    fn descriptor_hashes_and_schemas() {
        const COLUMNS: [Column; 2] = [
            Column {
                name: "事業名",
                kind: Kind::Text,
                required: true,
                description: "事業名",
            },
            Column {
                name: "事業費（千円）",
                kind: Kind::Amount,
                required: false,
                description: "事業費",
            },
        ];
        let table = Table {
            name: "projects",
            title: "事業",
            columns: &COLUMNS,
            primary_key: &["事業名"],
            rows: vec![vec![Cell::Text("A".into()), Cell::Integer(None)]],
        };
        let meta = Meta {
            name: "keikaku-072052-r2-r4".into(),
            title: "白河市 実施計画 R2-R4".into(),
            description: "test".into(),
            created: "2026-11-25T00:00:00Z".into(),
            publisher: "白河市".into(),
        };
        let files = files(&[table], &meta);
        assert_eq!(files.len(), 2);
        let descriptor: Value = serde_json::from_slice(&files[1].bytes).expect("json");
        assert_eq!(descriptor["licenses"][0]["name"], "CC-BY-4.0");
        assert_eq!(descriptor["created"], "2026-11-25T00:00:00Z");
        let resource = &descriptor["resources"][0];
        assert_eq!(
            resource["hash"],
            format!("sha256:{}", sha256_hex(&files[0].bytes))
        );
        assert_eq!(resource["bytes"], files[0].bytes.len());
        assert_eq!(resource["schema"]["fields"][1]["type"], "integer");
        assert_eq!(
            resource["schema"]["fields"][0]["constraints"]["required"],
            true
        );
        let archive = zip(&files, "keikaku-072052-r2-r4").expect("zip");
        assert_eq!(&archive[..2], b"PK");
        // Known answer for SHA-256 of "abc".
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
