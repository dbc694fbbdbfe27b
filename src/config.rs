//! Configuration: one [`Config`] built from layers, each overriding the one before:
//! built-in defaults < the file (`keikaku.toml` in the working folder, or `--config FILE`)
//! < `KEIKAKU_*` environment variables < command-line flags. The CLI resolves environment
//! and flags (clap reads both) and passes them here as [`Overrides`]; nothing is global.
//!
//! ```toml
//! database_url = "sqlite://keikaku.db"   # or postgres://user@host/db
//! lang = "ja"                            # or "en": language of messages
//!
//! [municipality]                         # for documents that do not name theirs
//! code = "072052"
//! name = "白河市"
//!
//! [validation]
//! extra_statuses = ["見直し"]             # 区分 words accepted besides the standard ones
//! max_amount = 1000000000                # 千円; larger amounts are errors
//!
//! [validation.severity]                  # per code: "error", "warning" or "off"
//! ignored-line = "off"
//!
//! [server]
//! addr = "127.0.0.1:8080"
//! header_timeout_secs = 10               # a request's head must arrive within this
//! max_connections = 1024                 # connections served at once; more wait
//! cache_bytes = "128MiB"                 # rendered pages kept in memory (bytes, KiB, MiB, GiB)
//!
//! [workspace]                            # the staff workspace under /admin/
//! session_idle_minutes = 120             # a session unused this long ends
//! session_max_hours = 12                 # and every session ends this long after sign-in
//! lockout_after = 5                      # failed sign-ins before sign-in waits
//! secure_cookies = false                 # true behind an HTTPS reverse proxy
//! public_editors = false                 # true: the portal's project history names who changed what
//! client_address_header = "X-Real-IP"    # behind a reverse proxy: where it gives the client's address
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use keikaku_core::validate::Rules;
use keikaku_core::{Code, Lang, Money, Municipality, MunicipalityCode, Severity};
use serde::Deserialize;

use crate::storage::DatabaseUrl;

/// The SQLite file used when nothing else is configured: `keikaku.db` in the working folder.
pub const DEFAULT_DATABASE: &str = "sqlite://keikaku.db";
/// The configuration file read from the working folder when present.
pub const DEFAULT_CONFIG_FILE: &str = "keikaku.toml";
/// The address `serve` listens on by default.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// How many bytes of rendered pages and files `serve` keeps by default: every page and
/// download of a city's plans many times over (the sample's 104 pages and files take
/// 0.7 MiB), and for the national set (1.3 GiB of plans in memory) thousands of the pages
/// people read, for a tenth of that.
pub const DEFAULT_CACHE_BYTES: usize = 128 * 1024 * 1024;

/// Everything keikaku is configured with.
#[derive(Clone)]
pub struct Config {
    /// Where plans are stored.
    pub database_url: DatabaseUrl,
    /// Language of messages.
    pub lang: Lang,
    /// The municipality of documents that do not name theirs.
    pub municipality: Option<Municipality>,
    /// Validation rules.
    pub rules: Rules,
    /// Address the web server listens on.
    pub addr: String,
    /// How long the web server waits for a request's head before closing the connection.
    pub header_timeout: std::time::Duration,
    /// Most connections the web server serves at once.
    pub max_connections: usize,
    /// Most bytes of rendered responses the web server keeps (0: none).
    pub cache_bytes: usize,
    /// The staff workspace's sessions and sign-ins.
    pub workspace: WorkspaceConfig,
}

impl fmt::Debug for Config {
    /// Shows the database URL with its password hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url.to_string())
            .field("lang", &self.lang)
            .field("municipality", &self.municipality)
            .field("rules", &self.rules)
            .field("addr", &self.addr)
            .field("header_timeout", &self.header_timeout)
            .field("max_connections", &self.max_connections)
            .field("cache_bytes", &self.cache_bytes)
            .field("workspace", &self.workspace)
            .finish()
    }
}

/// Values from the environment and the command line, which win over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config` / `KEIKAKU_CONFIG`.
    pub config_file: Option<PathBuf>,
    /// `--db` / `KEIKAKU_DATABASE_URL`.
    pub database_url: Option<String>,
    /// `--lang` / `KEIKAKU_LANG`, else the locale (`LANG`).
    pub lang: Option<String>,
    /// The locale from `LC_ALL` / `LANG`, used when nothing names a language.
    pub locale: Option<String>,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value is wrong.
    #[error("{path}: {message}")]
    Value {
        /// Where the value came from.
        path: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    lang: Option<String>,
    municipality: Option<FileMunicipality>,
    #[serde(default)]
    validation: FileValidation,
    #[serde(default)]
    server: FileServer,
    #[serde(default)]
    workspace: FileWorkspace,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWorkspace {
    session_idle_minutes: Option<u32>,
    session_max_hours: Option<u32>,
    lockout_after: Option<u32>,
    secure_cookies: Option<bool>,
    public_editors: Option<bool>,
    client_address_header: Option<String>,
}

/// How the staff workspace treats sessions and sign-ins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceConfig {
    /// A session unused this long ends.
    pub session_idle: std::time::Duration,
    /// Every session ends this long after sign-in.
    pub session_max: std::time::Duration,
    /// Failed sign-ins in a row after which sign-in waits (longer each time).
    pub lockout_after: u32,
    /// Mark the session cookie `Secure` (serve behind HTTPS).
    pub secure_cookies: bool,
    /// Show who made each change in the portal's public project history.
    pub public_editors: bool,
    /// The request header in which a trusted reverse proxy gives the client's address
    /// (`X-Real-IP`, or `X-Forwarded-For`, of which the last address is taken), for counting
    /// failed sign-ins per client. `None`: the address the connection comes from.
    pub client_address_header: Option<String>,
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        WorkspaceConfig {
            session_idle: std::time::Duration::from_secs(120 * 60),
            session_max: std::time::Duration::from_secs(12 * 3600),
            lockout_after: 5,
            secure_cookies: false,
            public_editors: false,
            client_address_header: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMunicipality {
    code: String,
    name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileValidation {
    #[serde(default)]
    extra_statuses: Vec<String>,
    max_amount: Option<i64>,
    #[serde(default)]
    severity: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileServer {
    addr: Option<String>,
    header_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    cache_bytes: Option<ByteCount>,
}

/// A size in the file: a number of bytes, or text with a unit (`"128MiB"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ByteCount {
    Number(i64),
    Text(String),
}

/// Reads a size: a number of bytes, optionally followed by `B`, `KiB`, `MiB` or `GiB`
/// (`128MiB`, `64 KiB`, `1048576`).
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let unit_size: usize = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (use bytes, KiB, MiB or GiB)"
            ));
        }
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit_size))
        .ok_or_else(|| format!("{text:?} is not a size such as 128MiB"))
}

/// Longest header read timeout accepted, in seconds.
pub const MAX_HEADER_TIMEOUT_SECS: u64 = 3600;

impl Config {
    /// Builds the configuration from the file (if any) and the overrides.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let (file, path) = match &overrides.config_file {
            Some(path) => (Some(read_file(path)?), path.display().to_string()),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => (
                Some(read_file(Path::new(DEFAULT_CONFIG_FILE))?),
                DEFAULT_CONFIG_FILE.to_owned(),
            ),
            None => (None, "defaults".to_owned()),
        };
        let file = file.unwrap_or_default();
        let value_error = |message: String| ConfigError::Value {
            path: path.clone(),
            message,
        };

        let url_text = overrides
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let database_url = DatabaseUrl::parse(&url_text).map_err(|e| value_error(e.to_string()))?;

        let lang = match overrides.lang.clone().or(file.lang) {
            Some(text) => match text.as_str() {
                "ja" => Lang::Ja,
                "en" => Lang::En,
                other => {
                    return Err(value_error(format!(
                        "lang must be \"ja\" or \"en\", not {other:?}"
                    )));
                }
            },
            None => overrides
                .locale
                .as_deref()
                .map_or(Lang::En, Lang::from_locale),
        };

        let municipality = match file.municipality {
            Some(m) => {
                let code =
                    MunicipalityCode::parse(&m.code).map_err(|e| value_error(e.to_string()))?;
                Some(Municipality { code, name: m.name })
            }
            None => None,
        };

        let mut rules = Rules {
            extra_statuses: file.validation.extra_statuses,
            ..Rules::default()
        };
        if let Some(max) = file.validation.max_amount {
            if max <= 0 {
                return Err(value_error(format!(
                    "validation.max_amount must be positive, not {max}"
                )));
            }
            rules.max_amount = Money::from_thousand_yen(max);
        }
        for (code_text, severity_text) in file.validation.severity {
            let code = Code::parse(&code_text).ok_or_else(|| {
                value_error(format!("validation.severity: unknown code {code_text:?}"))
            })?;
            if !code.adjustable() {
                return Err(value_error(format!(
                    "validation.severity: {code_text} cannot be changed (nothing could be stored)"
                )));
            }
            let severity = match severity_text.as_str() {
                "error" => Some(Severity::Error),
                "warning" => Some(Severity::Warning),
                "off" => None,
                other => {
                    return Err(value_error(format!(
                        "validation.severity.{code_text}: use \"error\", \"warning\" or \"off\", not {other:?}"
                    )));
                }
            };
            rules.severity_overrides.push((code, severity));
        }

        let header_timeout = match file.server.header_timeout_secs {
            Some(secs) => header_timeout(secs).map_err(value_error)?,
            None => crate::web::DEFAULT_HEADER_TIMEOUT,
        };
        let max_connections = match file.server.max_connections {
            Some(0) => {
                return Err(value_error(
                    "server.max_connections must be at least 1".to_owned(),
                ));
            }
            Some(n) => n,
            None => crate::web::DEFAULT_MAX_CONNECTIONS,
        };
        let cache_bytes = match file.server.cache_bytes {
            None => DEFAULT_CACHE_BYTES,
            Some(ByteCount::Number(n)) => usize::try_from(n).map_err(|_| {
                value_error(format!("server.cache_bytes must be 0 or more, not {n}"))
            })?,
            Some(ByteCount::Text(text)) => {
                parse_bytes(&text).map_err(|e| value_error(format!("server.cache_bytes: {e}")))?
            }
        };

        let defaults = WorkspaceConfig::default();
        let minutes = |m: u32| std::time::Duration::from_secs(u64::from(m) * 60);
        let workspace = WorkspaceConfig {
            session_idle: match file.workspace.session_idle_minutes {
                Some(0) => {
                    return Err(value_error(
                        "workspace.session_idle_minutes must be at least 1".to_owned(),
                    ));
                }
                Some(m) => minutes(m),
                None => defaults.session_idle,
            },
            session_max: match file.workspace.session_max_hours {
                Some(0) => {
                    return Err(value_error(
                        "workspace.session_max_hours must be at least 1".to_owned(),
                    ));
                }
                Some(h) => minutes(h.saturating_mul(60)),
                None => defaults.session_max,
            },
            lockout_after: match file.workspace.lockout_after {
                Some(0) => {
                    return Err(value_error(
                        "workspace.lockout_after must be at least 1".to_owned(),
                    ));
                }
                Some(n) => n,
                None => defaults.lockout_after,
            },
            secure_cookies: file.workspace.secure_cookies.unwrap_or(false),
            public_editors: file.workspace.public_editors.unwrap_or(false),
            client_address_header: match file.workspace.client_address_header {
                Some(name) if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() => {
                    return Err(value_error(format!(
                        "workspace.client_address_header {name:?} is not a header name"
                    )));
                }
                other => other.filter(|n| !n.trim().is_empty()),
            },
        };

        Ok(Config {
            database_url,
            lang,
            municipality,
            rules,
            addr: file.server.addr.unwrap_or_else(|| DEFAULT_ADDR.to_owned()),
            header_timeout,
            max_connections,
            cache_bytes,
            workspace,
        })
    }
}

/// A header read timeout of `secs` seconds, if it is within 1 s and an hour.
pub fn header_timeout(secs: u64) -> Result<std::time::Duration, String> {
    if (1..=MAX_HEADER_TIMEOUT_SECS).contains(&secs) {
        Ok(std::time::Duration::from_secs(secs))
    } else {
        Err(format!(
            "server.header_timeout_secs must be between 1 and {MAX_HEADER_TIMEOUT_SECS}, not {secs}"
        ))
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.toml");
        std::fs::write(&path, text).expect("write");
        Config::load(&Overrides {
            config_file: Some(path),
            ..Overrides::default()
        })
    }

    #[test]
    fn layers_file_then_overrides() {
        let config = with_file(
            "database_url = \"sqlite://from-file.db\"\nlang = \"ja\"\n[municipality]\ncode = \"072052\"\nname = \"白河市\"\n\
             [validation]\nextra_statuses = [\"見直し\"]\n[validation.severity]\nignored-line = \"off\"\n",
        )
        .expect("config");
        assert_eq!(
            config.database_url,
            DatabaseUrl::Sqlite("from-file.db".into())
        );
        assert_eq!(config.lang, Lang::Ja);
        assert_eq!(config.municipality.expect("municipality").name, "白河市");
        assert_eq!(config.rules.extra_statuses, ["見直し"]);
        assert_eq!(config.rules.severity_overrides, [(Code::IgnoredLine, None)]);

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.toml");
        std::fs::write(&path, "database_url = \"sqlite://from-file.db\"\n").expect("write");
        let config = Config::load(&Overrides {
            config_file: Some(path),
            database_url: Some("postgres://u@h/db".into()),
            lang: Some("en".into()),
            ..Overrides::default()
        })
        .expect("config");
        assert_eq!(
            config.database_url,
            DatabaseUrl::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(config.lang, Lang::En);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let err = with_file("databse_url = \"x\"\n").unwrap_err().to_string();
        assert!(err.contains("databse_url"), "{err}");
        let err = with_file("[validation.severity]\nno-such-code = \"off\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no-such-code"), "{err}");
        let err = with_file("[validation.severity]\nempty-file = \"off\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot be changed"), "{err}");
        let err = with_file("[server]\nheader_timeout_secs = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("header_timeout_secs"), "{err}");
        let err = with_file("[server]\nmax_connections = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_connections"), "{err}");
        let config = with_file("[server]\nheader_timeout_secs = 30\nmax_connections = 50\n")
            .expect("config");
        assert_eq!(config.header_timeout, std::time::Duration::from_secs(30));
        assert_eq!(config.max_connections, 50);
        let err = with_file("[municipality]\ncode = \"072051\"\nname = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("check digit"), "{err}");
    }

    #[test]
    fn the_cache_size_reads_bytes_or_units() {
        assert_eq!(
            with_file("").expect("defaults").cache_bytes,
            DEFAULT_CACHE_BYTES
        );
        let config = with_file("[server]\ncache_bytes = \"64MiB\"\n").expect("config");
        assert_eq!(config.cache_bytes, 64 * 1024 * 1024);
        let config = with_file("[server]\ncache_bytes = 1000\n").expect("config");
        assert_eq!(config.cache_bytes, 1000);
        assert_eq!(parse_bytes("512 KiB"), Ok(512 * 1024));
        assert_eq!(parse_bytes("0"), Ok(0));
        let err = with_file("[server]\ncache_bytes = \"1TB\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown unit"), "{err}");
        let err = with_file("[server]\ncache_bytes = -1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("0 or more"), "{err}");
    }

    #[test]
    fn passwords_do_not_reach_debug_output() {
        let config = Config::load(&Overrides {
            database_url: Some("postgres://k:hunter2@db/plans".into()),
            ..Overrides::default()
        })
        .expect("config");
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
