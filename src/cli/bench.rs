//! `keikaku bench`: how fast keikaku reads, validates and stores plans, on SQLite and (with
//! `--postgres URL`) PostgreSQL. Prints figures; it asserts nothing. Results are recorded in
//! `docs/benchmarks.md`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use keikaku::config::Config;
use keikaku::ops::import::{self, ImportRequest};
use keikaku::storage::{DatabaseUrl, Store, scratch};
use keikaku_core::aggregate::{GroupBy, aggregate};
use keikaku_core::import::Context;
use keikaku_core::synth::Generator;
use keikaku_core::validate::{SourceMap, check_edition};
use keikaku_core::{EditionSpan, Municipality, MunicipalityCode, canonical};

use super::output::table;

use keikaku::ops::sample::BYTES as SEED;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Repetitions of each small measurement (the median is reported).
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
    /// Policies in the synthetic plan.
    #[arg(long, default_value_t = 1000)]
    pub policies: u32,
    /// Projects per policy in the synthetic plan.
    #[arg(long, default_value_t = 30)]
    pub projects: u32,
    /// Also measure PostgreSQL at this URL (a scratch schema is created and dropped).
    #[arg(long, value_name = "URL", env = "KEIKAKU_BENCH_PG_URL")]
    pub postgres: Option<String>,
    /// Instead: time the aggregations behind reports and comparisons on the `--db` database.
    #[arg(long)]
    pub queries: bool,
    /// With --queries: print JSON.
    #[arg(long, requires = "queries")]
    pub json: bool,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

fn shirakawa() -> anyhow::Result<Municipality> {
    Ok(Municipality {
        code: MunicipalityCode::parse("072052")?,
        name: "白河市".into(),
    })
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn rate(count: usize, d: Duration) -> String {
    let per_second = count as f64 / d.as_secs_f64().max(1e-9);
    format!(
        "{} projects/s",
        keikaku_core::money::group_thousands(per_second.round() as i64)
    )
}

/// Runs `bench`.
pub async fn run(config: &Config, args: BenchArgs) -> anyhow::Result<ExitCode> {
    if args.queries {
        return super::bench_queries::run(config, &args).await;
    }
    let context = Context {
        municipality: Some(shirakawa()?),
        ..Context::default()
    };
    let runs = args.runs.max(1);
    let mut rows: Vec<Vec<String>> = Vec::new();

    let parse_samples: Vec<Duration> = (0..runs)
        .map(|_| time(|| import::validate("seed.txt", SEED, None, &context)).1)
        .collect();
    let seed_parse = median(parse_samples);
    rows.push(vec![
        "seed: read + validate (33 projects)".into(),
        "-".into(),
        ms(seed_parse),
        rate(33, seed_parse),
    ]);

    let span = EditionSpan::parse("R2-R4").ok_or_else(|| anyhow::anyhow!("span"))?;
    let (synthetic, generate) = time(|| {
        Generator::new(1).edition(
            &shirakawa().unwrap_or_else(|_| keikaku_core::Municipality::unspecified()),
            span,
            args.policies,
            args.projects,
            false,
        )
    });
    let count = synthetic.projects().count();
    let label = format!("{} policies × {} projects", args.policies, args.projects);
    rows.push(vec![
        format!("synthetic: generate ({label})"),
        "-".into(),
        ms(generate),
        rate(count, generate),
    ]);
    let (_, validate) =
        time(|| check_edition(&synthetic, &SourceMap::default(), &Default::default()));
    rows.push(vec![
        "synthetic: validate".into(),
        "-".into(),
        ms(validate),
        rate(count, validate),
    ]);
    let (json, to_json) = time(|| canonical::to_json(std::slice::from_ref(&synthetic)));
    rows.push(vec![
        "synthetic: canonical JSON export".into(),
        "-".into(),
        ms(to_json),
        rate(count, to_json),
    ]);
    let (parsed, from_json) =
        time(|| import::validate("synthetic.json", json.as_bytes(), None, &Context::default()));
    anyhow::ensure!(!parsed.report.has_errors(), "synthetic plan has errors");
    rows.push(vec![
        "synthetic: read + validate JSON".into(),
        "-".into(),
        ms(from_json),
        rate(count, from_json),
    ]);
    let (_, report) = time(|| aggregate(&synthetic, GroupBy::Department, None));
    rows.push(vec![
        "synthetic: report by department (in memory)".into(),
        "-".into(),
        ms(report),
        rate(count, report),
    ]);

    let dir = tempfile::tempdir()?;
    let mut targets = vec![(
        "SQLite",
        DatabaseUrl::Sqlite(dir.path().join("bench.db")),
        None,
    )];
    if let Some(base) = &args.postgres {
        let schema = format!("keikaku_bench_{}", std::process::id());
        targets.push((
            "PostgreSQL",
            scratch::create_schema(base, &schema).await?,
            Some((base.clone(), schema)),
        ));
    }
    for (backend, url, cleanup) in targets {
        let store = Store::open(&url).await?;
        let mut seed_store = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let request = ImportRequest {
                name: "seed.txt",
                bytes: SEED,
                layout: None,
                context: context.clone(),
                replace: true,
                actor: "bench",
            };
            import::import(&store, request).await?;
            seed_store.push(start.elapsed());
        }
        let seed_store = median(seed_store);
        rows.push(vec![
            "seed: read + validate + store".into(),
            backend.into(),
            ms(seed_store),
            rate(33, seed_store),
        ]);

        let start = Instant::now();
        let request = ImportRequest {
            name: "synthetic.json",
            bytes: json.as_bytes(),
            layout: None,
            context: Context::default(),
            replace: true,
            actor: "bench",
        };
        import::import(&store, request).await?;
        let store_time = start.elapsed();
        rows.push(vec![
            format!("synthetic: read + validate + store ({count} projects)"),
            backend.into(),
            ms(store_time),
            rate(count, store_time),
        ]);

        let infos = store.editions().await?;
        let id = infos
            .iter()
            .find(|e| e.source == "synthetic")
            .map(|e| e.id)
            .ok_or_else(|| anyhow::anyhow!("stored edition"))?;
        let start = Instant::now();
        let loaded = store.edition(id).await?;
        let load = start.elapsed();
        anyhow::ensure!(
            loaded.projects().count() == count,
            "loaded a different number of projects"
        );
        rows.push(vec![
            "synthetic: load edition".into(),
            backend.into(),
            ms(load),
            rate(count, load),
        ]);
        store.close().await;
        if let Some((base, schema)) = cleanup {
            scratch::drop_schema(&base, &schema).await?;
        }
    }
    println!(
        "{}",
        table(
            &["measurement", "database", "median time", "throughput"],
            &[2, 3],
            rows
        )
    );
    println!(
        "runs per small measurement: {runs}; machine: {} logical CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    Ok(ExitCode::SUCCESS)
}
