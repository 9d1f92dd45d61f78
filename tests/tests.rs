//! One integration-test binary (fast to link); each stage has its own module.

mod util;

mod cli;
mod generator;
mod loader;
mod run;
mod sql;
