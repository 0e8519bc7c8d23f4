"""A model repository on disk and the state of every version in it, as Triton reports it.

    <root>/<model>/config.json                       optional scheduling settings (config.py)
    <root>/<model>/<version>/architecture.json       a saved model (nn/architecture.py)
    <root>/<model>/<version>/weights.safetensors
    <root>/<model>/<version>/model.onnx              or an ONNX graph, Triton's layout (model_files.py)

Each version is loaded on its own: a broken one is UNAVAILABLE with the reason (logged once, shown by
POST /v2/repository/index) and never stops the versions and models beside it. States are Triton's:
READY (answering), LOADING, UNAVAILABLE (failed, unloaded on request, or unloaded to fit the memory budget;
only the last loads again by itself, on the next request for it).

refresh() makes the server follow the disk: new versions load, removed ones unload, and a version whose
files changed (the same number exported again) loads again, so stale weights are never served under a
number. A version is identified by its files' inode, size and modification time.

Names and versions are checked before any path is built from them: model names are letters, digits and
"_.-" (not leading "." or "-"), versions canonical positive integers ("1", never "01", "+1" or "١"), so
no request can reach outside the repository. Loading reads JSON, safetensors and ONNX only, checks the
architecture against the weights' header before allocating (read_saved_model), and checks the model's
size against the memory budget before reading its weights; the least recently used versions are
unloaded to make room.
"""

import concurrent.futures
import os
import re
import threading
import time

from .config import read_model_config
from .errors import ApiError, retry_after
from .generation_model import TextGenerationModel
from .metrics import Metrics
from .model import LoadedModel
from .model_files import files_of, is_text_model, read_model, weight_bytes
from .settings import ServerSettings
from .text_model import TextEmbeddingModel

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
VERSION = re.compile(r"[1-9][0-9]{0,17}")
READY, LOADING, UNAVAILABLE = "READY", "LOADING", "UNAVAILABLE"
EVICTED = "unloaded to stay within the memory budget; it loads again on the next request for it"


def check_name(name):
    if not isinstance(name, str) or not NAME.fullmatch(name) or ".." in name:
        raise ApiError(400, f"invalid model name {str(name)[:80]!r}: letters, digits, '_', '-', '.' only")
    return name


def check_version(version):
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        raise ApiError(
            400,
            f"invalid model version {str(version)[:40]!r}: a positive integer written plainly "
            "(ASCII digits, no sign, no leading zero)",
        )
    return version


def _fingerprint(*paths):
    """What changes when a file is replaced or rewritten (None for a missing file)."""
    identity = []
    for path in paths:
        try:
            stat = os.stat(path)
            identity.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
        except OSError:
            identity.append(None)
    return tuple(identity)


class Version:
    """One <model>/<version> folder and what the server knows of it."""

    def __init__(self, name, version, folder):
        self.name, self.version, self.folder = name, version, folder
        self.state, self.reason = LOADING, "found on disk"
        self.model = None  # a LoadedModel while READY
        self.signature = None  # {"inputs": [...], "outputs": [...]} once it has loaded (kept when evicted)
        self.fingerprint = None  # of the files the last load (or failed load) saw
        self.evicted = False  # unloaded for the memory budget: loads again on demand
        self.last_used = 0.0
        self.loading = None  # a concurrent.futures.Future while a load runs

    def files(self):
        return files_of(self.folder)

    def available(self):
        return self.state == READY or self.evicted or self.loading is not None


class ModelRepository:
    def __init__(self, root, settings=None, metrics=None, log=print):
        if not os.path.isdir(root):
            raise FileNotFoundError(f"model repository {root!r} is not a directory")
        self.root = os.path.abspath(root)
        self.settings = settings or ServerSettings()
        self.metrics, self.log = metrics or Metrics(), log
        self.versions = {}  # (name, version) -> Version
        self.configs = {}  # name -> (fingerprint, ModelConfig or the error message)
        self.lock = threading.RLock()
        self.loader = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="model-loader")
        self.retire = lambda scheduler, reason: scheduler.retire(reason)  # the app runs it in its event loop
        self.said = set()  # problems already logged (each is logged once, not at every poll)

    # ------------------------------------------------------------------ following the disk
    def scan(self, names=None):
        """{model name: {version: folder}} of what is on disk now (canonical names and versions only)."""
        found = {}
        for name in sorted(os.listdir(self.root)):
            folder = os.path.join(self.root, name)
            if (names is not None and name not in names) or not os.path.isdir(folder) or name.startswith("."):
                continue
            if not NAME.fullmatch(name) or ".." in name:
                self._say(f"ignoring {folder}: not a valid model name")
                continue
            versions = {}
            for version in os.listdir(folder):
                path = os.path.join(folder, version)
                if not os.path.isdir(path) or version.startswith("."):
                    continue
                if VERSION.fullmatch(version):
                    versions[version] = path
                else:
                    self._say(f"ignoring {path}: version folders are positive integers written plainly")
            found[name] = versions
        return found

    def refresh(self, names=None):
        """Load what is new or changed on disk, unload what is gone; returns [(name, version, state)] of the
        versions touched. `names`: only these models (the explicit load API)."""
        on_disk = self.scan(names)
        changes = []
        with self.lock:
            for (name, version), entry in list(self.versions.items()):
                if (names is None or name in names) and version not in on_disk.get(name, {}):
                    self._drop(entry, "removed from the repository")
                    changes.append((name, version, "removed"))
        for name, versions in on_disk.items():
            config_changed = self._refresh_config(name)
            for version in sorted(versions, key=int):
                entry = self._entry(name, version, versions[version])
                if entry.fingerprint != _fingerprint(*entry.files()) or (
                    config_changed and entry.state == UNAVAILABLE and not entry.evicted
                ):
                    self.load(entry)
                    changes.append((name, version, entry.state))
                elif config_changed and entry.model is not None and self.config_of(name) is not None:
                    self._reschedule(entry)
        return changes

    def _refresh_config(self, name):
        """Re-read <model>/config.json if it changed; True when it did."""
        path = os.path.join(self.root, name, "config.json")
        fingerprint = _fingerprint(path)
        if name in self.configs and self.configs[name][0] == fingerprint:
            return False
        try:
            config = read_model_config(os.path.join(self.root, name), name, self.settings)
        except (OSError, ValueError) as error:
            config = f"config.json: {error}"
            self._say(f"model {name}: {config}")
        self.configs[name] = (fingerprint, config)
        return True

    def _entry(self, name, version, folder):
        with self.lock:
            return self.versions.setdefault((name, version), Version(name, version, folder))

    # ------------------------------------------------------------------ loading and unloading
    def load(self, entry):
        """Load (or reload) one version now, in this thread; its state tells how it went."""
        future = self.start_load(entry)
        future.result()

    def start_load(self, entry):
        """A future for loading this version (the one already running, if any)."""
        with self.lock:
            if entry.loading is None:
                entry.loading = self.loader.submit(self._load, entry)
            return entry.loading

    def _load(self, entry):
        fingerprint = _fingerprint(*entry.files())
        try:
            model = self._build(entry)
        except Exception as error:  # noqa: BLE001 - any failure makes this version, and only it, unavailable
            reason = f"{type(error).__name__}: {error}".replace(self.root + os.sep, "")
            with self.lock:
                self._retire(entry, reason)
                entry.state, entry.reason, entry.fingerprint, entry.loading = UNAVAILABLE, reason, fingerprint, None
                entry.signature, entry.evicted = None, False
            self._say(f"model {entry.name} version {entry.version} is unavailable: {reason}")
            return
        with self.lock:
            self._retire(entry, "a newer copy of this version was loaded")
            entry.model, entry.state, entry.reason, entry.evicted = model, READY, "", False
            entry.signature = {"inputs": model.inputs, "outputs": model.outputs}
            entry.fingerprint, entry.loading, entry.last_used = fingerprint, None, time.monotonic()
        self.log(f"loaded model {entry.name} version {entry.version}")

    def _build(self, entry):
        from .batching import Scheduler

        config = self.configs.get(entry.name, (None, None))[1]
        if isinstance(config, str):
            raise ValueError(config)
        settings = self.settings
        self._make_room(weight_bytes(entry.folder, settings.max_architecture_bytes), entry)
        if is_text_model(entry.folder):
            model = TextEmbeddingModel(entry.name, entry.version, entry.folder, settings.max_texts_per_request)
        else:
            module, metadata = read_model(entry.folder, settings.max_architecture_bytes, settings.memory_budget_bytes)
            from ..models.causal_lm import CharLanguageModel

            if isinstance(module, CharLanguageModel):
                model = TextGenerationModel(entry.name, entry.version, module)
            else:
                model = LoadedModel(entry.name, entry.version, module, metadata, settings.max_body_bytes)
        model.warm_up()
        model.scheduler = Scheduler(model, config, self.metrics)
        return model

    def _make_room(self, needed, keep):
        """Unload the least recently used versions until `needed` more bytes fit in the memory budget."""
        budget = self.settings.memory_budget_bytes
        if needed > budget:
            raise ValueError(f"the model's weights take {needed} bytes, more than the memory budget of {budget}")
        with self.lock:
            loaded = sorted(
                (e for e in self.versions.values() if e.model is not None and e is not keep), key=lambda e: e.last_used
            )
            used = sum(e.model.nbytes for e in loaded)
            for victim in loaded:
                if used + needed <= budget:
                    break
                used -= victim.model.nbytes
                self._retire(victim, EVICTED)
                victim.state, victim.reason, victim.evicted = UNAVAILABLE, EVICTED, True
                self.log(f"unloaded model {victim.name} version {victim.version} to stay within the memory budget")

    def _reschedule(self, entry):
        """Give a loaded version a scheduler with its model's new config; the old one finishes its queue."""
        from .batching import Scheduler

        with self.lock:
            old, entry.model.scheduler = (
                entry.model.scheduler,
                Scheduler(entry.model, self.config_of(entry.name), self.metrics),
            )
            self.retire(old, "the model's config.json changed")
        self.log(f"model {entry.name} version {entry.version}: config.json applied")

    def _retire(self, entry, reason):
        """Let the version's old model finish what it queued, then free it."""
        if entry.model is not None:
            self.retire(entry.model.scheduler, reason)
            entry.model = None

    def _drop(self, entry, reason):
        with self.lock:
            self._retire(entry, reason)
            del self.versions[(entry.name, entry.version)]
        self.log(f"unloaded model {entry.name} version {entry.version}: {reason}")

    def unload_model(self, name):
        """Unload every version of a model (the explicit unload API); it stays unloaded until loaded again."""
        with self.lock:
            entries = [e for e in self.versions.values() if e.name == name]
            if not entries:
                raise ApiError(404, f"unknown model {name!r}")
            for entry in entries:
                self._retire(entry, "unloaded by request")
                entry.state, entry.reason, entry.evicted = UNAVAILABLE, "unloaded by request", False
                entry.fingerprint = None  # a later load reads it again

    def close(self):
        self.loader.shutdown(wait=False)

    # ------------------------------------------------------------------ answering requests
    def resolve(self, name, version=None):
        """The Version a request means: the one asked for, or the latest that can answer."""
        check_name(name)
        with self.lock:
            entries = {v: e for (n, v), e in self.versions.items() if n == name}
        if not entries:
            raise ApiError(404, f"unknown model {name!r}")
        if version is None:
            usable = [entries[v] for v in sorted(entries, key=int) if entries[v].available()]
            if not usable:
                states = ", ".join(f"version {v}: {entries[v].reason}" for v in sorted(entries, key=int))
                raise ApiError(503, f"model {name!r} has no version that can answer ({states})", retry_after(5))
            return usable[-1]
        check_version(version)
        if version not in entries:
            raise ApiError(
                404, f"model {name!r} has no version {version} (it has {', '.join(sorted(entries, key=int))})"
            )
        return entries[version]

    async def acquire(self, name, version=None):
        """(Version, its LoadedModel) for a request: loads it first if it was unloaded for the memory budget
        (requests for it wait for that one load). Without a version, a version that stops answering in the
        meantime (replaced, removed) makes it look again. 503 with the reason when none can answer."""
        import asyncio

        for _ in range(3):
            entry = self.resolve(name, version)
            model, loading = entry.model, entry.loading
            if model is None and loading is None and entry.evicted:
                loading = self.start_load(entry)
            if model is None and loading is not None:
                await asyncio.wrap_future(loading)  # a failed version is never loaded again by a request
                model = entry.model
            if model is not None:
                entry.last_used = time.monotonic()
                return entry, model
            if version is not None:
                break
        raise ApiError(
            503, f"model {entry.name!r} version {entry.version} is unavailable: {entry.reason}", retry_after(5)
        )

    def config_of(self, name):
        config = self.configs.get(name, (None, None))[1]
        return None if isinstance(config, str) else config

    def index(self, ready_only=False):
        """Triton's repository index: every version with its state and the reason for it."""
        with self.lock:
            entries = sorted(self.versions.values(), key=lambda e: (e.name, int(e.version)))
            return [
                {"name": e.name, "version": e.version, "state": e.state, "reason": e.reason}
                for e in entries
                if e.state == READY or not ready_only
            ]

    def models(self):
        """{model name: [versions, ascending]} of everything the repository holds."""
        with self.lock:
            names = {}
            for name, version in self.versions:
                names.setdefault(name, []).append(version)
        return {name: sorted(versions, key=int) for name, versions in sorted(names.items())}

    def ready(self):
        """The server is ready when at least one model version can answer."""
        with self.lock:
            return any(entry.available() for entry in self.versions.values())

    def _say(self, message):
        if message not in self.said:
            self.said.add(message)
            self.log(message)
