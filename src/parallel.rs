//! Two pieces of work at once, on this machine's two cores, without a thread pool.
//!
//! Loading, the scratch-file writer and the Markov model split their work in two
//! halves (or two workers taking items in turn) and combine the results in a fixed
//! order, so the outcome is the same bits whatever ran first.

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
