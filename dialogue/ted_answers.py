"""TED's answer to an input it has already answered, given again without running TensorFlow.

TED's prediction is a function of its input alone: the featurized last five states of the dialogue
(intents, previous actions, slots, the active form), with no text of the citizen's in it (its training data
has no end-to-end stories). Those inputs recur: every citizen who asks a question and is answered, or
confirms a complaint, passes through the same few states. Running the model is a quarter of Rasa's time
per turn (py-spy), and TED runs at every prediction, two or more a turn, even when a rule decides.

Here ``TED.run_inference`` keeps its outputs per model and per input: the key is a digest of every array
and sparse matrix of the model data (their shapes, types and bytes), so the same input and nothing else
gets the kept answer, and each caller gets its own copy of the arrays. The share of predictions answered
from the kept outputs is logged every ``LOG_EVERY`` predictions (``grep "TED answers"`` in Rasa's log).
Installed by ``dialogue.rasa_server``; ``BANSHI_RASA_INCREMENTAL=0`` turns it off with the other savings.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from collections import OrderedDict
from typing import Any

log = logging.getLogger("rasa.banshi")

KEPT_ANSWERS = 4096
"""Inputs whose outputs are kept (least recently used dropped): a few kB each."""
LOG_EVERY = 1000

_kept: weakref.WeakKeyDictionary[Any, OrderedDict[bytes, dict[str, Any]]] = weakref.WeakKeyDictionary()
"""Per TED model (a model loaded anew starts empty), input digest → outputs."""
_counts = {"asked": 0, "kept": 0}


def _feed(digest: Any, value: Any) -> None:
    import numpy as np
    import scipy.sparse

    if isinstance(value, np.ndarray):
        digest.update(f"a{value.dtype}{value.shape}{getattr(value, 'number_of_dimensions', '')}".encode())
        if value.dtype == object:
            for item in value.flat:
                _feed(digest, item)
        else:
            digest.update(np.ascontiguousarray(value).tobytes())
    elif scipy.sparse.issparse(value):
        matrix = value.tocoo()
        digest.update(f"s{matrix.shape}{matrix.dtype}{matrix.nnz}".encode())
        for part in (matrix.row, matrix.col, matrix.data):
            digest.update(np.ascontiguousarray(part).tobytes())
    elif isinstance(value, dict):
        digest.update(f"d{len(value)}".encode())
        for key in sorted(value):
            digest.update(f"k{key}".encode())
            _feed(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"l{len(value)}".encode())
        for item in value:
            _feed(digest, item)
    else:
        digest.update(f"v{type(value).__name__}{value!r}".encode())


def input_key(model_data: Any, batch_size: Any, output_keys_expected: Any) -> bytes:
    """A digest of everything ``run_inference`` reads: equal inputs, equal keys."""
    digest = hashlib.blake2b(digest_size=20)
    _feed(digest, [model_data.label_key, model_data.label_sub_key, batch_size, output_keys_expected])
    _feed(digest, {key: dict(sub) for key, sub in model_data.data.items()})
    return digest.digest()


def _copy(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _kept_answers(run_inference: Any) -> Any:
    def kept_run_inference(self: Any, model_data: Any, batch_size: Any = 1, output_keys_expected: Any = None) -> Any:
        key = input_key(model_data, batch_size, output_keys_expected)
        kept = _kept.setdefault(self, OrderedDict())
        _counts["asked"] += 1
        outputs = kept.get(key)
        if outputs is None:
            outputs = run_inference(self, model_data, batch_size, output_keys_expected)
            kept[key] = outputs
            while len(kept) > KEPT_ANSWERS:
                kept.popitem(last=False)
        else:
            _counts["kept"] += 1
            kept.move_to_end(key)
        if _counts["asked"] % LOG_EVERY == 0:
            log.info("TED answers kept: %d of %d predictions", _counts["kept"], _counts["asked"])
        return _copy(outputs)

    kept_run_inference.banshi_kept = True  # type: ignore[attr-defined]
    return kept_run_inference


def install() -> None:
    from rasa.core.policies.ted_policy import TED

    if not getattr(TED.run_inference, "banshi_kept", False):
        TED.run_inference = _kept_answers(TED.run_inference)
