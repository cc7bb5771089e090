//! `l2 registry`: the local model registry.

use crate::error::{Error, Result};
use crate::printable::cell;
use crate::registry::{Entry, Registry, Stage};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `l2 registry [--registry DIR] <command>`.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Registry directory (default: the L2_REGISTRY environment variable).
    #[arg(long, global = true, value_name = "DIR")]
    pub registry: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: RegistryCommand,
}

/// Registry commands.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Copy a model file in as the next version (v1, v2 ...), recording its metadata and sha256.
    Add {
        /// The model file.
        model: PathBuf,
        /// A note stored with the version.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List every version.
    List,
    /// Show one version (v3, 3, production, staging, latest).
    Show {
        /// The version.
        version: String,
    },
    /// Promote a version to staging or production.
    Promote {
        /// The version.
        version: String,
        /// staging or production.
        #[arg(long)]
        stage: String,
    },
    /// Put the previous production version back in production.
    Rollback,
    /// Remove a version (not the one in production).
    Remove {
        /// The version.
        version: String,
    },
    /// Verify the index checksum and every model file; report leftovers of interrupted writes.
    Verify {
        /// Also remove the temp files of interrupted writes (model files are never removed).
        #[arg(long)]
        fix: bool,
    },
    /// Rebuild the index from the model files' own metadata: after the index was lost or failed its
    /// checks (it is kept as registry.json.bad-<time>), or to take in unreferenced model files.
    Recover,
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    outln!("{}", serde_json::to_string_pretty(v).map_err(|e| Error::json("registry output", e))?);
    Ok(())
}

fn line(e: &Entry) -> String {
    format!(
        "{:<5} {:<10} {:<5} thr={:.4} hidden={:?} added={} sha256={}  {}",
        e.name(),
        e.stage,
        e.meta.precision,
        e.meta.threshold,
        e.meta.hidden,
        cell(&e.added),
        cell(e.sha256.get(..12).unwrap_or(&e.sha256)),
        cell(&e.note)
    )
}

/// Run `l2 registry`.
pub fn run(args: &RegistryArgs) -> Result<()> {
    let reg = Registry::from_arg_or_env(args.registry.as_deref())?;
    match &args.command {
        RegistryCommand::Add { model, note } => {
            let e = reg.add(model, note)?;
            if args.json {
                print_json(&e)?;
            } else {
                outln!("added {} ({}) to {}", e.name(), e.file, reg.dir().display());
            }
        }
        RegistryCommand::List => {
            let entries = reg.list()?;
            if args.json {
                print_json(&entries)?;
            } else if entries.is_empty() {
                outln!("registry {} is empty", reg.dir().display());
            } else {
                entries.iter().for_each(|e| outln!("{}", line(e)));
            }
        }
        RegistryCommand::Show { version } => {
            let e = reg.show(version)?;
            if args.json {
                print_json(&e)?;
            } else {
                outln!("{}", line(&e));
                outln!("file: {}", cell(&reg.model_path(&e.name())?.display().to_string()));
                outln!("source: {}", cell(&e.source));
                outln!("weights sha256: {}", e.weights_sha256);
                print_json(&e.meta)?;
            }
        }
        RegistryCommand::Promote { version, stage } => {
            let stage: Stage = stage.parse()?;
            let e = reg.promote(version, stage)?;
            if args.json {
                print_json(&e)?;
            } else {
                outln!("{} is now {}", e.name(), e.stage);
            }
        }
        RegistryCommand::Rollback => {
            let (from, to) = reg.rollback()?;
            if args.json {
                print_json(&serde_json::json!({"from": from, "to": to}))?;
            } else {
                outln!("rolled back: {} out of production, {} in production", from.name(), to.name());
            }
        }
        RegistryCommand::Remove { version } => {
            let e = reg.remove(version)?;
            if args.json {
                print_json(&e)?;
            } else {
                outln!("removed {}", e.name());
            }
        }
        RegistryCommand::Verify { fix } => {
            let removed = if *fix { reg.clean()? } else { Vec::new() };
            let r = crate::registry::VerifyReport { removed, ..reg.verify()? };
            if args.json {
                print_json(&r)?;
            } else {
                outln!("{r}");
            }
        }
        RegistryCommand::Recover => {
            let r = reg.recover()?;
            if args.json {
                print_json(&r)?;
            } else {
                outln!("{r}");
            }
        }
    }
    Ok(())
}
