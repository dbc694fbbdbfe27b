//! `keikaku user`: the accounts of the staff workspace, kept by an administrator at the
//! command line (no mail server needed): add, list, disable, enable, set a password.
//!
//! Passwords are read from standard input only (`--password-stdin`, one line), never from
//! the command line, where other users of the machine and the shell's history would see them.
//! Every change is recorded in the audit log as `cli:$USER`; the password never is.

use std::io::{BufRead as _, Read as _};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use keikaku::auth::MAX_PASSWORD_BYTES;
use keikaku::config::Config;
use keikaku::ops::accounts::{self, AccountError, AddAccount};
use keikaku::storage::accounts::Account;
use keikaku_core::Lang;
use keikaku_core::workspace::Role;
use serde::Serialize;

use super::output::table;
use super::{audit_actor, open_store};

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

/// A role as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Accounts and settings, and everything planning may do.
    Admin,
    /// The planning office: the whole plan of its municipality (review, publish).
    Planning,
    /// A department: only its own projects, only in a draft.
    Department,
    /// Reads drafts; changes nothing.
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Admin => Role::Admin,
            RoleArg::Planning => Role::Planning,
            RoleArg::Department => Role::Department,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// One line per account.
    Table,
    /// JSON: one object per account.
    Json,
}

/// An account in `user list --format json` (its field names are stable).
#[derive(Serialize)]
struct AccountView<'a> {
    login: &'a str,
    name: &'a str,
    role: &'static str,
    /// `null` for an administrator of every municipality.
    municipality: Option<&'a str>,
    departments: &'a [String],
    disabled: bool,
    /// RFC 3339, UTC; `null` unless sign-in waits now.
    locked_until: Option<&'a str>,
    created_at: &'a str,
    password_changed_at: &'a str,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account; its first password is read from standard input.
    Add {
        /// Login name: letters, digits, `.`, `_`, `-` (up to 64).
        login: String,
        /// What the account may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A department the account speaks for (department accounts; repeat for several).
        #[arg(long = "department", value_name = "NAME")]
        departments: Vec<String>,
        /// 全国地方公共団体コード of its municipality (every role but admin).
        #[arg(long, value_name = "CODE")]
        municipality: Option<String>,
        /// The name shown in the workspace (the login when absent).
        #[arg(long, value_name = "表示名")]
        name: Option<String>,
        /// Read the password from standard input (one line). Required.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List the accounts.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// Disable an account: it cannot sign in, its sessions end.
    Disable {
        /// Login name.
        login: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// Login name.
        login: String,
    },
    /// Set an account's password (read from standard input); its sessions end.
    Password {
        /// Login name.
        login: String,
        /// Read the password from standard input (one line). Required.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

/// Runs `user`.
pub async fn run(config: &Config, args: UserArgs) -> anyhow::Result<ExitCode> {
    let lang = config.lang;
    // The password is read before the database is opened: a missing one changes nothing.
    let password = match &args.command {
        UserCommand::Add { .. } | UserCommand::Password { .. } => {
            match read_password(&mut std::io::stdin().lock()) {
                Ok(password) => Some(password),
                Err(problem) => {
                    eprintln!("error: {}", problem.message(lang));
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        _ => None,
    }
    .unwrap_or_default();
    let store = open_store(config).await?;
    let by = audit_actor();
    let result = match args.command {
        UserCommand::Add {
            login,
            role,
            departments,
            municipality,
            name,
            password_stdin: _,
        } => accounts::add(
            &store,
            &by,
            keikaku::storage::write::Via::Cli,
            &AddAccount {
                login,
                display_name: name.unwrap_or_default(),
                role: role.into(),
                municipality,
                departments,
                password,
            },
        )
        .await
        .map(|account| added(&account, lang)),
        UserCommand::List { format } => {
            let list = accounts::list(&store).await?;
            let now = accounts::now().to_string();
            match format {
                ListFormat::Table => println!("{}", list_table(&list, &now)),
                ListFormat::Json => {
                    let views: Vec<AccountView<'_>> = list
                        .iter()
                        .map(|a| AccountView {
                            login: &a.login,
                            name: &a.display_name,
                            role: a.role.as_str(),
                            municipality: a.municipality.as_ref().map(|m| m.as_str()),
                            departments: &a.departments,
                            disabled: a.disabled,
                            locked_until: locked_now(a, &now),
                            created_at: &a.created_at,
                            password_changed_at: &a.password_changed_at,
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&views)?);
                }
            }
            Ok(())
        }
        UserCommand::Disable { login } => accounts::set_disabled(&store, &by, &login, true)
            .await
            .map(|()| match lang {
                Lang::Ja => println!("{login} を無効にしました（セッションは終了しました）。"),
                Lang::En => println!("{login} is disabled (its sessions ended)"),
            }),
        UserCommand::Enable { login } => accounts::set_disabled(&store, &by, &login, false)
            .await
            .map(|()| match lang {
                Lang::Ja => println!("{login} を有効にしました。"),
                Lang::En => println!("{login} is enabled"),
            }),
        UserCommand::Password {
            login,
            password_stdin: _,
        } => accounts::set_password(
            &store,
            &by,
            keikaku::storage::write::Via::Cli,
            &login,
            &password,
        )
        .await
        .map(|()| match lang {
            Lang::Ja => {
                println!("{login} のパスワードを変更しました（セッションは終了しました）。")
            }
            Lang::En => println!("{login}: password changed (its sessions ended)"),
        }),
    };
    store.close().await;
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(AccountError::Invalid(problem)) => {
            eprintln!("error: {}", problem.message(lang));
            Ok(ExitCode::FAILURE)
        }
        Err(AccountError::Ops(e)) => Err(e.into()),
    }
}

fn added(account: &Account, lang: Lang) {
    let municipality = account
        .municipality
        .as_ref()
        .map_or("*", |m| m.as_str())
        .to_owned();
    match lang {
        Lang::Ja => println!(
            "{} を追加しました（{}、団体 {municipality}{}）。",
            account.login,
            account.role.label(),
            if account.departments.is_empty() {
                String::new()
            } else {
                format!("、担当課 {}", account.departments.join("、"))
            }
        ),
        Lang::En => println!(
            "added {} ({}, municipality {municipality}{})",
            account.login,
            account.role,
            if account.departments.is_empty() {
                String::new()
            } else {
                format!(", departments {}", account.departments.join(", "))
            }
        ),
    }
}

/// Why no password could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdinProblem {
    /// Standard input was empty.
    Empty,
    /// Standard input is not UTF-8 text.
    NotText,
    /// Reading failed.
    Io(String),
}

impl StdinProblem {
    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (StdinProblem::Empty, Lang::Ja) => {
                "標準入力にパスワードがありません（--password-stdin: 1行で渡してください）。"
                    .to_owned()
            }
            (StdinProblem::Empty, Lang::En) => {
                "no password on standard input (--password-stdin reads one line)".to_owned()
            }
            (StdinProblem::NotText, Lang::Ja) => {
                "標準入力のパスワードが UTF-8 の文字列ではありません。".to_owned()
            }
            (StdinProblem::NotText, Lang::En) => {
                "the password on standard input is not UTF-8 text".to_owned()
            }
            (StdinProblem::Io(e), Lang::Ja) => format!("標準入力を読めません: {e}"),
            (StdinProblem::Io(e), Lang::En) => format!("cannot read standard input: {e}"),
        }
    }
}

/// The first line of `input` without its line end. At most a little more than the longest
/// password is read, so a stream without line breaks cannot fill memory; a longer line is
/// refused by the password rules.
fn read_password(input: &mut impl std::io::BufRead) -> Result<String, StdinProblem> {
    let limit = u64::try_from(MAX_PASSWORD_BYTES).unwrap_or(u64::MAX) + 3;
    let mut bytes = Vec::new();
    input
        .take(limit)
        .read_until(b'\n', &mut bytes)
        .map_err(|e| StdinProblem::Io(e.to_string()))?;
    if bytes.is_empty() {
        return Err(StdinProblem::Empty);
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    String::from_utf8(bytes).map_err(|_| StdinProblem::NotText)
}

/// Until when sign-in waits, if it waits at `now` (both RFC 3339, UTC).
fn locked_now<'a>(account: &'a Account, now: &str) -> Option<&'a str> {
    account.locked_until.as_deref().filter(|until| *until > now)
}

/// The accounts as a table; `now` (RFC 3339) decides whether a lockout still holds.
fn list_table(list: &[Account], now: &str) -> String {
    let rows = list
        .iter()
        .map(|a| {
            vec![
                a.login.clone(),
                a.display_name.clone(),
                a.role.to_string(),
                a.municipality
                    .as_ref()
                    .map_or_else(|| "*".to_owned(), |m| m.as_str().to_owned()),
                a.departments.join("、"),
                if a.disabled { "無効" } else { "" }.to_owned(),
                locked_now(a, now)
                    .map(accounts::local_time)
                    .unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            "ログイン名",
            "表示名",
            "役割",
            "団体コード",
            "担当課",
            "無効",
            "ロック解除（JST）",
        ],
        &[],
        rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_the_first_line_without_its_line_end() {
        let read = |text: &[u8]| read_password(&mut std::io::Cursor::new(text.to_vec()));
        assert_eq!(read(b"shirakawa-2026\n"), Ok("shirakawa-2026".to_owned()));
        assert_eq!(
            read(b"shirakawa-2026\r\nsecond"),
            Ok("shirakawa-2026".to_owned())
        );
        assert_eq!(read(b"no line end"), Ok("no line end".to_owned()));
        assert_eq!(read(b" spaces kept \n"), Ok(" spaces kept ".to_owned()));
        assert_eq!(read(b""), Err(StdinProblem::Empty));
        assert_eq!(read(b"\n"), Ok(String::new()));
        assert_eq!(read(b"\xff\xfe\n"), Err(StdinProblem::NotText));
        let long = vec![b'a'; 100_000];
        let read_long = read(&long).expect("text");
        assert!(read_long.len() > MAX_PASSWORD_BYTES && read_long.len() < 2_000);
    }
}
