//! The commands in README.md and docs/cli.md, run by the built binary, so that the
//! documentation cannot drift from the program.
//!
//! How to keep this green when you add or change a command in those two files:
//!
//! - A fenced code block marked ```` ```sh ```` holds examples. Every line in it that starts
//!   with `keikaku ` is run, in the order of the document, in one temporary folder with a
//!   fresh database per document (SQLite, and PostgreSQL too when `KEIKAKU_TEST_PG_URL` is
//!   set), with messages in English. Other lines (`cargo …`, comments) are not run. A line
//!   ending in `\` continues on the next.
//! - A line must exit 0. A line meant to fail says so in its comment, which must then start
//!   with the expected status: `keikaku validate plan-with-errors.txt   # exit 1: …`.
//! - The folder holds a copy of `data/` and the files in [`FIXTURES`]: the reader's own files
//!   the examples name (`plan.txt`, …). In [`DERIVED`], a file an earlier example wrote
//!   stands for one the reader would make from it (`r3-r5-filled.xlsx` is the template with
//!   every year's amounts filled in). A dated file name (`out/keikaku-all-2026-11-25.json`) stands for the one an
//!   earlier example wrote under that name with today's date. [`SCALED`] makes a few examples smaller (a national synthetic
//!   set becomes 30 municipalities). A new file name in an example needs a row in one of them.
//! - `keikaku serve` does not return: keep it out of `sh` blocks.
//! - A fenced block without a language holds synopses. Their `keikaku …` lines (with the
//!   indented lines that continue them) are not run, but the command must exist, every
//!   `--option` they name must be one of its options (`keikaku COMMAND -h`), and a list of
//!   values such as `--format json|csv` must be exactly the values the option accepts.

use std::path::{Path, PathBuf};

use super::support::{databases, keikaku_in, seed_path, stderr, stdout};

/// The documents whose commands are checked.
const DOCUMENTS: [&str; 2] = ["README.md", "docs/cli.md"];

/// A file the examples name as the reader's own, and how to make it from the sample plan.
type Fixture = (&'static str, fn() -> Vec<u8>);

const FIXTURES: [Fixture; 5] = [
    ("plan.txt", || seed().into_bytes()),
    ("corrected.txt", || seed().into_bytes()),
    ("plan-sjis.txt", || {
        encoding_rs::SHIFT_JIS.encode(&seed()).0.into_owned()
    }),
    // 7-1 No.1's FY2020 一般財源 off by one: the sum-mismatch that docs/cli.md shows.
    ("plan-with-errors.txt", || {
        seed().replacen("16,731", "16,732", 1).into_bytes()
    }),
    // A town's own workbook (see tests/fixtures/own/README.md).
    ("town.xlsx", || {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/own/kagamiishi.xlsx"),
        )
        .expect("own workbook fixture")
    }),
];

/// A file the reader makes from one an earlier example wrote: `(file, made from, how)`.
type Derived = (&'static str, &'static str, fn(&[u8]) -> Vec<u8>);

const DERIVED: [Derived; 1] = [("r3-r5-filled.xlsx", "r3-r5.xlsx", fill_amounts)];

/// The template as a department fills it: every year's 事業費 100 千円, all 一般財源.
fn fill_amounts(template: &[u8]) -> Vec<u8> {
    use keikaku_core::sheet::grid::{Value, read_xlsx};
    let mut grid = read_xlsx(template).expect("template");
    let headers: Vec<String> = grid.rows[0].iter().map(Value::text).collect();
    for row in grid.rows.iter_mut().skip(1) {
        if row.iter().all(Value::is_empty) {
            continue;
        }
        for (c, header) in headers.iter().enumerate() {
            let value = if header.ends_with("年度 事業費（千円）")
                || header.ends_with("年度 一般財源（千円）")
            {
                100.0
            } else if header.ends_with("年度 特定財源（千円）") {
                0.0
            } else {
                continue;
            };
            if row.len() <= c {
                row.resize(c + 1, Value::Empty);
            }
            row[c] = Value::Number(value);
        }
    }
    super::rolling::workbook(&grid, "R3-R5")
}

/// `(start of a command, replacement)`: examples that would take minutes, made smaller.
const SCALED: [(&str, &str); 2] = [
    (
        "keikaku synth --municipalities 1741",
        "keikaku synth --municipalities 30",
    ),
    (
        "keikaku bench",
        "keikaku bench --runs 1 --policies 3 --projects 3",
    ),
];

fn seed() -> String {
    std::fs::read_to_string(seed_path()).expect("seed")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One `keikaku …` line of a document.
struct Line {
    /// `FILE:LINE`, for messages.
    place: String,
    text: String,
    /// True in a ```` ```sh ```` block (run it); false in a block without a language (a
    /// synopsis).
    runnable: bool,
}

/// The `keikaku …` lines of the fenced code blocks of `document`.
fn command_lines(document: &str) -> Vec<Line> {
    let text = std::fs::read_to_string(root().join(document)).expect("document");
    let mut out: Vec<Line> = Vec::new();
    let mut block: Option<String> = None;
    // Whether the last line found goes on in the next line of the document.
    let mut open = false;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => Some(info.trim().to_owned()),
            };
            open = false;
            continue;
        }
        let Some(info) = &block else { continue };
        let runnable = info == "sh";
        if !runnable && !info.is_empty() {
            continue;
        }
        if open && let Some(last) = out.last_mut() {
            if runnable {
                last.text = format!("{} {trimmed}", last.text.trim_end_matches('\\'));
                open = trimmed.ends_with('\\');
                continue;
            }
            if raw.starts_with(char::is_whitespace) && !trimmed.is_empty() {
                last.text = format!("{} {trimmed}", last.text);
                continue;
            }
        }
        open = false;
        if trimmed.starts_with("keikaku ") {
            out.push(Line {
                place: format!("{document}:{}", i + 1),
                text: trimmed.to_owned(),
                runnable,
            });
            open = !runnable || trimmed.ends_with('\\');
        }
    }
    out
}

/// Splits a command line as a shell would (quotes, `#` comments); returns the words and the
/// comment.
fn words(line: &str) -> (Vec<String>, String) {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, '#') if word.is_none() => {
                return (words, chars.collect::<String>().trim().to_owned());
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(quote.is_none(), "unclosed quote in {line:?}");
    words.extend(word);
    (words, String::new())
}

/// The exit status a comment expects: `exit N` at its start, else 0.
fn expected_status(comment: &str) -> i32 {
    comment
        .strip_prefix("exit ")
        .and_then(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// `out/keikaku-all-2026-11-25.json` → the file `out/keikaku-all-<another date>.json` that
/// exists (written today by an earlier example).
fn dated(dir: &Path, word: &str) -> Option<String> {
    let path = Path::new(word);
    let name = path.file_name()?.to_str()?;
    let (stem, ext) = name.rsplit_once('.')?;
    let date = stem.get(stem.len().checked_sub(10)?..)?;
    let is_date = date.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        _ => b.is_ascii_digit(),
    });
    if !is_date {
        return None;
    }
    let prefix = &stem[..stem.len() - 10];
    let folder = path.parent().unwrap_or(Path::new(""));
    let found = std::fs::read_dir(dir.join(folder))
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .find(|n| n.starts_with(prefix) && n.ends_with(&format!(".{ext}")) && n != name)?;
    Some(folder.join(found).to_string_lossy().into_owned())
}

/// Runs every runnable line of `document` in order against `url`, in `dir`.
fn run_examples(document: &str, dir: &Path, url: &str, label: &str) -> usize {
    copy_dir(&root().join("data"), &dir.join("data"));
    for (name, make) in FIXTURES {
        std::fs::write(dir.join(name), make()).expect("fixture");
    }
    let mut ran = 0;
    for line in command_lines(document).into_iter().filter(|l| l.runnable) {
        let (mut args, comment) = words(&line.text);
        let mut command = args.join(" ");
        for (from, to) in SCALED {
            if let Some(rest) = command.strip_prefix(from) {
                command = format!("{to}{rest}");
                args = words(&command).0;
            }
        }
        assert_ne!(
            args.get(1).map(String::as_str),
            Some("serve"),
            "{}: `keikaku serve` does not return; keep it out of ```sh blocks",
            line.place
        );
        for word in &mut args {
            if dir.join(&*word).exists() {
                continue;
            }
            if let Some((_, from, make)) = DERIVED.iter().find(|(name, _, _)| name == word)
                && let Ok(bytes) = std::fs::read(dir.join(from))
            {
                std::fs::write(dir.join(&*word), make(&bytes)).expect("derived file");
            } else if let Some(actual) = dated(dir, word) {
                *word = actual;
            }
        }
        let argv: Vec<&str> = args[1..].iter().map(String::as_str).collect();
        let out = keikaku_in(dir, url, &argv);
        let expected = expected_status(&comment);
        assert_eq!(
            out.status.code(),
            Some(expected),
            "{} ({label}): `{}` exited {:?}, the document expects {expected}{}\n\
             --- stdout\n{}\n--- stderr\n{}",
            line.place,
            args.join(" "),
            out.status.code(),
            if expected == 0 {
                " (mark a line meant to fail with `# exit N`)"
            } else {
                ""
            },
            tail(&stdout(&out)),
            tail(&stderr(&out)),
        );
        ran += 1;
    }
    ran
}

fn tail(text: &str) -> &str {
    let start = text.len().saturating_sub(3000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Runs a document's examples on every backend, each in a fresh folder and database.
async fn examples_run(document: &str) {
    for db in databases().await {
        let ran = run_examples(document, db.dir.path(), &db.url_text(), db.label);
        assert!(ran > 0, "{document} has no ```sh examples");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_in_the_readme_runs() {
    examples_run(DOCUMENTS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_in_the_command_line_reference_runs() {
    examples_run(DOCUMENTS[1]).await;
}

/// One option in `keikaku COMMAND -h`.
struct HelpOption {
    /// `--format`, or `-q` and `--quiet`.
    names: Vec<String>,
    /// The values it accepts, when it lists them.
    values: Option<Vec<String>>,
}

/// The options of `keikaku PATH -h`.
fn options_of(path: &[&str]) -> Result<Vec<HelpOption>, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args: Vec<&str> = path.to_vec();
    args.push("-h");
    let out = keikaku_in(dir.path(), "sqlite://unused.db", &args);
    if !out.status.success() {
        return Err(stderr(&out));
    }
    let mut entries: Vec<String> = Vec::new();
    for line in stdout(&out).lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('-') {
            entries.push(trimmed.to_owned());
        } else if let Some(last) = entries.last_mut()
            && line.starts_with(' ')
        {
            last.push(' ');
            last.push_str(trimmed);
        }
    }
    Ok(entries
        .iter()
        .map(|entry| {
            let head = entry.split("  ").next().unwrap_or("");
            let names = head
                .split([',', ' '])
                .filter(|w| w.starts_with('-'))
                .map(|w| w.trim_end_matches("...").to_owned())
                .collect();
            let values = entry.split("[possible values: ").nth(1).map(|rest| {
                rest.split(']')
                    .next()
                    .unwrap_or("")
                    .split(", ")
                    .map(str::to_owned)
                    .collect()
            });
            HelpOption { names, values }
        })
        .collect())
}

/// A synopsis word without its brackets and repetition marks: `[--out` → `--out`,
/// `OLD=NEW]...` → `OLD=NEW`.
fn clean(word: &str) -> String {
    let mut word = word.trim_start_matches(['[', '(']);
    loop {
        let shorter = word
            .trim_end_matches([']', ')', ','])
            .trim_end_matches("...")
            .trim_end_matches('…');
        if shorter == word {
            return word.to_owned();
        }
        word = shorter;
    }
}

/// `--format`, `-q`; not `-` (standard output) or `-1`.
fn is_option(word: &str) -> bool {
    word.trim_start_matches('-')
        .starts_with(|c: char| c.is_ascii_alphabetic())
        && word.starts_with('-')
}

#[test]
fn every_synopsis_names_real_commands_options_and_values() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for document in DOCUMENTS {
        for line in command_lines(document).into_iter().filter(|l| !l.runnable) {
            let tokens: Vec<&str> = line.text.split_whitespace().skip(1).collect();
            let path: Vec<&str> = tokens
                .iter()
                .take_while(|t| {
                    !t.starts_with('-') && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                })
                .copied()
                .collect();
            let options = match options_of(&path) {
                Ok(options) => options,
                Err(e) => {
                    problems.push(format!("{}: keikaku {}: {e}", line.place, path.join(" ")));
                    continue;
                }
            };
            for (i, token) in tokens.iter().enumerate() {
                for name in clean(token).split('|').map(clean).filter(|n| is_option(n)) {
                    let Some(HelpOption { values, .. }) =
                        options.iter().find(|o| o.names.contains(&name))
                    else {
                        problems.push(format!(
                            "{}: keikaku {} has no option {name}",
                            line.place,
                            path.join(" ")
                        ));
                        continue;
                    };
                    let documented = tokens.get(i + 1).map(|t| clean(t)).filter(|t| {
                        !t.starts_with('-') && t.contains('|') && !clean(token).contains('|')
                    });
                    if let (Some(documented), Some(values)) = (documented, values) {
                        let mut documented: Vec<String> =
                            documented.split('|').map(str::to_owned).collect();
                        let mut accepted = values.clone();
                        documented.sort();
                        accepted.sort();
                        if documented != accepted {
                            problems.push(format!(
                                "{}: keikaku {} {name} lists {} but accepts {}",
                                line.place,
                                path.join(" "),
                                documented.join("|"),
                                accepted.join("|")
                            ));
                        }
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} synopses found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_command_line_splitter_reads_quotes_and_comments() {
    assert_eq!(
        words(r#"keikaku projects --strategy "III(4)" --format table   # one line each"#),
        (
            [
                "keikaku",
                "projects",
                "--strategy",
                "III(4)",
                "--format",
                "table"
            ]
            .map(String::from)
            .to_vec(),
            "one line each".to_owned()
        )
    );
    assert_eq!(expected_status("exit 1: errors"), 1);
    assert_eq!(expected_status("the exit status is 0"), 0);
}
