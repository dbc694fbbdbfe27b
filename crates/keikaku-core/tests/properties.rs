//! Properties that must hold for any input: reading never panics, whatever the bytes, and
//! the canonical JSON round-trips any plan exactly.

mod golden;

use keikaku_core::import::{self, Context};
use keikaku_core::source::Source;
use keikaku_core::synth::Generator;
use keikaku_core::{EditionSpan, FiscalYear, Municipality, MunicipalityCode, canonical};
use proptest::prelude::*;

fn context() -> Context {
    Context {
        municipality: Some(Municipality {
            code: MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        }),
        ..Context::default()
    }
}

fn read_all_layouts(bytes: &[u8]) {
    let source = Source {
        name: "fuzz",
        bytes,
    };
    let _ = import::read(&source, None, &context());
    for layout in import::layouts() {
        let _ = import::read(&source, Some(*layout), &context());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        read_all_layouts(&bytes);
    }

    #[test]
    fn arbitrary_text_with_tabs_never_panics(text in "[\\t\\n0-9A-Za-z施策基本目標No事業名費区分継続新規Ⅲ()（）,△\\-※【】 ]{0,600}") {
        read_all_layouts(text.as_bytes());
    }

    /// Deletes, duplicates or replaces a stretch of the seed and reads the result.
    #[test]
    fn mutated_seed_never_panics(
        start in 0usize..golden::SEED.len(),
        len in 0usize..400,
        op in 0u8..4,
        junk in "[\\t\\n0-9,\\-a-z継続Ⅲ()]{0,20}",
    ) {
        let seed = golden::SEED.as_bytes();
        let end = (start + len).min(seed.len());
        let mut bytes = Vec::with_capacity(seed.len() + junk.len());
        match op {
            0 => { bytes.extend_from_slice(&seed[..start]); bytes.extend_from_slice(&seed[end..]); }
            1 => { bytes.extend_from_slice(&seed[..end]); bytes.extend_from_slice(&seed[start..]); }
            2 => { bytes.extend_from_slice(&seed[..start]); bytes.extend_from_slice(junk.as_bytes()); bytes.extend_from_slice(&seed[end..]); }
            _ => { bytes.extend_from_slice(&seed[..start]); }
        }
        read_all_layouts(&bytes);
    }

    /// A workbook damaged anywhere (flipped, deleted or truncated bytes) is reported, never a panic.
    #[test]
    fn damaged_workbooks_never_panic(at in 0usize..20_000, len in 0usize..64, op in 0u8..3, byte in any::<u8>()) {
        let bytes = template_bytes();
        let at = at % bytes.len();
        let mut damaged = bytes.clone();
        match op {
            0 => { for b in damaged.iter_mut().skip(at).take(len.max(1)) { *b ^= byte | 1; } }
            1 => { damaged.drain(at..(at + len).min(bytes.len())); }
            _ => { damaged.truncate(at); }
        }
        let context = Context { base: Some(keikaku_core::import::Base { edition: seed_edition(), other_ids: Default::default(), previous: None }), ..Context::default() };
        let source = Source { name: "damaged.xlsx", bytes: &damaged };
        let _ = import::read(&source, None, &context);
        let _ = import::read(&source, Some(&keikaku_core::import::sheet::SheetXlsx), &context);
    }

    /// Export → import → export gives the same bytes for generated plans whose text
    /// fields hold anything a user might type (quotes, markup, newlines, emoji).
    #[test]
    fn canonical_json_round_trips(
        seed in any::<u64>(),
        policies in 1u32..6,
        projects in 1u32..6,
        names in proptest::collection::vec("\\PC{0,40}", 1..8),
        first in 2019i32..2030,
    ) {
        let municipality = Municipality { code: MunicipalityCode::parse("072052").expect("code"), name: "白河市".into() };
        let span = EditionSpan::starting(FiscalYear::new(first).expect("year"), 3).expect("span");
        let mut edition = Generator::new(seed).edition(&municipality, span, policies, projects, true);
        for (i, project) in edition.goals.iter_mut().flat_map(|g| g.policies.iter_mut()).flat_map(|p| p.projects.iter_mut()).enumerate() {
            project.name = names[i % names.len()].clone();
            project.summary = format!("{}\n\"{}\"", names[(i + 1) % names.len()], i);
        }
        let json = canonical::to_json(std::slice::from_ref(&edition));
        let source = Source { name: "plan.json", bytes: json.as_bytes() };
        let parsed = import::read(&source, None, &Context::default());
        prop_assert_eq!(parsed.editions.len(), 1);
        prop_assert_eq!(&parsed.editions[0].edition, &edition);
        let again = canonical::to_json(&[parsed.editions[0].edition.clone()]);
        prop_assert_eq!(again, json);
    }
}

fn seed_edition() -> keikaku_core::Edition {
    let source = Source {
        name: "shirakawa-r2-r4-goal7.txt",
        bytes: golden::SEED.as_bytes(),
    };
    import::read(&source, None, &context())
        .editions
        .remove(0)
        .edition
}

fn template_bytes() -> Vec<u8> {
    keikaku_core::sheet::template::to_xlsx(&seed_edition(), &[]).expect("template")
}

#[test]
fn seed_round_trips_through_canonical_json() {
    let source = Source {
        name: "shirakawa-r2-r4-goal7.txt",
        bytes: golden::SEED.as_bytes(),
    };
    let parsed = import::read(&source, None, &context());
    let edition = parsed.editions[0].edition.clone();
    let json = canonical::to_json(std::slice::from_ref(&edition));
    let back = import::read(
        &Source {
            name: "export.json",
            bytes: json.as_bytes(),
        },
        None,
        &Context::default(),
    );
    assert!(!back.report.has_errors(), "{:?}", back.report);
    assert_eq!(back.editions[0].edition, edition);
    assert_eq!(
        canonical::to_json(&[back.editions[0].edition.clone()]),
        json
    );
    // "-" stays null, never 0.
    assert!(json.contains("\"total\": null"));
}
