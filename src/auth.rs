//! Passwords and session tokens for the staff workspace.
//!
//! Passwords are stored as argon2id hashes (PHC strings with their own salt and parameters);
//! a session is a random token given to the browser in a cookie, of which the database keeps
//! only the SHA-256 digest, so that a copy of the database opens no session. Every token,
//! salt and CSRF token comes from the operating system's random source. Nothing here touches
//! the database: storage keeps what this module makes.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use keikaku_core::Lang;
use sha2::{Digest, Sha256};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (hashing cost grows with length; nobody types more).
pub const MAX_PASSWORD_BYTES: usize = 1_024;

/// Why a password or token could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The password does not meet the rules.
    #[error("{}", .0.message(Lang::En))]
    Weak(PasswordProblem),
    /// The operating system gave no random bytes, or hashing failed.
    #[error("cannot make a password hash or token: {0}")]
    Crypto(String),
}

/// What is wrong with a new password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    TooShort,
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    TooLong,
    /// The same as the login name, or one character repeated.
    Guessable,
    /// Control characters (a pasted line break, say).
    ControlCharacters,
}

impl PasswordProblem {
    /// The message in `lang`.
    pub fn message(self, lang: Lang) -> String {
        match (self, lang) {
            (PasswordProblem::TooShort, Lang::Ja) => {
                format!("パスワードは{MIN_PASSWORD_CHARS}文字以上にしてください。")
            }
            (PasswordProblem::TooShort, Lang::En) => {
                format!("the password must have at least {MIN_PASSWORD_CHARS} characters")
            }
            (PasswordProblem::TooLong, Lang::Ja) => "パスワードが長すぎます。".to_owned(),
            (PasswordProblem::TooLong, Lang::En) => {
                format!("the password is longer than {MAX_PASSWORD_BYTES} bytes")
            }
            (PasswordProblem::Guessable, Lang::Ja) => {
                "ログイン名と同じパスワードや、同じ文字を繰り返しただけのパスワードは使えません。"
                    .to_owned()
            }
            (PasswordProblem::Guessable, Lang::En) => {
                "the password may not be the login name or one character repeated".to_owned()
            }
            (PasswordProblem::ControlCharacters, Lang::Ja) => {
                "パスワードに改行などの制御文字は使えません。".to_owned()
            }
            (PasswordProblem::ControlCharacters, Lang::En) => {
                "the password may not contain line breaks or other control characters".to_owned()
            }
        }
    }
}

/// Checks a new password against the rules.
pub fn check_password(login: &str, password: &str) -> Result<(), PasswordProblem> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordProblem::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordProblem::ControlCharacters);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    let mut chars = password.chars();
    let first = chars.next();
    if password.eq_ignore_ascii_case(login) || chars.all(|c| Some(c) == first) {
        return Err(PasswordProblem::Guessable);
    }
    Ok(())
}

/// The argon2id hash of `password` (a PHC string) after checking it against the rules.
pub fn hash_password(login: &str, password: &str) -> Result<String, AuthError> {
    check_password(login, password).map_err(AuthError::Weak)?;
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Crypto(e.to_string()))
}

/// True when `password` matches the stored `hash`. A malformed hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Checks `password` against a hash no password is known to match, when a login name does
/// not exist, so that the answer takes as long as for a wrong password (no telling which
/// logins exist by timing).
pub fn dummy_verify(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| {
        new_token()
            .ok()
            .and_then(|secret| Argon2::default().hash_password(secret.as_bytes()).ok())
            .map(|h| h.to_string())
            .unwrap_or_default()
    });
    let _ = verify_password(hash, password);
}

/// A new random token (256 bits, hexadecimal): session ids and CSRF tokens.
pub fn new_token() -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Crypto(e.to_string()))?;
    Ok(hex(&bytes))
}

/// The digest of a session token as the database keeps it.
pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// True for text shaped like a token from [`new_token`] (64 lower-case hex digits).
pub fn is_token(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("tanaka", "shirakawa-2026!").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "shirakawa-2026!"));
        assert!(!verify_password(&hash, "shirakawa-2027!"));
        assert!(!verify_password("not a hash", "shirakawa-2026!"));
        let again = hash_password("tanaka", "shirakawa-2026!").expect("hash");
        assert_ne!(hash, again, "each hash has its own salt");
    }

    #[test]
    fn weak_passwords_are_refused_in_both_languages() {
        for (password, problem) in [
            ("short", PasswordProblem::TooShort),
            ("tanaka-user", PasswordProblem::Guessable),
            ("aaaaaaaaaaaa", PasswordProblem::Guessable),
            ("good password\n", PasswordProblem::ControlCharacters),
        ] {
            let login = if password == "tanaka-user" {
                "TANAKA-USER"
            } else {
                "x"
            };
            assert_eq!(
                check_password(login, password),
                Err(problem),
                "{password:?}"
            );
            assert!(!problem.message(Lang::Ja).is_empty());
            assert!(
                problem.message(Lang::En).is_ascii(),
                "{}",
                problem.message(Lang::En)
            );
        }
        assert_eq!(
            check_password("x", &"ab".repeat(600)),
            Err(PasswordProblem::TooLong)
        );
        assert_eq!(
            check_password("tanaka", "長い日本語のパスワードです"),
            Ok(())
        );
    }

    #[test]
    fn tokens_are_random_and_stored_as_digests() {
        let a = new_token().expect("token");
        let b = new_token().expect("token");
        assert!(is_token(&a) && is_token(&b));
        assert_ne!(a, b);
        assert_ne!(token_digest(&a), a);
        assert_eq!(token_digest(&a).len(), 64);
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &b));
        assert!(!same_token(&a, &a[..63]));
        dummy_verify("anything");
    }
}
