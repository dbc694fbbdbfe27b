//! Query parameters: one rule for every route (pages, API, downloads, static files).
//!
//! - A route takes the parameters it documents and no others: an unknown parameter is a 400
//!   that names it (a page for people, `bad_request` for the API), never silently ignored, so
//!   a mistyped filter cannot look like an answer.
//! - Tracking parameters that other sites add to shared links (`utm_*`, `fbclid`, `gclid`
//!   and the like, [`is_tracking`]) are dropped before anything else looks at the request:
//!   the link opens the page, answered from the same cache entry as the link without them.
//! - The cache keys a response by its path and [`canonical`] query (tracking parameters
//!   dropped, parameters sorted by name), so neither the order of parameters nor tracking
//!   makes another copy of a page.
//!
//! Handlers declare their parameters with the portal's `PageQuery` or the API's `ApiQuery`
//! ([`NoParams`] for a route that takes none); both check names first with
//! [`check_names`]. As a guard for a handler that forgets, the cache layer refuses a
//! successful answer to a request whose parameters no handler read ([`QueryRead`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::Query;
use axum::http::request::Parts;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde::de::{self, Visitor};

/// Parameter names (besides every `utm_*`) that advertising and social sites append to
/// links; they mean nothing to keikaku.
pub const TRACKING: [&str; 16] = [
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "gclsrc", "msclkid", "yclid", "twclid",
    "ttclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "srsltid",
];

/// True for a tracking parameter: `utm_*` or one of [`TRACKING`].
pub fn is_tracking(name: &str) -> bool {
    name.starts_with("utm_") || TRACKING.contains(&name)
}

/// Characters left as they are in a canonical query: what `application/x-www-form-urlencoded`
/// never needs to escape.
const KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'*');

/// The decoded parameters of a query, in order.
pub fn pairs(query: &str) -> Vec<(String, String)> {
    let uri = format!("/?{query}");
    uri.parse::<axum::http::Uri>()
        .ok()
        .and_then(|uri| Query::<Vec<(String, String)>>::try_from_uri(&uri).ok())
        .map(|Query(pairs)| pairs)
        .unwrap_or_default()
}

/// The canonical form of a query: decoded, tracking parameters dropped, sorted by name
/// (parameters of the same name keep their order), encoded again. Handlers decode it to
/// exactly what they would have read from the original.
pub fn canonical(query: &str) -> String {
    let mut kept: Vec<(String, String)> = pairs(query)
        .into_iter()
        .filter(|(name, _)| !is_tracking(name))
        .collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::with_capacity(query.len());
    for (name, value) in &kept {
        if !out.is_empty() {
            out.push('&');
        }
        out.extend(utf8_percent_encode(name, KEEP));
        out.push('=');
        out.extend(utf8_percent_encode(value, KEEP));
    }
    out
}

/// Put in a request's extensions by the cache layer when the request has parameters; the
/// query extractors set it, so the layer knows whether a handler read them.
#[derive(Debug, Clone, Default)]
pub struct QueryRead(Arc<AtomicBool>);

impl QueryRead {
    /// True once an extractor has read the query.
    pub fn is_read(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Parameters of a route that takes none.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Parameters a route does not take.
#[derive(Debug)]
pub struct Unknown {
    /// The names given that the route does not take, in order.
    pub names: Vec<String>,
    /// The names it takes.
    pub accepted: &'static [&'static str],
}

impl Unknown {
    /// The Japanese message of a page.
    pub fn japanese(&self) -> String {
        let given = self
            .names
            .iter()
            .map(|n| format!("「{}」", n.escape_debug()))
            .collect::<String>();
        if self.accepted.is_empty() {
            format!("このページは URL のパラメータを取りません（指定されたもの: {given}）。")
        } else {
            format!(
                "このページでは使えないパラメータ {given} が URL にあります（使えるもの: {}）。",
                self.accepted.join("、")
            )
        }
    }

    /// The English message of the API.
    pub fn english(&self) -> String {
        let given = self
            .names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        if self.accepted.is_empty() {
            format!("unknown query parameter {given}: this endpoint takes none")
        } else {
            format!(
                "unknown query parameter {given}: this endpoint takes {}",
                self.accepted.join(", ")
            )
        }
    }
}

/// Records that the request's query was read, then checks that every parameter name is one
/// that `T` takes (tracking parameters aside).
pub fn check_names<T: for<'de> Deserialize<'de>>(parts: &Parts) -> Result<(), Unknown> {
    if let Some(read) = parts.extensions.get::<QueryRead>() {
        read.0.store(true, Ordering::Relaxed);
    }
    let Some(query) = parts.uri.query() else {
        return Ok(());
    };
    let accepted = field_names::<T>();
    let mut names: Vec<String> = pairs(query)
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !is_tracking(name) && !accepted.contains(&name.as_str()))
        .collect();
    names.dedup();
    if names.is_empty() {
        Ok(())
    } else {
        Err(Unknown { names, accepted })
    }
}

/// The field names of a struct that derives `Deserialize` (serde hands them to the
/// deserializer, which is all this one asks for).
pub fn field_names<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The introspector always fails once it has the names: the result is not a value.
    let _ = T::deserialize(FieldNames {
        fields: &mut fields,
    });
    fields
}

/// A deserializer that records the field list of the struct asked of it and stops.
struct FieldNames<'a> {
    fields: &'a mut &'static [&'static str],
}

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.fields = fields;
        Err(de::Error::custom("field names recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[expect(dead_code, reason = "only the field names are read")]
    struct Search {
        q: Option<String>,
        page: Option<u32>,
    }

    #[test]
    fn tracking_parameters_are_dropped_and_the_rest_sorted() {
        assert_eq!(
            canonical("q=%E7%A7%BB%E4%BD%8F&utm_source=x&department=a+b&fbclid=1&utm_medium=y"),
            "department=a%20b&q=%E7%A7%BB%E4%BD%8F"
        );
        assert_eq!(canonical("utm_source=x&gclid=2"), "");
        assert_eq!(canonical(""), "");
        assert_eq!(
            canonical("b=2&a=1&b=1"),
            "a=1&b=2&b=1",
            "same names keep their order"
        );
        // What a handler reads from the canonical form is what it read from the original.
        let original = "q=a%26b%3Dc+d&sort=cost&x=%F0%9F%98%80";
        assert_eq!(pairs(&canonical(original)), {
            let mut p = pairs(original);
            p.sort_by(|a, b| a.0.cmp(&b.0));
            p
        });
    }

    #[test]
    fn field_names_come_from_the_struct() {
        assert_eq!(field_names::<Search>(), ["q", "page"]);
        assert!(field_names::<NoParams>().is_empty());
    }

    #[test]
    fn unknown_names_are_reported_and_tracking_ones_are_not() {
        let parts = |uri: &str| {
            axum::http::Request::builder()
                .uri(uri)
                .body(())
                .expect("request")
                .into_parts()
                .0
        };
        assert!(check_names::<Search>(&parts("/s?q=a&page=2&utm_source=x")).is_ok());
        let unknown = check_names::<Search>(&parts("/s?q=a&n=1&order=x")).expect_err("unknown");
        assert_eq!(unknown.names, ["n", "order"]);
        assert!(unknown.japanese().contains("「n」「order」"));
        assert!(unknown.english().contains("takes q, page"));
        let none = check_names::<NoParams>(&parts("/p?x=1")).expect_err("none taken");
        assert!(none.japanese().contains("パラメータを取りません"));
    }
}
