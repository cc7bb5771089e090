//! The `l2` command: a thin shell over [`l2core::cli::run`], which the Python wheel's `l2` also calls.
fn main() {
    std::process::exit(l2core::cli::run(std::env::args_os()));
}
