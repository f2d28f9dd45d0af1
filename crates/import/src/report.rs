//! The import report: per entity, how many objects were created, updated, unchanged or skipped,
//! and every skip's reason code with a few examples. Kept in the run (JSON), so a resumed run
//! reports the whole import.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Examples kept per skip reason.
const EXAMPLES: usize = 5;

/// What happened to one entity's objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Read from the source.
    pub seen: u64,
    /// Created in Refline.
    pub created: u64,
    /// Imported before and changed to match the source.
    pub updated: u64,
    /// Imported before and unchanged.
    pub unchanged: u64,
    /// Not imported; see `skips`.
    pub skipped: u64,
    /// Skips by reason code.
    pub skips: BTreeMap<String, Skips>,
}

/// The skips of one reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skips {
    /// How many.
    pub count: u64,
    /// The first few: `<source id>: <message>`.
    pub examples: Vec<String>,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The source.
    pub source: String,
    /// Nothing was written (`--dry-run`).
    pub dry_run: bool,
    /// Per entity (`campaign`, `affiliate`, `link`, `coupon`, `customer`, `commission`).
    pub entities: BTreeMap<String, Counts>,
}

impl Report {
    /// An empty report of `source`.
    pub fn new(source: &str, dry_run: bool) -> Report {
        Report { source: source.to_string(), dry_run, entities: BTreeMap::new() }
    }

    /// The counts of `kind`, created empty.
    pub fn counts(&mut self, kind: &str) -> &mut Counts {
        self.entities.entry(kind.to_string()).or_default()
    }

    /// Counts one skip of `kind`.
    pub fn skip(&mut self, kind: &str, source_id: &str, code: &str, message: &str) {
        let counts = self.counts(kind);
        counts.skipped += 1;
        let skips = counts.skips.entry(code.to_string()).or_default();
        skips.count += 1;
        if skips.examples.len() < EXAMPLES {
            skips.examples.push(format!("{source_id}: {message}"));
        }
    }

    /// Objects skipped over every entity.
    pub fn total_skipped(&self) -> u64 {
        self.entities.values().map(|c| c.skipped).sum()
    }

    /// The report for a person: one block per entity, reasons indented under it.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Import from {}{}\n",
            self.source,
            if self.dry_run { " (dry run: nothing written)" } else { "" }
        );
        for (kind, c) in &self.entities {
            out.push_str(&format!(
                "  {kind:<11} seen {:>7}  created {:>7}  updated {:>7}  unchanged {:>7}  skipped {:>7}\n",
                c.seen, c.created, c.updated, c.unchanged, c.skipped
            ));
            for (code, skips) in &c.skips {
                out.push_str(&format!("      {code}: {}\n", skips.count));
                for example in &skips.examples {
                    out.push_str(&format!("        e.g. {example}\n"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_keep_a_few_examples_and_the_full_count() {
        let mut report = Report::new("rewardful", false);
        for i in 0..8 {
            report.skip("link", &format!("l{i}"), "invalid_token", "bad");
        }
        let counts = &report.entities["link"];
        assert_eq!(counts.skipped, 8);
        assert_eq!(counts.skips["invalid_token"].count, 8);
        assert_eq!(counts.skips["invalid_token"].examples.len(), EXAMPLES);
        assert_eq!(report.total_skipped(), 8);
        let text = report.to_text();
        assert!(text.contains("invalid_token: 8"), "{text}");
        let back: Report =
            serde_json::from_str(&serde_json::to_string(&report).unwrap_or_default()).unwrap_or_default();
        assert_eq!(back, report);
    }
}
