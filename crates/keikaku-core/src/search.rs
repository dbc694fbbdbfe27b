//! Full-text search over projects, built for Japanese: text has no spaces between words, so
//! documents are indexed by character bigrams (and single characters for one-character
//! queries), after folding that makes equivalent spellings meet:
//!
//! - NFKC (full-width `ＲＰＡ` → `RPA`, half-width `ｶﾞ` → `ガ`, `Ⅲ` → `III`),
//! - lower case (`RPA` → `rpa`),
//! - katakana → hiragana (`フルサト` → `ふるさと`).
//!
//! Bigram postings narrow the candidates; every hit is then confirmed by a substring match on
//! the folded field, and its place is mapped back to the original text so that pages can
//! highlight exactly the words that matched. A query of several words (separated by spaces)
//! finds projects containing all of them, in any field.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use crate::model::Edition;

/// The fields of a project that search looks at, with their weight in ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SearchField {
    /// 事業名.
    Name,
    /// 担当課.
    Department,
    /// 施策 (code and title).
    Policy,
    /// 事業概要.
    Summary,
    /// 地方創生事業 codes and 区分.
    Codes,
}

impl SearchField {
    /// Every field, in the order results show matches.
    pub const ALL: [SearchField; 5] = [
        SearchField::Name,
        SearchField::Department,
        SearchField::Policy,
        SearchField::Summary,
        SearchField::Codes,
    ];

    fn weight(self) -> u32 {
        match self {
            SearchField::Name => 10,
            SearchField::Department => 5,
            SearchField::Policy => 3,
            SearchField::Summary => 2,
            SearchField::Codes => 1,
        }
    }

    /// A stable ASCII name for APIs: `name`, `department`, `policy`, `summary`, `codes`.
    pub fn key(self) -> &'static str {
        match self {
            SearchField::Name => "name",
            SearchField::Department => "department",
            SearchField::Policy => "policy",
            SearchField::Summary => "summary",
            SearchField::Codes => "codes",
        }
    }

    /// The Japanese label.
    pub fn label(self) -> &'static str {
        match self {
            SearchField::Name => "事業名",
            SearchField::Department => "担当課",
            SearchField::Policy => "施策",
            SearchField::Summary => "事業概要",
            SearchField::Codes => "地方創生事業・区分",
        }
    }
}

/// Text folded for matching, with the original character each folded character came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// The folded characters.
    pub chars: Vec<char>,
    /// For each folded character, the index of the first original character of its source.
    starts: Vec<usize>,
    /// For each folded character, the index after the last original character of its source.
    ends: Vec<usize>,
}

/// True for marks that belong to the character before them (dakuten, combining accents).
fn is_mark(c: char) -> bool {
    matches!(c, '\u{3099}'..='\u{309A}' | '\u{FF9E}'..='\u{FF9F}' | '\u{0300}'..='\u{036F}')
}

fn fold_char(c: char) -> char {
    match c {
        'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        'ヽ' | 'ヾ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        c if c.is_whitespace() => ' ',
        c => c.to_lowercase().next().unwrap_or(c),
    }
}

/// Folds `text` for matching (see the module documentation).
pub fn fold(text: &str) -> Folded {
    let original: Vec<char> = text.chars().collect();
    let mut folded = Folded {
        chars: Vec::with_capacity(original.len()),
        starts: Vec::new(),
        ends: Vec::new(),
    };
    let mut i = 0;
    while i < original.len() {
        let mut end = i + 1;
        while end < original.len() && is_mark(original[end]) {
            end += 1;
        }
        let chunk: String = original[i..end].iter().collect();
        for c in chunk.nfkc() {
            if c.is_whitespace() && folded.chars.last() == Some(&' ') {
                continue;
            }
            folded.chars.push(fold_char(c));
            folded.starts.push(i);
            folded.ends.push(end);
        }
        i = end;
    }
    folded
}

/// Folds a query into its terms (words separated by spaces), dropping empty ones.
pub fn query_terms(query: &str) -> Vec<Vec<char>> {
    let folded = fold(query);
    folded
        .chars
        .split(|c| *c == ' ')
        .filter(|t| !t.is_empty())
        .map(<[char]>::to_vec)
        .collect()
}

impl Folded {
    /// Every occurrence of `term`, as ranges of original character indices.
    pub fn find_all(&self, term: &[char]) -> Vec<(usize, usize)> {
        if term.is_empty() || term.len() > self.chars.len() {
            return Vec::new();
        }
        self.chars
            .windows(term.len())
            .enumerate()
            .filter(|(_, window)| *window == term)
            .map(|(at, _)| (self.starts[at], self.ends[at + term.len() - 1]))
            .collect()
    }
}

/// Where a query matched in one field of a result, in original character indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMatch {
    /// The field.
    pub field: SearchField,
    /// Matched ranges `[start, end)` of the field's original text, sorted, not overlapping.
    pub ranges: Vec<(usize, usize)>,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Index of the project in the order given to [`Index::build`].
    pub document: usize,
    /// Higher is better.
    pub score: u32,
    /// Fields that matched, in [`SearchField::ALL`] order.
    pub matches: Vec<FieldMatch>,
}

impl Hit {
    /// The matched ranges in `field` (empty when it did not match).
    pub fn ranges(&self, field: SearchField) -> &[(usize, usize)] {
        self.matches
            .iter()
            .find(|m| m.field == field)
            .map_or(&[], |m| m.ranges.as_slice())
    }
}

/// A search index over a list of projects, compact enough to hold every municipality's
/// plans in memory: the folded text of each field (matches are confirmed on it, and mapped
/// back to the original text only for the hits), and the documents of each bigram in one
/// flat, sorted list.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// The original text of each document.
    texts: Vec<DocumentText>,
    /// Folded text of each document's fields, in [`SearchField::ALL`] order.
    folded: Vec<Box<str>>,
    /// Each bigram (sorted) with the start of its documents in `postings`.
    keys: Vec<((char, char), u32)>,
    /// Document numbers, ascending within each bigram.
    postings: Vec<u32>,
}

/// Pairs a field's last character with this, so that every character starts a bigram and
/// one-character queries find it.
const END: char = '\u{0}';

/// The text of each field of a project, as search sees it.
#[derive(Debug, Clone, Default)]
pub struct DocumentText {
    /// 事業名.
    pub name: String,
    /// 担当課, space-separated.
    pub departments: String,
    /// Policy code and title.
    pub policy: String,
    /// 事業概要.
    pub summary: String,
    /// Strategy codes (as written and normalised) and 区分.
    pub codes: String,
}

impl DocumentText {
    /// The text of `field`, as indexed (match ranges refer to it).
    pub fn field(&self, field: SearchField) -> &str {
        match field {
            SearchField::Name => &self.name,
            SearchField::Department => &self.departments,
            SearchField::Policy => &self.policy,
            SearchField::Summary => &self.summary,
            SearchField::Codes => &self.codes,
        }
    }

    /// The text of every project of `edition`, in document order.
    pub fn of_edition(edition: &Edition) -> Vec<DocumentText> {
        edition
            .projects()
            .map(|(policy, project)| DocumentText {
                name: project.name.clone(),
                departments: project.departments.join(" "),
                policy: format!("{} {}", policy.code, policy.title),
                summary: project.summary.clone(),
                codes: project
                    .strategies
                    .iter()
                    .map(|s| format!("{} {}", s.raw, s.code))
                    .chain(std::iter::once(project.status.label().to_owned()))
                    .collect::<Vec<_>>()
                    .join(" "),
            })
            .collect()
    }
}

impl Index {
    /// Indexes `documents`; hits refer to them by position.
    pub fn build(documents: Vec<DocumentText>) -> Index {
        let mut folded = Vec::with_capacity(documents.len() * SearchField::ALL.len());
        let mut pairs: Vec<((char, char), u32)> = Vec::new();
        for (i, text) in documents.iter().enumerate() {
            let doc = u32::try_from(i).unwrap_or(u32::MAX);
            for field in SearchField::ALL {
                let chars = fold(text.field(field)).chars;
                for pair in chars.windows(2) {
                    pairs.push(((pair[0], pair[1]), doc));
                }
                if let Some(last) = chars.last() {
                    pairs.push(((*last, END), doc));
                }
                folded.push(chars.into_iter().collect::<String>().into_boxed_str());
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut keys: Vec<((char, char), u32)> = Vec::new();
        let mut postings = Vec::with_capacity(pairs.len());
        for (key, doc) in pairs {
            if keys.last().is_none_or(|(k, _)| *k != key) {
                keys.push((key, u32::try_from(postings.len()).unwrap_or(u32::MAX)));
            }
            postings.push(doc);
        }
        keys.shrink_to_fit();
        Index {
            texts: documents,
            folded,
            keys,
            postings,
        }
    }

    /// Number of indexed projects.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The original text of document `document` (match ranges refer to it).
    pub fn text(&self, document: usize) -> Option<&DocumentText> {
        self.texts.get(document)
    }

    /// The documents of the bigram at `keys[i]`.
    fn postings_at(&self, i: usize) -> &[u32] {
        let start = self.keys[i].1 as usize;
        let end = self
            .keys
            .get(i + 1)
            .map_or(self.postings.len(), |k| k.1 as usize);
        &self.postings[start..end]
    }

    /// Candidate documents for one term (all documents containing its bigrams).
    fn candidates(&self, term: &[char]) -> Vec<u32> {
        if let [only] = term {
            // Every bigram starting with the character: a contiguous run of keys.
            let from = self.keys.partition_point(|(k, _)| k.0 < *only);
            let to = self.keys.partition_point(|(k, _)| k.0 <= *only);
            let mut docs: Vec<u32> = (from..to)
                .flat_map(|i| self.postings_at(i).iter().copied())
                .collect();
            docs.sort_unstable();
            docs.dedup();
            return docs;
        }
        let mut lists = Vec::new();
        for pair in term.windows(2) {
            match self
                .keys
                .binary_search_by(|(k, _)| k.cmp(&(pair[0], pair[1])))
            {
                Ok(i) => lists.push(self.postings_at(i)),
                Err(_) => return Vec::new(),
            }
        }
        lists.sort_by_key(|l| l.len());
        let Some((first, rest)) = lists.split_first() else {
            return Vec::new();
        };
        first
            .iter()
            .copied()
            .filter(|doc| rest.iter().all(|list| list.binary_search(doc).is_ok()))
            .collect()
    }

    /// The projects matching every word of `query`, best first; `keep` filters by document
    /// index before scoring (policy, department, … filters).
    pub fn search(&self, query: &str, keep: impl Fn(usize) -> bool) -> Vec<Hit> {
        let terms = query_terms(query);
        let Some((first, rest)) = terms.split_first() else {
            return Vec::new();
        };
        let mut candidates = self.candidates(first);
        for term in rest {
            let next = self.candidates(term);
            candidates.retain(|doc| next.binary_search(doc).is_ok());
        }
        let mut hits = Vec::new();
        for doc in candidates {
            let document = doc as usize;
            if !keep(document) {
                continue;
            }
            let Some(hit) = self.confirm(document, &terms) else {
                continue;
            };
            hits.push(hit);
        }
        hits.sort_by(|a, b| b.score.cmp(&a.score).then(a.document.cmp(&b.document)));
        hits
    }

    /// Checks that every term occurs in some field of the document and collects where, in
    /// the original text.
    fn confirm(&self, document: usize, terms: &[Vec<char>]) -> Option<Hit> {
        let fields = self
            .folded
            .get(document * SearchField::ALL.len()..(document + 1) * SearchField::ALL.len())?;
        let words: Vec<String> = terms.iter().map(|t| t.iter().collect()).collect();
        if !words
            .iter()
            .all(|w| fields.iter().any(|f| f.contains(w.as_str())))
        {
            return None;
        }
        let text = self.texts.get(document)?;
        let mut ranges: HashMap<SearchField, Vec<(usize, usize)>> = HashMap::new();
        let mut score = 0;
        let mut originals: Vec<Option<Folded>> = vec![None; SearchField::ALL.len()];
        for (term, word) in terms.iter().zip(&words) {
            let mut best = 0;
            for (i, field) in SearchField::ALL.iter().enumerate() {
                if !fields[i].contains(word.as_str()) {
                    continue;
                }
                let original = originals[i].get_or_insert_with(|| fold(text.field(*field)));
                let found = original.find_all(term);
                if let Some(first) = found.first() {
                    best = best.max(
                        field.weight() + u32::from(first.0 == 0 && *field == SearchField::Name) * 5,
                    );
                    ranges.entry(*field).or_default().extend(found);
                }
            }
            if best == 0 {
                return None;
            }
            score += best;
        }
        let matches = SearchField::ALL
            .iter()
            .filter_map(|field| {
                let mut r = ranges.remove(field)?;
                r.sort_unstable();
                let mut merged: Vec<(usize, usize)> = Vec::with_capacity(r.len());
                for (start, end) in r {
                    match merged.last_mut() {
                        Some(last) if start <= last.1 => last.1 = last.1.max(end),
                        _ => merged.push((start, end)),
                    }
                }
                Some(FieldMatch {
                    field: *field,
                    ranges: merged,
                })
            })
            .collect();
        Some(Hit {
            document,
            score,
            matches,
        })
    }
}

/// Splits `text` into pieces, each marked as matched or not, for highlighting.
pub fn highlight(text: &str, ranges: &[(usize, usize)]) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut pieces = Vec::new();
    let mut at = 0;
    for &(start, end) in ranges {
        let (start, end) = (start.min(chars.len()), end.min(chars.len()));
        if start < at {
            continue;
        }
        if start > at {
            pieces.push((chars[at..start].iter().collect(), false));
        }
        if end > start {
            pieces.push((chars[start..end].iter().collect(), true));
        }
        at = end;
    }
    if at < chars.len() {
        pieces.push((chars[at..].iter().collect(), false));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, summary: &str) -> DocumentText {
        DocumentText {
            name: name.into(),
            summary: summary.into(),
            ..DocumentText::default()
        }
    }

    fn names(index: &Index, docs: &[DocumentText], query: &str) -> Vec<String> {
        index
            .search(query, |_| true)
            .iter()
            .map(|h| docs[h.document].name.clone())
            .collect()
    }

    #[test]
    fn folding_width_case_and_kana() {
        assert_eq!(fold("ＲＰＡ").chars, "rpa".chars().collect::<Vec<_>>());
        assert_eq!(
            fold("フルサト").chars,
            "ふるさと".chars().collect::<Vec<_>>()
        );
        assert_eq!(fold("ｶﾞｲﾄﾞ").chars, "がいど".chars().collect::<Vec<_>>());
        assert_eq!(fold("Ⅲ(4)").chars, "iii(4)".chars().collect::<Vec<_>>());
    }

    #[test]
    fn finds_by_any_spelling_and_maps_back_to_the_original() {
        let docs = vec![
            doc("ふるさと納税取扱事務", "寄附を募る。"),
            doc("ふるさと大使事業", "PR活動を依頼する。"),
            doc("RPA・AI導入推進事業", "定型業務を自動化する。"),
            doc(
                "定住・二地域居住推進事業",
                "将来的な移住・定住人口の増加を図る。",
            ),
            doc("広報白河発行事業", "毎月1回発行する。"),
        ];
        let index = Index::build(docs.clone());
        assert_eq!(
            names(&index, &docs, "ふるさと"),
            ["ふるさと納税取扱事務", "ふるさと大使事業"]
        );
        assert_eq!(
            names(&index, &docs, "フルサト"),
            ["ふるさと納税取扱事務", "ふるさと大使事業"]
        );
        assert_eq!(names(&index, &docs, "ＲＰＡ"), ["RPA・AI導入推進事業"]);
        assert_eq!(names(&index, &docs, "rpa"), ["RPA・AI導入推進事業"]);
        assert_eq!(names(&index, &docs, "移住"), ["定住・二地域居住推進事業"]);
        assert_eq!(names(&index, &docs, "推進 自動化"), ["RPA・AI導入推進事業"]);
        assert!(names(&index, &docs, "存在しない語").is_empty());
        assert!(names(&index, &docs, "   ").is_empty());

        let hit = &index.search("ｒｐａ", |_| true)[0];
        assert_eq!(hit.matches[0].field, SearchField::Name);
        assert_eq!(hit.matches[0].ranges, [(0, 3)]);
        let pieces = highlight(&docs[2].name, &hit.matches[0].ranges);
        assert_eq!(
            pieces,
            [
                ("RPA".to_owned(), true),
                ("・AI導入推進事業".to_owned(), false)
            ]
        );

        let hit = &index.search("移住", |_| true)[0];
        assert_eq!(hit.matches[0].field, SearchField::Summary);
        let pieces = highlight(&docs[3].summary, &hit.matches[0].ranges);
        assert!(pieces.contains(&("移住".to_owned(), true)), "{pieces:?}");
    }

    #[test]
    fn one_character_queries_and_filters() {
        let docs = vec![doc("職員研修事業", ""), doc("集会所整備事業", "")];
        let index = Index::build(docs.clone());
        assert_eq!(names(&index, &docs, "研"), ["職員研修事業"]);
        // The last character of a field, and a field of one character, are found too.
        assert_eq!(
            names(&index, &docs, "業"),
            ["職員研修事業", "集会所整備事業"]
        );
        let single = vec![DocumentText {
            name: "窓口事業".into(),
            departments: "課".into(),
            ..DocumentText::default()
        }];
        let one = Index::build(single.clone());
        assert_eq!(one.search("課", |_| true).len(), 1);
        assert_eq!(one.search("係", |_| true).len(), 0);
        let hits = index.search("事業", |i| i == 1);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].document, 1);
    }

    #[test]
    fn half_width_voiced_marks_map_to_the_whole_original_character() {
        let docs = vec![doc("ｶﾞｲﾄﾞ作成", "")];
        let index = Index::build(docs.clone());
        let hit = &index.search("ガイド", |_| true)[0];
        let pieces = highlight(&docs[0].name, &hit.matches[0].ranges);
        assert_eq!(pieces[0], ("ｶﾞｲﾄﾞ".to_owned(), true));
    }
}
