//! Writing CSV: the open-data 事業 table and the department sheet of a synthetic edition, each
//! text cell passing through the formula-injection guard. `cargo bench -p keikaku-core --bench
//! csv` prints the figures.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keikaku_core::export::{csv, tables};
use keikaku_core::sheet::template;
use keikaku_core::synth::Generator;
use keikaku_core::{EditionSpan, Municipality, MunicipalityCode};

fn bench(c: &mut Criterion) {
    let municipality = Municipality {
        code: MunicipalityCode::parse("072052").expect("code"),
        name: "白河市".into(),
    };
    let span = EditionSpan::parse("R2-R4").expect("span");
    let edition = Generator::new(7).edition(&municipality, span, 100, 30, true);
    let editions = std::slice::from_ref(&edition);
    let mut group = c.benchmark_group("csv");
    // 3,000 projects × 3 fiscal years.
    group.throughput(Throughput::Elements(9_000));
    group.bench_function("open data 事業 table (9,000 rows × 24 columns)", |b| {
        b.iter(|| csv::to_string(&tables::projects(editions)))
    });
    group.throughput(Throughput::Elements(3_000));
    group.bench_function("department sheet (3,000 rows × 32 columns)", |b| {
        b.iter(|| template::to_csv(&edition))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
