//! Rust model steps (exact Markov attribution, sBG retention): statistics that SQL cannot express well, run on small aggregates
//! that SQL produced (so the same queries can run on a distributed engine).
//!
//! Each model reads one materialised table and returns one table; the pipeline orders
//! it with the queries by name (`query::model_steps`).

pub mod markov;
pub mod sbg;
