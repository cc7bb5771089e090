"""Type stubs of the native module ``l2core._l2core`` (the Rust half of the package)."""

import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from ._heads import Classifications

__version__: str
FRAME_NAME: str

_Path = Union[str, "os.PathLike[str]"]
_Texts = Union[Sequence[str], "npt.NDArray[Any]", Iterable[str]]
_Matrix = Union["npt.NDArray[np.float32]", "npt.NDArray[np.float64]", Sequence[Sequence[float]]]

class L2Error(Exception):
    """Base class of every error raised by l2core; the message is the engine's."""

class InvalidDataError(L2Error, ValueError):
    """Input data (CSV rows, texts, labels) is invalid."""

    row_errors: List[Dict[str, Any]]
    total: int

class InvalidParamError(L2Error, ValueError):
    """A setting is out of range or inconsistent."""

class ShapeError(L2Error, ValueError):
    """An array has the wrong shape or length."""

class ModelError(L2Error, ValueError):
    """A model file is corrupt, truncated, of an unknown format or does not fit."""

class IoError(L2Error, OSError):
    """Reading or writing a file failed; errno and filename are set when known."""

class EmbedderError(L2Error, RuntimeError):
    """An embedder could not be built or run."""

class TrainingError(L2Error, RuntimeError):
    """Training could not proceed or was cancelled."""

class CheckError(L2Error):
    """A parity check or release gate failed."""

class RegistryError(L2Error, LookupError):
    """The model registry is inconsistent or an entry is missing."""

class Report:
    """An evaluation report; ``str()`` is the human table, ``to_dict()`` every figure."""

    @property
    def passed(self) -> bool:
        """Whether every PASS/FAIL criterion passes."""
    def to_dict(self) -> Dict[str, Any]:
        """Every figure as plain Python values (the JSON form of ``l2 eval --json``)."""
    def to_json(self) -> str:
        """The report as JSON text."""
    def __getattr__(self, name: str) -> Any: ...

class Model:
    """A loaded L2 classifier: embedder + network + metadata. Immutable and thread-safe."""

    @staticmethod
    def load(path: _Path) -> "Model":
        """Load and verify a model file."""
    @staticmethod
    def from_bytes(data: bytes) -> "Model":
        """Load and verify a model from the bytes of a model file."""
    def save(self, path: _Path) -> None:
        """Write the model file atomically."""
    def to_bytes(self) -> bytes:
        """The model file as bytes."""
    def score(self, texts: _Texts) -> "npt.NDArray[np.float32]":
        """Malicious probability of each text (float32, shape (n,))."""
    def score_arrow(self, array: Any) -> "npt.NDArray[np.float32]":
        """Malicious probability of each text of an Arrow string array (``__arrow_c_array__``: utf8 or
        large_utf8), read in place from the Arrow buffers; equal to ``score`` on the same texts."""
    def score_embeddings(
        self, x: _Matrix, out: Optional["npt.NDArray[np.float32]"] = None
    ) -> "npt.NDArray[np.float32]":
        """Malicious probability of each row of an (n, dims) matrix; zero-copy for C-contiguous float32."""
    def predict(self, data: Union[_Texts, _Matrix]) -> "npt.NDArray[np.bool_]":
        """Decisions (score >= threshold) for texts or a 2-D float embeddings array."""
    def predict_embeddings(self, x: _Matrix) -> "npt.NDArray[np.bool_]":
        """Decisions for an (n, dims) embeddings matrix."""
    def embed(self, texts: _Texts) -> "npt.NDArray[np.float32]":
        """Embed texts with the model's embedder: float32 (n, dims); ValueError for a wide_deep model."""
    def score_details(self, texts: _Texts) -> List[Dict[str, Any]]:
        """Per text {"score", "views", "windows", "view"}: the score and how it was reached."""
    def classify(self, texts: _Texts) -> "Classifications":
        """Each text's score, decision, family and severity (see l2core.Classifications)."""
    @property
    def heads(self) -> Dict[str, List[str]]:
        """The labels of each head: {"family": [...], "severity": [...]} (empty without heads)."""
    def features(
        self, texts: _Texts
    ) -> Tuple["npt.NDArray[np.float32]", "npt.NDArray[np.int64]", "npt.NDArray[np.int64]"]:
        """Sparse n-gram features of a wide_deep model as CSR (values, indices, indptr)."""
    @property
    def kind(self) -> str:
        """'mlp' or 'wide_deep'."""
    def quantize(self, precision: str) -> "Model":
        """A copy of this f32 model quantized to 'int8' or 'f16'."""
    def with_threshold(self, threshold: float) -> "Model":
        """A copy with another decision threshold."""
    @property
    def threshold(self) -> float:
        """Decision threshold: scores >= threshold are malicious."""
    @property
    def dims(self) -> int:
        """Input width: embedding dims (mlp) or n-gram vocabulary size (wide_deep)."""
    @property
    def precision(self) -> str:
        """Weight precision: 'f32', 'f16' or 'int8'."""
    @property
    def hidden(self) -> List[int]:
        """Hidden layer widths."""
    @property
    def metadata(self) -> Dict[str, Any]:
        """Everything the model file says about itself."""
    @property
    def report(self) -> Optional[Report]:
        """The test-split evaluation recorded at training time."""

def embed(
    texts: _Texts,
    dims: int = 512,
    *,
    char_ngrams: Tuple[int, int] = (3, 5),
    word_ngrams: Tuple[int, int] = (1, 2),
    char_weight: float = 1.0,
    word_weight: float = 2.0,
    lowercase: bool = True,
) -> "npt.NDArray[np.float32]":
    """Embed texts with the built-in hashing embedder: float32 (n, dims)."""

def run_cli(argv: List[str]) -> int:
    """Run the ``l2`` command line; returns the exit code."""

class _Records:
    @staticmethod
    def read(
        paths: List[str], skip_invalid: bool = False, merge: bool = False, frame_lines: Optional[List[int]] = None
    ) -> "_Records": ...
    def __len__(self) -> int: ...
    def columns(self) -> Dict[str, List[Any]]: ...
    def rejects(self) -> List[Dict[str, Any]]: ...
    def write_rejects(self, path: _Path) -> None: ...
    def dedupe_stats(self) -> Dict[str, int]: ...

class _Network:
    @staticmethod
    def from_weights(weights: List[Tuple[Any, Any]], history_json: str = "null") -> "_Network": ...
    def weights(self) -> List[Tuple["npt.NDArray[np.float32]", "npt.NDArray[np.float32]"]]: ...
    @property
    def n_features(self) -> int: ...
    @property
    def history_json(self) -> str: ...
    def predict_proba(self, x: _Matrix) -> "npt.NDArray[np.float32]": ...
    def to_model(self, threshold: float) -> Model: ...

def _train(
    config_json: str,
    records: Optional[_Records] = None,
    callback: Optional[Callable[[Dict[str, Any]], Any]] = None,
    hash_json: Optional[str] = None,
) -> Model: ...
def _fp_report(
    benign: Dict[str, int],
    index: Sequence[int],
    ids: Sequence[Optional[str]],
    prompts: Sequence[str],
    categories: Sequence[str],
    scores: Sequence[float],
    model_id: str,
    path: Optional[_Path] = None,
) -> str: ...
def _evaluate(model: Model, records: _Records, threshold: Optional[float] = None) -> Report: ...
def _retrain(config_json: str, callback: Optional[Callable[[Dict[str, Any]], Any]] = None) -> str: ...
def train_config_defaults() -> str:
    """The training job's settings at their defaults (Rust's ``TrainConfig::default()``) as JSON."""
def _fit_mlp(
    x: Any, y: Any, w: Any, x_val: Any, y_val: Any, w_val: Any, params_json: str, callback: Any = None
) -> _Network: ...
