"""A text progress bar for training loops: redrawn in place on a terminal, one line per epoch elsewhere."""

import sys
import time


class ProgressBar:
    def __init__(self, total, prefix="", width=30, stream=None):
        self.total, self.prefix, self.width = total, prefix, width
        self.stream = stream or sys.stdout
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()

    def update(self, done, **values):
        """Redraw after `done` of `total` steps (only on a terminal: logs get the final line only)."""
        if self.interactive:
            self.stream.write("\r" + self._line(done, values))
            self.stream.flush()

    def finish(self, **values):
        line = self._line(self.total, values)
        self.stream.write(("\r" if self.interactive else "") + line + "\n")
        self.stream.flush()

    def _line(self, done, values):
        filled = int(self.width * done / max(self.total, 1))
        bar = "=" * filled + (">" if filled < self.width else "") + " " * max(self.width - filled - 1, 0)
        shown = "  ".join(
            f"{name} {value:.4f}" if isinstance(value, float) else f"{name} {value}" for name, value in values.items()
        )
        return f"{self.prefix}[{bar}] {done}/{self.total}  {time.perf_counter() - self.start:.1f}s  {shown}"
