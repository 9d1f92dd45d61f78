//! One integration-test binary (fast to link); each stage has its own module.

mod util;

mod abm;
#[cfg(feature = "ballista")]
mod ballista;
mod cli;
mod contracts;
mod currency;
mod faults;
mod generator;
mod honesty;
mod loader;
mod publish;
mod report;
mod run;
mod safety;
mod scale;
mod sources;
mod sql;
