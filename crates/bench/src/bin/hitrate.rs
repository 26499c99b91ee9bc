//! Hit rate of the in-process tier (`LocalTier`) on a Zipf trace, LRU against TinyLFU,
//! with and without invalidations.
//!
//! Each access picks a user by Zipf(s) popularity. A read looks up that user's key and,
//! on a miss, inserts the user's entry (TTL 1 h), as the server's read path does. A write
//! invalidates the user the way the server does: it bumps the user's generation, so the
//! next read of that user builds a new key and the old entry is never read again (it
//! stays in the tier until evicted). The cache holds `--cache-keys` entries (default 10 %
//! of the users); `max_bytes` is set generously so the key limit is the one that binds.
//! The first `--warmup-pct` of the accesses fill the cache and are not counted. The trace
//! comes from a fixed seed, so each policy sees the same accesses and runs repeat.
//!
//! `hitrate [--users 100000] [--accesses 2000000] [--entry-bytes 2048] [--cache-keys U/10]
//!          [--write-pcts 0,10] [--policies lru,tinylfu] [--s 1.0] [--warmup-pct 10] [--seed 42]`

use bytes::Bytes;
use flowats_bench::{Flags, Rng, Zipf};
use flowats_server::cache::CacheKeys;
use flowats_server::cache::local::{LocalTier, Policy};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use uuid::Uuid;

const TTL: Duration = Duration::from_secs(3600);

struct Run {
    policy: Policy,
    write_pct: f64,
    reads: u64,
    hits: u64,
    writes: u64,
    evictions: u64,
    keys: u64,
    secs: f64,
}

impl Run {
    fn rate(&self) -> f64 {
        if self.reads == 0 {
            0.0
        } else {
            self.hits as f64 / self.reads as f64
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

fn parse_policy(name: &str) -> Result<Policy, String> {
    match name.trim() {
        "lru" => Ok(Policy::Lru),
        "tinylfu" => Ok(Policy::TinyLfu),
        other => Err(format!("hitrate: unknown policy {other:?} (lru, tinylfu)")),
    }
}

async fn run() -> Result<(), String> {
    let flags = Flags::parse(
        "hitrate",
        &[
            "users",
            "accesses",
            "entry-bytes",
            "cache-keys",
            "write-pcts",
            "policies",
            "s",
            "warmup-pct",
            "seed",
        ],
    )?;
    let users: usize = flags.get("users", 100_000)?;
    let accesses: u64 = flags.get("accesses", 2_000_000)?;
    let entry_bytes: usize = flags.get("entry-bytes", 2048)?;
    let cache_keys: u64 = flags.get("cache-keys", (users as u64 / 10).max(1))?;
    let s: f64 = flags.get("s", 1.0)?;
    let warmup_pct: f64 = flags.get("warmup-pct", 10.0)?;
    let seed: u64 = flags.get("seed", 42)?;
    let write_pcts: Vec<f64> = flags
        .text("write-pcts")
        .unwrap_or("0,10")
        .split(',')
        .map(|p| {
            p.trim()
                .parse()
                .map_err(|_| format!("hitrate: bad --write-pcts {p:?}"))
        })
        .collect::<Result<_, _>>()?;
    let policies: Vec<Policy> = flags
        .text("policies")
        .unwrap_or("lru,tinylfu")
        .split(',')
        .map(parse_policy)
        .collect::<Result<_, _>>()?;
    if users == 0 || accesses == 0 {
        return Err("hitrate: --users and --accesses must be positive".into());
    }

    let zipf = Zipf::new(users, s);
    let warmup = (accesses as f64 * warmup_pct / 100.0) as u64;
    // Generous: every entry weighs the key-limit floor (8 KiB) rather than its ~2 KB, so
    // the tier holds exactly `cache_keys` entries and bytes never bind.
    let max_bytes = cache_keys * 8192;
    let value = Bytes::from(vec![b'x'; entry_bytes]);

    println!("### Hit rate: in-process tier, Zipf trace\n");
    println!(
        "Zipf(s={s}) over {users} users, {accesses} accesses (first {warmup} = {warmup_pct}% warm-up, \
         not counted), entry {entry_bytes} B, cache limit {cache_keys} keys \
         ({:.1}% of users; max_bytes {max_bytes} so the key limit binds), TTL 1 h, seed {seed}. \
         A write bumps the user's generation (the next read uses a new key). \
         Hit rate = hits / reads after warm-up.\n",
        cache_keys as f64 * 100.0 / users as f64,
    );
    println!(
        "Static oracle bound (the {cache_keys} most popular users always cached, no writes): {:.2}%\n",
        zipf.top_mass(cache_keys as usize) * 100.0
    );

    let mut runs = Vec::new();
    for &write_pct in &write_pcts {
        for &policy in &policies {
            let r = trace(
                &zipf, accesses, warmup, write_pct, policy, cache_keys, max_bytes, &value, seed,
            )
            .await;
            eprintln!(
                "hitrate: {} writes={write_pct}% -> {:.2}% in {:.1}s",
                policy.name(),
                r.rate() * 100.0,
                r.secs
            );
            runs.push(r);
        }
    }

    println!(
        "| policy | writes | reads counted | hits | hit rate | writes (all) | size evictions | keys at end | time |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &runs {
        println!(
            "| {} | {}% | {} | {} | **{:.2}%** | {} | {} | {} | {:.1} s |",
            r.policy.name(),
            r.write_pct,
            r.reads,
            r.hits,
            r.rate() * 100.0,
            r.writes,
            r.evictions,
            r.keys,
            r.secs
        );
    }
    println!();
    for &write_pct in &write_pcts {
        let mut of_mix: Vec<&Run> = runs.iter().filter(|r| r.write_pct == write_pct).collect();
        if of_mix.len() < 2 {
            continue;
        }
        of_mix.sort_by(|a, b| b.rate().total_cmp(&a.rate()));
        let (best, next) = (of_mix[0], of_mix[1]);
        println!(
            "- {write_pct}% writes: **{}** wins, {:.2}% vs {:.2}% ({} {:+.2} points over {})",
            best.policy.name(),
            best.rate() * 100.0,
            next.rate() * 100.0,
            best.policy.name(),
            (best.rate() - next.rate()) * 100.0,
            next.policy.name()
        );
    }
    println!();
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn trace(
    zipf: &Zipf,
    accesses: u64,
    warmup: u64,
    write_pct: f64,
    policy: Policy,
    cache_keys: u64,
    max_bytes: u64,
    value: &Bytes,
    seed: u64,
) -> Run {
    let tier = LocalTier::new(max_bytes, cache_keys, policy);
    let users = zipf.len();
    let ids: Vec<Uuid> = (0..users).map(|u| Uuid::from_u128(u as u128 + 1)).collect();
    let mut generation = vec![0u64; users];
    let mut rng = Rng::new(seed);
    let write_frac = write_pct / 100.0;
    let (mut reads, mut hits, mut writes) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    for i in 0..accesses {
        let user = zipf.sample(&mut rng);
        // Drawn on every access so the user sequence is the same for every write mix.
        let is_write = rng.next_f64() < write_frac;
        if is_write {
            generation[user] += 1;
            writes += 1;
            continue;
        }
        let key = CacheKeys::profile(ids[user]).render("p", 0, generation[user]);
        let hit = tier.get(&key).await.is_some();
        if !hit {
            tier.insert(key, value.clone(), TTL).await;
        }
        if i >= warmup {
            reads += 1;
            hits += hit as u64;
        }
    }
    tier.run_pending_tasks().await;
    let stats = tier.stats();
    Run {
        policy,
        write_pct,
        reads,
        hits,
        writes,
        evictions: stats.evictions_size,
        keys: stats.keys,
        secs: started.elapsed().as_secs_f64(),
    }
}
