//! A mutation fuzzer on stable Rust (no nightly, no extra crate), shared by the fuzz targets in
//! `tests/`: `core` (flag-file reader, decoder, compiler, index reader, evaluation, export) and
//! `requests` (the server's request bodies through its real router).
//!
//! A run starts from a seed corpus checked in under `corpus/<target>/`, mutates inputs with
//! byte edits, tokens from the target's dictionary, boundary numbers, line duplication and
//! splices of other inputs, and keeps every input whose outcomes (strings the target returns,
//! such as the shapes of its diagnostics) include one not seen before as a parent for later
//! mutations. A panicking input, or one slower than [`SLOW`], is written to
//! `target/fuzz-crashes/<target>/` and fails the run.
//!
//! Environment: `SWITCHYARD_FUZZ_SECONDS` (default 2), `SWITCHYARD_FUZZ_SEED` (default: from the
//! clock; printed), `SWITCHYARD_FUZZ_INPUT=<file>` (check one input, to reproduce a crash).

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Largest input built (bytes); longer ones are truncated.
pub const MAX_INPUT: usize = 64 * 1024;
/// Most inputs kept as parents.
const MAX_CORPUS: usize = 4_096;
/// An input that takes longer than this to check is reported as a hang.
pub const SLOW: Duration = Duration::from_secs(10);

/// Numbers swapped in for numbers found in an input.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "100",
    "101",
    "100.0001",
    "99.9999",
    "1e309",
    "-1e309",
    "nan",
    ".nan",
    "9223372036854775807",
    "9223372036854775808",
    "0.1",
    "33.333333",
    "1000",
    "65",
];

/// splitmix64: small, fast and reproducible from one seed.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `n` must not be 0.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// One of `items`, which must not be empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One input: the name it is read under (a target may pick a reader by it) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// File name, e.g. `features.yaml`.
    pub name: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// What a target mutates with.
#[derive(Debug, Clone, Copy)]
pub struct Dictionary {
    /// Words inserted anywhere: syntax and field names of the input language.
    pub tokens: &'static [&'static str],
    /// Names an input may be renamed to (empty: names never change).
    pub names: &'static [&'static str],
}

/// Derives a new input from `input`: one to four edits, some taking text from `corpus`.
pub fn mutate(rng: &mut Rng, input: &Input, corpus: &[Input], dict: &Dictionary) -> Input {
    let mut b = input.bytes.clone();
    let mut name = input.name.clone();
    for _ in 0..1 + rng.below(4) {
        let at = if b.is_empty() {
            0
        } else {
            rng.below(b.len() + 1)
        };
        match rng.below(10) {
            0 => {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
            }
            1 => {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    b[i] = rng.next_u64() as u8;
                }
            }
            2 | 3 => {
                let t = rng.pick(dict.tokens).as_bytes();
                b.splice(at..at, t.iter().copied());
            }
            4 => {
                let end = (at + rng.below(64)).min(b.len());
                b.drain(at..end);
            }
            5 => {
                // Repeat a run (duplicate keys, repeated items).
                let end = (at + rng.below(256)).min(b.len());
                let run: Vec<u8> = b[at..end].to_vec();
                b.splice(end..end, run);
            }
            6 => {
                let other = &rng.pick(corpus).bytes;
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let to = (from + rng.below(512)).min(other.len());
                    b.splice(at..at, other[from..to].iter().copied());
                }
            }
            7 => {
                if let Some(start) = (at..b.len()).find(|&i| b[i].is_ascii_digit()) {
                    let end = (start..b.len())
                        .find(|&i| !(b[i].is_ascii_digit() || b[i] == b'.'))
                        .unwrap_or(b.len());
                    b.splice(start..end, rng.pick(NUMBERS).bytes());
                }
            }
            8 => {
                // Indent or outdent the line holding `at`.
                let line = b[..at]
                    .iter()
                    .rposition(|&c| c == b'\n')
                    .map_or(0, |i| i + 1);
                if rng.below(2) == 0 {
                    b.splice(line..line, *b"  ");
                } else if b.get(line) == Some(&b' ') {
                    b.remove(line);
                }
            }
            _ => {
                if !dict.names.is_empty() {
                    name = rng.pick(dict.names).to_string();
                }
            }
        }
    }
    b.truncate(MAX_INPUT);
    Input { name, bytes: b }
}

/// The shape of a message: without quoted parts and digits, so "unknown field `x`" and
/// "unknown field `y`" count as one outcome.
pub fn shape(message: &str) -> String {
    let mut out = String::new();
    let mut quote = None;
    for c in message.chars() {
        match quote {
            None if c == '`' || c == '"' => quote = Some(c),
            None if c.is_ascii_digit() => {}
            None => out.push(c),
            Some(q) if c == q => quote = None,
            Some(_) => {}
        }
    }
    out
}

/// Reads a seed corpus directory, naming each input with `name_of(file name)`.
pub fn read_corpus(dir: &Path, name_of: impl Fn(&str) -> String) -> Vec<Input> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .iter()
        .filter_map(|p| {
            let file = p.file_name()?.to_str()?;
            Some(Input {
                name: name_of(file),
                bytes: std::fs::read(p).ok()?,
            })
        })
        .collect()
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Mutated inputs checked (seeds not counted).
    pub executions: usize,
    /// How long the mutation loop ran.
    pub elapsed: Duration,
    /// Inputs in the corpus at the end, seeds included.
    pub corpus: usize,
    /// Distinct outcomes seen.
    pub outcomes: usize,
    /// The slowest check and its input's size.
    pub slowest: (Duration, usize),
    /// Saved inputs that crashed or hung, with what happened.
    pub crashes: Vec<(PathBuf, String)>,
}

/// Runs `target` on `input`; `Err` carries the panic message.
pub fn check<F: FnMut(&Input) -> Vec<String>>(
    target: &mut F,
    input: &Input,
) -> Result<Vec<String>, String> {
    catch_unwind(AssertUnwindSafe(|| target(input))).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".to_string())
    })
}

fn save_crash(dir: &Path, input: &Input) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let h = input.bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let path = dir.join(format!(
        "crash-{h:016x}-{}",
        input.name.trim_start_matches('.')
    ));
    let _ = std::fs::write(&path, &input.bytes);
    path
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

/// Fuzzes `target` from the seed corpus `corpus/<name>` for `SWITCHYARD_FUZZ_SECONDS`, prints a
/// one-line report to stderr and panics if any input crashed. With `SWITCHYARD_FUZZ_INPUT`
/// set, checks that one file instead (named by `name_of`).
pub fn fuzz<F: FnMut(&Input) -> Vec<String>>(
    name: &str,
    dict: &Dictionary,
    name_of: impl Fn(&str) -> String,
    mut target: F,
) -> Report {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Ok(path) = std::env::var("SWITCHYARD_FUZZ_INPUT") {
        let file = Path::new(&path)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let input = Input {
            name: name_of(file),
            bytes: std::fs::read(&path).unwrap_or_default(),
        };
        if let Err(e) = check(&mut target, &input) {
            panic!("{path}: {e}");
        }
        return Report::default();
    }
    let seconds = env_u64("SWITCHYARD_FUZZ_SECONDS").unwrap_or(2);
    let seed = env_u64("SWITCHYARD_FUZZ_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let crash_dir = root.join("../../target/fuzz-crashes").join(name);
    let mut corpus = read_corpus(&root.join("corpus").join(name), &name_of);
    assert!(!corpus.is_empty(), "no seed corpus in corpus/{name}");
    // Panics are caught and reported with their input: keep the default hook quiet.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut report = Report::default();
    let mut seen: HashSet<String> = HashSet::new();
    for input in corpus.clone() {
        match check(&mut target, &input) {
            Ok(o) => seen.extend(o),
            Err(e) => report.crashes.push((save_crash(&crash_dir, &input), e)),
        }
    }
    let mut rng = Rng(seed);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    while Instant::now() < deadline && report.crashes.len() < 10 {
        let parent = rng.pick(&corpus).clone();
        let child = mutate(&mut rng, &parent, &corpus, dict);
        let t = Instant::now();
        let result = check(&mut target, &child);
        let took = t.elapsed();
        report.executions += 1;
        if took > report.slowest.0 {
            report.slowest = (took, child.bytes.len());
        }
        if took > SLOW {
            let at = save_crash(&crash_dir, &child);
            report.crashes.push((at, format!("took {took:?}")));
        }
        match result {
            Ok(o) => {
                let new = o.into_iter().filter(|s| seen.insert(s.clone())).count();
                if new > 0 && corpus.len() < MAX_CORPUS {
                    corpus.push(child);
                }
            }
            Err(e) => report.crashes.push((save_crash(&crash_dir, &child), e)),
        }
    }
    std::panic::set_hook(hook);
    report.elapsed = start.elapsed();
    report.corpus = corpus.len();
    report.outcomes = seen.len();
    eprintln!(
        "fuzz {name}: seed {seed}: {} executions in {:.1} s, corpus {} inputs, {} outcomes, slowest {:?} ({} bytes), crashes {}",
        report.executions,
        report.elapsed.as_secs_f64(),
        report.corpus,
        report.outcomes,
        report.slowest.0,
        report.slowest.1,
        report.crashes.len()
    );
    assert!(
        report.crashes.is_empty(),
        "crashes (reproduce with SWITCHYARD_FUZZ_INPUT=<file>):\n{}",
        report
            .crashes
            .iter()
            .map(|(p, e)| format!("{}: {e}", p.display()))
            .collect::<Vec<_>>()
            .join("\n")
    );
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_ignore_quoted_text_and_digits() {
        assert_eq!(
            shape("unknown field `x1` at line 12"),
            shape("unknown field `y` at line 3")
        );
        assert_ne!(shape("unknown field `x`"), shape("duplicate key `x`"));
    }

    #[test]
    fn mutation_is_reproducible_from_the_seed() {
        let dict = Dictionary {
            tokens: &["a", "b"],
            names: &[],
        };
        let input = Input {
            name: "f".into(),
            bytes: b"key: 12\nname: x\n".to_vec(),
        };
        let corpus = [input.clone()];
        let run = |seed| {
            let mut rng = Rng(seed);
            (0..50)
                .map(|_| mutate(&mut rng, &input, &corpus, &dict))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }
}
