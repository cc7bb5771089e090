//! `include/l2.h` and `capi/l2.pc` are generated from the crate: this test regenerates both and fails
//! when the committed files differ. `L2_BLESS=1 cargo test -p l2-capi --test header` rewrites them.

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The header as cbindgen makes it from `src/`, with the version macros of this package.
fn generate_header() -> String {
    let dir = crate_dir();
    let mut config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("reading cbindgen.toml");
    config.after_includes = Some(format!(
        "\n#define L2_VERSION_MAJOR {}\n#define L2_VERSION_MINOR {}\n#define L2_VERSION_PATCH {}\n#define L2_VERSION \"{}\"",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION"),
    ));
    // The crate root; cbindgen follows its `mod` items (one module per C object), in source order.
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen failed")
        .write(&mut out);
    String::from_utf8(out).expect("cbindgen wrote UTF-8")
}

/// The pkg-config file for an install under `/usr/local` (packagers replace the `prefix=` line).
fn generate_pc() -> String {
    format!(
        "prefix=/usr/local\nexec_prefix=${{prefix}}\nlibdir=${{exec_prefix}}/lib\nincludedir=${{prefix}}/include\n\n\
         Name: l2\nDescription: libl2, the C API of the L2 malicious-prompt classifier\nVersion: {}\n\
         Cflags: -I${{includedir}}\nLibs: -L${{libdir}} -ll2\nLibs.private: -lm -lpthread -ldl\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn check_or_bless(path: &Path, fresh: &str) {
    if std::env::var_os("L2_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(path, fresh).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: regenerate it with `L2_BLESS=1 cargo test -p l2-capi --test header` and commit it",
        path.display()
    );
}

#[test]
fn committed_header_is_current() {
    let header = generate_header();
    for needle in
        ["#ifndef L2_H", "#ifdef __cplusplus", "extern \"C\" {", "L2_STATUS_PANIC = 16", "#define L2_VERSION \""]
    {
        assert!(header.contains(needle), "generated header lacks `{needle}`");
    }
    check_or_bless(&crate_dir().join("../include/l2.h"), &header);
}

#[test]
fn committed_pkg_config_file_is_current() {
    check_or_bless(&crate_dir().join("l2.pc"), &generate_pc());
}
