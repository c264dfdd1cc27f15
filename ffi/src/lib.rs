//! # libactioncenter: the C API of actioncenter
//!
//! The whole engine through a C ABI, for sensor daemons, legacy agents and
//! executors written in C or C++. `include/actioncenter.h` is generated
//! from this crate by cbindgen (see `tests/header.rs`); the README's C
//! section shows how to build and link.
//!
//! Every rule lives in the engine crate. This crate only converts: C
//! strings to `&str` (refusing NULL and invalid UTF-8), JSON to the
//! engine's request types, handles to the engine and principals, results
//! to JSON, errors to `ac_status` and the per-thread last error. Every
//! export runs inside the `boundary!` macro, so a panic becomes
//! `AC_STATUS_PANIC` and never unwinds into C.

// The header lists the functions in the order of these modules; the blank
// lines keep rustfmt from sorting them.
mod status;

mod handle;

mod center;

mod principal;

mod actions;

mod queries;

mod audit;

mod strings;

mod boundary;

mod convert;
#[cfg(test)]
mod overhead;

pub use actions::*;
pub use audit::*;
pub use boundary::ac_boundary_selftest;
pub use center::*;
pub use handle::{ac_center, ac_principal};
pub use principal::*;
pub use queries::*;
pub use status::{ac_status, ac_status_name};
pub use strings::*;
