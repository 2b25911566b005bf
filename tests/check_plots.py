#!/usr/bin/python3
"""Render runner-plot's figures for every shipped config and check each is a
non-trivial image of the kind the config calls for.

Usage: check_plots.py RUNNER RUNNER_PLOT WORKDIR
Training configs run shortened (--set: 600 samples, 1 epoch or 30 steps) so
the whole check takes seconds; the figures are the same kinds.
"""
import glob
import os
import shutil
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402


def is_training(cfg):
    return "model" in cfg or any("model" in run for run in cfg.get("runs") or [])


def expected_kinds(cfg):
    """The figures a config must give, from what it sweeps."""
    if is_training(cfg):
        kinds = {"training"}
        if "activations" in (cfg.get("train") or {}):
            kinds.add("activations")
    else:
        dim = len(cfg["problem"].get("start", []))
        kinds = {"loss", "paths" if dim == 2 else "curves" if dim == 1 else "loss"}
    varying = [k for k, v in (cfg.get("grid") or {}).items() if isinstance(v, list) and len(v) > 1]
    if cfg.get("runs") and len(cfg["runs"]) > 1:
        varying.append("run")
    if len(varying) == 2:
        kinds.add("heatmap")
    return kinds


def check_png(path):
    img = mpimg.imread(path)
    h, w = img.shape[:2]
    rgb = img[..., :3].reshape(-1, 3)
    ink = np.mean(np.any(rgb < 0.9, axis=1))  # not white
    colours = len(np.unique((rgb * 255).astype(np.uint8), axis=0))
    problems = []
    if h < 300 or w < 300:
        problems.append("only %dx%d pixels" % (w, h))
    if ink < 0.02:
        problems.append("%.1f%% of pixels drawn" % (100 * ink))
    if colours < 20:
        problems.append("%d distinct colours" % colours)
    return problems, "%dx%d, %.0f%% drawn, %d colours" % (w, h, 100 * ink, colours)


def check_html(runner, plot, results, directory, name, screenshot):
    """runner-plot --html: one self-contained page (no external resource:
    every figure a data: URI), holding the report, the figures, the resolved
    config and the provenance; for some, rendered by headless Chromium and
    checked not blank."""
    p = subprocess.run([plot, results, "--html", "--runner", runner, "-o", directory], capture_output=True, text=True)
    page = p.stdout.strip()
    if p.returncode != 0 or not page.endswith(".html"):
        print("FAIL %s.html: runner-plot exited %d: %s" % (name, p.returncode, p.stderr.strip()[-300:]))
        return 1
    with open(page) as f:
        html = f.read()
    import re
    external = re.findall(r'(?:src|href)\s*=\s*"(?!data:)[^"]*"', html)
    problems = []
    if external:
        problems.append("external resources %s" % external[:3])
    if html.count('src="data:image/png;base64,') < 1:
        problems.append("no figure")
    for part in ("resolved config", "provenance of", "report", "fingerprint: sha256:"):
        if part not in html:
            problems.append("no %s" % part)
    if screenshot and not problems:
        shot = os.path.join(directory, name + "_page.png")
        r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                            "--window-size=1200,1600", "--screenshot=" + shot, "file://" + os.path.abspath(page)],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0 or not os.path.exists(shot):
            problems.append("chromium exited %d: %s" % (r.returncode, r.stderr.strip()[-200:]))
        else:
            bad, desc = check_png(shot)
            problems += ["screenshot: " + b for b in bad]
    print("%s %s.html%s" % ("FAIL" if problems else "ok  ", name, ": " + "; ".join(problems) if problems else
                            " (%d figures%s)" % (html.count("data:image/png"), ", rendered by chromium" if screenshot else "")))
    return 1 if problems else 0


def check_claims(runner, plot, work):
    """What the figures claim, read from matplotlib's objects (runner-plot
    loaded as a module, its save() capturing the figures): the true minimum
    where it is, equal aspect, lines per panel, a legend or a colour bar on
    every multi-line figure, line styles per data split."""
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("runner_plot", plot)
    spec = importlib.util.spec_from_loader("runner_plot", loader)
    rp = importlib.util.module_from_spec(spec)
    loader.exec_module(rp)
    figures = {}
    rp.save = lambda fig, out, what, tight=True: figures.setdefault(what, fig) and what
    failures = 0

    def claim(name, ok, detail=""):
        nonlocal failures
        print("%s claim %s%s" % ("ok  " if ok else "FAIL", name, "" if ok else ": " + detail))
        failures += not ok

    def has_key(fig):
        return any(ax.get_legend() for ax in fig.axes) or bool(fig.legends) or len(fig.axes) > 1
    res = rp.Results(os.path.join(work, "optimizers_2d.h5"))
    rp.plot_paths(res, runner, ("", "", "png"))
    ax = figures["paths"].axes[0]
    stars = [l for l in ax.lines if l.get_marker() == "*"]
    claim("paths: the elliptic bowl's minimum drawn at (0, 0)",
          len(stars) == 1 and tuple(stars[0].get_xydata()[0]) == (0.0, 0.0), str([l.get_xydata() for l in stars]))
    claim("paths: equal aspect (x and y share units)", ax.get_aspect() == 1.0, str(ax.get_aspect()))
    claim("paths: one line per optimizer and a legend", ax.get_legend() is not None and
          sum(1 for l in ax.lines if l.get_marker() == "o" and len(l.get_xydata()) > 1) == 6)
    figures.clear()
    res = rp.Results(os.path.join(work, "momentum_sweep.h5"))
    rp.plot_loss(res, ("", "", "png"))
    panels = [a for a in figures["loss"].axes if a.get_visible() and a.lines]
    claim("loss: lr x momentum as 4 panels of 4 lines", len(panels) == 4 and all(len(a.lines) == 4 for a in panels),
          "%d panels, %s lines" % (len(panels), [len(a.lines) for a in panels]))
    claim("loss: panels titled by lr, a legend of momentum", figures["loss"].legends and
          figures["loss"].legends[0].get_title().get_text() == "optimizer.momentum" and
          panels[0].get_title() == "optimizer.lr=0.01", panels[0].get_title())
    rp.plot_heatmap(res, ("", "", "png"))
    claim("heatmap: a colour bar", len(figures["heatmap"].axes) == 2)
    ticks = [t.get_text() for t in figures["heatmap"].axes[0].get_xticklabels()]
    claim("heatmap: short tick labels", all(len(t) <= 9 for t in ticks), str(ticks))
    figures.clear()
    res = rp.Results(os.path.join(work, "compare_optimizers.h5"))
    rp.plot_training(res, ("", "", "png"))
    acc = figures["training"].axes[1]
    styles = {l.get_linestyle() for l in acc.lines}
    claim("training: test, train and validation accuracy as line styles", {"-", "--", ":"} <= styles, str(styles))
    claim("training: a legend naming the settings", has_key(figures["training"]))
    # L-BFGS spends several evaluations a step: its loss is drawn per evaluation, the counts of the file
    figures.clear()
    res = rp.Results(os.path.join(work, "lbfgs_rosenbrock.h5"))
    rp.plot_loss(res, ("", "", "png"))
    ax = figures["loss"].axes[0]
    with h5py.File(os.path.join(work, "lbfgs_rosenbrock.h5"), "r") as f:
        evals = f["evaluations"][()]
    claim("loss: per objective evaluation when the file counts them",
          ax.get_xlabel() == "objective evaluations" and len(ax.lines) == 4 and
          all(np.array_equal(l.get_xdata(), evals[i], equal_nan=True) for i, l in enumerate(ax.lines)), ax.get_xlabel())
    # curves: the 4x4 lr x momentum panel on x^2, each panel the function and its iterates
    figures.clear()
    res = rp.Results(os.path.join(work, "momentum_sweep.h5"))
    rp.plot_curves(res, runner, ("", "", "png"))
    panels = [a for a in figures["curves"].axes if a.get_visible()]
    claim("curves: 16 panels laid out 4 x 4, each the function and the iterates",
          len(panels) == 16 and len(figures["curves"].axes) == 16 and all(len(a.lines) >= 2 for a in panels),
          "%d panels" % len(panels))
    claim("curves: panels titled by their values", panels[0].get_title() == "optimizer.lr=0.01 optimizer.momentum=0",
          panels[0].get_title())
    # activations: the textbook's histograms, a row per setting, a panel per activation layer, bars summing to 1
    figures.clear()
    res = rp.Results(os.path.join(work, "textbook_activation_histogram.h5"))
    rp.plot_activations(res, ("", "", "png"))
    panels = [a for a in figures["activations"].axes if a.patches]
    rows = len(res.settings())
    totals = [sum(p.get_height() for p in a.patches) for a in panels]
    claim("activations: a row per setting, a histogram per activation layer",
          len(panels) % rows == 0 and len(panels) >= rows, "%d panels for %d settings" % (len(panels), rows))
    claim("activations: each histogram's fractions sum to at most 1",
          all(0 < t <= 1 + 1e-6 for t in totals), str([round(t, 3) for t in totals[:6]]))
    # profile: a curve per setting, rho from 0 to 1 at most, ending at each setting's solved fraction
    figures.clear()
    files = [os.path.join(work, "optimizers_2d.h5"), os.path.join(work, "textbook_optimizer_paths.h5")]

    class Args:
        tol, target_accuracy, tau_max = 1e-3, None, 16
    rp.plot_profile(runner, files, Args, ("", "", "png"))
    ax = figures["profile"].axes[0]
    labels = [l.get_label() for l in ax.lines]
    claim("profile: a step curve per setting with its area in the legend",
          len(ax.lines) == len(set(labels)) >= 6 and all("(area " in t for t in labels), str(labels[:3]))
    claim("profile: rho within [0, 1], never falling",
          all(np.all(np.diff(l.get_ydata()) >= 0) and l.get_ydata().min() >= 0 and l.get_ydata().max() <= 1
              for l in ax.lines))
    # a large file (issue 20, item 6): read lazily, the best lines drawn and said so, every cell in the heatmap
    cfg = os.path.join(work, "large.yaml")
    with open(cfg, "w") as f:
        f.write("name: large\nsteps: 10\nproblem: {objective: elliptic, start: [-7, 2]}\n"
                "optimizer: {name: momentum, lr: 0.1}\ngrid: {optimizer.lr: {logspace: [-3, 0, 150]}, "
                "optimizer.momentum: {linspace: [0, 0.95, 150]}}\n")
    big = os.path.join(work, "large.h5")
    subprocess.run([runner, cfg, "-o", big, "--force", "--quiet"], check=True)
    figures.clear()
    res = rp.Results(big)
    claim("large: read lazily", res.large and isinstance(res.loss, rp.LazyRows))
    rp.plot_loss(res, ("", "", "png"))
    rp.plot_heatmap(res, ("", "", "png"))
    ax = figures["loss"].axes[0]
    claim("large: the loss figure draws the best 10 of 22500 and says so",
          len(ax.lines) == 10 and "the best 10 of 22500 cells by final loss" in ax.get_title(), ax.get_title())
    image = figures["heatmap"].axes[0].get_images()[0].get_array()
    claim("large: the heatmap holds every cell", image.shape == (150, 150) and int(image.count()) == 22500,
          str(image.shape))
    return failures


def main(runner, plot, work):
    os.makedirs(work, exist_ok=True)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    failures = 0
    # configs/ and the textbook's chapter 6 (configs/textbook/), each drawn
    for path in sorted(glob.glob(os.path.join(root, "configs", "*.yaml")) +
                       glob.glob(os.path.join(root, "configs", "textbook", "*.yaml"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if os.path.basename(os.path.dirname(path)) == "textbook":
            name = "textbook_" + name  # configs/textbook/activation_histogram.yaml beside configs/activation_histogram.yaml
        with open(path) as f:
            cfg = yaml.safe_load(f)
        out = os.path.join(work, name + ".h5")
        cmd = [runner, path, "-o", out, "--force", "--quiet"]
        if is_training(cfg):
            train = cfg.get("train", {})
            cmd += ["--set", "train.limit=%d" % min(600, train.get("limit", 600))]
            cmd += ["--set", "train.iterations=30"] if "iterations" in train else ["--set", "train.epochs=1"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL %s: runner exited %d: %s" % (name, r.returncode, r.stderr.strip()))
            failures += 1
            continue
        p = subprocess.run([plot, out, "-o", os.path.join(work, "figures")], capture_output=True, text=True)
        figures = p.stdout.split()
        kinds = {os.path.splitext(f)[0][len(os.path.join(work, "figures", name)) + 1:] for f in figures}
        missing = expected_kinds(cfg) - {k.split("_")[0] for k in kinds}
        if p.returncode != 0 or missing:
            print("FAIL %s: runner-plot exited %d, missing %s: %s" % (name, p.returncode, sorted(missing),
                                                                    p.stderr.strip()))
            failures += 1
        for fig in figures:
            problems, desc = check_png(fig)
            print("%s %s: %s" % ("FAIL" if problems else "ok  ", os.path.basename(fig), "; ".join(problems) or desc))
            failures += bool(problems)
        failures += check_html(runner, plot, out, os.path.join(work, "html"), name,
                               screenshot=name in ("optimizers_2d", "compare_optimizers"))
    # performance profiles (runner compare): the shipped 2-D comparison and the textbook's paths as two problems
    p = subprocess.run([plot, "--profile", os.path.join(work, "optimizers_2d.h5"),
                        os.path.join(work, "textbook_optimizer_paths.h5"), "--tol", "1e-3", "--runner", runner,
                        "-o", os.path.join(work, "profile")], capture_output=True, text=True)
    files = p.stdout.split()
    problems, desc = check_png(files[0]) if p.returncode == 0 and files else (["exit %d: %s" % (p.returncode, p.stderr)], "")
    print("%s %s: %s" % ("FAIL" if problems else "ok  ", "profile", "; ".join(problems) or desc))
    failures += bool(problems)
    failures += check_claims(runner, plot, work)
    # the other formats
    for fmt, magic in (("svg", b"<?xml"), ("pdf", b"%PDF")):
        p = subprocess.run([plot, os.path.join(work, "optimizers_2d.h5"), "-o", os.path.join(work, fmt), "--format", fmt],
                           capture_output=True, text=True)
        files = p.stdout.split()
        ok = p.returncode == 0 and files and all(open(f, "rb").read(5).startswith(magic) for f in files)
        print("%s %s: %s" % ("ok  " if ok else "FAIL", fmt, " ".join(os.path.basename(f) for f in files)))
        failures += not ok
    # an optimizer from outside the search path: runner surface needs only the
    # objective (issue 17), so the contour lines are drawn without the
    # optimizer's plugin; runner-plot still passes --plugin-path on
    broken = os.path.join(os.path.dirname(runner), "tests", "broken")
    cfg2 = os.path.join(work, "outside.yaml")
    with open(cfg2, "w") as f:
        f.write("steps: 5\nproblem: {objective: elliptic, start: [-7, 2]}\noptimizer: {name: abi_1_0, lr: 0.1}\n")
    out2 = os.path.join(work, "outside.h5")
    r = subprocess.run([runner, "--plugin-path", broken, cfg2, "-o", out2, "--force", "--quiet"], capture_output=True,
                       text=True)
    without = subprocess.run([plot, out2, "-o", os.path.join(work, "outside")], capture_output=True, text=True)
    with_path = subprocess.run([plot, out2, "-o", os.path.join(work, "outside"), "--plugin-path", broken],
                               capture_output=True, text=True)
    ok = (r.returncode == 0 and without.returncode == 0 and "no contour lines" not in without.stderr
          and with_path.returncode == 0 and "no contour lines" not in with_path.stderr)
    print("%s contour lines without the optimizer's plugin: %s | %s" % ("ok  " if ok else "FAIL",
                                                                        without.stderr.strip(), with_path.stderr.strip()))
    failures += not ok
    # not a results file: a clear error, exit 2
    p = subprocess.run([plot, path], capture_output=True, text=True)
    ok = p.returncode == 2 and "not a runner results file" in p.stderr
    print("%s a YAML file given to runner-plot: exit %d: %s" % ("ok  " if ok else "FAIL", p.returncode, p.stderr.strip()))
    failures += not ok
    # a damaged file (a coordinate longer than its dimension): a message, no traceback
    damaged = os.path.join(work, "damaged.h5")
    shutil.copy(os.path.join(work, "optimizers_2d.h5"), damaged)
    with h5py.File(damaged, "r+") as f:
        name = f["status"].dims[0].label
        del f[name]
        f[name] = np.arange(len(f["status"]) + 5, dtype="f8")
    p = subprocess.run([plot, damaged, "-o", os.path.join(work, "damaged")], capture_output=True, text=True)
    ok = p.returncode == 2 and "damaged: the coordinate variable" in p.stderr and "Traceback" not in p.stderr
    print("%s a damaged file given to runner-plot: exit %d: %s" % ("ok  " if ok else "FAIL", p.returncode,
                                                                  p.stderr.strip()[-300:]))
    failures += not ok
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
