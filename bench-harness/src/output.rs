//! The results: medians with min and max per workload and daemon, as a
//! Markdown table (with nexthopd's ratios to the others), a hand-written SVG
//! bar chart and the raw runs as JSON.

use std::fmt::Write as _;
use std::path::Path;

use crate::dut::Kind;
use crate::{RunResult, Workload};

/// Every run of one workload on one daemon.
pub struct Cell {
    /// The workload.
    pub workload: Workload,
    /// The daemon.
    pub kind: Kind,
    /// Its runs (the last one failed when a run failed).
    pub runs: Vec<RunResult>,
}

/// Median, min and max.
#[derive(Clone, Copy, Debug)]
pub struct Stat {
    /// Median (the mean of the middle two for an even count).
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// How many values.
    pub n: usize,
}

/// Median, min and max of `v`; `None` when empty.
pub fn stat(mut v: Vec<f64>) -> Option<Stat> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Stat {
        median,
        min: v[0],
        max: v[n - 1],
        n,
    })
}

impl Cell {
    fn ok_runs(&self) -> impl Iterator<Item = &RunResult> {
        self.runs.iter().filter(|r| r.ok)
    }
    fn stat(&self, f: impl Fn(&RunResult) -> Option<f64>) -> Option<Stat> {
        stat(self.ok_runs().filter_map(f).collect())
    }
    /// The headline time: all-Established for idle workloads, the final best
    /// path where senders overlap, else convergence.
    pub fn time(&self) -> Option<Stat> {
        if self.workload.idle.is_some() {
            self.stat(|r| r.established)
        } else if self.workload.final_best_path() {
            self.stat(|r| r.final_path)
        } else {
            self.stat(|r| r.convergence)
        }
    }
    /// The "convergence" column: all-Established for idle workloads, else
    /// every receiver holding every prefix (whatever its path).
    pub fn convergence_time(&self) -> Option<Stat> {
        if self.workload.idle.is_some() {
            self.stat(|r| r.established)
        } else {
            self.stat(|r| r.convergence)
        }
    }
    /// Until every receiver held every final best path (workloads of
    /// overlapping senders).
    pub fn final_time(&self) -> Option<Stat> {
        self.stat(|r| r.final_path)
    }
    fn failure(&self) -> Option<&str> {
        self.runs.iter().find_map(|r| r.error.as_deref())
    }
}

fn fmt_stat(s: Option<Stat>, digits: usize) -> String {
    match s {
        None => "-".into(),
        Some(s) if s.n == 1 => format!("{:.*}", digits, s.median),
        Some(s) => format!(
            "{:.*} ({:.*}–{:.*})",
            digits, s.median, digits, s.min, digits, s.max
        ),
    }
}

fn si(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.0} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// One line about a run, for the log.
pub fn describe(w: &Workload, r: &RunResult) -> String {
    if !r.ok {
        return format!("FAILED: {}", r.error.as_deref().unwrap_or("?"));
    }
    let mib = r.dut_rss as f64 / 1048576.0;
    match (w.idle, r.idle_cpu_per_min) {
        (Some(_), cpm) => format!(
            "all up {:.3} s, RSS {mib:.1} MiB, {:.3} CPU s/min",
            r.established.unwrap_or(f64::NAN),
            cpm.unwrap_or(f64::NAN)
        ),
        _ => format!(
            "up {:.3} s, converged {:.3} s{} (DUT busy {:.1} s more), {} routes/s, DUT CPU {:.2} s, RSS {mib:.1} MiB, loadgen CPU {:.2} s",
            r.established.unwrap_or(f64::NAN),
            r.convergence.unwrap_or(f64::NAN),
            r.final_path
                .map_or(String::new(), |f| format!(", final best path {f:.3} s")),
            r.settle.unwrap_or(f64::NAN),
            si(r.routes_per_sec),
            r.dut_cpu,
            r.loadgen_cpu
        ),
    }
}

/// Bytes of peak RSS growth per stored path (or per session for idle runs).
fn rss_per_unit(w: &Workload, r: &RunResult) -> Option<f64> {
    let units = if w.idle.is_some() {
        u64::from(w.sessions())
    } else {
        w.paths()
    };
    (units > 0).then(|| r.dut_rss.saturating_sub(r.dut_rss_start) as f64 / units as f64)
}

/// The Markdown report.
pub fn markdown(cells: &[Cell], command: &str, runs: usize) -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "# nexthop side-by-side benchmark\n\nCommand: `{command}`\n\n\
         Each figure is the median of up to {runs} runs (min–max in parentheses), a fresh daemon per run, \
         every daemon on its own 127.0.60.x:179 with the load generator's peers from 127.2.0.1 on. \
         Times count from the senders' first UPDATE byte to the last receiver holding the full table; \
         with overlapping senders (d) the senders' AS_PATH lengths make one path per prefix strictly the shortest, \
         \"final best path\" is until every receiver held that path for every prefix, and a run counts only once it did; \
         DUT CPU is the daemon's process tree from after its start until its CPU time stood still for 1 s after convergence \
         (\"DUT busy after\": how long after convergence it kept working, sampled every 100 ms, so values under 0.1 s read as 0.0–0.1); \
         RSS growth per path is (peak RSS − RSS at start) / stored paths (senders × prefixes), \
         per session for (c). A daemon is skipped after its first failed run of a workload.\n"
    );
    let mut workloads: Vec<&Workload> = Vec::new();
    for c in cells {
        if !workloads.iter().any(|w| w.id == c.workload.id) {
            workloads.push(&c.workload);
        }
    }
    for w in &workloads {
        let _ = writeln!(m, "## {}\n", w.title);
        let cs: Vec<&Cell> = cells.iter().filter(|c| c.workload.id == w.id).collect();
        if w.idle.is_some() {
            m.push_str("| daemon | runs ok | all Established (s) | peak RSS (MiB) | RSS per session (KiB) | CPU s per minute idle |\n| --- | --- | --- | --- | --- | --- |\n");
            for c in &cs {
                let _ = writeln!(
                    m,
                    "| {} | {}/{} | {} | {} | {} | {} |",
                    c.kind.name(),
                    c.ok_runs().count(),
                    c.runs.len(),
                    fmt_stat(c.time(), 3),
                    fmt_stat(c.stat(|r| Some(r.dut_rss as f64 / 1048576.0)), 1),
                    fmt_stat(c.stat(|r| rss_per_unit(w, r).map(|b| b / 1024.0)), 1),
                    fmt_stat(c.stat(|r| r.idle_cpu_per_min), 3),
                );
            }
        } else {
            let fin = w.final_best_path();
            let (fin_head, fin_rule) = if fin {
                (" final best path (s) |", " --- |")
            } else {
                ("", "")
            };
            let _ = writeln!(
                m,
                "| daemon | runs ok | convergence (s) |{fin_head} routes/s | DUT busy after (s) | DUT CPU (s) | peak RSS (MiB) | RSS growth per path (B) | loadgen CPU (s) |\n| --- | --- | --- |{fin_rule} --- | --- | --- | --- | --- | --- |"
            );
            for c in &cs {
                let rps = c
                    .stat(|r| Some(r.routes_per_sec))
                    .map_or("-".into(), |s| si(s.median));
                let fin_cell = if fin {
                    format!(" {} |", fmt_stat(c.final_time(), 3))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    m,
                    "| {} | {}/{} | {} |{fin_cell} {} | {} | {} | {} | {} | {} |",
                    c.kind.name(),
                    c.ok_runs().count(),
                    c.runs.len(),
                    fmt_stat(c.convergence_time(), 3),
                    rps,
                    fmt_stat(c.stat(|r| r.settle), 1),
                    fmt_stat(c.stat(|r| Some(r.dut_cpu)), 2),
                    fmt_stat(c.stat(|r| Some(r.dut_rss as f64 / 1048576.0)), 1),
                    fmt_stat(c.stat(|r| rss_per_unit(w, r)), 0),
                    fmt_stat(c.stat(|r| Some(r.loadgen_cpu)), 2),
                );
            }
        }
        for c in &cs {
            if let Some(e) = c.failure() {
                let _ = writeln!(m, "\n{} failed: {e}", c.kind.name());
            }
        }
        // nexthopd against the others.
        let best_other = cs
            .iter()
            .filter(|c| !c.kind.is_nexthopd())
            .filter_map(|c| Some((c.kind, c.time()?.median)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let bird = cs
            .iter()
            .find(|c| c.kind == Kind::Bird)
            .and_then(|c| c.time());
        for c in cs.iter().filter(|c| c.kind.is_nexthopd()) {
            let Some(t) = c.time() else { continue };
            let mut line = format!("\n{}: ", c.kind.name());
            if let Some((k, b)) = best_other {
                let _ = write!(
                    line,
                    "{:.2}x the speed of the fastest other ({}, {:.3} s vs {:.3} s)",
                    b / t.median.max(1e-9),
                    k.name(),
                    b,
                    t.median
                );
            }
            if let Some(b) = bird {
                let _ = write!(line, "; {:.2}x BIRD's speed", b.median / t.median.max(1e-9));
            }
            if best_other.is_some() || bird.is_some() {
                let _ = writeln!(m, "{line}.");
            }
        }
        m.push('\n');
    }
    m
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A bar chart: one panel per workload, one bar per daemon (median time,
/// whisker from min to max), each panel on its own linear scale.
pub fn svg(cells: &[Cell]) -> String {
    let mut workloads: Vec<&Workload> = Vec::new();
    for c in cells {
        if !workloads.iter().any(|w| w.id == c.workload.id) {
            workloads.push(&c.workload);
        }
    }
    let (width, label_w, bar_h, gap) = (900.0, 130.0, 18.0, 6.0);
    let plot_w = width - label_w - 120.0;
    let mut body = String::new();
    let mut y = 40.0;
    let colour = |k: Kind| match k {
        Kind::NexthopdMio => "#d9480f",
        Kind::NexthopdUring => "#f08c00",
        Kind::Bird => "#1c7ed6",
        Kind::GoBgp => "#37b24d",
        Kind::Frr => "#ae3ec9",
        Kind::OpenBgpd => "#495057",
    };
    for w in &workloads {
        let cs: Vec<&Cell> = cells.iter().filter(|c| c.workload.id == w.id).collect();
        let metric = if w.idle.is_some() {
            "time until all Established (s), lower is better"
        } else if w.final_best_path() {
            "time until every receiver holds every final best path (s), lower is better"
        } else {
            "convergence time (s), lower is better"
        };
        let _ = writeln!(
            body,
            r##"<text x="10" y="{y}" font-weight="bold">{}</text><text x="10" y="{}" font-size="11" fill="#555">{metric}</text>"##,
            esc(&w.title),
            y + 14.0
        );
        y += 24.0;
        let max = cs
            .iter()
            .filter_map(|c| c.time().map(|s| s.max))
            .fold(0.0_f64, f64::max)
            .max(1e-6);
        for c in &cs {
            let _ = writeln!(
                body,
                r##"<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>"##,
                label_w - 6.0,
                y + bar_h - 4.0,
                c.kind.name()
            );
            match c.time() {
                Some(s) => {
                    let bw = s.median / max * plot_w;
                    let _ = writeln!(
                        body,
                        r##"<rect x="{label_w}" y="{y}" width="{bw:.1}" height="{bar_h}" fill="{}"/>"##,
                        colour(c.kind)
                    );
                    let (x0, x1) = (
                        label_w + s.min / max * plot_w,
                        label_w + s.max / max * plot_w,
                    );
                    let ym = y + bar_h / 2.0;
                    let _ = writeln!(
                        body,
                        r##"<path d="M{x0:.1},{ym} H{x1:.1} M{x0:.1},{} V{} M{x1:.1},{} V{}" stroke="black" fill="none"/>"##,
                        ym - 5.0,
                        ym + 5.0,
                        ym - 5.0,
                        ym + 5.0
                    );
                    let _ = writeln!(
                        body,
                        r##"<text x="{:.1}" y="{}" font-size="11">{:.3} s</text>"##,
                        x1.max(label_w + bw) + 6.0,
                        y + bar_h - 4.0,
                        s.median
                    );
                }
                None => {
                    let _ = writeln!(
                        body,
                        r##"<text x="{}" y="{}" font-size="11" fill="#c92a2a">failed or not run</text>"##,
                        label_w + 4.0,
                        y + bar_h - 4.0
                    );
                }
            }
            y += bar_h + gap;
        }
        y += 24.0;
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" font-size="15" font-weight="bold">nexthop side-by-side benchmark (median, whiskers min–max)</text>
{body}</svg>
"##
    )
}

/// The raw runs as JSON.
pub fn json(cells: &[Cell]) -> serde_json::Value {
    serde_json::Value::Array(
        cells
            .iter()
            .map(|c| {
                serde_json::json!({
                    "workload": c.workload.id,
                    "title": c.workload.title,
                    "daemon": c.kind.name(),
                    "final_best_path": c.workload.final_best_path(),
                    "final_best_path_secs": c.final_time().map(|s| serde_json::json!({
                        "median": s.median, "min": s.min, "max": s.max, "runs": s.n,
                    })),
                    "runs": c.runs.iter().map(|r| serde_json::json!({
                        "ok": r.ok,
                        "error": r.error,
                        "established_secs": r.established,
                        "convergence_secs": r.convergence,
                        "final_best_path_secs": r.final_path,
                        "routes_per_sec": r.routes_per_sec,
                        "dut_cpu_secs": r.dut_cpu,
                        "dut_busy_after_convergence_secs": r.settle,
                        "dut_peak_rss_bytes": r.dut_rss,
                        "dut_rss_at_start_bytes": r.dut_rss_start,
                        "idle_cpu_secs_per_min": r.idle_cpu_per_min,
                        "loadgen_cpu_secs": r.loadgen_cpu,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// Writes bench.md, bench.svg and bench.json into `dir`.
pub fn write_all(dir: &Path, cells: &[Cell], command: &str, runs: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("bench.md"), markdown(cells, command, runs))?;
    std::fs::write(dir.join("bench.svg"), svg(cells))?;
    std::fs::write(
        dir.join("bench.json"),
        serde_json::to_string_pretty(&json(cells)).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_min_max() {
        let s = stat(vec![3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
        let s = stat(vec![4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert!(stat(vec![f64::NAN]).is_none());
    }

    fn cell(id: &str, kind: Kind, finals: &[Option<f64>]) -> Cell {
        let workload = crate::Workload {
            id: if id == "d" { "d" } else { "a" },
            title: format!("({id})"),
            senders: if id == "d" { 10 } else { 1 },
            receivers: 10,
            prefixes: 100,
            overlap: if id == "d" { 1.0 } else { 0.0 },
            ibgp: true,
            idle: None,
        };
        let runs = finals
            .iter()
            .map(|&f| RunResult {
                ok: id != "d" || f.is_some(),
                convergence: Some(0.5),
                final_path: f,
                ..RunResult::default()
            })
            .collect();
        Cell {
            workload,
            kind,
            runs,
        }
    }

    #[test]
    fn the_headline_of_overlapping_senders_is_the_final_best_path() {
        let cells = [
            cell("d", Kind::Bird, &[Some(2.0)]),
            cell("d", Kind::NexthopdMio, &[Some(1.0)]),
        ];
        assert_eq!(
            cells[1].time().unwrap().median,
            1.0,
            "not convergence (0.5)"
        );
        let md = markdown(&cells, "test", 1);
        assert!(
            md.contains("2.00x the speed of the fastest other (bird, 2.000 s vs 1.000 s)"),
            "{md}"
        );
        assert_eq!(cell("a", Kind::Bird, &[None]).time().unwrap().median, 0.5);
    }

    #[test]
    fn final_best_path_column_only_with_overlapping_senders() {
        let cells = [
            cell("a", Kind::Bird, &[None, None]),
            cell("d", Kind::Bird, &[Some(1.0), Some(3.0), Some(2.0)]),
            cell("d", Kind::Frr, &[Some(4.0), None]),
        ];
        let md = markdown(&cells, "test", 3);
        let (a, d) = md.split_once("## (d)").unwrap();
        assert!(!a.contains("| final best path (s) |"));
        assert!(d.contains("| convergence (s) | final best path (s) |"));
        assert!(
            d.contains("| bird | 3/3 | 0.500 (0.500–0.500) | 2.000 (1.000–3.000) |"),
            "{d}"
        );
        // The run without final paths does not count.
        assert!(d.contains("| frr | 1/2 | 0.500 | 4.000 |"), "{d}");
        let j = json(&cells);
        assert_eq!(j[1]["final_best_path"], true);
        assert_eq!(j[1]["final_best_path_secs"]["median"], 2.0);
        assert_eq!(j[1]["runs"][0]["final_best_path_secs"], 1.0);
        assert_eq!(j[0]["final_best_path"], false);
    }
}
