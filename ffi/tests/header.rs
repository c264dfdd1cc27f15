//! `include/actioncenter.h` is what the pinned cbindgen writes from this
//! crate: regenerated in memory and compared byte for byte.
//!
//! To update the checked-in header after changing the API:
//!
//! ```sh
//! ACTIONCENTER_UPDATE_HEADER=1 cargo test -p actioncenter-ffi --test header
//! ```

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The version macros, from the package version (never typed by hand).
fn version_macros() -> String {
    format!(
        "\n#define AC_VERSION \"{}\"\n#define AC_VERSION_MAJOR {}\n#define AC_VERSION_MINOR {}\n#define AC_VERSION_PATCH {}\n",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    )
}

fn generate() -> Vec<u8> {
    let dir = crate_dir();
    let mut config = cbindgen::Config::from_file(dir.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("ffi/cbindgen.toml: {e}"));
    config.after_includes = Some(version_macros());
    // `with_src` parses the crate's files only: no `cargo metadata`, no
    // network, the same result everywhere.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen: {e}"));
    let mut out = Vec::new();
    bindings.write(&mut out);
    out
}

fn header_path() -> PathBuf {
    crate_dir().join("../include/actioncenter.h")
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    for (n, pair) in a.lines().zip(b.lines()).enumerate() {
        if pair.0 != pair.1 {
            return format!(
                "line {}:\n  checked in: {}\n  generated:  {}",
                n + 1,
                pair.0,
                pair.1
            );
        }
    }
    format!(
        "one is a prefix of the other ({} vs {} lines)",
        a.lines().count(),
        b.lines().count()
    )
}

#[test]
fn checked_in_header_is_what_cbindgen_generates() {
    let generated = generate();
    let path = header_path();
    if std::env::var_os("ACTIONCENTER_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let checked_in = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        checked_in == generated,
        "{} is stale; {}\nRegenerate it with: ACTIONCENTER_UPDATE_HEADER=1 cargo test -p actioncenter-ffi --test header",
        Path::new("include/actioncenter.h").display(),
        first_difference(&checked_in, &generated),
    );
}

#[test]
fn header_version_macros_match_the_package() {
    let header = String::from_utf8(generate()).unwrap_or_default();
    assert!(header.contains(&format!(
        "#define AC_VERSION \"{}\"",
        env!("CARGO_PKG_VERSION")
    )));
}
