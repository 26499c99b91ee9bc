//! Shared pieces of the cache benchmarks (`scripts/bench-cache` runs them all):
//! flag parsing, a seeded random number generator, Zipf sampling and medians.
//! Dependency-free on purpose: the figures must not hinge on a sampling crate's version.

use std::collections::HashMap;

/// `--name value` flags. Every flag takes a value; an unknown one is an error, so a typo
/// cannot silently run the default benchmark.
pub struct Flags {
    values: HashMap<String, String>,
    program: &'static str,
}

impl Flags {
    /// Parses `std::env::args()`; `known` lists the accepted names (without `--`).
    pub fn parse(program: &'static str, known: &[&str]) -> Result<Flags, String> {
        Self::parse_from(program, known, std::env::args().skip(1))
    }

    pub fn parse_from(
        program: &'static str,
        known: &[&str],
        args: impl IntoIterator<Item = String>,
    ) -> Result<Flags, String> {
        let mut values = HashMap::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("{program}: unexpected argument {arg:?}"));
            };
            let (name, value) = match name.split_once('=') {
                Some((n, v)) => (n.to_owned(), v.to_owned()),
                None => {
                    let v = args
                        .next()
                        .ok_or_else(|| format!("{program}: --{name} needs a value"))?;
                    (name.to_owned(), v)
                }
            };
            if !known.contains(&name.as_str()) {
                return Err(format!(
                    "{program}: unknown flag --{name} (known: --{})",
                    known.join(", --")
                ));
            }
            values.insert(name, value);
        }
        Ok(Flags { values, program })
    }

    pub fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("{}: --{name}: cannot parse {v:?}", self.program)),
        }
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// SplitMix64: small, fast, and the same sequence on every machine for a given seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Zipf(s) over ranks `0..n` (rank 0 the most popular), by inverse CDF: a table of the
/// cumulative probabilities and a binary search per sample.
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Zipf {
        assert!(n > 0, "Zipf needs at least one rank");
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for k in 1..=n {
            total += 1.0 / (k as f64).powf(s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Zipf { cdf }
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.next_f64();
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.cdf.len() - 1)
    }

    pub fn len(&self) -> usize {
        self.cdf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cdf.is_empty()
    }

    /// Probability mass of the `k` most popular ranks: the hit rate of an oracle cache
    /// holding exactly those (an upper bound for any policy on a static trace).
    pub fn top_mass(&self, k: usize) -> f64 {
        if k == 0 {
            0.0
        } else {
            self.cdf[(k - 1).min(self.cdf.len() - 1)]
        }
    }
}

/// The median of the values (mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// This process's resident set size in bytes, from `/proc/self/status` (Linux).
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

pub const MIB: u64 = 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_frequencies_follow_one_over_rank() {
        let z = Zipf::new(1_000, 1.0);
        let mut rng = Rng::new(7);
        let mut counts = vec![0u32; 1_000];
        for _ in 0..200_000 {
            counts[z.sample(&mut rng)] += 1;
        }
        // P(rank 0) / P(rank 1) = 2 and P(rank 0) / P(rank 9) = 10 for s = 1.
        let r1 = counts[0] as f64 / counts[1] as f64;
        let r9 = counts[0] as f64 / counts[9] as f64;
        assert!((1.8..2.2).contains(&r1), "{r1}");
        assert!((8.5..11.5).contains(&r9), "{r9}");
        assert!((z.top_mass(1_000) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn the_sequence_repeats_for_a_seed() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn flags_parse_and_reject_unknown_names() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let f = Flags::parse_from(
            "t",
            &["users", "seed"],
            args(&["--users", "10", "--seed=3"]),
        )
        .unwrap();
        assert_eq!(f.get("users", 0u64).unwrap(), 10);
        assert_eq!(f.get("seed", 0u64).unwrap(), 3);
        assert_eq!(f.get("missing", 5u64).unwrap(), 5);
        assert!(Flags::parse_from("t", &["users"], args(&["--user", "1"])).is_err());
        assert!(Flags::parse_from("t", &["users"], args(&["--users"])).is_err());
    }
}
