//! A source document as the caller hands it over (a name and its bytes) and the decoding
//! of text documents.
//!
//! Plans arrive as UTF-8, UTF-8 with a BOM, UTF-16 from some Windows tools, or Shift_JIS
//! (CP932) from older Excel and PDF tools. Decoding never guesses silently: text that is
//! not UTF-8 is refused with the encoding it most resembles and the way to read it, unless
//! the user names the encoding.

use encoding_rs::{EUC_JP, Encoding, SHIFT_JIS, UTF_8, UTF_16BE, UTF_16LE};

use crate::diagnostic::{Code, Diagnostic, Position};

/// A document to read: its display name (usually the file name) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The name shown in diagnostics.
    pub name: &'a str,
    /// The raw content.
    pub bytes: &'a [u8],
}

/// Looks up an encoding by the names users type: `utf-8`, `sjis`, `shift_jis`, `cp932`,
/// `windows-31j`, `euc-jp`, `utf-16`, … (any WHATWG label is accepted).
pub fn encoding_by_name(name: &str) -> Option<&'static Encoding> {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "sjis" | "cp932" | "ms932" | "shift-jis" | "windows-31j" => Some(SHIFT_JIS),
        "utf8" => Some(UTF_8),
        "eucjp" => Some(EUC_JP),
        "utf16" => Some(UTF_16LE),
        other => Encoding::for_label(other.as_bytes()),
    }
}

/// The short name keikaku prints for an encoding (`Shift_JIS (CP932)`, `EUC-JP`, …).
fn display_name(encoding: &'static Encoding) -> &'static str {
    if encoding == SHIFT_JIS {
        "Shift_JIS (CP932)"
    } else {
        encoding.name()
    }
}

/// The `--encoding` value that reads `encoding`.
fn flag_value(encoding: &'static Encoding) -> &'static str {
    if encoding == SHIFT_JIS {
        "sjis"
    } else if encoding == EUC_JP {
        "euc-jp"
    } else if encoding == UTF_16LE {
        "utf-16le"
    } else if encoding == UTF_16BE {
        "utf-16be"
    } else {
        encoding.name()
    }
}

/// Decodes a text document.
///
/// With `encoding = None`, accepts UTF-8 (a BOM is removed) and UTF-16 with a BOM; anything
/// else is an [`Code::Encoding`] error naming the encoding the bytes resemble and how to
/// convert or pass `--encoding`. With an encoding, decodes strictly and reports the first
/// byte that is not valid in it. An empty or blank document is [`Code::EmptyFile`].
pub fn decode_text(
    bytes: &[u8],
    encoding: Option<&'static Encoding>,
) -> Result<String, Diagnostic> {
    let text = match encoding {
        Some(enc) => decode_strict(bytes, enc)?,
        None => decode_default(bytes)?,
    };
    if text.trim().is_empty() {
        return Err(Diagnostic::new(
            Code::EmptyFile,
            Position::File,
            "ファイルが空です。実施計画の表を含むファイルを指定してください。",
            "the file is empty; give a file that contains the plan tables",
        ));
    }
    Ok(text)
}

fn decode_default(bytes: &[u8]) -> Result<String, Diagnostic> {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        return decode_strict(&bytes[bom_len..], enc);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(err) => {
            let offset = err.valid_up_to();
            let (line, _) = line_and_column(&bytes[..offset]);
            let byte = offset + 1;
            let mut detector =
                chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
            // The first megabyte says as much about the encoding as the whole file.
            detector.feed(&bytes[..bytes.len().min(1 << 20)], true);
            let guess = detector.guess(Some(b"jp"), chardetng::Utf8Detection::Deny);
            let hint = guess;
            let name = display_name(hint);
            let flag = flag_value(hint);
            Err(Diagnostic::new(
                Code::Encoding,
                Position::line(line),
                format!(
                    "UTF-8 ではありません（{byte} バイト目）。{name} のように見えます。\
                     `iconv -f {iconv} -t UTF-8` で変換するか、`--encoding {flag}` を指定してください。",
                    iconv = iconv_name(hint)
                ),
                format!(
                    "not UTF-8 (at byte {byte}); it looks like {name}. Convert it with \
                     `iconv -f {iconv} -t UTF-8` or pass `--encoding {flag}`",
                    iconv = iconv_name(hint)
                ),
            ))
        }
    }
}

fn iconv_name(encoding: &'static Encoding) -> &'static str {
    if encoding == SHIFT_JIS {
        "CP932"
    } else {
        encoding.name()
    }
}

fn decode_strict(bytes: &[u8], encoding: &'static Encoding) -> Result<String, Diagnostic> {
    let bytes = match Encoding::for_bom(bytes) {
        Some((bom_enc, len)) if bom_enc == encoding => &bytes[len..],
        _ => bytes,
    };
    match encoding.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => Ok(text.into_owned()),
        None => {
            // Find the first bad byte by decoding with replacement and locating U+FFFD.
            let (lossy, _) = encoding.decode_without_bom_handling(bytes);
            let good: String = lossy.chars().take_while(|c| *c != '\u{FFFD}').collect();
            let line = u32::try_from(good.matches('\n').count() + 1).unwrap_or(u32::MAX);
            let name = display_name(encoding);
            Err(Diagnostic::new(
                Code::Encoding,
                Position::line(line),
                format!("{name} として読めないバイトがあります。文字コードを確認してください。"),
                format!("the file has bytes that are not valid {name}; check its encoding"),
            ))
        }
    }
}

/// 1-based line and byte column at the end of `prefix`.
fn line_and_column(prefix: &[u8]) -> (u32, u32) {
    let line = prefix.iter().filter(|b| **b == b'\n').count() + 1;
    let col = prefix.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(
            decode_text("施策 7-1".as_bytes(), None).unwrap(),
            "施策 7-1"
        );
        let mut with_bom = vec![0xEF, 0xBB, 0xBF];
        with_bom.extend_from_slice("施策".as_bytes());
        assert_eq!(decode_text(&with_bom, None).unwrap(), "施策");
    }

    #[test]
    fn shift_jis_is_named_with_the_way_out() {
        let (sjis, _, _) = SHIFT_JIS.encode("基本目標7 地域のふれあいと支え合いで共に創るまち\n施策 7-1 市民との協働による地域づくり\n");
        let err = decode_text(&sjis, None).unwrap_err();
        assert_eq!(err.code, Code::Encoding);
        let en = err.message(crate::diagnostic::Lang::En);
        assert!(en.contains("Shift_JIS"), "{en}");
        assert!(en.contains("--encoding sjis"), "{en}");
        assert_eq!(
            decode_text(&sjis, encoding_by_name("sjis"))
                .unwrap()
                .lines()
                .count(),
            2
        );
    }

    #[test]
    fn wrong_named_encoding_is_refused() {
        let bytes = [0x82, 0xA0, 0xFF, 0xFF];
        let err = decode_text(&bytes, encoding_by_name("sjis")).unwrap_err();
        assert_eq!(err.code, Code::Encoding);
    }

    #[test]
    fn empty_and_blank_files() {
        assert_eq!(decode_text(b"", None).unwrap_err().code, Code::EmptyFile);
        assert_eq!(
            decode_text(b" \n\t\r\n", None).unwrap_err().code,
            Code::EmptyFile
        );
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "施策".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode_text(&bytes, None).unwrap(), "施策");
    }

    #[test]
    fn encoding_names() {
        assert_eq!(encoding_by_name("SJIS"), Some(SHIFT_JIS));
        assert_eq!(encoding_by_name("cp932"), Some(SHIFT_JIS));
        assert_eq!(encoding_by_name("euc-jp"), Some(EUC_JP));
        assert_eq!(encoding_by_name("utf-8"), Some(UTF_8));
        assert_eq!(encoding_by_name("klingon"), None);
    }
}
