//! Accounts and signing in: the use cases behind `keikaku user` and the workspace's sign-in.
//!
//! Works offline: an administrator sets the first password, the user changes it. Repeated
//! failed sign-ins make sign-in wait, longer each time (one minute after the configured
//! number of failures, doubling up to an hour); the answer to a wrong login name is the same,
//! and takes as long, as the answer to a wrong password. Signing in always starts a new
//! session (a session id set before sign-in is never taken over).
//!
//! Failures are counted per source (the client's address) and account: a machine guessing
//! one account's password pauses sign-in for itself, not for the account's owner signing in
//! from elsewhere. Two wider counts stop the other ways of guessing: one source failing
//! against any logins (trying many accounts), and one account failing from every source
//! together (guessing from many machines), each at four times the configured number.

use jiff::{SignedDuration, Timestamp};
use keikaku_core::workspace::{Actor, Role};
use keikaku_core::{Lang, MunicipalityCode};

use super::OpsError;
use crate::auth::{self, AuthError, PasswordProblem};
use crate::config::WorkspaceConfig;
use crate::storage::Store;
use crate::storage::accounts::{Account, NewAccount, Session, Throttle};
use crate::storage::write::Via;

/// Longest login name.
pub const MAX_LOGIN_CHARS: usize = 64;
/// Longest wait after repeated failures.
const MAX_LOCKOUT_MINUTES: i64 = 60;

/// An account to add.
#[derive(Debug, Clone)]
pub struct AddAccount {
    /// Login name: letters, digits, `.`, `_`, `-`.
    pub login: String,
    /// Name shown (the login when empty).
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Municipality code (required but for an administrator of every municipality).
    pub municipality: Option<String>,
    /// Departments (department accounts: at least one).
    pub departments: Vec<String>,
    /// First password.
    pub password: String,
}

/// Why an account could not be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Something in the request is not acceptable.
    #[error("{}", .0.message(Lang::En))]
    Invalid(AccountProblem),
    /// Storage failed.
    #[error(transparent)]
    Ops(#[from] OpsError),
}

/// What is wrong with an account request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountProblem {
    /// The login has characters other than letters, digits, `.`, `_`, `-`, or is too long.
    BadLogin(String),
    /// A role other than admin needs a municipality.
    NeedsMunicipality(Role),
    /// The municipality code is malformed.
    BadMunicipality(String),
    /// The database holds no municipality with this code.
    UnknownMunicipality(String),
    /// No project of the municipality's stored editions names this department.
    UnknownDepartment {
        /// The department asked for.
        name: String,
        /// The departments the municipality's editions name.
        known: Vec<String>,
    },
    /// A department account needs at least one department.
    NeedsDepartment,
    /// Departments are for department accounts only.
    DepartmentsNotAllowed(Role),
    /// The password breaks a rule.
    Password(PasswordProblem),
    /// The login is taken.
    Taken(String),
    /// No such account.
    Unknown(String),
    /// The current password given to change it is wrong.
    WrongCurrentPassword,
    /// The new password and its repetition differ.
    Mismatch,
}

impl AccountProblem {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let ja = lang == Lang::Ja;
        match self {
            AccountProblem::BadLogin(login) if ja => format!(
                "ログイン名「{login}」は使えません（英数字と . _ - で{MAX_LOGIN_CHARS}文字以内）。"
            ),
            AccountProblem::BadLogin(login) => format!(
                "login {login:?} is not allowed (letters, digits, . _ - up to {MAX_LOGIN_CHARS} characters)"
            ),
            AccountProblem::NeedsMunicipality(role) if ja => format!(
                "{}のアカウントには団体（--municipality）が必要です。",
                role.label()
            ),
            AccountProblem::NeedsMunicipality(role) => {
                format!("a {role} account needs its municipality (--municipality CODE)")
            }
            AccountProblem::BadMunicipality(code) if ja => {
                format!("団体コード「{code}」が正しくありません。")
            }
            AccountProblem::BadMunicipality(code) => {
                format!("{code:?} is not a municipality code")
            }
            AccountProblem::UnknownMunicipality(code) if ja => format!(
                "団体コード「{code}」の団体はデータベースにありません（keikaku municipality list で確認できます）。"
            ),
            AccountProblem::UnknownMunicipality(code) => format!(
                "the database holds no municipality {code} (`keikaku municipality list` lists them)"
            ),
            AccountProblem::UnknownDepartment { name, known } if ja => {
                if known.is_empty() {
                    format!(
                        "担当課「{name}」はありません。この団体の計画には担当課のある事業がまだありません（計画を取り込むか、ロールしてから作成してください）。"
                    )
                } else {
                    format!(
                        "担当課「{name}」はこの団体の計画にありません。担当課: {}",
                        known.join("、")
                    )
                }
            }
            AccountProblem::UnknownDepartment { name, known } => {
                if known.is_empty() {
                    format!(
                        "no department {name:?}: no stored plan of this municipality names a department yet (import or roll one first)"
                    )
                } else {
                    format!(
                        "no department {name:?} in this municipality's plans; its departments: {}",
                        known.join(", ")
                    )
                }
            }
            AccountProblem::NeedsDepartment if ja => {
                "担当課のアカウントには担当課（--department）が1つ以上必要です。".to_owned()
            }
            AccountProblem::NeedsDepartment => {
                "a department account needs at least one --department".to_owned()
            }
            AccountProblem::DepartmentsNotAllowed(role) if ja => format!(
                "担当課（--department）は担当課のアカウントだけに付けます（{}には付けません）。",
                role.label()
            ),
            AccountProblem::DepartmentsNotAllowed(role) => {
                format!("--department is for department accounts only, not for a {role} account")
            }
            AccountProblem::Password(problem) => problem.message(lang),
            AccountProblem::WrongCurrentPassword if ja => "現在のパスワードが違います。".to_owned(),
            AccountProblem::WrongCurrentPassword => "the current password is wrong".to_owned(),
            AccountProblem::Mismatch if ja => {
                "新しいパスワードと確認用の入力が一致しません。".to_owned()
            }
            AccountProblem::Mismatch => "the new password and its repetition differ".to_owned(),
            AccountProblem::Taken(login) if ja => {
                format!("ログイン名「{login}」のアカウントはすでにあります。")
            }
            AccountProblem::Taken(login) => format!("an account named {login:?} already exists"),
            AccountProblem::Unknown(login) if ja => {
                format!("ログイン名「{login}」のアカウントはありません。")
            }
            AccountProblem::Unknown(login) => format!("no account is named {login:?}"),
        }
    }
}

fn invalid(problem: AccountProblem) -> AccountError {
    AccountError::Invalid(problem)
}

fn from_store(err: crate::storage::StoreError) -> AccountError {
    AccountError::Ops(OpsError::from(err))
}

fn hashed(login: &str, password: &str) -> Result<String, AccountError> {
    auth::hash_password(login, password).map_err(|e| match e {
        AuthError::Weak(problem) => invalid(AccountProblem::Password(problem)),
        AuthError::Crypto(message) => AccountError::Ops(OpsError::BadRequest(message)),
    })
}

/// Password hashing (argon2id) is deliberately slow: it runs on the blocking pool, at most
/// two at a time, so that sign-in attempts (anyone may make them) never hold up the threads
/// that answer the public portal.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Checks `password` against `hash` (`None`: against a dummy hash, taking as long) off the
/// async threads.
async fn verify_off_thread(hash: Option<String>, password: &str) -> bool {
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => auth::verify_password(&hash, &password),
        None => {
            auth::dummy_verify(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// The current time as stored (RFC 3339, UTC, whole seconds).
pub fn now() -> Timestamp {
    let now = Timestamp::now();
    now.round(jiff::Unit::Second).unwrap_or(now)
}

/// True for a login name keikaku accepts.
pub fn is_login(login: &str) -> bool {
    !login.is_empty()
        && login.chars().count() <= MAX_LOGIN_CHARS
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Adds an account on behalf of `by` (recorded in the audit log).
pub async fn add(
    store: &Store,
    by: &str,
    via: Via,
    request: &AddAccount,
) -> Result<Account, AccountError> {
    if !is_login(&request.login) {
        return Err(invalid(AccountProblem::BadLogin(request.login.clone())));
    }
    let municipality = match &request.municipality {
        Some(code) => Some(
            MunicipalityCode::parse(code)
                .map_err(|_| invalid(AccountProblem::BadMunicipality(code.clone())))?,
        ),
        None if request.role == Role::Admin => None,
        None => return Err(invalid(AccountProblem::NeedsMunicipality(request.role))),
    };
    let departments: Vec<String> = request
        .departments
        .iter()
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .collect();
    match (request.role, departments.is_empty()) {
        (Role::Department, true) => return Err(invalid(AccountProblem::NeedsDepartment)),
        (role, false) if role != Role::Department => {
            return Err(invalid(AccountProblem::DepartmentsNotAllowed(role)));
        }
        _ => {}
    }
    if let Some(code) = &municipality {
        let stored = store.municipalities().await.map_err(from_store)?;
        if !stored.iter().any(|m| m.code == *code) {
            return Err(invalid(AccountProblem::UnknownMunicipality(
                code.as_str().to_owned(),
            )));
        }
        if !departments.is_empty() {
            let known = departments_of(store, code).await?;
            if let Some(name) = departments.iter().find(|d| !known.contains(d)) {
                return Err(invalid(AccountProblem::UnknownDepartment {
                    name: name.clone(),
                    known,
                }));
            }
        }
    }
    let hash = hashed(&request.login, &request.password)?;
    let display_name = if request.display_name.trim().is_empty() {
        request.login.clone()
    } else {
        request.display_name.trim().to_owned()
    };
    let at = now().to_string();
    let mut tx = store.begin_write(by).await.map_err(from_store)?.via(via);
    match tx
        .add_account(&NewAccount {
            login: &request.login,
            display_name: &display_name,
            role: request.role,
            municipality: municipality.as_ref(),
            departments: &departments,
            password_hash: &hash,
            now: &at,
        })
        .await
    {
        Ok(_) => {}
        Err(crate::storage::StoreError::Repeated(_)) => {
            return Err(invalid(AccountProblem::Taken(request.login.clone())));
        }
        Err(other) => return Err(from_store(other)),
    }
    tx.commit().await.map_err(from_store)?;
    store
        .account_for_login(&request.login)
        .await
        .map_err(from_store)?
        .map(|(account, _)| account)
        .ok_or_else(|| invalid(AccountProblem::Unknown(request.login.clone())))
}

/// The departments (担当課) named by the projects of a municipality's stored editions, drafts
/// included, sorted.
pub async fn departments_of(
    store: &Store,
    code: &MunicipalityCode,
) -> Result<Vec<String>, AccountError> {
    let mut names = std::collections::BTreeSet::new();
    for info in store.editions_of(code).await.map_err(from_store)? {
        let edition = store.edition(info.id).await.map_err(from_store)?;
        for (_, project) in edition.projects() {
            names.extend(project.departments.iter().cloned());
        }
    }
    Ok(names.into_iter().collect())
}

/// Every account.
pub async fn list(store: &Store) -> Result<Vec<Account>, OpsError> {
    Ok(store.accounts().await?)
}

/// Sets `login`'s password (ending its sessions) on behalf of `by`.
pub async fn set_password(
    store: &Store,
    by: &str,
    via: Via,
    login: &str,
    password: &str,
) -> Result<(), AccountError> {
    let hash = hashed(login, password)?;
    let mut tx = store.begin_write(by).await.map_err(from_store)?.via(via);
    match tx.set_password_hash(login, &hash, &now().to_string()).await {
        Err(crate::storage::StoreError::NotFound(_)) => {
            Err(invalid(AccountProblem::Unknown(login.to_owned())))
        }
        Err(other) => Err(from_store(other)),
        Ok(()) => tx.commit().await.map_err(from_store),
    }
}

/// A signed-in person changes their own password: the current one must be right, the new
/// one follows the rules and is typed twice alike. Recorded as a password change by them.
pub async fn change_own_password(
    store: &Store,
    config: &WorkspaceConfig,
    via: Via,
    login: &str,
    current: &str,
    new: &str,
    repeated: &str,
) -> Result<(), AccountError> {
    let Some((account, hash)) = store.account_for_login(login).await.map_err(from_store)? else {
        return Err(invalid(AccountProblem::Unknown(login.to_owned())));
    };
    // Wrong current passwords count like failed sign-ins: a session left open cannot be used
    // to guess the password without limit. While sign-in is paused, no guess is checked.
    let at = now();
    let paused = account
        .locked_until
        .as_deref()
        .is_some_and(|until| until > at.to_string().as_str());
    if paused || !verify_off_thread(Some(hash), current).await {
        if !paused {
            let failures = account.failed_logins + 1;
            let locked =
                lockout(failures, config.lockout_after).map(|wait| (at + wait).to_string());
            store
                .record_login_failure(account.id, locked.as_deref())
                .await
                .map_err(from_store)?;
        }
        return Err(invalid(AccountProblem::WrongCurrentPassword));
    }
    if new != repeated {
        return Err(invalid(AccountProblem::Mismatch));
    }
    set_password(store, login, via, login, new).await
}

/// Disables (ending its sessions) or enables `login` on behalf of `by`.
pub async fn set_disabled(
    store: &Store,
    by: &str,
    login: &str,
    disabled: bool,
) -> Result<(), AccountError> {
    let mut tx = store.begin_write(by).await.map_err(from_store)?;
    match tx.set_disabled(login, disabled).await {
        Err(crate::storage::StoreError::NotFound(_)) => {
            Err(invalid(AccountProblem::Unknown(login.to_owned())))
        }
        Err(other) => Err(from_store(other)),
        Ok(()) => tx.commit().await.map_err(from_store),
    }
}

/// A new session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The account.
    pub account: Account,
    /// The token for the browser's cookie (only its digest is stored).
    pub token: String,
    /// The CSRF token for forms and the `X-CSRF-Token` header.
    pub csrf_token: String,
}

/// Why signing in failed. The first two read the same to the person signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInRefused {
    /// No such login, a wrong password or a disabled account.
    Wrong,
    /// Too many failures: sign-in waits until then (RFC 3339).
    Locked(String),
}

impl SignInRefused {
    /// What the person signing in is told, the same whatever the reason, so that the answer
    /// does not say whether a login exists or is locked.
    pub fn public_message(lang: Lang) -> String {
        match lang {
            Lang::Ja => "ログイン名またはパスワードが違うか、失敗が続いたため一時的にログインできません。しばらく待ってからもう一度お試しください。".to_owned(),
            Lang::En => "wrong login or password, or sign-in paused after repeated failures: wait a while and try again".to_owned(),
        }
    }

    /// The message in `lang` (for the log and the command line; the web answers
    /// [`SignInRefused::public_message`]).
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (SignInRefused::Wrong, Lang::Ja) => "ログイン名またはパスワードが違います。".to_owned(),
            (SignInRefused::Wrong, Lang::En) => "wrong login or password".to_owned(),
            (SignInRefused::Locked(until), Lang::Ja) => format!(
                "ログインの失敗が続いたため、{} まで待ってからもう一度お試しください。",
                local_time(until)
            ),
            (SignInRefused::Locked(until), Lang::En) => format!(
                "too many failed sign-ins: try again after {}",
                local_time(until)
            ),
        }
    }
}

/// `2026-12-01T10:00:00Z` as people in Japan read it: `2026-12-01 19:00`.
pub fn local_time(rfc3339: &str) -> String {
    rfc3339
        .parse::<Timestamp>()
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9)))
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// How long sign-in waits after `failures` failures in a row (none below `after`).
pub fn lockout(failures: i64, after: u32) -> Option<SignedDuration> {
    let beyond = failures - i64::from(after);
    if beyond < 0 {
        return None;
    }
    let minutes = 1i64
        .checked_shl(u32::try_from(beyond).unwrap_or(u32::MAX).min(16))
        .unwrap_or(MAX_LOCKOUT_MINUTES)
        .min(MAX_LOCKOUT_MINUTES);
    Some(SignedDuration::from_mins(minutes))
}

/// The count of a source's failures against any login (user ids start at 1).
const ANY_LOGIN: i64 = 0;
/// The wider counts (a source against any logins, an account from every source) pause
/// sign-in after this many times the configured number of failures.
const WIDER_COUNT_FACTOR: u32 = 4;
/// Failures older than this no longer count.
const FAILURES_FORGOTTEN_AFTER: SignedDuration = SignedDuration::from_hours(24);
/// Longest source recorded (an address; a hostile forwarded header is cut here).
const MAX_SOURCE_CHARS: usize = 64;

/// Where a sign-in comes from: the client's address as the server sees it (or as a trusted
/// reverse proxy reports it), for counting failures per source.
pub fn source_of(address: &str) -> String {
    let source: String = address
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_SOURCE_CHARS)
        .collect();
    if source.is_empty() {
        "unknown".to_owned()
    } else {
        source
    }
}

/// The pause of a count now: `Some(until)` while it lasts.
fn paused_until(count: Option<&Throttle>, at: &str) -> Option<String> {
    count
        .and_then(|c| c.locked_until.clone())
        .filter(|until| until.as_str() > at)
}

/// Counts one more failure of `source` against `user_id` (`ANY_LOGIN`), pausing sign-in
/// after `after` failures; returns the pause, if any.
async fn count_failure(
    store: &Store,
    source: &str,
    user_id: i64,
    after: u32,
    at: Timestamp,
) -> Result<Option<String>, OpsError> {
    let forgotten = (at - FAILURES_FORGOTTEN_AFTER).to_string();
    let earlier = store
        .throttle(source, user_id)
        .await?
        .filter(|c| c.last_failure >= forgotten)
        .map_or(0, |c| c.failures);
    let failures = earlier + 1;
    let locked_until = lockout(failures, after).map(|wait| (at + wait).to_string());
    store
        .set_throttle(
            source,
            user_id,
            &Throttle {
                failures,
                last_failure: at.to_string(),
                locked_until: locked_until.clone(),
            },
        )
        .await?;
    Ok(locked_until)
}

/// Signs `login` in with `password` from `source` (see [`source_of`]), starting a new
/// session.
pub async fn sign_in(
    store: &Store,
    config: &WorkspaceConfig,
    source: &str,
    login: &str,
    password: &str,
) -> Result<Result<SignedIn, SignInRefused>, OpsError> {
    let at = now();
    let at_text = at.to_string();
    let wider = config.lockout_after.saturating_mul(WIDER_COUNT_FACTOR);
    // A source that failed too often against any logins waits, whatever it tries now.
    if let Some(until) = paused_until(store.throttle(source, ANY_LOGIN).await?.as_ref(), &at_text) {
        // As long as any other answer: the time tells nothing either.
        verify_off_thread(None, password).await;
        return Ok(Err(SignInRefused::Locked(until)));
    }
    let Some((account, hash)) = store.account_for_login(login).await? else {
        verify_off_thread(None, password).await;
        let locked = count_failure(store, source, ANY_LOGIN, wider, at).await?;
        return Ok(Err(
            locked.map_or(SignInRefused::Wrong, SignInRefused::Locked)
        ));
    };
    let pair = store.throttle(source, account.id).await?;
    let account_pause = account
        .locked_until
        .clone()
        .filter(|until| until.as_str() > at_text.as_str());
    if let Some(until) = paused_until(pair.as_ref(), &at_text).or(account_pause) {
        verify_off_thread(Some(hash), password).await;
        return Ok(Err(SignInRefused::Locked(until)));
    }
    // The hash is checked for disabled accounts too: the answer takes as long either way.
    let right = verify_off_thread(Some(hash), password).await;
    if account.disabled || !right {
        let from_here = count_failure(store, source, account.id, config.lockout_after, at).await?;
        let from_source = count_failure(store, source, ANY_LOGIN, wider, at).await?;
        // Every source together: the account's own count, at the wider limit.
        let everywhere =
            lockout(account.failed_logins + 1, wider).map(|wait| (at + wait).to_string());
        store
            .record_login_failure(account.id, everywhere.as_deref())
            .await?;
        if account.disabled {
            return Ok(Err(SignInRefused::Wrong));
        }
        return Ok(Err(from_here
            .or(from_source)
            .or(everywhere)
            .map_or(SignInRefused::Wrong, SignInRefused::Locked)));
    }
    store.clear_throttle(source, account.id).await?;
    store.record_login_success(account.id).await?;
    store
        .purge_throttles(&(at - FAILURES_FORGOTTEN_AFTER).to_string())
        .await?;
    let token = auth::new_token().map_err(|e| OpsError::BadRequest(e.to_string()))?;
    let csrf_token = auth::new_token().map_err(|e| OpsError::BadRequest(e.to_string()))?;
    let expires = session_end(config, at, at);
    store
        .create_session(
            account.id,
            &auth::token_digest(&token),
            &csrf_token,
            &at.to_string(),
            &expires.to_string(),
        )
        .await?;
    // Sessions that ended are removed now and then (here: at each sign-in).
    store.purge_sessions(&at.to_string()).await?;
    Ok(Ok(SignedIn {
        account,
        token,
        csrf_token,
    }))
}

/// When a session last used at `seen` and begun at `began` ends.
fn session_end(config: &WorkspaceConfig, began: Timestamp, seen: Timestamp) -> Timestamp {
    let idle = SignedDuration::try_from(config.session_idle).unwrap_or(SignedDuration::ZERO);
    let max = SignedDuration::try_from(config.session_max).unwrap_or(SignedDuration::ZERO);
    (seen + idle).min(began + max)
}

/// The session and account of a browser's token, if the session is still open; using it
/// moves its end (within the session's longest life).
pub async fn session(
    store: &Store,
    config: &WorkspaceConfig,
    token: &str,
) -> Result<Option<(Session, Account)>, OpsError> {
    if !auth::is_token(token) {
        return Ok(None);
    }
    let at = now();
    let digest = auth::token_digest(token);
    let Some((session, account)) = store.session(&digest, &at.to_string()).await? else {
        return Ok(None);
    };
    let began = session.created_at.parse::<Timestamp>().unwrap_or(at);
    let end = session_end(config, began, at).to_string();
    // Written at most once a minute per session: a page view is not a write.
    let seen = session.last_seen_at.parse::<Timestamp>().unwrap_or(at);
    if at.duration_since(seen) >= SignedDuration::from_mins(1) {
        store.touch_session(&digest, &at.to_string(), &end).await?;
    }
    Ok(Some((session, account)))
}

/// Ends the session of `token`.
pub async fn sign_out(store: &Store, token: &str) -> Result<(), OpsError> {
    if auth::is_token(token) {
        store.delete_session(&auth::token_digest(token)).await?;
    }
    Ok(())
}

/// The workspace's view of an account: what the rules of [`keikaku_core::workspace`] judge.
pub fn actor(account: &Account) -> Actor {
    Actor {
        role: account.role,
        municipality: account.municipality.clone(),
        departments: account.departments.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_waits_longer_after_each_failure_beyond_the_limit() {
        assert_eq!(lockout(4, 5), None);
        assert_eq!(lockout(5, 5), Some(SignedDuration::from_mins(1)));
        assert_eq!(lockout(6, 5), Some(SignedDuration::from_mins(2)));
        assert_eq!(lockout(8, 5), Some(SignedDuration::from_mins(8)));
        assert_eq!(lockout(60, 5), Some(SignedDuration::from_mins(60)));
        assert_eq!(lockout(i64::MAX, 5), Some(SignedDuration::from_mins(60)));
    }

    #[test]
    fn logins_are_plain() {
        assert!(is_login("tanaka.k"));
        assert!(is_login("kikaku-01"));
        assert!(!is_login(""));
        assert!(!is_login("田中"));
        assert!(!is_login("a b"));
        assert!(!is_login(&"a".repeat(65)));
    }

    #[test]
    fn sessions_end_when_idle_or_at_their_longest() {
        let config = WorkspaceConfig::default();
        let began: Timestamp = "2026-12-01T00:00:00Z".parse().expect("time");
        let seen: Timestamp = "2026-12-01T01:00:00Z".parse().expect("time");
        assert_eq!(
            session_end(&config, began, seen).to_string(),
            "2026-12-01T03:00:00Z"
        );
        let late: Timestamp = "2026-12-01T11:30:00Z".parse().expect("time");
        assert_eq!(
            session_end(&config, began, late).to_string(),
            "2026-12-01T12:00:00Z"
        );
        assert_eq!(local_time("2026-12-01T10:00:00Z"), "2026-12-01 19:00");
    }
}
