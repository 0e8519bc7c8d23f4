"""A model's scheduling settings: <repository>/<model>/config.json, beside its version folders.

The fields are Triton's model configuration (its JSON form), the subset this server supports; anything else
is refused by name, so a typo never silently falls back to a default:

    {
      "max_batch_size": 32,                          rows per merged forward pass (0 or 1: no merging)
      "dynamic_batching": {
        "max_queue_delay_microseconds": 0,           how long a batch may wait to fill
        "priority_levels": 2,                        1 is the highest; requests pick one with
        "default_priority_level": 2,                   parameters.priority (0: the default level)
        "default_queue_policy": {
          "default_timeout_microseconds": 1000000,   a request queued longer is answered 503
          "allow_timeout_override": true,            requests may set parameters.timeout (microseconds)
          "max_queue_size": 64,                      more waiting requests are answered 503
          "timeout_action": "REJECT"                 the only action supported
        }
      },
      "instance_group": [{"count": 2, "kind": "KIND_CPU"}]   forward passes that may run at once
    }

A 0 (Triton's "unlimited") or a missing field takes the server's default (serve/settings.py), because
every queue here has a bound and every wait a timeout.
"""

import dataclasses
import json
import os


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    max_batch_size: int
    max_queue_delay_us: int
    priority_levels: int = 0  # 0: one level
    default_priority_level: int = 0
    queue_timeout_us: int = 30_000_000
    allow_timeout_override: bool = True
    max_queue_size: int = 256
    instance_count: int = 1

    @classmethod
    def defaults(cls, settings):
        return cls(
            max_batch_size=settings.max_batch_size,
            max_queue_delay_us=settings.max_queue_delay_us,
            queue_timeout_us=settings.queue_timeout_us,
            max_queue_size=settings.max_queue_size,
        )

    def priority(self, requested, tenant_level=None):
        """The queue position class of a request (smaller runs first): the level it asked for (1 = highest),
        else its tenant's, else the model's default. With one level every request is alike."""
        if not self.priority_levels:
            return 0
        level = requested or tenant_level or self.default_priority_level
        return min(max(level, 1), self.priority_levels)


_TOP = {"name", "max_batch_size", "dynamic_batching", "instance_group"}
_BATCHING = {
    "max_queue_delay_microseconds",
    "priority_levels",
    "default_priority_level",
    "default_queue_policy",
    "preferred_batch_size",
}
_POLICY = {"default_timeout_microseconds", "allow_timeout_override", "max_queue_size", "timeout_action"}


def _object(value, where, allowed):
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ValueError(f"{where}: unsupported field(s) {unknown}; supported: {sorted(allowed)}")
    return value


def _count(value, where, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where} must be an integer from {low} to {high}, got {value!r:.40}")
    return value


def parse_model_config(text, model_name, settings):
    """The ModelConfig a config.json's text describes (ValueError naming the field otherwise)."""
    try:
        top = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise ValueError(f"config.json is not valid JSON: {error}") from None
    top = _object(top, "config.json", _TOP)
    if "name" in top and top["name"] != model_name:
        raise ValueError(f"config.json: name {top['name']!r:.60} does not match the folder {model_name!r}")
    config = ModelConfig.defaults(settings)
    changes = {}
    if "max_batch_size" in top:
        changes["max_batch_size"] = max(_count(top["max_batch_size"], "max_batch_size", 0, 4096), 1)
    batching = _object(top.get("dynamic_batching", {}), "dynamic_batching", _BATCHING)
    if "max_queue_delay_microseconds" in batching:
        changes["max_queue_delay_us"] = _count(
            batching["max_queue_delay_microseconds"], "dynamic_batching.max_queue_delay_microseconds", 0, 10_000_000
        )
    levels = _count(batching.get("priority_levels", 0), "dynamic_batching.priority_levels", 0, 16)
    if levels:
        changes["priority_levels"] = levels
        changes["default_priority_level"] = _count(
            batching.get("default_priority_level", levels), "dynamic_batching.default_priority_level", 1, levels
        )
    policy = _object(batching.get("default_queue_policy", {}), "dynamic_batching.default_queue_policy", _POLICY)
    where = "dynamic_batching.default_queue_policy"
    if policy.get("timeout_action", "REJECT") != "REJECT":
        raise ValueError(f"{where}.timeout_action: only REJECT is supported, got {policy['timeout_action']!r:.40}")
    if policy.get("default_timeout_microseconds"):
        changes["queue_timeout_us"] = _count(
            policy["default_timeout_microseconds"], f"{where}.default_timeout_microseconds", 0, 3_600_000_000
        )
    if "allow_timeout_override" in policy:
        if not isinstance(policy["allow_timeout_override"], bool):
            raise ValueError(f"{where}.allow_timeout_override must be true or false")
        changes["allow_timeout_override"] = policy["allow_timeout_override"]
    if policy.get("max_queue_size"):
        changes["max_queue_size"] = _count(policy["max_queue_size"], f"{where}.max_queue_size", 0, 1_000_000)
    groups = top.get("instance_group", [])
    if not isinstance(groups, list) or len(groups) > 1:
        raise ValueError("instance_group must be a list of at most one group (this server runs on the CPU)")
    for group in groups:
        group = _object(group, "instance_group[0]", {"count", "kind", "name"})
        if group.get("kind", "KIND_CPU") not in ("KIND_CPU", "KIND_AUTO"):
            raise ValueError(f"instance_group[0].kind must be KIND_CPU, got {group['kind']!r:.40}")
        changes["instance_count"] = _count(group.get("count", 1), "instance_group[0].count", 1, 64)
    return dataclasses.replace(config, **changes)


def read_model_config(folder, model_name, settings):
    """The config of the model in `folder` (the server's defaults when it has no config.json)."""
    path = os.path.join(folder, "config.json")
    if not os.path.exists(path):
        return ModelConfig.defaults(settings)
    with open(path, "rb") as file:
        text = file.read(256 * 1024 + 1)
    if len(text) > 256 * 1024:
        raise ValueError("config.json is larger than 256 KiB")
    return parse_model_config(text, model_name, settings)
