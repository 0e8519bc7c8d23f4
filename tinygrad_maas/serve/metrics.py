"""Prometheus metrics of the server, per model and version, with Triton's names:

    nv_inference_request_success / nv_inference_request_failure   requests answered / failed
    nv_inference_count                                            inferences (rows) computed
    nv_inference_exec_count                                       forward passes (batches) run
    nv_inference_queue_duration_us / nv_inference_compute_infer_duration_us   cumulative time waiting / computing
    tinygrad_maas_rejected_requests_total{reason=...}            requests turned away before reaching a model:
        rate_limited, too_many_in_flight (429), queue_full, queue_timeout, request_timeout (503)

Every inference-like request (v2 infer, TF-Serving predict, explain) is counted once, as success or failure,
by the route guard (app.py), whichever endpoint it came through.
"""

import threading

COUNTERS = (
    "nv_inference_request_success",
    "nv_inference_request_failure",
    "nv_inference_count",
    "nv_inference_exec_count",
    "nv_inference_queue_duration_us",
    "nv_inference_compute_infer_duration_us",
)
HELP = {
    "nv_inference_request_success": "Number of successful inference requests",
    "nv_inference_request_failure": "Number of failed inference requests",
    "nv_inference_count": "Number of inferences performed (rows)",
    "nv_inference_exec_count": "Number of model executions (batches)",
    "nv_inference_queue_duration_us": "Cumulative time requests waited in the batching queue, microseconds",
    "nv_inference_compute_infer_duration_us": "Cumulative model execution time, microseconds",
}


class Metrics:
    def __init__(self):
        self.values = {}  # (counter, model, version) -> number
        self.rejections = {}  # reason -> number
        self.lock = threading.Lock()

    def rejected(self, reason):
        with self.lock:
            self.rejections[reason] = self.rejections.get(reason, 0) + 1

    def add(self, counter, model, version, amount=1):
        with self.lock:
            key = (counter, model, version)
            self.values[key] = self.values.get(key, 0) + amount

    def request(self, model, ok):
        self.add("nv_inference_request_success" if ok else "nv_inference_request_failure", model.name, model.version)

    def executed(self, model, requests, rows, queue_seconds, compute_seconds):
        self.add("nv_inference_exec_count", model.name, model.version)
        self.add("nv_inference_count", model.name, model.version, rows)
        self.add("nv_inference_queue_duration_us", model.name, model.version, int(queue_seconds * 1e6))
        self.add("nv_inference_compute_infer_duration_us", model.name, model.version, int(compute_seconds * 1e6))

    def render(self):
        """The Prometheus text exposition format."""
        lines = []
        with self.lock:
            for counter in COUNTERS:
                lines += [f"# HELP {counter} {HELP[counter]}", f"# TYPE {counter} counter"]
                for (name, model, version), value in sorted(self.values.items()):
                    if name == counter:
                        lines.append(f'{counter}{{model="{model}",version="{version}"}} {value}')
            lines += [
                "# HELP tinygrad_maas_rejected_requests_total Requests turned away before reaching a model",
                "# TYPE tinygrad_maas_rejected_requests_total counter",
            ]
            lines += [
                f'tinygrad_maas_rejected_requests_total{{reason="{reason}"}} {value}'
                for reason, value in sorted(self.rejections.items())
            ]
        return "\n".join(lines) + "\n"
