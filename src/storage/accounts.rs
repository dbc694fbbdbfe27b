//! Accounts and sessions of the staff workspace.
//!
//! An account has a role, a municipality and (for a department) the departments it speaks
//! for; its password is stored only as an argon2id hash (see `crate::auth`). A session is kept
//! as the digest of the token the browser holds, with its CSRF token and expiry.
//!
//! Changes to accounts are audited writes ([`WriteTx`]); signing in and out, and counting
//! failed attempts, are not changes to the plan: they are written outside the audit log and
//! do not move the data version (a busy workspace must not make the public portal reload).

use keikaku_core::MunicipalityCode;
use keikaku_core::workspace::Role;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::write::{Entry, WriteTx};
use super::{Store, StoreError};

/// An account as stored (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Database id.
    pub id: i64,
    /// Login name.
    pub login: String,
    /// Name shown in the workspace.
    pub display_name: String,
    /// What it may do.
    pub role: Role,
    /// Its municipality (`None`: an administrator of every municipality).
    pub municipality: Option<MunicipalityCode>,
    /// The departments it speaks for (department accounts).
    pub departments: Vec<String>,
    /// A disabled account cannot sign in; its sessions are gone.
    pub disabled: bool,
    /// Failed sign-ins since the last success.
    pub failed_logins: i64,
    /// Until when sign-in is refused after repeated failures (RFC 3339), if it is.
    pub locked_until: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When its password was last set.
    pub password_changed_at: String,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    /// Login name.
    pub login: &'a str,
    /// Name shown in the workspace.
    pub display_name: &'a str,
    /// Role.
    pub role: Role,
    /// Municipality.
    pub municipality: Option<&'a MunicipalityCode>,
    /// Departments.
    pub departments: &'a [String],
    /// The argon2id hash of its first password.
    pub password_hash: &'a str,
    /// When (RFC 3339).
    pub now: &'a str,
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The digest of its token.
    pub token_digest: String,
    /// The token every changing request must carry.
    pub csrf_token: String,
    /// When it ends unless used again.
    pub expires_at: String,
    /// When it was last used.
    pub last_seen_at: String,
    /// When it began.
    pub created_at: String,
}

const ACCOUNT_COLUMNS: &str = "a.id, a.login, a.display_name, a.role, a.municipality_code, \
     a.disabled, a.failed_logins, a.locked_until, a.created_at, a.password_changed_at";

fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn account(row: &AnyRow, departments: Vec<String>) -> Result<Account, StoreError> {
    let role: String = row.try_get("role")?;
    let municipality: Option<String> = row.try_get("municipality_code")?;
    Ok(Account {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| corrupt("account role", &role))?,
        municipality: match municipality {
            Some(code) => Some(
                MunicipalityCode::parse(&code).map_err(|_| corrupt("municipality code", &code))?,
            ),
            None => None,
        },
        departments,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        failed_logins: row.try_get("failed_logins")?,
        locked_until: row.try_get("locked_until")?,
        created_at: row.try_get("created_at")?,
        password_changed_at: row.try_get("password_changed_at")?,
    })
}

impl Store {
    async fn departments_of(&self, id: i64) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT name FROM user_department WHERE user_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Every account, by login.
    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM app_user a ORDER BY a.login"
        ))
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let departments = self.departments_of(row.try_get("id")?).await?;
            out.push(account(row, departments)?);
        }
        Ok(out)
    }

    /// The account signing in as `login`, with its password hash.
    pub async fn account_for_login(
        &self,
        login: &str,
    ) -> Result<Option<(Account, String)>, StoreError> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS}, a.password_hash FROM app_user a WHERE a.login = $1"
        ))
        .bind(login)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let departments = self.departments_of(row.try_get("id")?).await?;
        Ok(Some((
            account(&row, departments)?,
            row.try_get("password_hash")?,
        )))
    }

    /// The session whose token has this digest and its account, if it has not expired at
    /// `now` and the account is enabled.
    pub async fn session(
        &self,
        token_digest: &str,
        now: &str,
    ) -> Result<Option<(Session, Account)>, StoreError> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS}, s.token_digest, s.csrf_token, s.expires_at, s.last_seen_at, \
             s.created_at AS session_created FROM user_session s JOIN app_user a ON a.id = s.user_id \
             WHERE s.token_digest = $1 AND s.expires_at > $2 AND a.disabled = 0"
        ))
        .bind(token_digest)
        .bind(now)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let departments = self.departments_of(row.try_get("id")?).await?;
        let session = Session {
            token_digest: row.try_get("token_digest")?,
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            created_at: row.try_get("session_created")?,
        };
        Ok(Some((session, account(&row, departments)?)))
    }

    /// Starts a session for account `id`.
    pub async fn create_session(
        &self,
        id: i64,
        token_digest: &str,
        csrf_token: &str,
        now: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO user_session (token_digest, user_id, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(token_digest)
        .bind(id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records that a session was used at `now`, moving its end to `expires_at`.
    pub async fn touch_session(
        &self,
        token_digest: &str,
        now: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE user_session SET last_seen_at = $1, expires_at = $2 WHERE token_digest = $3",
        )
        .bind(now)
        .bind(expires_at)
        .bind(token_digest)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Ends a session (signing out).
    pub async fn delete_session(&self, token_digest: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM user_session WHERE token_digest = $1")
            .bind(token_digest)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Removes sessions that ended before `now`.
    pub async fn purge_sessions(&self, now: &str) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM user_session WHERE expires_at <= $1")
                .bind(now)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    /// Counts a failed sign-in of account `id`; `locked_until` refuses sign-ins until then.
    pub async fn record_login_failure(
        &self,
        id: i64,
        locked_until: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE app_user SET failed_logins = failed_logins + 1, locked_until = $1 WHERE id = $2",
        )
        .bind(locked_until)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A successful sign-in of account `id`: the failures are forgotten.
    pub async fn record_login_success(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// Failed sign-ins from one source against one account (or any login, `user_id` 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    /// Failures counted.
    pub failures: i64,
    /// When the last one happened (RFC 3339).
    pub last_failure: String,
    /// Until when sign-in from the source waits, if it does.
    pub locked_until: Option<String>,
}

impl Store {
    /// The failures counted for `source` against account `user_id` (0: any login).
    pub async fn throttle(
        &self,
        source: &str,
        user_id: i64,
    ) -> Result<Option<Throttle>, StoreError> {
        let row = sqlx::query(
            "SELECT failures, last_failure, locked_until FROM sign_in_throttle \
             WHERE source = $1 AND user_id = $2",
        )
        .bind(source)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Throttle {
                failures: r.try_get("failures")?,
                last_failure: r.try_get("last_failure")?,
                locked_until: r.try_get("locked_until")?,
            })
        })
        .transpose()
    }

    /// Stores the failures counted for `source` against account `user_id`.
    pub async fn set_throttle(
        &self,
        source: &str,
        user_id: i64,
        throttle: &Throttle,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sign_in_throttle (source, user_id, failures, last_failure, locked_until) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source, user_id) DO UPDATE SET \
             failures = excluded.failures, last_failure = excluded.last_failure, \
             locked_until = excluded.locked_until",
        )
        .bind(source)
        .bind(user_id)
        .bind(throttle.failures)
        .bind(&throttle.last_failure)
        .bind(throttle.locked_until.as_deref())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets the failures of `source` against account `user_id` (it signed in).
    pub async fn clear_throttle(&self, source: &str, user_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_throttle WHERE source = $1 AND user_id = $2")
            .bind(source)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Removes the counts whose last failure is before `before` (RFC 3339).
    pub async fn purge_throttles(&self, before: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_throttle WHERE last_failure < $1")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

impl WriteTx {
    /// Adds an account (audited; the password is not recorded).
    pub async fn add_account(&mut self, new: &NewAccount<'_>) -> Result<i64, StoreError> {
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM app_user WHERE login = $1")
            .bind(new.login)
            .fetch_optional(self.transaction())
            .await?;
        if taken.is_some() {
            return Err(StoreError::Repeated(format!(
                "an account named {:?} already exists",
                new.login
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO app_user (login, display_name, role, municipality_code, password_hash, \
             disabled, failed_logins, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $5, 0, 0, $6, $6) RETURNING id",
        )
        .bind(new.login)
        .bind(new.display_name)
        .bind(new.role.as_str())
        .bind(new.municipality.map(|m| m.as_str().to_owned()))
        .bind(new.password_hash)
        .bind(new.now)
        .fetch_one(self.transaction())
        .await?;
        for (position, name) in new.departments.iter().enumerate() {
            sqlx::query(
                "INSERT INTO user_department (user_id, position, name) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(name)
            .execute(self.transaction())
            .await?;
        }
        let detail = format!(
            "role={}; municipality={}; departments={}",
            new.role,
            new.municipality.map_or("*", MunicipalityCode::as_str),
            new.departments.join("、")
        );
        self.record(&Entry {
            action: "add-account",
            subject: new.login,
            detail: &detail,
            ..Entry::default()
        })
        .await?;
        Ok(id)
    }

    /// Sets an account's password hash and ends its sessions (audited, without the hash).
    pub async fn set_password_hash(
        &mut self,
        login: &str,
        hash: &str,
        now: &str,
    ) -> Result<(), StoreError> {
        let id = self.account_id(login).await?;
        sqlx::query(
            "UPDATE app_user SET password_hash = $1, password_changed_at = $2, failed_logins = 0, \
             locked_until = NULL WHERE id = $3",
        )
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(self.transaction())
        .await?;
        self.end_sessions(id).await?;
        self.record(&Entry {
            action: "set-password",
            subject: login,
            ..Entry::default()
        })
        .await
    }

    /// Disables (or enables again) an account; disabling ends its sessions (audited).
    pub async fn set_disabled(&mut self, login: &str, disabled: bool) -> Result<(), StoreError> {
        let id = self.account_id(login).await?;
        sqlx::query("UPDATE app_user SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(id)
            .execute(self.transaction())
            .await?;
        if disabled {
            self.end_sessions(id).await?;
        }
        self.record(&Entry {
            action: if disabled {
                "disable-account"
            } else {
                "enable-account"
            },
            subject: login,
            ..Entry::default()
        })
        .await
    }

    async fn account_id(&mut self, login: &str) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT id FROM app_user WHERE login = $1")
            .bind(login)
            .fetch_optional(self.transaction())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no account named {login:?}")))
    }

    async fn end_sessions(&mut self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM user_session WHERE user_id = $1")
            .bind(id)
            .execute(self.transaction())
            .await?;
        Ok(())
    }
}
