#!/usr/bin/env python3
"""Time training steps in PyTorch (eager), JAX (jit, if importable) and Backprop.

    python3 benchmarks/compare.py --threads 1
    python3 benchmarks/compare.py --threads 2 --backprop .build/release/backprop
    python3 benchmarks/compare.py --threads 1 --peak-rss
    python3 benchmarks/compare.py --threads 1 --rounds 3 \
        --backprop before=/work/old/.build/release/backprop --backprop after=.build/release/backprop
    python3 benchmarks/compare.py --threads 2 --isa avx2

Workloads (float32, plain SGD lr 0.01, random inputs; one step = forward, loss,
zero_grad, backward, step):
  tiny     Linear(3,32) -> 3*ReLU -> Linear(32,2), MSE sum, batch 1
  tiny-ops the same step written op by op (matmul, + bias, relu, mse, zero_grad,
           backward, SGD update by hand with add_), as a user of the library writes it
  mnist  Linear(784,256) -> ReLU -> Linear(256,10), cross-entropy mean, batch 128
  wide   Linear(1024,1024) -> ReLU -> Linear(1024,1024) -> ReLU -> Linear(1024,10),
         cross-entropy mean, batch 256
  cnn    Conv2d(1,32,3) -> ReLU -> MaxPool2d(2) -> Conv2d(32,64,3) -> ReLU ->
         MaxPool2d(2) -> Flatten -> Linear(1600,10), cross-entropy mean,
         batch 64 of 1x28x28 (PyTorch and Backprop only; JAX skips it)
plus numpy float32 matmul (sgemm) GFLOP/s at n = 256, 512, 1024, 2048.

Each figure is the median of per-step wall times, after a warm-up, over at
least --seconds of timing (default 1 s) and at least 20 steps.

The Backprop binary is run as `PATH bench --json --threads N`; every stdout
line that parses as a JSON object is read, e.g.
  {"workload": "mnist", "threads": 2, "median_us_per_step": 412.0}
  {"sgemm": 1024, "threads": 2, "gflops": 350.1}
A missing binary is reported and skipped. --backprop may be given several
times, as PATH or LABEL=PATH, to compare builds side by side in one run (for
example before and after a change): each gets its own columns, and the last
column divides the last binary's time by the first's. With --rounds N the
binaries are run N times, alternating, and each figure is the smallest of the
N medians (the run least disturbed by other processes).

Thread control: OMP/OPENBLAS/MKL_NUM_THREADS are set before numpy and torch
are imported, torch.set_num_threads(N) is called, and the Python process is
pinned to N CPUs (sched_setaffinity) so JAX/XLA's own thread pool is held to N
cores too. The Backprop child gets the full CPU set and --threads N.

Instruction set (--isa):
  native  (default) every library uses the best kernels for this CPU.
          OPENBLAS_CORETYPE is removed from the environment (this script
          re-executes itself without it): forcing a core type such as Haswell
          on a newer CPU makes OpenBLAS use slower kernels, which would
          understate numpy. BACKPROP_KERNEL is removed for the Backprop child.
  avx2    hold every side to AVX2 + FMA, to measure on an AVX-512 machine what
          an AVX2 machine would run: BACKPROP_KERNEL=avx2 (Backprop),
          OPENBLAS_CORETYPE=Haswell (numpy), ATEN_CPU_CAPABILITY=avx2,
          MKL_ENABLE_INSTRUCTIONS=AVX2, DNNL_MAX_CPU_ISA=AVX2 (PyTorch) and
          XLA_FLAGS=--xla_cpu_max_isa=AVX2 (JAX). The kernels each side then
          reports are printed (OpenBLAS core name, PyTorch CPU capability, the
          ISA lines of MKL_VERBOSE / ONEDNN_VERBOSE, Backprop's GEMM kernel).

FMA peak: benchmarks/fma_peak.c is compiled at run time with cc (or gcc /
clang) and run on 1..N threads: a loop of nothing but FMAs on 10 independent
chains of ymm (avx2) or zmm (native, when the CPU has AVX-512) registers. It is
printed beside the tables, with each sgemm figure as a share of it. Its
figure counts each thread's CPU time, so a busy machine does not lower it;
the sgemm figures are wall time.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

_CLEAN_MARK = "BACKPROP_COMPARE_CLEAN_ENV"

# Environment that holds each library to AVX2 + FMA (--isa avx2).
AVX2_ENV = {
    "OPENBLAS_CORETYPE": "Haswell",
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "DNNL_MAX_CPU_ISA": "AVX2",
    "XLA_FLAGS": "--xla_cpu_max_isa=AVX2",
}


def clean_env_and_reexec():
    if "OPENBLAS_CORETYPE" in os.environ and os.environ.get(_CLEAN_MARK) != "1":
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        env[_CLEAN_MARK] = "1"
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    os.environ.pop("OPENBLAS_CORETYPE", None)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--backprop", action="append", metavar="[LABEL=]PATH",
                    help="a backprop binary (skipped if missing); repeat to compare several "
                         "(default: .build/release/backprop)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run the backprop binaries this many times, alternating; keep each best median")
    ap.add_argument("--isa", choices=["native", "avx2"], default="native",
                    help="native: each library's best kernels; avx2: hold every side to AVX2 + FMA")
    ap.add_argument("--no-peak", action="store_true", help="do not measure the FMA peak")
    ap.add_argument("--seconds", type=float, default=1.0, help="minimum timing per workload")
    ap.add_argument("--workloads", default="tiny,tiny-ops,mnist,wide,cnn")
    ap.add_argument("--sgemm-sizes", default="256,512,1024,2048",
                    help="numpy sgemm sizes, comma-separated; 'none' to skip")
    ap.add_argument("--no-jax", action="store_true")
    ap.add_argument("--json-out", help="also write all results to this JSON file")
    ap.add_argument("--peak-rss", action="store_true",
                    help="print the peak RSS of a fresh PyTorch process running the wide workload")
    ap.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    return ap.parse_args()


def set_thread_env(n):
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[k] = str(n)


ALL_CPUS = None


def pin(n):
    global ALL_CPUS
    if not hasattr(os, "sched_setaffinity"):
        return
    ALL_CPUS = os.sched_getaffinity(0)
    if n < len(ALL_CPUS):
        os.sched_setaffinity(0, sorted(ALL_CPUS)[:n])


def time_steps(step, seconds, warmup_s=0.3, min_warmup=10, min_steps=20, sync=None):
    """Median microseconds per call of step() after warm-up."""
    t_end = time.perf_counter() + warmup_s
    i = 0
    while i < min_warmup or time.perf_counter() < t_end:
        step()
        i += 1
    if sync:
        sync()
    times = []
    total = 0.0
    while total < seconds or len(times) < min_steps:
        t0 = time.perf_counter_ns()
        step()
        if sync:
            sync()
        dt = (time.perf_counter_ns() - t0) / 1000.0
        times.append(dt)
        total += dt / 1e6
    return statistics.median(times), len(times)


WORKLOADS = {
    # name: (layer sizes, hidden activation scale, loss, batch)
    "tiny": ([3, 32, 2], 3.0, "mse_sum", 1),
    "tiny-ops": ([3, 32, 2], 3.0, "mse_sum", 1),
    "mnist": ([784, 256, 10], 1.0, "ce_mean", 128),
    "wide": ([1024, 1024, 1024, 10], 1.0, "ce_mean", 256),
    "cnn": ([784, 1600, 10], 1.0, "ce_mean", 64),
}


# ------------------------------------------------------------------ torch

def torch_workload(name):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    sizes, scale, loss_kind, batch = WORKLOADS[name]

    class ScaledReLU(nn.Module):
        def forward(self, x):
            return scale * torch.relu(x) if scale != 1.0 else torch.relu(x)

    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(ScaledReLU())
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    if name == "cnn":
        layers = [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(1600, 10)]
    model = nn.Sequential(*layers).float()
    x = torch.randn(batch, 1, 28, 28, generator=g) if name == "cnn" else torch.randn(batch, sizes[0], generator=g)
    if loss_kind == "mse_sum":
        y = torch.randn(batch, sizes[-1], generator=g)
        loss_fn = lambda out: F.mse_loss(out, y, reduction="sum")  # noqa: E731
    else:
        y = torch.randint(0, sizes[-1], (batch,), generator=g)
        loss_fn = lambda out: F.cross_entropy(out, y)  # noqa: E731
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        out = model(x)
        loss = loss_fn(out)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def torch_ops_workload(name):
    """The same step op by op, as a user writes it without nn.Module or optim."""
    import torch

    sizes, scale, _, batch = WORKLOADS[name]
    g = torch.Generator().manual_seed(0)
    params = []
    for i in range(len(sizes) - 1):
        bound = 1.0 / sizes[i] ** 0.5
        # W stored [in, out], so that a layer is h @ W + b, as in the Swift op-by-op step.
        w = (torch.rand(sizes[i], sizes[i + 1], generator=g) * 2 - 1) * bound
        b = (torch.rand(sizes[i + 1], generator=g) * 2 - 1) * bound
        params += [w.requires_grad_(), b.requires_grad_()]
    x = torch.randn(batch, sizes[0], generator=g)
    y = torch.randn(batch, sizes[-1], generator=g)

    def step():
        h = x
        for i in range(0, len(params), 2):
            h = torch.matmul(h, params[i]) + params[i + 1]
            if i + 2 < len(params):
                h = scale * torch.relu(h)
        loss = ((h - y) ** 2).sum()
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-0.01)
    return step


def bench_torch(names, seconds, threads):
    import torch
    torch.set_num_threads(threads)
    res = {}
    for name in names:
        make = torch_ops_workload if name.endswith("-ops") else torch_workload
        med, n = time_steps(make(name), seconds)
        res[name] = {"median_us_per_step": med, "steps_timed": n}
    return res


# -------------------------------------------------------------------- jax

def bench_jax(names, seconds):
    try:
        import jax
        import jax.numpy as jnp
    except Exception as e:  # noqa: BLE001
        return None, f"jax not importable: {e}"
    jax.config.update("jax_platforms", "cpu")
    res = {}
    for name in names:
        if name == "cnn":
            continue
        sizes, scale, loss_kind, batch = WORKLOADS[name]
        key = jax.random.PRNGKey(0)
        params = []
        for i in range(len(sizes) - 1):
            key, k1, k2 = jax.random.split(key, 3)
            bound = 1.0 / (sizes[i] ** 0.5)
            W = jax.random.uniform(k1, (sizes[i + 1], sizes[i]), jnp.float32, -bound, bound)
            b = jax.random.uniform(k2, (sizes[i + 1],), jnp.float32, -bound, bound)
            params.append((W, b))
        key, kx, ky = jax.random.split(key, 3)
        x = jax.random.normal(kx, (batch, sizes[0]), jnp.float32)
        if loss_kind == "mse_sum":
            y = jax.random.normal(ky, (batch, sizes[-1]), jnp.float32)
        else:
            y = jax.random.randint(ky, (batch,), 0, sizes[-1])

        def loss_fn(params, x, y, loss_kind=loss_kind, scale=scale):
            h = x
            for i, (W, b) in enumerate(params):
                h = h @ W.T + b
                if i < len(params) - 1:
                    h = scale * jax.nn.relu(h)
            if loss_kind == "mse_sum":
                return jnp.sum((h - y) ** 2)
            logp = jax.nn.log_softmax(h, axis=-1)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

        @jax.jit
        def update(params, x, y):
            loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
            new = jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads)
            return new, loss

        state = {"p": params}

        def step():
            state["p"], loss = update(state["p"], x, y)
            loss.block_until_ready()
        med, n = time_steps(step, seconds)
        res[name] = {"median_us_per_step": med, "steps_timed": n}
    return res, f"jax {jax.__version__} (jit, cpu)"


# ------------------------------------------------------------------ numpy

def bench_sgemm(sizes, seconds):
    import numpy as np
    rng = np.random.default_rng(0)
    res = {}
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.empty((n, n), dtype=np.float32)
        med, k = time_steps(lambda: np.matmul(a, b, out=c), seconds, min_warmup=3, min_steps=5)
        res[n] = {"gflops": 2.0 * n ** 3 / (med * 1e-6) / 1e9, "median_us": med, "reps": k}
    return res


def numpy_blas_name():
    try:
        import numpy as np
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001
        return "?"


# --------------------------------------------------------------- backprop

def parse_binaries(specs):
    """[(label, path)] from PATH or LABEL=PATH; one unlabelled binary is "Backprop"."""
    out = []
    for spec in specs:
        label, sep, path = spec.partition("=")
        if not sep:
            label, path = ("Backprop" if len(specs) == 1 else spec), spec
        out.append((label, path))
    return out


def best_of(runs):
    """The smallest median of each workload (largest GFLOP/s) over several runs."""
    res, notes = None, []
    for r, note in runs:
        notes.append(note)
        if r is None:
            continue
        if res is None:
            res = {"workloads": dict(r["workloads"]), "sgemm": dict(r["sgemm"])}
            continue
        for w, obj in r["workloads"].items():
            old = res["workloads"].get(w)
            if old is None or obj["median_us_per_step"] < old["median_us_per_step"]:
                res["workloads"][w] = obj
        for n, obj in r["sgemm"].items():
            old = res["sgemm"].get(n)
            if old is None or obj["gflops"] > old["gflops"]:
                res["sgemm"][n] = obj
    note = notes[0] if len(set(notes)) == 1 else "; ".join(notes)
    if len(runs) > 1:
        note += f" (best of {len(runs)} runs)"
    return res, note


def bench_backprop(path, threads, isa):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return None, f"backprop binary not found at {path}: skipped"
    reset = None
    if ALL_CPUS is not None:
        cpus = ALL_CPUS
        reset = lambda: os.sched_setaffinity(0, cpus)  # noqa: E731
    env = dict(os.environ)
    if isa == "avx2":
        env["BACKPROP_KERNEL"] = "avx2"
    else:
        env.pop("BACKPROP_KERNEL", None)
    try:
        p = subprocess.run([path, "bench", "--json", "--threads", str(threads)],
                           capture_output=True, text=True, timeout=1800, preexec_fn=reset, env=env)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = "timeout", e.stdout or "", "timed out after 1800 s"
        out = out.decode() if isinstance(out, bytes) else out
    work, sgemm, kernel = {}, {}, None
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "workload" in obj and "median_us_per_step" in obj:
            work[obj["workload"]] = obj
        elif "sgemm" in obj and "gflops" in obj:
            sgemm[int(obj["sgemm"])] = obj
        elif "kernel" in obj:
            kernel = obj["kernel"]
    prefix = "BACKPROP_KERNEL=avx2 " if isa == "avx2" else ""
    note = f"{prefix}{path} bench --json --threads {threads}: exit {rc}"
    if kernel:
        note += f"; GEMM kernel {kernel}"
    if rc != 0:
        note += f"; stderr: {err.strip()[:300]}"
    return {"workloads": work, "sgemm": sgemm, "kernel": kernel}, note


# -------------------------------------------------------------- FMA peak

def fma_peak(isa, threads):
    """{threads: {"gflops": .., "gflops_wall": ..}} from benchmarks/fma_peak.c, and a note."""
    import shutil
    import tempfile
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fma_peak.c")
    cc = next((c for c in (os.environ.get("CC"), "cc", "gcc", "clang") if c and shutil.which(c)), None)
    if cc is None:
        return None, "FMA peak: no C compiler (cc, gcc, clang) found: skipped"
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "fma_peak")
        p = subprocess.run([cc, "-O2", "-pthread", "-o", exe, src], capture_output=True, text=True)
        if p.returncode != 0:
            return None, f"FMA peak: {cc} failed: {p.stderr.strip()[:300]}"
        p = subprocess.run([exe, isa, str(threads)], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        return None, f"FMA peak: {p.stderr.strip()[:300]}"
    res = {}
    for line in p.stdout.splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        res[int(obj["threads"])] = obj
    reg = "zmm" if isa == "avx512" else "ymm"
    return res, f"{cc} -O2 fma_peak.c; {isa}, 10 independent {reg} FMA chains, float32"


# ------------------------------------------------------------ kernels used

def torch_kernels():
    """PyTorch's CPU capability and the ISA lines MKL and oneDNN print, from a
    child process (the verbose switches must be set before they load)."""
    code = ("import torch\n"
            "print('capability', torch.backends.cpu.get_cpu_capability())\n"
            "a = torch.randn(64, 64)\n"
            "torch.nn.functional.linear(a, a)\n"
            "torch.nn.functional.conv2d(torch.randn(1, 1, 8, 8), torch.randn(1, 1, 3, 3))\n")
    env = dict(os.environ, MKL_VERBOSE="1", ONEDNN_VERBOSE="1", DNNL_VERBOSE="1")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, timeout=300).stdout
    except Exception as e:  # noqa: BLE001
        return f"? ({e})"
    cap, mkl, dnnl = "?", None, None
    for line in out.splitlines():
        if line.startswith("capability "):
            cap = line.split(" ", 1)[1]
        elif mkl is None and line.startswith("MKL_VERBOSE") and "processors" in line:
            # "MKL_VERBOSE oneMKL 2024.0 ... Intel(R) AVX2 ... enabled processors, Lnx ..."
            mkl = line.split(",")[0].replace("MKL_VERBOSE ", "")
        elif dnnl is None and "isa:" in line:
            dnnl = line.split("isa:", 1)[1].strip()
    parts = [f"ATen CPU capability {cap}"]
    if mkl:
        parts.append(f"MKL: {mkl}")
    if dnnl:
        parts.append(f"oneDNN isa: {dnnl}")
    return "; ".join(parts)


def openblas_core():
    """The OpenBLAS core type numpy's OpenBLAS chose (e.g. Haswell, Zen, SkylakeX)."""
    try:
        import ctypes
        import glob
        import numpy as np
        libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*"))
        for path in libs:
            lib = ctypes.CDLL(path)
            for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                         "openblas_get_corename64_", "openblas_get_corename"):
                fn = getattr(lib, name, None)
                if fn is not None:
                    fn.restype = ctypes.c_char_p
                    return fn().decode()
    except Exception:  # noqa: BLE001
        pass
    return "?"


def cpu_has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " avx512f" in line for line in f)
    except Exception:  # noqa: BLE001
        return False


# ------------------------------------------------------------------- RSS

def rss_child(threads, seconds):
    import resource
    import torch
    torch.set_num_threads(threads)
    after_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step = torch_workload("wide")
    med, n = time_steps(step, seconds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_kib": peak, "peak_rss_after_import_kib": after_import,
                      "steps": n, "median_us_per_step": med}))


def peak_rss(args):
    cmd = [sys.executable, os.path.abspath(__file__), "--rss-child", "--threads",
           str(args.threads), "--seconds", str(args.seconds)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    obj = json.loads(out.strip().splitlines()[-1])
    mib = obj["peak_rss_kib"] / 1024
    print(f"PyTorch wide workload, threads={args.threads}: peak RSS {mib:.1f} MiB "
          f"(after `import torch` alone: {obj['peak_rss_after_import_kib'] / 1024:.1f} MiB; "
          f"{obj['steps']} steps, median {obj['median_us_per_step']:.0f} us/step)")
    return obj


# ------------------------------------------------------------------- main

def busy_fraction(seconds=0.5):
    """Share of all CPUs busy over a short window before we start (Linux only)."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    try:
        t0, i0 = snap()
        time.sleep(seconds)
        t1, i1 = snap()
        return 1.0 - (i1 - i0) / max(1, t1 - t0)
    except Exception:  # noqa: BLE001
        return None


def fmt(v, digits=1):
    return "—" if v is None else f"{v:,.{digits}f}"


def main():
    args = parse_args()
    if args.isa == "native":
        clean_env_and_reexec()
    else:
        os.environ.update(AVX2_ENV)
    set_thread_env(args.threads)
    if args.rss_child:
        rss_child(args.threads, args.seconds)
        return
    if args.peak_rss:
        peak_rss(args)
        return
    busy = busy_fraction()
    pin(args.threads)

    names = [w for w in args.workloads.split(",") if w]
    if args.sgemm_sizes.strip() in ("", "none"):
        sizes = []
    else:
        try:
            sizes = [int(s) for s in args.sgemm_sizes.split(",") if s]
        except ValueError:
            sys.exit(f"error: --sgemm-sizes {args.sgemm_sizes}: expected comma-separated sizes or 'none'")
    # Backprop first, in child processes, before this process starts the
    # thread pools of numpy, PyTorch and JAX: their idle workers would
    # otherwise compete with the children for the same cores.
    binaries = parse_binaries(args.backprop or [".build/release/backprop"])
    b_runs = {label: [] for label, _ in binaries}
    for _ in range(max(1, args.rounds)):
        for label, path in binaries:
            b_runs[label].append(bench_backprop(path, args.threads, args.isa))
    b_all = {label: best_of(runs) for label, runs in b_runs.items()}
    peak_isa = "avx512" if args.isa == "native" and cpu_has_avx512() else "avx2"
    peak, peak_note = (None, "FMA peak: skipped (--no-peak)") if args.no_peak else fma_peak(peak_isa, args.threads)
    torch_note = torch_kernels()
    import numpy as np
    import torch

    t_res = bench_torch(names, args.seconds, args.threads)
    s_res = bench_sgemm(sizes, args.seconds)
    j_res, j_note = (None, "jax skipped (--no-jax)") if args.no_jax else bench_jax(names, args.seconds)

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except Exception:  # noqa: BLE001
        pass
    print(f"# Training-step benchmark, threads={args.threads}\n")
    print(f"- CPU: {cpu}; pinned to {args.threads} of {len(ALL_CPUS or [])} CPUs")
    print(f"- torch {torch.__version__}, numpy {np.__version__} ({numpy_blas_name()}), {j_note}")
    print(f"- instruction set: --isa {args.isa}"
          + (" (" + ", ".join(f"{k}={v}" for k, v in AVX2_ENV.items()) + ", BACKPROP_KERNEL=avx2)"
             if args.isa == "avx2" else ""))
    print(f"- OPENBLAS_CORETYPE: {os.environ.get('OPENBLAS_CORETYPE', 'unset')}; "
          f"OpenBLAS core in use: {openblas_core()}")
    print(f"- PyTorch kernels: {torch_note}")
    if peak:
        figures = ", ".join(f"{t} thread{'s' if t > 1 else ''} {v['gflops']:.1f} GFLOP/s"
                            f" (wall {v['gflops_wall']:.1f})" for t, v in sorted(peak.items()))
        print(f"- FMA peak: {figures}; {peak_note}")
    else:
        print(f"- {peak_note}")
    if busy is not None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        warn = " — WARNING: other processes were using the CPUs; figures are unreliable" \
            if busy > 0.15 else ""
        print(f"- CPU busy before start: {100 * busy:.0f}% of all CPUs, load average {load:.2f}{warn}")
    for label, (_, note) in b_all.items():
        print(f"- {label}: {note}")
    print()
    labels = list(b_all)
    vs = f"{labels[-1]} / {labels[0]}" if len(labels) > 1 else None

    def backprop_value(label, table, key, field):
        res = b_all[label][0]
        return res[table].get(key, {}).get(field) if res else None

    head = "| workload | PyTorch eager µs/step | JAX jit µs/step |"
    rule = "|---|---:|---:|"
    for label in labels:
        head += f" {label} µs/step | {label} / PyTorch |"
        rule += "---:|---:|"
    if vs:
        head += f" {vs} |"
        rule += "---:|"
    print(head)
    print(rule)
    for w in names:
        t = t_res[w]["median_us_per_step"]
        j = j_res[w]["median_us_per_step"] if j_res and w in j_res else None
        row = f"| {w} | {fmt(t)} | {fmt(j)} |"
        values = [backprop_value(label, "workloads", w, "median_us_per_step") for label in labels]
        for b in values:
            row += f" {fmt(b)} | {f'{b / t:.2f}' if b else '—'} |"
        if vs:
            row += f" {values[-1] / values[0]:.3f} |" if values[0] and values[-1] else " — |"
        print(row)
    print("\n(µs/step: lower is better; ratio > 1 means Backprop is slower.)\n")
    top = peak.get(args.threads, {}).get("gflops") if peak else None

    def share(v):
        return f"{100 * v / top:.0f}%" if v and top else "—"
    head = "| sgemm n | numpy GFLOP/s |"
    rule = "|---:|---:|"
    for label in labels:
        head += f" {label} GFLOP/s | {label} / numpy |"
        rule += "---:|---:|"
    if vs:
        head += f" {vs} |"
        rule += "---:|"
    head += " numpy % of FMA peak | " + labels[-1] + " % of FMA peak |" if labels else ""
    rule += "---:|---:|" if labels else ""
    print(head)
    print(rule)
    for n in sizes:
        s = s_res[n]["gflops"]
        row = f"| {n} | {fmt(s)} |"
        values = [backprop_value(label, "sgemm", n, "gflops") for label in labels]
        for b in values:
            row += f" {fmt(b)} | {f'{b / s:.2f}' if b else '—'} |"
        if vs:
            row += f" {values[-1] / values[0]:.3f} |" if values[0] and values[-1] else " — |"
        if labels:
            row += f" {share(s)} | {share(values[-1])} |"
        print(row)
    peak_text = f"{top:.1f} GFLOP/s on {args.threads} thread{'s' if args.threads > 1 else ''}" if top else "not measured"
    print(f"\n(GFLOP/s: higher is better; ratio < 1 means Backprop is slower. FMA peak: {peak_text}.)")

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"threads": args.threads, "isa": args.isa, "fma_peak": peak, "torch": t_res, "jax": j_res,
                       "numpy_sgemm": {str(k): v for k, v in s_res.items()},
                       "backprop": {label: res and {"workloads": res["workloads"],
                                                    "sgemm": {str(k): v for k, v in res["sgemm"].items()}}
                                    for label, (res, _) in b_all.items()},
                       "notes": {"jax": j_note, "backprop": {label: note for label, (_, note) in b_all.items()},
                                 "torch_kernels": torch_note, "openblas_core": openblas_core(), "fma_peak": peak_note}},
                      f, indent=1)


if __name__ == "__main__":
    main()
