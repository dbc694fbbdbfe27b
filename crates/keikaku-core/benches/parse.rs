//! Reading and validating plans, without storage: the seed document (PDF-table text) and a
//! synthetic plan in canonical JSON. `cargo bench -p keikaku-core` prints the figures.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keikaku_core::import::{self, Context};
use keikaku_core::source::Source;
use keikaku_core::synth::Generator;
use keikaku_core::{EditionSpan, Municipality, MunicipalityCode, canonical};

const SEED: &str = include_str!("../../../data/samples/shirakawa-r2-r4-goal7.txt");

fn shirakawa() -> Municipality {
    Municipality {
        code: MunicipalityCode::parse("072052").expect("code"),
        name: "白河市".into(),
    }
}

fn bench(c: &mut Criterion) {
    let context = Context {
        municipality: Some(shirakawa()),
        ..Context::default()
    };
    let mut group = c.benchmark_group("read+validate");
    group.throughput(Throughput::Elements(33));
    group.bench_function("seed (33 projects, pdf-text)", |b| {
        b.iter(|| {
            import::read(
                &Source {
                    name: "seed.txt",
                    bytes: SEED.as_bytes(),
                },
                None,
                &context,
            )
        })
    });
    let span = EditionSpan::parse("R2-R4").expect("span");
    let edition = Generator::new(7).edition(&shirakawa(), span, 100, 30, true);
    let json = canonical::to_json(std::slice::from_ref(&edition));
    group.throughput(Throughput::Elements(3_000));
    group.bench_function("synthetic (100 policies × 30 projects, JSON)", |b| {
        b.iter(|| {
            import::read(
                &Source {
                    name: "s.json",
                    bytes: json.as_bytes(),
                },
                None,
                &Context::default(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
