//! Two pieces of work at once, on this machine's two cores, without a thread pool.
//!
//! Loading, the Parquet writer and the Markov model split their work in two halves
//! ([`join`]) or hand it to two workers taking items in turn ([`map_in_turn`]), and
//! combine the results in a fixed order, so the outcome is the same bits whatever ran
//! first.

/// Runs `a` on a second thread and `b` on this one and returns both results (a panic
/// in `a` resumes here).
pub fn join<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let a = scope.spawn(a);
        let b = b();
        let a = a
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}

/// `f` applied to each of `items` by two workers taking items in turn (items of very
/// different cost, such as a table's columns, even out); the results come back in the
/// items' order.
pub fn map_in_turn<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let queue = std::sync::Mutex::new(items.into_iter().enumerate());
    let work = || {
        let mut done = Vec::new();
        loop {
            let next = queue.lock().expect("work queue").next();
            let Some((i, item)) = next else {
                return done;
            };
            done.push((i, f(item)));
        }
    };
    let (mut results, other) = join(work, work);
    results.extend(other);
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    /// Every item once, results in the items' order.
    #[test]
    fn map_in_turn_keeps_the_items_order() {
        let squares = super::map_in_turn((0..1_000u64).collect(), |i| i * i);
        assert_eq!(squares, (0..1_000u64).map(|i| i * i).collect::<Vec<_>>());
    }
}
