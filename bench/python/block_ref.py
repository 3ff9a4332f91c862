#!/usr/bin/python3
"""The ViT-S block of issue 3 in PyTorch: the reference our compiled block is timed and checked against.

Pre-norm transformer block as in DINOv2 (layers/block.py): fused qkv, LayerScale, exact GELU, LayerNorm eps
1e-6. Forward plus backward w.r.t. every parameter and the input, driven by a fixed upstream gradient dy
(equivalently, loss = sum(y * dy)).

Run with Debian's Python (/usr/bin/python3 sees python3-torch; the python3 first on PATH does not).

Modes (JSON lines on stdout, progress on stderr):
  bench   --threads T --rounds R --warmup W      one line per timed round {"round", "ms"}, then {"maxrss_kb"}
  serve   --threads T                            long-lived: prints {"ready"}; reads "round" lines from stdin and
                                                 answers {"ms"} each; "quit" ends it. The parent times both sides
                                                 round by round and reads VmHWM itself.
  parity  --dir DIR --seed S                     writes the seeded inputs and parameters (float32, raw LE) and the
                                                 float64-autograd output and gradients (float64, raw LE) to DIR,
                                                 described by DIR/manifest.json, plus the float32 PyTorch result
                                                 for comparison.
Sizes: --batch 32 --tokens 261 --dim 384 --heads 6 --mlp 1536 (the defaults).
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from blas_core import print_blas_core  # noqa: E402

print_blas_core("block_ref")
import torch.nn.functional as F

LN_EPS = 1e-6

# Parameter names, shapes (as functions of D and the MLP width H) and PyTorch layouts: Linear weights are
# (out, in) as in nn.Linear; the manifest records the shape so consumers can transpose.
def param_shapes(d, h):
    return {
        "norm1.weight": (d,), "norm1.bias": (d,),
        "attn.qkv.weight": (3 * d, d), "attn.qkv.bias": (3 * d,),
        "attn.proj.weight": (d, d), "attn.proj.bias": (d,),
        "ls1.gamma": (d,),
        "norm2.weight": (d,), "norm2.bias": (d,),
        "mlp.fc1.weight": (h, d), "mlp.fc1.bias": (h,),
        "mlp.fc2.weight": (d, h), "mlp.fc2.bias": (d,),
        "ls2.gamma": (d,),
    }


def make_params(d, h, dtype, gen):
    """Seeded parameters: nn.Linear's uniform(+-1/sqrt(fan_in)) for weights and biases; LayerNorm affine and
    LayerScale drawn around 1 and 0.1 (not their inits 1/0 and 1e-5, so every gradient term is exercised)."""
    p = {}
    for name, shape in param_shapes(d, h).items():
        if name.startswith("norm"):
            base = 1.0 if name.endswith("weight") else 0.0
            t = base + 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)
        elif name.startswith("ls"):
            t = 0.1 + 0.05 * torch.randn(shape, generator=gen, dtype=torch.float64)
        else:
            fan_in = d if not name.startswith("mlp.fc2") else h
            bound = 1.0 / fan_in ** 0.5
            t = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound
        # Round through float32 so the float32 and float64 runs see exactly the same numbers.
        p[name] = t.to(torch.float32).to(dtype).requires_grad_(True)
    return p


def block(x, p, heads):
    """y = x1 + ls2 * mlp(norm2(x1)),  x1 = x + ls1 * attn(norm1(x))."""
    b, n, d = x.shape
    hd = d // heads
    # Attention branch.
    h = F.layer_norm(x, (d,), p["norm1.weight"], p["norm1.bias"], LN_EPS)
    qkv = F.linear(h, p["attn.qkv.weight"], p["attn.qkv.bias"])  # (B, N, 3D)
    qkv = qkv.reshape(b, n, 3, heads, hd).permute(2, 0, 3, 1, 4)  # (3, B, nh, N, hd)
    q, k, v = qkv[0] * hd ** -0.5, qkv[1], qkv[2]  # (B, nh, N, hd) each
    att = (q @ k.transpose(-2, -1)).softmax(dim=-1)  # (B, nh, N, N)
    o = (att @ v).transpose(1, 2).reshape(b, n, d)  # (B, nh, N, hd) -> (B, N, nh, hd) -> (B, N, D)
    o = F.linear(o, p["attn.proj.weight"], p["attn.proj.bias"])
    x1 = x + p["ls1.gamma"] * o
    # MLP branch.
    h = F.layer_norm(x1, (d,), p["norm2.weight"], p["norm2.bias"], LN_EPS)
    h = F.gelu(F.linear(h, p["mlp.fc1.weight"], p["mlp.fc1.bias"]))  # exact (erf) GELU, (B, N, H)
    h = F.linear(h, p["mlp.fc2.weight"], p["mlp.fc2.bias"])  # (B, N, D)
    return x1 + p["ls2.gamma"] * h


def step(x, dy, p, heads):
    """One forward + backward; returns y and the gradients {name: grad} including 'x'."""
    for t in p.values():
        t.grad = None
    x.grad = None
    y = block(x, p, heads)
    y.backward(dy)
    return y


def make_inputs(args, dtype, gen):
    b, n, d = args.batch, args.tokens, args.dim
    x = torch.randn(b, n, d, generator=gen, dtype=torch.float64).to(torch.float32).to(dtype).requires_grad_(True)
    dy = torch.randn(b, n, d, generator=gen, dtype=torch.float64).to(torch.float32).to(dtype)
    return x, dy


def maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def setup(args):
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    p = make_params(args.dim, args.mlp, torch.float32, gen)
    x, dy = make_inputs(args, torch.float32, gen)
    return p, x, dy


def run_bench(args):
    p, x, dy = setup(args)
    for i in range(args.warmup):
        step(x, dy, p, args.heads)
    for i in range(args.rounds):
        t0 = time.perf_counter()
        step(x, dy, p, args.heads)
        emit({"round": i, "ms": (time.perf_counter() - t0) * 1e3, "threads": torch.get_num_threads()})
    emit({"maxrss_kb": maxrss_kb(), "threads": torch.get_num_threads(), "torch": torch.__version__})


def run_serve(args):
    p, x, dy = setup(args)
    emit({"ready": True, "threads": torch.get_num_threads(), "torch": torch.__version__, "pid": os.getpid()})
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "round":
            t0 = time.perf_counter()
            step(x, dy, p, args.heads)
            emit({"ms": (time.perf_counter() - t0) * 1e3})
        elif cmd == "quit":
            break
        elif cmd:
            emit({"error": f"unknown command {cmd!r}"})
    emit({"maxrss_kb": maxrss_kb()})


def write_raw(path, t, dtype):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(t.detach().to(dtype).contiguous().numpy().astype("<" + ("f4" if dtype == torch.float32 else "f8")).tobytes())
    os.replace(tmp, path)


def run_parity(args):
    os.makedirs(args.dir, exist_ok=True)
    torch.set_num_threads(args.threads)
    manifest = {"config": {k: getattr(args, k) for k in ("batch", "tokens", "dim", "heads", "mlp", "seed")},
                "eps": LN_EPS, "torch": torch.__version__, "inputs": {}, "ref64": {}, "ref32": {}}
    results = {}
    for dtype in (torch.float64, torch.float32):
        gen = torch.Generator().manual_seed(args.seed)
        p = make_params(args.dim, args.mlp, dtype, gen)
        x, dy = make_inputs(args, dtype, gen)
        y = step(x, dy, p, args.heads)
        results[dtype] = (p, x, dy, y)
    p, x, dy, y = results[torch.float64]
    for name, t in [("x", x), ("dy", dy), *p.items()]:
        file = f"in.{name}.f32"
        write_raw(os.path.join(args.dir, file), t, torch.float32)
        manifest["inputs"][name] = {"shape": list(t.shape), "file": file, "dtype": "float32"}
    for tag, dtype, (p, x, _, y) in (("ref64", torch.float64, results[torch.float64]),
                                     ("ref32", torch.float32, results[torch.float32])):
        ext = "f64" if dtype == torch.float64 else "f32"
        outs = [("y", y), ("grad.x", x.grad), *((f"grad.{n}", t.grad) for n, t in p.items())]
        for name, t in outs:
            file = f"{tag}.{name}.{ext}"
            write_raw(os.path.join(args.dir, file), t, dtype)
            manifest[tag][name] = {"shape": list(t.shape), "file": file, "dtype": str(dtype).replace("torch.", "")}
    tmp = os.path.join(args.dir, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(tmp, os.path.join(args.dir, "manifest.json"))
    emit({"dir": args.dir, "maxrss_kb": maxrss_kb()})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["bench", "serve", "parity"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default="")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=261)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--mlp", type=int, default=1536)
    args = ap.parse_args()
    if args.dim % args.heads:
        ap.error(f"--dim {args.dim} is not divisible by --heads {args.heads}")
    if args.mode == "parity" and not args.dir:
        ap.error("parity needs --dir")
    {"bench": run_bench, "serve": run_serve, "parity": run_parity}[args.mode](args)


if __name__ == "__main__":
    main()
