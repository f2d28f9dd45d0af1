//! Where the CPU went during a measured window: this process's threads split into the load
//! client's (the `bench-client` runtime and the main thread that drives it) and the server's
//! (everything else: its runtime, SQLite's worker threads), and the whole machine's busy share
//! from `/proc/stat` (which includes PostgreSQL and anything else running). Linux only; elsewhere
//! every figure reads zero.

use std::time::Instant;

/// CPU seconds at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    client_s: f64,
    server_s: f64,
    machine_busy_s: f64,
    machine_total_s: f64,
    at: Option<Instant>,
}

/// CPU used between two samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// Wall seconds.
    pub wall_s: f64,
    /// CPU seconds of the load client.
    pub client_s: f64,
    /// CPU seconds of the server in this process.
    pub server_s: f64,
    /// Busy CPU seconds of the whole machine (all processes).
    pub machine_busy_s: f64,
    /// CPU seconds the machine had (wall × cores).
    pub machine_total_s: f64,
}

impl Usage {
    /// One line for a report.
    pub fn line(&self) -> String {
        let cores = |s: f64| s / self.wall_s.max(1e-9);
        format!(
            "client {:.2} cores, server (in process) {:.2} cores, machine busy {:.0} % of {:.0} cores",
            cores(self.client_s),
            cores(self.server_s),
            100.0 * self.machine_busy_s / self.machine_total_s.max(1e-9),
            cores(self.machine_total_s)
        )
    }
}

fn ticks_per_s() -> f64 {
    // USER_HZ is 100 on every Linux this runs on (the kernel reports /proc times in it).
    100.0
}

/// Reads the counters now.
pub fn sample() -> Sample {
    let mut s = Sample { at: Some(Instant::now()), ..Sample::default() };
    let main_tid = std::process::id().to_string();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let tid = task.file_name().to_string_lossy().to_string();
            let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
            // The name is in parentheses and may hold spaces; the fields after it are plain.
            let Some((head, rest)) = stat.rsplit_once(") ") else { continue };
            let name = head.split_once(" (").map_or("", |(_, n)| n);
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
            let used = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            let seconds = (used(11) + used(12)) / ticks_per_s();
            if name.starts_with("bench-client") || tid == main_tid {
                s.client_s += seconds;
            } else {
                s.server_s += seconds;
            }
        }
    }
    if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
        if let Some(cpu) = stat.lines().next() {
            let values: Vec<f64> = cpu.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
            let total: f64 = values.iter().take(8).sum();
            // idle and iowait are fields 4 and 5.
            let idle = values.get(3).copied().unwrap_or(0.0) + values.get(4).copied().unwrap_or(0.0);
            s.machine_total_s = total / ticks_per_s();
            s.machine_busy_s = (total - idle) / ticks_per_s();
        }
    }
    s
}

impl Sample {
    /// What was used from `self` until `later`.
    pub fn until(&self, later: &Sample) -> Usage {
        let wall_s = match (self.at, later.at) {
            (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        Usage {
            wall_s,
            client_s: later.client_s - self.client_s,
            server_s: later.server_s - self.server_s,
            machine_busy_s: later.machine_busy_s - self.machine_busy_s,
            machine_total_s: later.machine_total_s - self.machine_total_s,
        }
    }
}
