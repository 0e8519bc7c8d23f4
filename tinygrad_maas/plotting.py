"""Loss and metric curves as a PNG: one panel per quantity, with its validation twin ("val_...") drawn in
the same panel. Used by keras History.plot and by plain training loops:

    curves = {"loss": [], "val_loss": []}
    for epoch in range(epochs):
        ...
        curves["loss"].append(train_loss); curves["val_loss"].append(val_loss)
    tm.plotting.plot_curves(curves, "curves.png")

matplotlib is the `plot` extra (pip install "tinygrad_maas[plot]"), imported only when a plot is drawn.
"""


def plot_curves(curves, path, title=None):
    """Write a PNG of curves (name -> list of per-epoch values) to path; returns path."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError('plotting needs matplotlib: pip install "tinygrad_maas[plot]"') from None
    names = [name for name in curves if not name.startswith("val_")]
    if not names:
        raise ValueError("plot_curves(): nothing to plot (give at least one name -> list of values)")
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.6), squeeze=False)
    for axis, name in zip(axes[0], names):
        epochs = range(1, len(curves[name]) + 1)
        axis.plot(epochs, curves[name], marker="o", label=name)
        if curves.get("val_" + name):
            axis.plot(range(1, len(curves["val_" + name]) + 1), curves["val_" + name], marker="o", label="val_" + name)
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
