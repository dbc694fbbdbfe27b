//! Reading xlsx workbooks that may be hostile: any sheet by name, its cells with values,
//! formulas (with whether Excel stored a result), merged regions and hidden rows.
//!
//! A workbook is a zip of XML parts. This reader walks the parts as streams (zip + quick-xml)
//! and keeps only the cells that hold something, so its memory follows what it keeps, never
//! what a file claims: a `<dimension ref="A1:XFD1048576">` or a lone cell at XFD1048576 costs
//! nothing. Everything it keeps is bounded by [`Limits`]; beyond them, or on a reference that
//! does not exist (a cell `ZZZZZZZZ99999999999`, a shared string `-1` or `abc`, a cell given
//! twice), reading stops with one located [`Diagnostic`] instead of a guess, a panic or an
//! allocation of gigabytes.
//!
//! It must not interpret what cells mean: that is for the layouts that read a [`Sheet`].

use std::collections::{BTreeSet, HashMap};
use std::io::{BufReader, Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::grid::Value;
use crate::diagnostic::{Code, Diagnostic, Position};

/// Excel's own last row (1-based): references beyond it do not exist.
pub const EXCEL_ROWS: u32 = 1_048_576;
/// Excel's own last column (XFD, 1-based).
pub const EXCEL_COLUMNS: u32 = 16_384;

/// How much of a workbook keikaku reads. A sheet beyond these is refused with a
/// [`Code::TooLarge`] error at the first cell past the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rows that may hold values (a value in row `rows + 1` is too far down).
    pub rows: u32,
    /// Columns that may hold values.
    pub columns: u32,
    /// Cells with a value in one sheet. A [`super::grid::Grid`] counts every cell it keeps
    /// against it: the rectangle up to the last row and the rightmost column with a value.
    pub cells: usize,
    /// Bytes of text kept from one sheet and its shared strings (each cell's copy counts).
    pub text_bytes: usize,
    /// Uncompressed bytes of one XML part of the archive (a sheet, the shared strings).
    pub part_bytes: u64,
}

impl Default for Limits {
    /// Far above any plan (the template has 32 columns; a plan has thousands of projects,
    /// not hundreds of thousands) while keeping the worst case to a few hundred megabytes.
    fn default() -> Self {
        Limits {
            rows: 200_000,
            columns: 1_024,
            cells: 4_000_000,
            text_bytes: 256 << 20,
            part_bytes: 1 << 30,
        }
    }
}

impl Limits {
    /// For a file uploaded to the server, where several people may upload at once: still
    /// ten times a large town's plan (a few thousand rows), with the worst case of one
    /// upload kept to a few tens of megabytes.
    pub fn upload() -> Limits {
        Limits {
            rows: 20_000,
            columns: 256,
            cells: 400_000,
            text_bytes: 16 << 20,
            part_bytes: 64 << 20,
        }
    }
}

/// The longest run of bytes between two XML markup characters accepted: more than any cell
/// (Excel allows 32,767 characters) or tag needs. It bounds what the XML reader buffers.
const MAX_XML_RUN: usize = 4 << 20;

/// A formula in a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    /// The formula as written (`SUM(I2:I9)`); empty for a cell that shares another cell's.
    pub text: String,
    /// True when the workbook stores the formula's result (Excel always does; some tools
    /// that write workbooks do not). Without it the cell's value is [`Value::Empty`].
    pub cached: bool,
}

/// One cell that holds a value or a formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// 0-based row.
    pub row: u32,
    /// 0-based column.
    pub column: u32,
    /// The value, or the formula's stored result.
    pub value: Value,
    /// The formula, if the value was computed.
    pub formula: Option<Formula>,
}

/// A merged region: first and last cell, 0-based (row, column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Top-left cell.
    pub first: (u32, u32),
    /// Bottom-right cell.
    pub last: (u32, u32),
}

/// A sheet as read: only what it holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    /// Its name.
    pub name: String,
    /// Cells with a value or formula, by row then column.
    pub cells: Vec<Cell>,
    /// Merged regions, as listed.
    pub merged: Vec<Region>,
    /// 0-based rows marked hidden, ascending (only rows within [`Limits::rows`]).
    pub hidden_rows: Vec<u32>,
}

/// A sheet's entry in the workbook.
#[derive(Debug, Clone)]
struct SheetEntry {
    name: String,
    /// Path of its XML part in the archive.
    part: Option<String>,
}

/// An opened workbook.
pub struct Workbook<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    sheets: Vec<SheetEntry>,
    strings_part: Option<String>,
    /// Shared strings, read when a sheet first needs them.
    strings: Option<Vec<String>>,
    strings_bytes: usize,
    limits: Limits,
}

/// `cannot read the workbook (…)`, for files that are not workbooks at all.
fn unreadable(what: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(
        Code::NotAPlan,
        Position::File,
        format!("Excel ファイルとして読めません（{what}）。"),
        format!("cannot read the workbook ({what})"),
    )
}

/// A reference or value in the workbook that does not hold together.
fn broken(position: Position, ja: String, en: String) -> Diagnostic {
    Diagnostic::new(Code::BrokenWorkbook, position, ja, en)
}

/// Text from the file shown in a message: short, and with control characters made visible
/// by the diagnostic itself.
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

fn grouped(n: u64) -> String {
    crate::money::group_thousands(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Why a guarded stream stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tripped {
    /// More uncompressed bytes than [`Limits::part_bytes`].
    Part,
    /// A text or tag longer than [`MAX_XML_RUN`].
    Run,
}

impl std::fmt::Display for Tripped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Tripped::Part => "part too large",
            Tripped::Run => "text too long",
        })
    }
}

impl std::error::Error for Tripped {}

/// A reader that refuses to pass on more than `limit` bytes, or a run of more than
/// [`MAX_XML_RUN`] bytes without `<` or `>` (which the XML reader would buffer whole).
struct Guard<R> {
    inner: R,
    read: u64,
    limit: u64,
    run: usize,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(std::io::Error::other(Tripped::Part));
        }
        for byte in &buf[..n] {
            if matches!(byte, b'<' | b'>') {
                self.run = 0;
            } else {
                self.run += 1;
            }
        }
        if self.run > MAX_XML_RUN {
            return Err(std::io::Error::other(Tripped::Run));
        }
        Ok(n)
    }
}

/// What went wrong while walking a part.
enum Fail {
    /// Already a diagnostic (a broken reference, a limit).
    Diagnostic(Box<Diagnostic>),
    /// The XML itself cannot be read.
    Xml(String),
    /// A guard tripped.
    Tripped(Tripped),
}

impl From<Diagnostic> for Fail {
    fn from(d: Diagnostic) -> Self {
        Fail::Diagnostic(Box::new(d))
    }
}

impl From<quick_xml::Error> for Fail {
    fn from(err: quick_xml::Error) -> Self {
        if let quick_xml::Error::Io(io) = &err
            && let Some(tripped) = io.get_ref().and_then(|e| e.downcast_ref::<Tripped>())
        {
            return Fail::Tripped(*tripped);
        }
        Fail::Xml(err.to_string())
    }
}

impl From<quick_xml::events::attributes::AttrError> for Fail {
    fn from(err: quick_xml::events::attributes::AttrError) -> Self {
        Fail::Xml(err.to_string())
    }
}

impl From<quick_xml::encoding::EncodingError> for Fail {
    fn from(err: quick_xml::encoding::EncodingError) -> Self {
        Fail::Xml(err.to_string())
    }
}

impl From<quick_xml::escape::EscapeError> for Fail {
    fn from(err: quick_xml::escape::EscapeError) -> Self {
        Fail::Xml(err.to_string())
    }
}

impl Fail {
    /// The diagnostic, naming the part for failures of the XML itself.
    fn into_diagnostic(self, part: &str, limits: &Limits) -> Diagnostic {
        match self {
            Fail::Diagnostic(d) => *d,
            Fail::Xml(err) => unreadable(format!("{part}: {err}")),
            Fail::Tripped(Tripped::Part) => Diagnostic::new(
                Code::TooLarge,
                Position::Path(part.to_owned()),
                format!(
                    "ブックの部品 {part} が展開すると {} バイトを超えます。",
                    grouped(limits.part_bytes)
                ),
                format!(
                    "the workbook's part {part} is larger than {} bytes uncompressed",
                    grouped(limits.part_bytes)
                ),
            ),
            Fail::Tripped(Tripped::Run) => Diagnostic::new(
                Code::TooLarge,
                Position::Path(part.to_owned()),
                format!(
                    "ブックの部品 {part} に {} バイトを超える文字列があります。",
                    grouped(MAX_XML_RUN as u64)
                ),
                format!(
                    "the workbook's part {part} holds a text longer than {} bytes",
                    grouped(MAX_XML_RUN as u64)
                ),
            ),
        }
    }
}

type XmlReader<'z> = Reader<BufReader<Guard<Box<dyn Read + 'z>>>>;

/// The local name and the attributes of an element, unescaped.
fn attributes(e: &BytesStart<'_>) -> Result<Vec<(String, String)>, Fail> {
    let mut out = Vec::new();
    for attribute in e.attributes() {
        let attribute = attribute?;
        let local = attribute.key.local_name();
        let key: &str = local.as_ref();
        let value = attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0)?;
        out.push((key.to_owned(), value.into_owned()));
    }
    Ok(out)
}

fn attribute<'v>(attributes: &'v [(String, String)], key: &str) -> Option<&'v str> {
    attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The `r` (reference) and `t` (type) attributes of a `<c>` element.
fn cell_attributes(e: &BytesStart<'_>) -> Result<(Option<String>, Option<String>), Fail> {
    let (mut reference, mut kind) = (None, None);
    for attribute in e.attributes() {
        let attribute = attribute?;
        let local = attribute.key.local_name();
        let key: &str = local.as_ref();
        let slot = match key {
            "r" => &mut reference,
            "t" => &mut kind,
            _ => continue,
        };
        *slot = Some(
            attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)?
                .into_owned(),
        );
    }
    Ok((reference, kind))
}

fn local(e: &BytesStart<'_>) -> String {
    let name = e.local_name();
    let name: &str = name.as_ref();
    name.to_owned()
}

/// Appends the text of an event (text, entity or character reference, CDATA) to `out`.
fn push_text(event: &Event<'_>, out: &mut String) -> Result<(), Fail> {
    match event {
        Event::Text(t) => out.push_str(&t.xml10_content()),
        Event::CData(c) => out.push_str(&c.xml10_content()),
        Event::GeneralRef(r) => match r.resolve_char_ref()? {
            Some(c) => out.push(c),
            None => {
                let name: &str = r;
                match quick_xml::escape::resolve_xml_entity(name) {
                    Some(text) => out.push_str(text),
                    None => return Err(Fail::Xml(format!("unknown entity &{name};"))),
                }
            }
        },
        _ => {}
    }
    Ok(())
}

/// Reads up to the end of the element `name` that has just started, collecting its text.
fn element_text(reader: &mut XmlReader<'_>, buf: &mut Vec<u8>, name: &str) -> Result<String, Fail> {
    let mut out = String::new();
    loop {
        buf.clear();
        let event = reader.read_event_into(buf)?;
        match &event {
            Event::End(e) if e.local_name().as_ref() == name => return Ok(out),
            Event::Eof => return Err(Fail::Xml(format!("<{name}> is not closed"))),
            other => push_text(other, &mut out)?,
        }
    }
}

/// Reads a rich or plain string (`<si>` of the shared strings, `<is>` of a cell) up to the
/// end of `name`: the `<t>` texts in order, without phonetic guides (`<rPh>`).
fn string_item(reader: &mut XmlReader<'_>, buf: &mut Vec<u8>, name: &str) -> Result<String, Fail> {
    let mut out = String::new();
    let mut in_text = false;
    let mut phonetic = 0usize;
    loop {
        buf.clear();
        let event = reader.read_event_into(buf)?;
        match &event {
            Event::Start(e) => match e.local_name().as_ref() {
                "t" => in_text = true,
                "rPh" => phonetic += 1,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "rPh" => phonetic = phonetic.saturating_sub(1),
                n if n == name => return Ok(decode_escapes(&out)),
                _ => {}
            },
            Event::Eof => return Err(Fail::Xml(format!("<{name}> is not closed"))),
            other if in_text && phonetic == 0 => push_text(other, &mut out)?,
            _ => {}
        }
    }
}

/// Decodes the `_xHHHH_` escapes of OOXML strings (Excel writes control characters that way,
/// and `_x005F_` for a literal underscore before such a pattern).
fn decode_escapes(text: &str) -> String {
    if !text.contains("_x") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("_x") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let code = tail
            .get(2..6)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|_| tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses an `A1` reference strictly: 1–3 capital letters up to XFD, then a row from 1 to
/// 1,048,576 without leading zeros. Returns the 0-based (row, column).
pub fn parse_reference(text: &str) -> Option<(u32, u32)> {
    let bytes = text.as_bytes();
    let letters = bytes.iter().take_while(|b| b.is_ascii_uppercase()).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let digits = &bytes[letters..];
    if digits.is_empty()
        || digits.len() > 7
        || digits[0] == b'0'
        || !digits.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let column = bytes[..letters]
        .iter()
        .fold(0u32, |acc, b| acc * 26 + u32::from(b - b'A') + 1);
    let row = digits
        .iter()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    (column <= EXCEL_COLUMNS && row <= EXCEL_ROWS).then(|| (row - 1, column - 1))
}

/// A row number attribute (`<row r="12">`), 1-based, within Excel's rows.
fn parse_row_number(text: &str) -> Option<u32> {
    let ok = !text.is_empty()
        && text.len() <= 7
        && !text.starts_with('0')
        && text.bytes().all(|b| b.is_ascii_digit());
    let row: u32 = if ok { text.parse().ok()? } else { return None };
    (row <= EXCEL_ROWS).then_some(row - 1)
}

/// The path of a relationship's target, relative to `xl/` unless absolute.
fn part_path(target: &str) -> String {
    match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => format!("xl/{target}"),
    }
}

impl<'a> Workbook<'a> {
    /// Opens a workbook: its list of sheets and where their parts are.
    pub fn open(bytes: &'a [u8], limits: Limits) -> Result<Workbook<'a>, Diagnostic> {
        let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
        let mut workbook = Workbook {
            archive,
            sheets: Vec::new(),
            strings_part: None,
            strings: None,
            strings_bytes: 0,
            limits,
        };
        let mut listed: Vec<(String, Option<String>)> = Vec::new();
        workbook.walk("xl/workbook.xml", |reader, buf, _| {
            loop {
                buf.clear();
                match reader.read_event_into(buf)? {
                    Event::Start(e) | Event::Empty(e) if local(&e) == "sheet" => {
                        let attributes = attributes(&e)?;
                        let name = attribute(&attributes, "name").unwrap_or("").to_owned();
                        let id = attributes
                            .iter()
                            .find(|(k, _)| k == "id")
                            .map(|(_, v)| v.clone());
                        if listed.len() >= 10_000 {
                            return Err(Fail::Xml("more than 10,000 sheets".into()));
                        }
                        listed.push((name, id));
                    }
                    Event::Eof => return Ok(()),
                    _ => {}
                }
            }
        })?;
        let mut targets: HashMap<String, String> = HashMap::new();
        let mut strings_part = None;
        // A workbook without relationships has no sheets keikaku can find; that is reported
        // when a sheet is asked for.
        let _ = workbook.walk("xl/_rels/workbook.xml.rels", |reader, buf, _| {
            loop {
                buf.clear();
                match reader.read_event_into(buf)? {
                    Event::Start(e) | Event::Empty(e) if local(&e) == "Relationship" => {
                        let attributes = attributes(&e)?;
                        let (Some(id), Some(target)) = (
                            attribute(&attributes, "Id"),
                            attribute(&attributes, "Target"),
                        ) else {
                            continue;
                        };
                        if attribute(&attributes, "Type")
                            .is_some_and(|t| t.ends_with("/sharedStrings"))
                        {
                            strings_part = Some(part_path(target));
                        }
                        if targets.len() < 10_000 {
                            targets.insert(id.to_owned(), part_path(target));
                        }
                    }
                    Event::Eof => return Ok(()),
                    _ => {}
                }
            }
        });
        workbook.sheets = listed
            .into_iter()
            .map(|(name, id)| SheetEntry {
                part: id.and_then(|id| targets.get(&id).cloned()),
                name,
            })
            .collect();
        workbook.strings_part = strings_part.or_else(|| {
            workbook
                .archive
                .index_for_name("xl/sharedStrings.xml")
                .map(|_| "xl/sharedStrings.xml".to_owned())
        });
        Ok(workbook)
    }

    /// The sheets' names, in the workbook's order.
    pub fn sheet_names(&self) -> Vec<String> {
        self.sheets.iter().map(|s| s.name.clone()).collect()
    }

    /// The limits this workbook is read with.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Streams the part `path` through `f`; a missing part is a [`Code::NotAPlan`] error.
    fn walk<T>(
        &mut self,
        path: &str,
        f: impl FnOnce(&mut XmlReader<'_>, &mut Vec<u8>, &Limits) -> Result<T, Fail>,
    ) -> Result<T, Diagnostic> {
        let limits = self.limits;
        let file = self
            .archive
            .by_name(path)
            .map_err(|err| unreadable(format!("{path}: {err}")))?;
        // The size the archive declares may lie; the guard counts what is really read.
        if file.size() > limits.part_bytes {
            return Err(Fail::Tripped(Tripped::Part).into_diagnostic(path, &limits));
        }
        let inner: Box<dyn Read + '_> = Box::new(file);
        let guard = Guard {
            inner,
            read: 0,
            limit: limits.part_bytes,
            run: 0,
        };
        let mut reader = Reader::from_reader(BufReader::new(guard));
        let mut buf = Vec::with_capacity(4096);
        f(&mut reader, &mut buf, &limits).map_err(|fail| fail.into_diagnostic(path, &limits))
    }

    /// Reads the shared strings once, within the limits.
    fn load_strings(&mut self) -> Result<(), Diagnostic> {
        if self.strings.is_some() {
            return Ok(());
        }
        let Some(part) = self.strings_part.clone() else {
            self.strings = Some(Vec::new());
            return Ok(());
        };
        let (strings, bytes) = self.walk(&part, |reader, buf, limits| {
            let mut strings: Vec<String> = Vec::new();
            let mut bytes = 0usize;
            loop {
                buf.clear();
                match reader.read_event_into(buf)? {
                    Event::Start(e) if local(&e) == "si" => {
                        let mut inner = Vec::new();
                        let text = string_item(reader, &mut inner, "si")?;
                        bytes += text.len();
                        if strings.len() >= limits.cells || bytes > limits.text_bytes {
                            return Err(Diagnostic::new(
                                Code::TooLarge,
                                Position::Path(part.clone()),
                                format!(
                                    "共有文字列が多すぎます（{} 個・{} バイトまで）。",
                                    grouped(limits.cells as u64),
                                    grouped(limits.text_bytes as u64)
                                ),
                                format!(
                                    "too many shared strings (at most {} strings and {} bytes)",
                                    grouped(limits.cells as u64),
                                    grouped(limits.text_bytes as u64)
                                ),
                            )
                            .into());
                        }
                        strings.push(text);
                    }
                    Event::Empty(e) if local(&e) == "si" => strings.push(String::new()),
                    Event::Eof => return Ok((strings, bytes)),
                    _ => {}
                }
            }
        })?;
        self.strings = Some(strings);
        self.strings_bytes = bytes;
        Ok(())
    }

    /// Reads the sheet called `name`.
    pub fn sheet(&mut self, name: &str) -> Result<Sheet, Diagnostic> {
        let entry = self
            .sheets
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .ok_or_else(|| unreadable(format!("no sheet {name:?}")))?;
        let part = entry
            .part
            .ok_or_else(|| unreadable(format!("sheet {name:?} has no part")))?;
        self.load_strings()?;
        let strings = self.strings.take().unwrap_or_default();
        let budget = self.limits.text_bytes.saturating_sub(self.strings_bytes);
        let result = self.walk(&part, |reader, buf, limits| {
            let mut state = SheetReader {
                name,
                strings: &strings,
                limits,
                text_left: budget,
                sheet: Sheet {
                    name: name.to_owned(),
                    ..Sheet::default()
                },
                hidden: BTreeSet::new(),
                row: None,
                column: None,
                scratch: Vec::new(),
                text_buf: Vec::new(),
            };
            state.run(reader, buf)?;
            Ok(state.finish()?)
        });
        self.strings = Some(strings);
        result
    }
}

/// The state of one pass over a sheet's XML.
struct SheetReader<'s> {
    name: &'s str,
    strings: &'s [String],
    limits: &'s Limits,
    text_left: usize,
    sheet: Sheet,
    hidden: BTreeSet<u32>,
    /// The current row (0-based) and the last cell's column, for cells without `r`.
    row: Option<u32>,
    column: Option<u32>,
    /// Buffers reused from cell to cell.
    scratch: Vec<u8>,
    text_buf: Vec<u8>,
}

impl SheetReader<'_> {
    fn at(&self, row: u32, column: u32) -> Position {
        Position::Cell {
            sheet: self.name.to_owned(),
            row,
            column,
        }
    }

    /// Where the next cell would be, for a reference that cannot be read.
    fn next_position(&self) -> Position {
        let row = self.row.unwrap_or(0);
        let column = self.column.map_or(0, |c| c.saturating_add(1));
        self.at(row, column.min(EXCEL_COLUMNS - 1))
    }

    fn run(&mut self, reader: &mut XmlReader<'_>, buf: &mut Vec<u8>) -> Result<(), Fail> {
        loop {
            buf.clear();
            let (start, empty) = match reader.read_event_into(buf)? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::Eof => return Ok(()),
                _ => continue,
            };
            match start.local_name().as_ref() {
                "row" => self.start_row(&start)?,
                "c" => {
                    let (r, t) = cell_attributes(&start)?;
                    self.cell(reader, r.as_deref(), t.as_deref(), empty)?;
                }
                "mergeCell" => self.merge(&start)?,
                _ => {}
            }
        }
    }

    fn start_row(&mut self, e: &BytesStart<'_>) -> Result<(), Fail> {
        let attributes = attributes(e)?;
        let row = match attribute(&attributes, "r") {
            Some(text) => parse_row_number(text).ok_or_else(|| {
                broken(
                    self.next_position(),
                    format!("行番号「{}」は Excel の行ではありません。", shown(text)),
                    format!("row number {:?} is not an Excel row", shown(text)),
                )
            })?,
            None => self.row.map_or(0, |r| r.saturating_add(1)),
        };
        if row >= EXCEL_ROWS {
            return Err(broken(
                self.next_position(),
                "Excel の最終行より後に行があります。".into(),
                "a row comes after Excel's last row".into(),
            )
            .into());
        }
        self.row = Some(row);
        self.column = None;
        let hidden = attribute(&attributes, "hidden").is_some_and(|v| v == "1" || v == "true");
        if hidden && row < self.limits.rows {
            self.hidden.insert(row);
        }
        Ok(())
    }

    fn merge(&mut self, e: &BytesStart<'_>) -> Result<(), Fail> {
        let attributes = attributes(e)?;
        let text = attribute(&attributes, "ref").unwrap_or("");
        let (first, last) = text.split_once(':').unwrap_or((text, text));
        let region = parse_reference(first)
            .zip(parse_reference(last))
            .filter(|(a, b)| a.0 <= b.0 && a.1 <= b.1)
            .ok_or_else(|| {
                broken(
                    Position::Path(format!("{}!mergeCells", self.name)),
                    format!("結合セルの範囲「{}」が読めません。", shown(text)),
                    format!("cannot read the merged range {:?}", shown(text)),
                )
            })?;
        if self.sheet.merged.len() >= self.limits.cells {
            return Err(self.too_many_cells(region.0.0, region.0.1).into());
        }
        self.sheet.merged.push(Region {
            first: region.0,
            last: region.1,
        });
        Ok(())
    }

    fn too_many_cells(&self, row: u32, column: u32) -> Diagnostic {
        let limit = grouped(self.limits.cells as u64);
        Diagnostic::new(
            Code::TooLarge,
            self.at(row, column),
            format!("シートのセルが多すぎます（{limit} 個まで読みます）。"),
            format!("the sheet has too many cells (keikaku reads at most {limit})"),
        )
    }

    fn too_much_text(&self, row: u32, column: u32) -> Diagnostic {
        let limit = grouped(self.limits.text_bytes as u64);
        Diagnostic::new(
            Code::TooLarge,
            self.at(row, column),
            format!("シートの文字が多すぎます（{limit} バイトまで読みます）。"),
            format!("the sheet holds too much text (keikaku reads at most {limit} bytes)"),
        )
    }

    /// Reads one `<c>` element (its start has been read).
    fn cell(
        &mut self,
        reader: &mut XmlReader<'_>,
        reference: Option<&str>,
        kind: Option<&str>,
        empty: bool,
    ) -> Result<(), Fail> {
        let (row, column) = match reference {
            Some(text) => parse_reference(text).ok_or_else(|| {
                broken(
                    self.next_position(),
                    format!("セル番地「{}」は Excel のセルではありません。", shown(text)),
                    format!("cell reference {:?} is not an Excel cell", shown(text)),
                )
            })?,
            None => {
                let row = self.row.unwrap_or(0);
                let column = self.column.map_or(0, |c| c.saturating_add(1));
                if column >= EXCEL_COLUMNS {
                    return Err(broken(
                        self.next_position(),
                        "Excel の最終列より右にセルがあります。".into(),
                        "a cell comes after Excel's last column".into(),
                    )
                    .into());
                }
                (row, column)
            }
        };
        if let Some(current) = self.row
            && current != row
        {
            return Err(broken(
                self.at(row, column),
                format!(
                    "セル {} が {} 行目の中にあります。",
                    super::cell_name(row as usize, column as usize),
                    current + 1
                ),
                format!(
                    "cell {} is inside row {}",
                    super::cell_name(row as usize, column as usize),
                    current + 1
                ),
            )
            .into());
        }
        self.row = Some(row);
        self.column = Some(column);
        if empty {
            return Ok(());
        }
        let kind = kind.unwrap_or("n");
        let mut raw: Option<String> = None;
        let mut inline: Option<String> = None;
        let mut formula: Option<String> = None;
        let mut inner = std::mem::take(&mut self.scratch);
        loop {
            inner.clear();
            let (element, empty) = match reader.read_event_into(&mut inner)? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(e) if e.local_name().as_ref() == "c" => break,
                Event::Eof => return Err(Fail::Xml("<c> is not closed".into())),
                _ => continue,
            };
            let name = element.local_name();
            let name: &str = name.as_ref();
            let text = match (name, empty) {
                ("v" | "f" | "is", true) => Some(String::new()),
                ("v" | "f", false) => Some(element_text(reader, &mut self.text_buf, name)?),
                ("is", false) => Some(string_item(reader, &mut self.text_buf, name)?),
                _ => None,
            };
            match name {
                "v" => raw = text,
                "f" => formula = text,
                "is" => inline = text,
                _ => {}
            }
        }
        self.scratch = inner;
        let value = self.value(row, column, kind, raw.as_deref(), inline)?;
        let formula = formula.map(|text| Formula {
            text,
            cached: raw.is_some() || kind == "inlineStr",
        });
        if value == Value::Empty && formula.is_none() {
            return Ok(());
        }
        if row >= self.limits.rows || column >= self.limits.columns {
            let limit_rows = grouped(u64::from(self.limits.rows));
            let limit_columns = grouped(u64::from(self.limits.columns));
            let name = super::cell_name(row as usize, column as usize);
            return Err(Diagnostic::new(
                Code::TooLarge,
                self.at(row, column),
                format!(
                    "セル {name} に値があります。keikaku が読むのは {limit_rows} 行・{limit_columns} 列までです。"
                ),
                format!(
                    "cell {name} holds a value, beyond the {limit_rows} rows and {limit_columns} columns keikaku reads"
                ),
            )
            .into());
        }
        if self.sheet.cells.len() >= self.limits.cells {
            return Err(self.too_many_cells(row, column).into());
        }
        let kept = match &value {
            Value::Text(t) | Value::Error(t) => t.len(),
            _ => 0,
        } + formula.as_ref().map_or(0, |f| f.text.len());
        if kept > self.text_left {
            return Err(self.too_much_text(row, column).into());
        }
        self.text_left -= kept;
        self.sheet.cells.push(Cell {
            row,
            column,
            value,
            formula,
        });
        Ok(())
    }

    /// A cell's value from its type (`t`) and its `<v>` or inline string.
    fn value(
        &self,
        row: u32,
        column: u32,
        kind: &str,
        raw: Option<&str>,
        inline: Option<String>,
    ) -> Result<Value, Fail> {
        let name = || super::cell_name(row as usize, column as usize);
        let bad = |ja: String, en: String| -> Fail { broken(self.at(row, column), ja, en).into() };
        if kind == "inlineStr" {
            return Ok(inline.map_or(Value::Empty, Value::Text));
        }
        let Some(raw) = raw else {
            return Ok(Value::Empty);
        };
        Ok(match kind {
            "s" => {
                let index = Some(raw.trim())
                    .filter(|t| {
                        !t.is_empty() && t.len() <= 10 && t.bytes().all(|b| b.is_ascii_digit())
                    })
                    .and_then(|t| t.parse::<usize>().ok())
                    .filter(|i| *i < self.strings.len());
                match index {
                    Some(i) => Value::Text(self.strings[i].clone()),
                    None => {
                        return Err(bad(
                            format!(
                                "セル {} は共有文字列「{}」を指していますが、その番号の文字列はありません（{} 個）。",
                                name(),
                                shown(raw),
                                self.strings.len()
                            ),
                            format!(
                                "cell {} refers to shared string {:?}, which does not exist ({} strings)",
                                name(),
                                shown(raw),
                                self.strings.len()
                            ),
                        ));
                    }
                }
            }
            "str" => Value::Text(decode_escapes(raw)),
            "e" => Value::Error(raw.trim().to_owned()),
            "b" => match raw.trim() {
                "1" | "true" => Value::Text("TRUE".into()),
                "0" | "false" => Value::Text("FALSE".into()),
                other => {
                    return Err(bad(
                        format!("セル {} の真偽値「{}」が読めません。", name(), shown(other)),
                        format!(
                            "cell {} holds {:?} where TRUE or FALSE belongs",
                            name(),
                            shown(other)
                        ),
                    ));
                }
            },
            "d" => Value::Text(raw.trim().to_owned()),
            "n" => {
                let text = raw.trim();
                if text.is_empty() {
                    Value::Empty
                } else {
                    match text.parse::<f64>() {
                        Ok(n) if n.is_finite() => Value::Number(n),
                        _ => {
                            return Err(bad(
                                format!("セル {} の数値「{}」が読めません。", name(), shown(text)),
                                format!(
                                    "cell {} holds {:?} where a number belongs",
                                    name(),
                                    shown(text)
                                ),
                            ));
                        }
                    }
                }
            }
            other => {
                return Err(bad(
                    format!("セル {} の型「{}」が分かりません。", name(), shown(other)),
                    format!("cell {} has an unknown type {:?}", name(), shown(other)),
                ));
            }
        })
    }

    /// Orders the cells and checks that none is given twice.
    fn finish(mut self) -> Result<Sheet, Diagnostic> {
        self.sheet.cells.sort_by_key(|c| (c.row, c.column));
        if let Some(pair) = self
            .sheet
            .cells
            .windows(2)
            .find(|w| (w[0].row, w[0].column) == (w[1].row, w[1].column))
        {
            let (row, column) = (pair[1].row, pair[1].column);
            let name = super::cell_name(row as usize, column as usize);
            return Err(broken(
                self.at(row, column),
                format!("セル {name} が2回書かれています。"),
                format!("cell {name} is given twice"),
            ));
        }
        self.sheet.hidden_rows = self.hidden.into_iter().collect();
        Ok(self.sheet)
    }
}

#[cfg(test)]
#[path = "workbook_tests.rs"]
mod tests;
