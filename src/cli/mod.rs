//! The `l2` command line (feature `cli`). Each command group lives in its own module; this one parses
//! and dispatches. Exit codes: 0 success; 1 a check or gate failed (e.g. parity, PASS/FAIL criteria);
//! 2 usage error; 3 invalid input data or settings; 4 I/O error or missing resource; 5 internal error.

// First, so that its macros (`outln!`, `out!`, `warnln!`) are in scope in every module below.
#[macro_use]
mod output;

#[cfg(feature = "bench")]
pub mod bench;
mod data;
mod export;
mod gate;
mod progress;
mod quantize;
mod registry;
mod reinforce;
mod retrain;
mod score;
#[cfg(feature = "serve")]
mod serve;
mod train;

use clap::{Parser, Subcommand};
use std::ffi::OsString;

/// Exit code: a check or release gate failed.
pub const EXIT_CHECK_FAILED: i32 = 1;
/// Exit code: bad command line.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: invalid data or settings.
pub const EXIT_INVALID: i32 = 3;
/// Exit code: I/O error or missing resource (file, library, model).
pub const EXIT_IO: i32 = 4;
/// Exit code: anything else.
pub const EXIT_INTERNAL: i32 = 5;

/// Train and serve the L2 malicious-prompt classifier.
#[derive(Debug, Parser)]
#[command(name = "l2", version, about, long_about = None, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES_HELP: &str = "Exit codes: 0 ok, 1 check/gate failed, 2 usage, 3 invalid data or settings, \
4 I/O or missing resource, 5 internal error.";

/// Every `l2` command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job on the built-in default: write the demo corpus, train, calibrate, evaluate, save.
    Quickstart(train::QuickstartArgs),
    /// Train a model on CSV files.
    Train(train::TrainArgs),
    /// Evaluate a model on labelled CSV files.
    Eval(score::EvalArgs),
    /// Score texts (arguments, or stdin lines) as JSON lines.
    Predict(score::PredictArgs),
    /// Show a model file's metadata.
    Info(score::InfoArgs),
    /// Balance report and class weights of CSV files.
    Stats(data::StatsArgs),
    /// Split CSV files into train/val/test files.
    Split(data::SplitArgs),
    /// Write the built-in demo corpus.
    Corpus(data::CorpusArgs),
    /// Export a model as an ONNX graph (optionally validated in ONNX Runtime).
    Export(export::ExportArgs),
    /// Quantize an f32 model to int8 or f16 and check its parity against the source.
    Quantize(quantize::QuantizeArgs),
    /// Latency and throughput of the embedder, the MLP and end to end, per precision (and ONNX Runtime).
    #[cfg(feature = "bench")]
    Bench(bench::BenchArgs),
    /// Print the version.
    Version,
    /// The local model registry: add, list, show, promote, rollback, remove, verify.
    Registry(registry::RegistryArgs),
    /// Turn false positives into balanced training rows (Strategy 4) with a composition report.
    Reinforce(reinforce::ReinforceArgs),
    /// Release gate: candidate vs baseline on the seed's criteria; exit 0 only on PASS.
    Gate(gate::GateArgs),
    /// The loop: reinforce, merge, train, gate against production, register (promote only on PASS).
    Retrain(Box<retrain::RetrainArgs>),
    /// Serve the model over HTTP (OpenAI-moderation compatible; hot reload from the registry).
    #[cfg(feature = "serve")]
    Serve(Box<serve::ServeArgs>),
}

/// Run the CLI with `args` (including the program name); returns the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match &cli.command {
        Command::Quickstart(a) => train::quickstart(a),
        Command::Train(a) => train::train(a),
        Command::Eval(a) => score::eval(a),
        Command::Predict(a) => score::predict(a),
        Command::Info(a) => score::info(a),
        Command::Stats(a) => data::stats(a),
        Command::Split(a) => data::split(a),
        Command::Corpus(a) => data::corpus(a),
        Command::Export(a) => export::export(a),
        Command::Quantize(a) => quantize::quantize_cmd(a),
        #[cfg(feature = "bench")]
        Command::Bench(a) => bench::bench(a),
        Command::Version => {
            outln!("l2 {}", crate::VERSION);
            Ok(())
        }
        Command::Registry(args) => registry::run(args),
        Command::Reinforce(a) => reinforce::run(a),
        Command::Gate(a) => gate::run(a),
        Command::Retrain(a) => retrain::run(a),
        #[cfg(feature = "serve")]
        Command::Serve(a) => serve::run(a),
    };
    // Output that could not be written fails the command even when the work itself succeeded.
    match result.and(output::finish()) {
        Ok(()) => 0,
        Err(e) => report_error(&e),
    }
}

/// Print an error to stderr and map it to an exit code. Stdout closed by its reader (a broken pipe)
/// ends the command quietly with [`EXIT_IO`].
pub fn report_error(e: &crate::Error) -> i32 {
    use crate::ErrorKind as K;
    if output::is_closed_stdout(e) {
        return EXIT_IO;
    }
    warnln!("error: {e}");
    match e.kind() {
        K::Check => EXIT_CHECK_FAILED,
        K::InvalidData | K::InvalidParam | K::Shape | K::Model | K::Training => EXIT_INVALID,
        K::Io | K::Embedder | K::Registry => EXIT_IO,
        _ => EXIT_INTERNAL,
    }
}
