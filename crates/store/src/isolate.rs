//! Isolating the rows a batch cannot write.
//!
//! The group-commit writers (conversions, clicks, audit entries) put many requests' rows in one
//! transaction. If one row is refused — a value the database cannot store, a constraint it
//! breaks — the whole transaction rolls back, and without care every request of the batch
//! would fail with it, or a writer would retry the same poisoned batch forever. Instead a batch
//! that fails because of a row (a value refused, a constraint broken) is split in halves and each half is
//! written on its own, recursively, so only the rows that cannot be written fail and all others
//! are committed. The halves are written in order, so a writer whose outcome depends on order
//! (running caps and tier volumes) decides each row exactly as it would have one by one.
//!
//! With k bad rows among n this costs at most about 2·k·log2(n) extra transactions; a batch
//! with none costs nothing extra.

use std::future::Future;

use crate::StoreError;

/// Writes `items` through `write` (which stores a whole slice in one transaction and returns
/// one output per item, in order), splitting failed batches as described in the module docs.
/// Returns one result per item, in order. Only a row's fault ([`StoreError::is_row_fault`]) is
/// split; any other error (an outage, a lost race, a bug) is returned for every item of the batch
/// that met it, for the caller's own retry policy.
pub async fn write_isolating<T, O, W, Fut>(items: &[T], mut write: W) -> Vec<Result<O, StoreError>>
where
    T: Clone,
    W: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = Result<Vec<O>, StoreError>>,
{
    let mut results: Vec<Option<Result<O, StoreError>>> = (0..items.len()).map(|_| None).collect();
    // Ranges still to write; the last pushed is written next, so pushing the second half first
    // keeps the order of the items.
    let mut pending = vec![(0, items.len())];
    while let Some((start, end)) = pending.pop() {
        if start == end {
            continue;
        }
        match write(items[start..end].to_vec()).await {
            Ok(outputs) if outputs.len() == end - start => {
                for (slot, output) in results[start..end].iter_mut().zip(outputs) {
                    *slot = Some(Ok(output));
                }
            }
            Ok(outputs) => {
                let err = StoreError::Other(format!(
                    "batch write returned {} results for {} rows",
                    outputs.len(),
                    end - start
                ));
                for slot in &mut results[start..end] {
                    *slot = Some(Err(err.clone()));
                }
            }
            Err(err) if err.is_row_fault() && end - start > 1 => {
                let middle = start + (end - start) / 2;
                pending.push((middle, end));
                pending.push((start, middle));
            }
            Err(err) => {
                for slot in &mut results[start..end] {
                    *slot = Some(Err(err.clone()));
                }
            }
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(StoreError::Other("row was not written".into()))))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A store that refuses any batch containing a negative number and records what it committed.
    async fn run(
        items: &[i64],
        refusal: fn() -> StoreError,
    ) -> (Vec<Result<i64, StoreError>>, Vec<i64>, usize) {
        let committed = Arc::new(Mutex::new(Vec::new()));
        let calls = Arc::new(Mutex::new(0));
        let results = write_isolating(items, |batch: Vec<i64>| {
            let committed = committed.clone();
            let calls = calls.clone();
            async move {
                *calls.lock().expect("lock") += 1;
                if batch.iter().any(|n| *n < 0) {
                    return Err(refusal());
                }
                committed.lock().expect("lock").extend(batch.iter().copied());
                Ok(batch.iter().map(|n| n * 10).collect())
            }
        })
        .await;
        let committed = committed.lock().expect("lock").clone();
        let calls = *calls.lock().expect("lock");
        (results, committed, calls)
    }

    fn invalid() -> StoreError {
        StoreError::Invalid("negative".into())
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(f)
    }

    #[test]
    fn good_batch_is_one_write() {
        let (results, committed, calls) = block_on(run(&[1, 2, 3], invalid));
        assert_eq!(calls, 1);
        assert_eq!(committed, vec![1, 2, 3]);
        assert!(results.iter().zip([10, 20, 30]).all(|(r, want)| matches!(r, Ok(v) if *v == want)));
    }

    #[test]
    fn bad_rows_fail_alone_and_order_is_kept() {
        let items: Vec<i64> = (1..=100).map(|n| if n == 37 || n == 90 { -n } else { n }).collect();
        let (results, committed, calls) = block_on(run(&items, invalid));
        let want: Vec<i64> = items.iter().copied().filter(|n| *n > 0).collect();
        assert_eq!(committed, want, "every good row, in order");
        for (item, result) in items.iter().zip(&results) {
            assert_eq!(result.is_ok(), *item > 0, "{item}");
        }
        assert!(calls <= 2 * 2 * 7 + 1, "{calls} writes");
    }

    #[test]
    fn errors_that_are_no_rows_fault_are_not_split() {
        // A lost race, an outage, or anything else that says nothing about the rows.
        for refusal in [
            (|| StoreError::Retryable("race".into())) as fn() -> StoreError,
            || StoreError::Unavailable("server shut down".into()),
            || StoreError::Other("bug".into()),
        ] {
            let (results, committed, calls) = block_on(run(&[1, -2, 3], refusal));
            assert_eq!(calls, 1);
            assert!(committed.is_empty());
            assert!(results.iter().all(|r| matches!(r, Err(e) if !e.is_row_fault())));
        }
    }

    #[test]
    fn empty_is_nothing() {
        let (results, _, calls) = block_on(run(&[], invalid));
        assert!(results.is_empty());
        assert_eq!(calls, 0);
    }
}
