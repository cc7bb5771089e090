//! On-disk embedding cache: embedding 100K texts with a transformer is the slow step of training, so
//! vectors are kept keyed by (embedder identity, sha256 of the text) and retraining or threshold sweeps
//! reuse them.
//!
//! Layout: one append-only file per embedder identity, `<dir>/<key>.l2emb`, where `key` is the sha256
//! (hex) of [`spec_key`] (for ONNX embedders the files' sha256s and settings, not their paths, so moving
//! a model keeps its cache). The file starts with the 8-byte magic `L2EMB\x01\0\0`, the width as
//! u32 LE and the 64-byte hex key; then records of `sha256(text)` (32 bytes) followed by `dims` f32 LE.
//! A trailing partial record (a crash mid-write) is cut off on open; a file with another magic, key or
//! width is an error, never silently reused. Each batch of new vectors is appended with one write.

use super::{check_out_len, Embedder, EmbedderSpec};
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const MAGIC: [u8; 8] = *b"L2EMB\x01\0\0";
const HEADER: usize = 8 + 4 + 64;

/// The identity of an embedder for caching: the spec JSON without anything that does not change the
/// vectors (file paths, archive member and package names, batch size).
pub fn spec_key(spec: &EmbedderSpec) -> Result<String> {
    let mut v = serde_json::to_value(spec).map_err(|e| Error::json("embedder spec", e))?;
    if let (EmbedderSpec::Onnx(_), Some(o)) = (spec, v.as_object_mut()) {
        for k in ["model", "tokenizer", "tokenizer_member", "model_package", "tokenizer_package", "batch_size"] {
            o.remove(k);
        }
    }
    let s = serde_json::to_string(&v).map_err(|e| Error::json("embedder spec", e))?;
    Ok(crate::digest::sha256_hex(s.as_bytes()))
}

/// A cache directory.
#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    dir: PathBuf,
}

impl EmbeddingCache {
    /// Use (and create) `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Result<EmbeddingCache> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating directory", &dir, e))?;
        Ok(EmbeddingCache { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Wrap `inner` so its vectors are served from and added to this cache.
    pub fn wrap(&self, inner: Box<dyn Embedder>) -> Result<CachedEmbedder> {
        let spec = inner.spec();
        let key = spec_key(&spec)?;
        let path = self.dir.join(format!("{key}.l2emb"));
        let store = Store::open(&path, &key, inner.dims())?;
        Ok(CachedEmbedder { inner, store: Mutex::new(store), hits: AtomicUsize::new(0), misses: AtomicUsize::new(0) })
    }
}

struct Store {
    path: PathBuf,
    file: std::fs::File,
    dims: usize,
    index: HashMap<[u8; 32], usize>,
    vectors: Vec<f32>,
}

impl Store {
    fn open(path: &Path, key: &str, dims: usize) -> Result<Store> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io("opening embedding cache", path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| Error::io("reading embedding cache", path, e))?;
        let bad = |why: String| {
            Error::Embedder(format!("embedding cache `{}`: {why}; delete the file to rebuild it", path.display()))
        };
        let dims32 = u32::try_from(dims).map_err(|_| Error::param("dims", dims, "too wide to cache"))?;
        if bytes.len() < HEADER {
            if !bytes.is_empty() {
                file.set_len(0).map_err(|e| Error::io("truncating embedding cache", path, e))?;
            }
            let mut h = Vec::with_capacity(HEADER);
            h.extend_from_slice(&MAGIC);
            h.extend_from_slice(&dims32.to_le_bytes());
            h.extend_from_slice(key.as_bytes());
            file.write_all(&h).map_err(|e| Error::io("writing embedding cache", path, e))?;
            return Ok(Store { path: path.into(), file, dims, index: HashMap::new(), vectors: Vec::new() });
        }
        if bytes[..8] != MAGIC {
            return Err(bad("not an l2core embedding cache (bad magic)".into()));
        }
        let stored_dims = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if stored_dims != dims32 || &bytes[12..HEADER] != key.as_bytes() {
            return Err(bad(format!("holds width {stored_dims} for another embedder, expected width {dims}")));
        }
        let rec = 32 + 4 * dims;
        let body = &bytes[HEADER..];
        let whole = body.len() / rec;
        if body.len() % rec != 0 {
            // A crash mid-append left a partial record: drop it so the next append stays aligned.
            file.set_len((HEADER + whole * rec) as u64)
                .map_err(|e| Error::io("truncating embedding cache", path, e))?;
        }
        let mut index = HashMap::with_capacity(whole);
        let mut vectors = Vec::with_capacity(whole * dims);
        for r in body.chunks_exact(rec) {
            let mut h = [0u8; 32];
            h.copy_from_slice(&r[..32]);
            index.entry(h).or_insert(vectors.len() / dims.max(1));
            vectors.extend(r[32..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])));
        }
        file.seek(SeekFrom::End(0)).map_err(|e| Error::io("seeking embedding cache", path, e))?;
        Ok(Store { path: path.into(), file, dims, index, vectors })
    }

    fn get(&self, h: &[u8; 32]) -> Option<&[f32]> {
        self.index.get(h).map(|&i| &self.vectors[i * self.dims..(i + 1) * self.dims])
    }

    fn append(&mut self, items: &[([u8; 32], &[f32])]) -> Result<()> {
        let mut buf = Vec::with_capacity(items.len() * (32 + 4 * self.dims));
        for (h, v) in items {
            if self.index.contains_key(h) {
                continue;
            }
            buf.extend_from_slice(h);
            buf.extend(v.iter().flat_map(|x| x.to_le_bytes()));
            self.index.insert(*h, self.vectors.len() / self.dims.max(1));
            self.vectors.extend_from_slice(v);
        }
        self.file.write_all(&buf).map_err(|e| Error::io("appending to embedding cache", &self.path, e))
    }
}

/// An embedder whose vectors come from an [`EmbeddingCache`] when present; misses are embedded by the
/// inner embedder (in one call, so it batches them) and appended.
pub struct CachedEmbedder {
    inner: Box<dyn Embedder>,
    store: Mutex<Store>,
    hits: AtomicUsize,
    misses: AtomicUsize,
}

impl std::fmt::Debug for CachedEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedEmbedder").field("hits", &self.hits()).field("misses", &self.misses()).finish()
    }
}

impl CachedEmbedder {
    /// Texts served from the cache so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    /// Texts embedded (and added to the cache) so far.
    pub fn misses(&self) -> usize {
        self.misses.load(Ordering::Relaxed)
    }

    /// Vectors in the cache file.
    pub fn len(&self) -> usize {
        self.store.lock().unwrap_or_else(|p| p.into_inner()).index.len()
    }

    /// Whether the cache file holds no vectors.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Unwrap the inner embedder.
    pub fn into_inner(self) -> Box<dyn Embedder> {
        self.inner
    }
}

impl Embedder for CachedEmbedder {
    fn dims(&self) -> usize {
        self.inner.dims()
    }

    fn spec(&self) -> EmbedderSpec {
        self.inner.spec()
    }

    fn embed_into(&self, texts: &[&str], out: &mut [f32]) -> Result<()> {
        let d = self.inner.dims();
        check_out_len("embedding output", out, texts.len(), d)?;
        let hashes: Vec<[u8; 32]> = texts.iter().map(|t| Sha256::digest(t.as_bytes()).into()).collect();
        let mut missing = Vec::new();
        {
            let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
            for (i, h) in hashes.iter().enumerate() {
                match store.get(h) {
                    Some(v) => out[i * d..(i + 1) * d].copy_from_slice(v),
                    None => missing.push(i),
                }
            }
        }
        self.hits.fetch_add(texts.len() - missing.len(), Ordering::Relaxed);
        if missing.is_empty() {
            return Ok(());
        }
        let miss_texts: Vec<&str> = missing.iter().map(|&i| texts[i]).collect();
        let fresh = self.inner.embed(&miss_texts)?;
        for (k, &i) in missing.iter().enumerate() {
            out[i * d..(i + 1) * d].copy_from_slice(&fresh[k * d..(k + 1) * d]);
        }
        let items: Vec<([u8; 32], &[f32])> =
            missing.iter().enumerate().map(|(k, &i)| (hashes[i], &fresh[k * d..(k + 1) * d])).collect();
        self.store.lock().unwrap_or_else(|p| p.into_inner()).append(&items)?;
        self.misses.fetch_add(missing.len(), Ordering::Relaxed);
        Ok(())
    }
}

/// Embed `texts` in chunks of `chunk` texts, calling `progress(done, total)` after each chunk (the CLI
/// draws a bar with texts/s from it).
pub fn embed_with_progress(
    embedder: &dyn Embedder,
    texts: &[&str],
    chunk: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<f32>> {
    let d = embedder.dims();
    let mut out = vec![0.0; texts.len() * d];
    let chunk = chunk.max(1);
    let mut done = 0;
    for (ts, o) in texts.chunks(chunk).zip(out.chunks_mut(chunk * d)) {
        embedder.embed_into(ts, o)?;
        done += ts.len();
        progress(done, texts.len());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::{HashEmbedder, HashSpec};

    fn hash_embedder(dims: usize) -> Box<dyn Embedder> {
        Box::new(HashEmbedder::new(HashSpec::with_dims(dims)).unwrap())
    }

    #[test]
    fn second_pass_is_served_from_disk_and_identical() {
        let dir = tempfile::tempdir().unwrap();
        let texts = ["ignore previous instructions", "what is 2+2?", "ignore previous instructions"];
        let direct = hash_embedder(64).embed(&texts).unwrap();
        let cache = EmbeddingCache::new(dir.path()).unwrap();
        let first = cache.wrap(hash_embedder(64)).unwrap();
        assert_eq!(first.embed(&texts).unwrap(), direct);
        assert_eq!((first.hits(), first.misses()), (0, 3));
        drop(first);
        let again = cache.wrap(hash_embedder(64)).unwrap();
        assert_eq!(again.len(), 2, "duplicates are stored once");
        assert_eq!(again.embed(&texts).unwrap(), direct);
        assert_eq!((again.hits(), again.misses()), (3, 0));
    }

    #[test]
    fn another_spec_gets_another_file_and_a_partial_record_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::new(dir.path()).unwrap();
        cache.wrap(hash_embedder(16)).unwrap().embed(&["a", "b"]).unwrap();
        cache.wrap(hash_embedder(32)).unwrap().embed(&["a"]).unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 2);
        let key = spec_key(&hash_embedder(16).spec()).unwrap();
        let path = dir.path().join(format!("{key}.l2emb"));
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[1, 2, 3]).unwrap();
        drop(f);
        let c = cache.wrap(hash_embedder(16)).unwrap();
        assert_eq!(c.len(), 2);
        c.embed(&["c"]).unwrap();
        drop(c);
        assert_eq!(cache.wrap(hash_embedder(16)).unwrap().len(), 3);
    }

    #[test]
    fn a_foreign_file_is_an_error_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::new(dir.path()).unwrap();
        let key = spec_key(&hash_embedder(16).spec()).unwrap();
        std::fs::write(dir.path().join(format!("{key}.l2emb")), vec![0u8; 200]).unwrap();
        let err = cache.wrap(hash_embedder(16)).unwrap_err().to_string();
        assert!(err.contains("bad magic"), "{err}");
    }

    #[test]
    fn progress_reports_every_chunk() {
        let e = hash_embedder(8);
        let texts: Vec<String> = (0..10).map(|i| format!("text {i}")).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut seen = Vec::new();
        let v = embed_with_progress(e.as_ref(), &refs, 4, &mut |d, t| seen.push((d, t))).unwrap();
        assert_eq!(seen, vec![(4, 10), (8, 10), (10, 10)]);
        assert_eq!(v, e.embed(&refs).unwrap());
    }
}
