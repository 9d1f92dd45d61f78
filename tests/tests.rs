//! One integration-test binary (fast to link); each stage has its own module.

mod util;

mod abm;
#[cfg(feature = "ballista")]
mod ballista;
mod cli;
mod generator;
mod loader;
mod report;
mod run;
mod scale;
mod sql;
