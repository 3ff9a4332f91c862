"""PyTorch reference for `npm run bench -- extract`: ViT-S/14 with 4 registers (the DINOv2 module of
scripts/fixtures/vit_fixtures.py, random weights, float32, inference mode) over the same normalised tiles
our side runs. Reads TILES (float32, (n, 3, S, S)), runs them in batches of B after one warm-up batch and
prints one JSON line: {"seconds", "tiles", "threads", "torch"}.

usage: /usr/bin/python3 bench/python/extract_ref.py TILES S B THREADS
"""
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from blas_core import print_blas_core  # noqa: E402

print_blas_core("extract_ref")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "fixtures"))
from vit_fixtures import DinoV2  # noqa: E402

CFG = dict(arch="dinov2", patchSize=14, dim=384, depth=12, heads=6, registers=4, eps=1e-6, qkvBias=True, maskKBias=False,
           layerScale=True, ffn="mlp", ffnRatio=4, posEmbed={"gridSize": 37, "variant": "size-antialias"})


def main():
    path, S, B, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    device = os.environ.get("TORCH_DEVICE", "cpu")  # 'cuda' for the GPU bench
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = DinoV2(CFG).float().eval().to(device)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    # (n, 3, S, S) on the host: like ours, each batch goes to the device and its patch tokens come back
    tiles = torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(-1, 3, S, S))
    n = tiles.shape[0]
    with torch.inference_mode():
        model(tiles[:B].to(device))  # warm-up
        t0 = time.perf_counter()
        for i in range(0, n, B):
            out = model(tiles[i:i + B].to(device))
            out["patches"].cpu()  # to the host, as our side returns them (waits for the device)
        seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "tiles": n, "threads": threads, "torch": torch.__version__, "device": device}))


if __name__ == "__main__":
    main()
