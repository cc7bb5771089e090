//! The `l2` command.
fn main() {}
