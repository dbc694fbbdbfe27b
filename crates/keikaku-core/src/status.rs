//! 区分: whether a project is new, continuing, expanded, ended, and so on.
//!
//! Plans use a small vocabulary with synonyms (拡大 means 拡充). Words outside it are kept as
//! written in [`Status::Other`], and validation reports them unless the user has added them
//! to the accepted vocabulary (see [`crate::validate::Rules`]).

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// A project's 区分.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// 継続: continuing from earlier years.
    Continuing,
    /// 新規: new in this edition.
    New,
    /// 拡充 (also written 拡大): continuing with more scope or money.
    Expanded,
    /// 縮小: continuing with less.
    Reduced,
    /// 完了: finished in this edition.
    Completed,
    /// 廃止: abolished.
    Abolished,
    /// 休止: paused.
    Suspended,
    /// 統合: merged into another project.
    Merged,
    /// A word outside the standard vocabulary, kept as written.
    Other(String),
}

/// The standard statuses with their canonical Japanese label, in display order.
pub const STANDARD: [(Status, &str); 8] = [
    (Status::New, "新規"),
    (Status::Continuing, "継続"),
    (Status::Expanded, "拡充"),
    (Status::Reduced, "縮小"),
    (Status::Completed, "完了"),
    (Status::Suspended, "休止"),
    (Status::Merged, "統合"),
    (Status::Abolished, "廃止"),
];

/// Synonyms that mean a standard status.
const ALIASES: [(&str, Status); 3] = [
    ("拡大", Status::Expanded),
    ("終了", Status::Completed),
    ("新", Status::New),
];

impl Status {
    /// Reads a 区分 cell. Standard words and their synonyms map to their variant; anything
    /// else becomes [`Status::Other`] with the trimmed, NFKC-normalised text.
    pub fn parse(text: &str) -> Status {
        let t: String = text.nfkc().filter(|c| !c.is_whitespace()).collect();
        STANDARD
            .iter()
            .find(|(_, label)| *label == t)
            .map(|(s, _)| s.clone())
            .or_else(|| {
                ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == t)
                    .map(|(_, s)| s.clone())
            })
            .unwrap_or(Status::Other(t))
    }

    /// The canonical Japanese label (`継続`), or the text of an unknown word.
    pub fn label(&self) -> &str {
        match self {
            Status::Other(text) => text,
            known => STANDARD
                .iter()
                .find(|(s, _)| s == known)
                .map(|(_, label)| *label)
                .unwrap_or(""),
        }
    }

    /// A stable ASCII key for URLs and open data: `new`, `continuing`, …; `None` for
    /// words outside the standard vocabulary.
    pub fn key(&self) -> Option<&'static str> {
        Some(match self {
            Status::Continuing => "continuing",
            Status::New => "new",
            Status::Expanded => "expanded",
            Status::Reduced => "reduced",
            Status::Completed => "completed",
            Status::Abolished => "abolished",
            Status::Suspended => "suspended",
            Status::Merged => "merged",
            Status::Other(_) => return None,
        })
    }

    /// True for the eight standard statuses (and their synonyms).
    pub fn is_standard(&self) -> bool {
        !matches!(self, Status::Other(_))
    }

    /// True when `text` reads as a standard status or synonym; used to recognise the 区分
    /// cell in a row whose columns are shifted.
    pub fn is_standard_word(text: &str) -> bool {
        Status::parse(text).is_standard()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_words_and_aliases() {
        assert_eq!(Status::parse("継続"), Status::Continuing);
        assert_eq!(Status::parse(" 新規 "), Status::New);
        assert_eq!(Status::parse("拡大"), Status::Expanded);
        assert_eq!(Status::parse("拡大").label(), "拡充");
        assert_eq!(Status::parse("見直し"), Status::Other("見直し".into()));
        assert!(!Status::parse("見直し").is_standard());
        assert_eq!(Status::New.key(), Some("new"));
    }
}
