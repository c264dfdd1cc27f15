//! Rows of the results table, medians and number formats.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// One row of `docs/benchmarks.md`.
#[derive(Debug, Serialize)]
pub struct Row {
    pub group: &'static str,
    pub measure: String,
    pub actioncenter: String,
    /// The peer measured side by side, if any.
    pub peer: String,
    /// actioncenter over the peer (or over the row it is compared with).
    pub ratio: Option<f64>,
    pub target: String,
    /// `None` when the row has no target.
    pub met: Option<bool>,
}

/// Where rows go: stdout, and the JSON-lines file if one was asked for.
#[derive(Debug)]
pub struct Report {
    out: Option<File>,
}

impl Report {
    pub fn new(out: Option<PathBuf>) -> Res<Report> {
        Ok(Report {
            out: out.map(File::create).transpose()?,
        })
    }

    pub fn row(&mut self, row: Row) -> Res<()> {
        let ratio = row.ratio.map(|r| format!("{r:.2}")).unwrap_or_default();
        let met = match row.met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "",
        };
        println!(
            "{:<58} {:>16} {:>16} {:>6}  {} {}",
            row.measure, row.actioncenter, row.peer, ratio, row.target, met
        );
        if let Some(f) = &mut self.out {
            writeln!(f, "{}", serde_json::to_string(&row)?)?;
        }
        Ok(())
    }

    /// A group that could not run, with the reason.
    pub fn skip(&mut self, group: &'static str, reason: &str) -> Res<()> {
        println!("skipped {group}: {reason}");
        if let Some(f) = &mut self.out {
            let skipped = serde_json::json!({"group": group, "skipped": reason});
            writeln!(f, "{skipped}")?;
        }
        Ok(())
    }
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Per second.
pub fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64().max(1e-9)
}

/// `12,345/s`.
pub fn per_second(r: f64) -> String {
    format!("{}/s", thousands(r.round() as u64))
}

pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration in the unit that suits it.
pub fn took(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else if seconds >= 1e-3 {
        format!("{:.2} ms", seconds * 1e3)
    } else {
        format!("{:.1} µs", seconds * 1e6)
    }
}

/// The median of `rounds` timings of `f`, in seconds.
pub fn median_time(rounds: usize, mut f: impl FnMut() -> Res<()>) -> Res<f64> {
    let mut times = Vec::new();
    for _ in 0..rounds {
        let t = std::time::Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok(median(&mut times))
}
