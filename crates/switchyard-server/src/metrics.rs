//! Prometheus metrics, rendered in the text exposition format without a global registry.
//!
//! Evaluation metrics use Flipt's names (`flipt_evaluations_*`, labels `flipt_environment`,
//! `flipt_namespace`, `flipt_flag`, `flipt_reason`); sync metrics use Flipt v1's git sync names
//! (`flipt_git_sync_*`) plus `switchyard_snapshot_age_seconds`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use switchyard_core::Reason;

const LATENCY_MS_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 25.0];
const SYNC_SECONDS_BUCKETS: [f64; 10] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, v: f64) {
        for (i, b) in self.bounds.iter().enumerate() {
            if v <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in self.bounds.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Data {
    /// Failed evaluations by environment and kind (`not_found`, `invalid`).
    errors: BTreeMap<String, BTreeMap<&'static str, u64>>,
    snapshot_requests: BTreeMap<(String, String), u64>,
    /// OFREP bulk requests and the flags they evaluated, by environment and namespace.
    bulk: BTreeMap<(String, String), (u64, u64)>,
    streams_in_progress: i64,
    sync_latency: BTreeMap<String, Histogram>,
    sync_attempts: BTreeMap<(String, &'static str), u64>,
    sync_errors: BTreeMap<(String, String), u64>,
    last_success: BTreeMap<String, f64>,
    snapshot_built: BTreeMap<String, SystemTime>,
}

/// The reasons an evaluation result is counted under (`flipt_reason` is their spelling).
const REASONS: [Reason; 4] = [
    Reason::Unknown,
    Reason::FlagDisabled,
    Reason::Match,
    Reason::Default,
];

/// The counter slot of `reason` in [`REASONS`].
fn slot(reason: Reason) -> usize {
    match reason {
        Reason::Unknown => 0,
        Reason::FlagDisabled => 1,
        Reason::Match => 2,
        Reason::Default => 3,
    }
}

/// Flags with their own counters at most; evaluations of flags beyond are counted only in
/// `switchyard_metrics_flags_dropped_total` and the latency histogram (a bound on memory over
/// many commits that add and remove flags).
const MAX_FLAG_SERIES: usize = 100_000;

/// Evaluation counters of one flag.
#[derive(Debug, Default)]
struct FlagCounters {
    requests: AtomicU64,
    /// Results by reason, indexed as [`REASONS`].
    results: [AtomicU64; REASONS.len()],
}

/// The counters of one namespace's flags, by flag key.
type FlagsOfNamespace = BTreeMap<Box<str>, FlagCounters>;

/// Per-flag counters by environment, namespace and flag key. A request takes the read lock and
/// increments atomics (no allocation); only a flag's first evaluation takes the write lock.
#[derive(Debug, Default)]
struct FlagSeries {
    by_env: BTreeMap<Box<str>, BTreeMap<Box<str>, FlagsOfNamespace>>,
    len: usize,
}

/// A latency histogram of atomics: counts per bucket (not cumulative), the sum in nanoseconds.
#[derive(Debug, Default)]
struct LatencyHistogram {
    /// One more than the bounds: the last counts observations above every bound.
    counts: [AtomicU64; LATENCY_MS_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl LatencyHistogram {
    fn observe(&self, elapsed: Duration) {
        let ms = elapsed.as_secs_f64() * 1000.0;
        let i = LATENCY_MS_BUCKETS.partition_point(|b| *b < ms);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// A consistent-enough copy in the cumulative form Prometheus renders.
    fn snapshot(&self) -> Histogram {
        let mut h = Histogram::new(&LATENCY_MS_BUCKETS);
        let mut running = 0;
        for (i, c) in self.counts.iter().enumerate() {
            running += c.load(Ordering::Relaxed);
            if let Some(slot) = h.counts.get_mut(i) {
                *slot = running;
            }
        }
        h.count = running;
        h.sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e6;
        h
    }
}

/// Evaluation counters (lock-free on the request path once a flag has been seen), the rest
/// behind one mutex (requests that are not flag evaluations, and sync events), and the
/// listener's connection counters as atomics.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    flags: RwLock<FlagSeries>,
    flags_dropped: AtomicU64,
    latency: LatencyHistogram,
    data: Mutex<Data>,
    /// Connections open now, their limit, and counts of closed-to-make-room, refused and
    /// failed accepts.
    pub(crate) connections: ConnectionCounters,
}

/// The listener's connection counters.
#[derive(Debug, Default)]
pub(crate) struct ConnectionCounters {
    pub(crate) open: AtomicU64,
    pub(crate) limit: AtomicU64,
    pub(crate) shed: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) accept_errors: AtomicU64,
}

pub(crate) fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Data) -> R) -> R {
        let mut g = self.data.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// One evaluation of `flag`, with its reason and duration.
    pub(crate) fn evaluation(
        &self,
        env: &str,
        ns: &str,
        flag: &str,
        reason: Reason,
        elapsed: Duration,
    ) {
        self.latency.observe(elapsed);
        let i = slot(reason);
        let count = |c: &FlagCounters| {
            c.requests.fetch_add(1, Ordering::Relaxed);
            c.results[i].fetch_add(1, Ordering::Relaxed);
        };
        {
            let series = self.flags.read().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = series
                .by_env
                .get(env)
                .and_then(|n| n.get(ns))
                .and_then(|f| f.get(flag))
            {
                count(c);
                return;
            }
        }
        let mut series = self.flags.write().unwrap_or_else(|p| p.into_inner());
        let series = &mut *series;
        let known = series
            .by_env
            .get(env)
            .and_then(|n| n.get(ns))
            .is_some_and(|f| f.contains_key(flag));
        if !known && series.len >= MAX_FLAG_SERIES {
            self.flags_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let flags = series
            .by_env
            .entry(env.into())
            .or_default()
            .entry(ns.into())
            .or_default();
        if !known {
            series.len += 1;
        }
        count(flags.entry(flag.into()).or_default());
    }

    /// An evaluation that failed (`not_found`, `invalid`).
    pub(crate) fn evaluation_error(&self, env: &str, kind: &'static str) {
        self.with(|d| match d.errors.get_mut(env) {
            Some(kinds) => *kinds.entry(kind).or_default() += 1,
            None => {
                d.errors
                    .insert(env.to_string(), BTreeMap::from([(kind, 1)]));
            }
        });
    }

    /// An OFREP bulk request that evaluated `flags` flags.
    pub(crate) fn bulk_request(&self, env: &str, ns: &str, flags: usize) {
        self.with(|d| {
            let e = d.bulk.entry((env.to_string(), ns.to_string())).or_default();
            e.0 += 1;
            e.1 += flags as u64;
        });
    }

    /// A client snapshot served.
    pub(crate) fn snapshot_request(&self, env: &str, ns: &str) {
        self.with(|d| {
            *d.snapshot_requests
                .entry((env.to_string(), ns.to_string()))
                .or_default() += 1
        });
    }

    /// A stream opened (`+1`) or closed (`-1`).
    pub(crate) fn stream(&self, delta: i64) {
        self.with(|d| d.streams_in_progress += delta);
    }

    /// A sync attempt of `env`.
    pub(crate) fn sync_attempt(
        &self,
        env: &str,
        outcome: &'static str,
        class: Option<String>,
        duration: Duration,
    ) {
        self.with(|d| {
            d.sync_latency
                .entry(env.to_string())
                .or_insert_with(|| Histogram::new(&SYNC_SECONDS_BUCKETS))
                .observe(duration.as_secs_f64());
            *d.sync_attempts
                .entry((env.to_string(), outcome))
                .or_default() += 1;
            match class {
                Some(c) => *d.sync_errors.entry((env.to_string(), c)).or_default() += 1,
                None => {
                    d.last_success
                        .insert(env.to_string(), unix(SystemTime::now()));
                }
            }
            if outcome == "applied" {
                d.snapshot_built.insert(env.to_string(), SystemTime::now());
            }
        });
    }

    /// Marks `env`'s served snapshot as built now if nothing is recorded yet (at start).
    pub(crate) fn snapshot_seen(&self, env: &str) {
        self.with(|d| {
            d.snapshot_built
                .entry(env.to_string())
                .or_insert_with(SystemTime::now);
        });
    }

    /// Each flag's evaluation count and its results by reason (for OpenTelemetry's observable
    /// counters; read at each export).
    pub(crate) fn each_evaluation(
        &self,
        mut f: impl FnMut(&str, &str, &str, u64, &[(&'static str, u64)]),
    ) {
        let series = self.flags.read().unwrap_or_else(|p| p.into_inner());
        for (e, nss) in &series.by_env {
            for (n, flags) in nss {
                for (flag, c) in flags {
                    let mut results = [("", 0u64); REASONS.len()];
                    for (slot, (r, count)) in results.iter_mut().zip(REASONS.iter().zip(&c.results))
                    {
                        *slot = (r.as_str(), count.load(Ordering::Relaxed));
                    }
                    f(e, n, flag, c.requests.load(Ordering::Relaxed), &results);
                }
            }
        }
    }

    /// Failed evaluations by environment and kind.
    pub(crate) fn each_evaluation_error(&self, mut f: impl FnMut(&str, &'static str, u64)) {
        self.with(|d| {
            for (e, kinds) in &d.errors {
                for (k, v) in kinds {
                    f(e, k, *v);
                }
            }
        });
    }

    /// Sync attempts by environment and outcome, failures by environment and class, and the
    /// age of each environment's served snapshot in seconds.
    pub(crate) fn each_sync(
        &self,
        mut attempts: impl FnMut(&str, &'static str, u64),
        mut errors: impl FnMut(&str, &str, u64),
        mut age: impl FnMut(&str, f64),
    ) {
        let now = SystemTime::now();
        self.with(|d| {
            for ((e, o), v) in &d.sync_attempts {
                attempts(e, o, *v);
            }
            for ((e, c), v) in &d.sync_errors {
                errors(e, c, *v);
            }
            for (e, t) in &d.snapshot_built {
                age(e, now.duration_since(*t).unwrap_or_default().as_secs_f64());
            }
        });
    }

    /// Open snapshot and SSE streams.
    pub(crate) fn streams_in_progress(&self) -> i64 {
        self.with(|d| d.streams_in_progress)
    }

    /// The per-flag request and result counters, in Flipt's names.
    fn render_evaluations(&self, out: &mut String) {
        let series = self.flags.read().unwrap_or_else(|p| p.into_inner());
        let each = || {
            series.by_env.iter().flat_map(|(e, nss)| {
                nss.iter().flat_map(move |(n, flags)| {
                    flags
                        .iter()
                        .map(move |(f, c)| (escape(e), escape(n), escape(f), c))
                })
            })
        };
        out.push_str("# HELP flipt_evaluations_requests_total Number of flag evaluation requests.\n# TYPE flipt_evaluations_requests_total counter\n");
        for (e, n, f, c) in each() {
            let v = c.requests.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "flipt_evaluations_requests_total{{flipt_environment=\"{e}\",flipt_namespace=\"{n}\",flipt_flag=\"{f}\"}} {v}"
            );
        }
        out.push_str("# HELP flipt_evaluations_results_total Number of flag evaluation results by reason.\n# TYPE flipt_evaluations_results_total counter\n");
        for (e, n, f, c) in each() {
            for (r, count) in REASONS.iter().zip(&c.results) {
                let (r, v) = (r.as_str(), count.load(Ordering::Relaxed));
                if v > 0 {
                    let _ = writeln!(
                        out,
                        "flipt_evaluations_results_total{{flipt_environment=\"{e}\",flipt_namespace=\"{n}\",flipt_flag=\"{f}\",flipt_reason=\"{r}\"}} {v}"
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP switchyard_metrics_flags_dropped_total Evaluations not counted per flag because {MAX_FLAG_SERIES} flags already have counters.\n# TYPE switchyard_metrics_flags_dropped_total counter\nswitchyard_metrics_flags_dropped_total {}",
            self.flags_dropped.load(Ordering::Relaxed)
        );
    }

    /// The exposition text; `envs` gives each environment's gauges.
    pub(crate) fn render(&self, envs: &[EnvGauges]) -> String {
        let mut out = String::new();
        self.with(|d| {
            self.render_evaluations(&mut out);
            out.push_str("# HELP flipt_evaluations_errors_total Number of failed flag evaluations.\n# TYPE flipt_evaluations_errors_total counter\n");
            for (e, kinds) in &d.errors {
                for (k, v) in kinds {
                    let _ = writeln!(out, "flipt_evaluations_errors_total{{flipt_environment=\"{}\",error=\"{k}\"}} {v}", escape(e));
                }
            }
            out.push_str("# HELP flipt_evaluations_latency_milliseconds Flag evaluation latency.\n# TYPE flipt_evaluations_latency_milliseconds histogram\n");
            self.latency.snapshot().render(&mut out, "flipt_evaluations_latency_milliseconds", "");
            out.push_str("# HELP switchyard_ofrep_bulk_requests_total OFREP bulk evaluation requests.\n# TYPE switchyard_ofrep_bulk_requests_total counter\n");
            for ((e, n), (requests, _)) in &d.bulk {
                let _ = writeln!(out, "switchyard_ofrep_bulk_requests_total{{flipt_environment=\"{}\",flipt_namespace=\"{}\"}} {requests}", escape(e), escape(n));
            }
            out.push_str("# HELP switchyard_ofrep_bulk_flags_total Flags evaluated by OFREP bulk requests.\n# TYPE switchyard_ofrep_bulk_flags_total counter\n");
            for ((e, n), (_, flags)) in &d.bulk {
                let _ = writeln!(out, "switchyard_ofrep_bulk_flags_total{{flipt_environment=\"{}\",flipt_namespace=\"{}\"}} {flags}", escape(e), escape(n));
            }
            out.push_str("# HELP flipt_evaluations_snapshot_requests_total Number of client snapshot requests.\n# TYPE flipt_evaluations_snapshot_requests_total counter\n");
            for ((e, n), v) in &d.snapshot_requests {
                let _ = writeln!(out, "flipt_evaluations_snapshot_requests_total{{flipt_environment=\"{}\",flipt_namespace=\"{}\"}} {v}", escape(e), escape(n));
            }
            let _ = writeln!(out, "# HELP flipt_evaluations_streams_in_progress Open snapshot and SSE streams.\n# TYPE flipt_evaluations_streams_in_progress gauge\nflipt_evaluations_streams_in_progress {}", d.streams_in_progress);
            out.push_str("# HELP flipt_git_sync_latency_seconds Duration of sync attempts.\n# TYPE flipt_git_sync_latency_seconds histogram\n");
            for (e, h) in &d.sync_latency {
                h.render(&mut out, "flipt_git_sync_latency_seconds", &format!("environment=\"{}\"", escape(e)));
            }
            out.push_str("# HELP switchyard_sync_attempts_total Sync attempts by outcome (unchanged, applied, rejected, failed).\n# TYPE switchyard_sync_attempts_total counter\n");
            for ((e, o), v) in &d.sync_attempts {
                let _ = writeln!(out, "switchyard_sync_attempts_total{{environment=\"{}\",outcome=\"{o}\"}} {v}", escape(e));
            }
            out.push_str("# HELP flipt_git_sync_errors_total Failed sync attempts by error class.\n# TYPE flipt_git_sync_errors_total counter\n");
            for ((e, c), v) in &d.sync_errors {
                let _ = writeln!(out, "flipt_git_sync_errors_total{{environment=\"{}\",class=\"{}\"}} {v}", escape(e), escape(c));
            }
            out.push_str("# HELP flipt_git_sync_last_time Unix time of the last successful sync.\n# TYPE flipt_git_sync_last_time gauge\n");
            for (e, t) in &d.last_success {
                let _ = writeln!(out, "flipt_git_sync_last_time{{environment=\"{}\"}} {t}", escape(e));
            }
            let now = SystemTime::now();
            out.push_str("# HELP switchyard_snapshot_age_seconds Seconds since the served snapshot was built.\n# TYPE switchyard_snapshot_age_seconds gauge\n");
            for (e, t) in &d.snapshot_built {
                let age = now.duration_since(*t).unwrap_or_default().as_secs_f64();
                let _ = writeln!(out, "switchyard_snapshot_age_seconds{{environment=\"{}\"}} {age}", escape(e));
            }
        });
        let c = &self.connections;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = write!(
            out,
            "# HELP switchyard_http_connections_open Open HTTP connections.\n# TYPE switchyard_http_connections_open gauge\nswitchyard_http_connections_open {}\n\
             # HELP switchyard_http_connections_limit The open-connection limit in force (max_connections fitted to the open-file limit).\n# TYPE switchyard_http_connections_limit gauge\nswitchyard_http_connections_limit {}\n\
             # HELP switchyard_http_connections_shed_total Idle connections closed to make room for new ones.\n# TYPE switchyard_http_connections_shed_total counter\nswitchyard_http_connections_shed_total {}\n\
             # HELP switchyard_http_connections_refused_total Connections closed at once because the limit was reached with nothing idle to close.\n# TYPE switchyard_http_connections_refused_total counter\nswitchyard_http_connections_refused_total {}\n\
             # HELP switchyard_http_accept_errors_total Failed accept calls (e.g. out of file descriptors).\n# TYPE switchyard_http_accept_errors_total counter\nswitchyard_http_accept_errors_total {}\n",
            get(&c.open),
            get(&c.limit),
            get(&c.shed),
            get(&c.refused),
            get(&c.accept_errors)
        );
        let gauges: [EnvGauge; 6] = [
            (
                "flipt_git_sync_flags",
                "Flags in the served snapshot.",
                |g| g.flags as u64,
            ),
            (
                "switchyard_sync_consecutive_failures",
                "Failed sync attempts in a row.",
                |g| u64::from(g.consecutive_failures),
            ),
            (
                "switchyard_snapshot_warnings",
                "Warnings of the served snapshot (with validation.extra_checks: warn, what Switchyard's extra checks found).",
                |g| g.warnings as u64,
            ),
            (
                "switchyard_break_glass_paused",
                "1 while new commits are validated but not applied (break-glass pause).",
                |g| u64::from(g.paused),
            ),
            (
                "switchyard_break_glass_pinned",
                "1 while a commit other than the branch head is pinned (break-glass pin).",
                |g| u64::from(g.pinned),
            ),
            (
                "switchyard_break_glass_overrides",
                "Flag overrides in effect (drift from Git).",
                |g| g.overrides as u64,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for g in envs {
                let _ = writeln!(
                    out,
                    "{name}{{environment=\"{}\"}} {}",
                    escape(&g.environment),
                    value(g)
                );
            }
        }
        out
    }
}

/// A per-environment gauge: name, help text, and its value.
type EnvGauge = (&'static str, &'static str, fn(&EnvGauges) -> u64);

/// One environment's gauges for [`Metrics::render`].
pub(crate) struct EnvGauges {
    /// Environment key.
    pub(crate) environment: String,
    /// Flags in the served snapshot.
    pub(crate) flags: usize,
    /// Failed sync attempts in a row.
    pub(crate) consecutive_failures: u32,
    /// Warnings of the served snapshot.
    pub(crate) warnings: usize,
    /// Whether new commits are held back by a pause.
    pub(crate) paused: bool,
    /// Whether a commit is pinned.
    pub(crate) pinned: bool,
    /// Overrides in effect.
    pub(crate) overrides: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(m: &Metrics) -> Vec<String> {
        m.render(&[])
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn evaluations_are_counted_per_flag_and_reason_with_a_cumulative_histogram() {
        let m = Metrics::default();
        let ms = |v: f64| Duration::from_secs_f64(v / 1000.0);
        m.evaluation("prod", "default", "b", Reason::Match, ms(0.003));
        m.evaluation("prod", "default", "b", Reason::Match, ms(0.02));
        m.evaluation("prod", "default", "b", Reason::Default, ms(0.3));
        m.evaluation("prod", "default", "a", Reason::FlagDisabled, ms(40.0));
        m.evaluation("dev", "team\"x", "a", Reason::Unknown, ms(1.0));
        m.evaluation_error("prod", "not_found");
        m.evaluation_error("prod", "not_found");
        m.evaluation_error("prod", "invalid");
        let got = lines(&m);
        let want = [
            r#"flipt_evaluations_requests_total{flipt_environment="dev",flipt_namespace="team\"x",flipt_flag="a"} 1"#,
            r#"flipt_evaluations_requests_total{flipt_environment="prod",flipt_namespace="default",flipt_flag="a"} 1"#,
            r#"flipt_evaluations_requests_total{flipt_environment="prod",flipt_namespace="default",flipt_flag="b"} 3"#,
            r#"flipt_evaluations_results_total{flipt_environment="dev",flipt_namespace="team\"x",flipt_flag="a",flipt_reason="UNKNOWN_EVALUATION_REASON"} 1"#,
            r#"flipt_evaluations_results_total{flipt_environment="prod",flipt_namespace="default",flipt_flag="a",flipt_reason="FLAG_DISABLED_EVALUATION_REASON"} 1"#,
            r#"flipt_evaluations_results_total{flipt_environment="prod",flipt_namespace="default",flipt_flag="b",flipt_reason="MATCH_EVALUATION_REASON"} 2"#,
            r#"flipt_evaluations_results_total{flipt_environment="prod",flipt_namespace="default",flipt_flag="b",flipt_reason="DEFAULT_EVALUATION_REASON"} 1"#,
            "switchyard_metrics_flags_dropped_total 0",
            r#"flipt_evaluations_errors_total{flipt_environment="prod",error="invalid"} 1"#,
            r#"flipt_evaluations_errors_total{flipt_environment="prod",error="not_found"} 2"#,
            r#"flipt_evaluations_latency_milliseconds_bucket{le="0.005"} 1"#,
            r#"flipt_evaluations_latency_milliseconds_bucket{le="0.01"} 1"#,
            r#"flipt_evaluations_latency_milliseconds_bucket{le="0.025"} 2"#,
            r#"flipt_evaluations_latency_milliseconds_bucket{le="0.05"} 2"#,
            r#"flipt_evaluations_latency_milliseconds_bucket{le="0.1"} 2"#,
            r#"flipt_evaluations_latency_milliseconds_bucket{le="0.25"} 2"#,
            r#"flipt_evaluations_latency_milliseconds_bucket{le="0.5"} 3"#,
            r#"flipt_evaluations_latency_milliseconds_bucket{le="1"} 4"#,
            r#"flipt_evaluations_latency_milliseconds_bucket{le="5"} 4"#,
            r#"flipt_evaluations_latency_milliseconds_bucket{le="25"} 4"#,
            r#"flipt_evaluations_latency_milliseconds_bucket{le="+Inf"} 5"#,
        ];
        assert_eq!(&got[..want.len()], want, "{got:#?}");
        let sum = got
            .iter()
            .find_map(|l| l.strip_prefix("flipt_evaluations_latency_milliseconds_sum "))
            .and_then(|v| v.parse::<f64>().ok())
            .expect("sum");
        assert!((sum - 41.323).abs() < 1e-6, "{sum}");
        assert!(got.contains(&"flipt_evaluations_latency_milliseconds_count 5".to_string()));
    }

    #[test]
    fn flags_past_the_series_bound_are_counted_as_dropped() {
        let m = Metrics::default();
        for i in 0..MAX_FLAG_SERIES {
            m.evaluation("e", "n", &format!("f{i}"), Reason::Match, Duration::ZERO);
        }
        m.evaluation("e", "n", "one-more", Reason::Match, Duration::ZERO);
        m.evaluation("e", "n", "f7", Reason::Match, Duration::ZERO);
        let text = m.render(&[]);
        assert!(text.contains("switchyard_metrics_flags_dropped_total 1\n"));
        assert!(!text.contains("one-more"));
        assert!(text.contains(
            "flipt_evaluations_requests_total{flipt_environment=\"e\",flipt_namespace=\"n\",flipt_flag=\"f7\"} 2\n"
        ));
    }
}
