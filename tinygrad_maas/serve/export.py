"""`tinygrad-maas export`: copy a saved model (or an .onnx or .keras file) into a model repository as a new
version, atomically. An ONNX model becomes <version>/model.onnx (Triton's layout), a Keras file
<version>/model.keras, a sentence-transformers folder a text-embedding model (its files and a
text_model.json, serve/text_model.py).

The files are copied into a staging folder beside the versions (<model>/.export-<pid>-<random>, which the
server ignores) and the folder is renamed to its version number in one step, so a server polling the
repository sees a version complete or not at all. Two exports running at once never take the same number
(the rename fails for the second, which takes the next one); an export that fails removes its staging
folder, and one that was killed leaves a folder the next export removes (its process is gone). The copies
get the usual permissions of the user's umask, so a server running as another user can read them.
"""

import json
import os
import re
import secrets
import shutil

from .model_files import KERAS_FILE, ONNX_FILE, SAVED_FILES, TEXT_FILES, read_model, single_file
from .repository import VERSION, check_name
from .settings import ServerSettings
from .text_model import TEXT_MODEL_FILE

_STAGING = re.compile(r"\.export-(\d+)-[0-9a-f]+")


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_abandoned_staging(folder):
    """Delete staging folders whose export process no longer runs (it was killed mid-copy)."""
    for name in os.listdir(folder):
        match = _STAGING.fullmatch(name)
        if match and not _process_alive(int(match.group(1))):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def _versions(folder):
    return [int(name) for name in os.listdir(folder) if VERSION.fullmatch(name)]


def export(model_dir, repository, name, version=None):
    """Copy the model at model_dir (a saved-model folder, an .onnx file, or a folder holding model.onnx)
    into repository/name/<version>; returns the version number. Only a model the server can load is
    exported: it is read, and its signature checked, first."""
    settings = ServerSettings()
    kind, file = single_file(model_dir)
    if os.path.isfile(os.path.join(model_dir, "modules.json")) and not kind:  # a sentence-transformers folder
        copies = _text_model_files(model_dir)
    elif kind:
        read_model(model_dir, settings.max_architecture_bytes, settings.memory_budget_bytes)
        copies = [(file, KERAS_FILE if kind == "keras" else ONNX_FILE)]
    else:
        read_model(model_dir, settings.max_architecture_bytes, settings.memory_budget_bytes)
        copies = [(os.path.join(model_dir, file), file) for file in SAVED_FILES]
    name = check_name(name)
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise ValueError(f"--version must be a positive integer, got {version!r}")
    folder = os.path.join(repository, name)
    os.makedirs(folder, exist_ok=True)
    remove_abandoned_staging(folder)
    staging = os.path.join(folder, f".export-{os.getpid()}-{secrets.token_hex(4)}")
    os.mkdir(staging, 0o777)  # the umask narrows it, as for any folder a program makes
    try:
        for source, file in copies:
            target = os.path.join(staging, file)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if source is None:  # text_model.json, written here
                with open(target, "w", encoding="utf-8") as out:
                    json.dump({"task": "embeddings"}, out)
            else:
                shutil.copyfile(source, target)  # new files: umask modes
        return _claim_version(staging, folder, version)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)


def _text_model_files(model_dir):
    """(source, name) of a sentence-transformers folder's files, checked by loading it first, and the
    text_model.json that makes it a text-embedding model (source None: written by export)."""
    from ..models import SentenceEmbedder

    SentenceEmbedder.from_folder(model_dir)
    names = list(TEXT_FILES)
    extra = ("sentence_bert_config.json", "1_Pooling/config.json", "tokenizer_config.json", "special_tokens_map.json")
    names += [name for name in extra if os.path.isfile(os.path.join(model_dir, name))]
    return [(None if name == TEXT_MODEL_FILE else os.path.join(model_dir, name), name) for name in names]


def _claim_version(staging, folder, version):
    """Rename the staging folder to the requested version, or to the next free one."""
    for _ in range(1000):
        number = version or max(_versions(folder), default=0) + 1
        target = os.path.join(folder, str(number))
        if os.path.exists(target):
            if version:
                raise ValueError(f"{target} exists already; versions are never overwritten")
            continue
        try:
            os.rename(staging, target)  # atomic; fails if another export made this folder meanwhile
            return number
        except OSError:
            if version or not os.path.exists(target):
                raise
    raise RuntimeError(f"could not find a free version number in {folder}")
