"""What kind of attack: the typed result of ``Model.classify``.

A model trained on data with ``family`` / ``severity`` columns has softmax heads beside its binary
output. Their probabilities are conditional ("if this is an attack, which family"); the answer of a
text the model does not flag is ``"BENIGN"`` / ``"none"``, as the training CSV writes benign rows.
Numbers are the Rust engine's, bit for bit the same as ``l2 predict``, libl2's ``l2_model_classify_ex``
and ``l2 serve``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union, overload

import numpy as np

BENIGN_FAMILY = "BENIGN"
BENIGN_SEVERITY = "none"


@dataclass(frozen=True)
class Classification:
    """One text's answer.

    ``family`` / ``severity`` are ``None`` when the model has no such head; ``family_scores`` /
    ``severity_scores`` map every label to P(label | attack) (empty without the head).
    """

    score: float
    malicious: bool
    family: Optional[str]
    severity: Optional[str]
    family_scores: Dict[str, float] = field(default_factory=dict)
    severity_scores: Dict[str, float] = field(default_factory=dict)


class Classifications(Sequence[Classification]):
    """The answers of ``Model.classify(texts)``, one per text, in order.

    A sequence of :class:`Classification`, with the columns as numpy arrays (``scores``,
    ``malicious``, ``family_probs`` ``(n, len(families))`` ...) and :meth:`to_pandas` for a DataFrame.
    """

    def __init__(
        self,
        scores: "np.ndarray",
        malicious: "np.ndarray",
        families: Optional[List[str]],
        family_probs: Optional["np.ndarray"],
        family_index: Optional["np.ndarray"],
        severities: Optional[List[str]],
        severity_probs: Optional["np.ndarray"],
        severity_index: Optional["np.ndarray"],
    ) -> None:
        self.scores = scores
        self.malicious = malicious
        self.families = families
        self.family_probs = family_probs
        self.severities = severities
        self.severity_probs = severity_probs
        self._family_index = family_index
        self._severity_index = severity_index

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def _label(self, labels: Optional[List[str]], index: Optional["np.ndarray"], i: int, benign: str) -> Optional[str]:
        if labels is None or index is None:
            return None
        j = int(index[i])
        return benign if j < 0 else labels[j]

    @property
    def family(self) -> List[Optional[str]]:
        """Each text's family (``"BENIGN"`` when not flagged; ``None`` without a family head)."""
        return [self._label(self.families, self._family_index, i, BENIGN_FAMILY) for i in range(len(self))]

    @property
    def severity(self) -> List[Optional[str]]:
        """Each text's severity (``"none"`` when not flagged; ``None`` without a severity head)."""
        return [self._label(self.severities, self._severity_index, i, BENIGN_SEVERITY) for i in range(len(self))]

    def _one(self, i: int) -> Classification:
        def scores(labels: Optional[List[str]], probs: Optional["np.ndarray"]) -> Dict[str, float]:
            if labels is None or probs is None:
                return {}
            return {l: float(p) for l, p in zip(labels, probs[i])}

        return Classification(
            score=float(self.scores[i]),
            malicious=bool(self.malicious[i]),
            family=self._label(self.families, self._family_index, i, BENIGN_FAMILY),
            severity=self._label(self.severities, self._severity_index, i, BENIGN_SEVERITY),
            family_scores=scores(self.families, self.family_probs),
            severity_scores=scores(self.severities, self.severity_probs),
        )

    @overload
    def __getitem__(self, i: int) -> Classification: ...

    @overload
    def __getitem__(self, i: slice) -> List[Classification]: ...

    def __getitem__(self, i: Union[int, slice]) -> Union[Classification, List[Classification]]:
        if isinstance(i, slice):
            return [self._one(j) for j in range(*i.indices(len(self)))]
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"classification index {i} out of range for {n} texts")
        return self._one(i % n)

    def __iter__(self) -> Iterator[Classification]:
        return (self._one(i) for i in range(len(self)))

    def __repr__(self) -> str:
        return f"Classifications({len(self)} texts, families={self.families}, severities={self.severities})"

    def to_pandas(self, index: Any = None) -> Any:
        """A DataFrame: ``score``, ``malicious``, ``family``, ``severity``, then one ``family:<label>``
        and ``severity:<label>`` column of probabilities per label. Needs pandas."""
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("Classifications.to_pandas needs pandas (pip install pandas)") from e
        cols: Dict[str, Any] = {"score": self.scores, "malicious": self.malicious}
        if self.families is not None:
            cols["family"] = self.family
        if self.severities is not None:
            cols["severity"] = self.severity
        for name, labels, probs in (("family", self.families, self.family_probs), ("severity", self.severities, self.severity_probs)):
            if labels is not None and probs is not None:
                for j, l in enumerate(labels):
                    cols[f"{name}:{l}"] = probs[:, j]
        return pd.DataFrame(cols, index=index)
