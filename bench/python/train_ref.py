#!/usr/bin/python3
"""One DINOv2 training step in PyTorch, the reference `npm run bench -- train` times our step against.

Follows shared/reference/dino-recipes.md §2, §3, §5 as core/train does: ViT (DINOv2 style: learned pos-embed
resized bicubic+antialias to each crop grid, registers after it, LayerScale, exact GELU, LayerNorm 1e-6),
separate DINO and iBOT heads (3-layer MLP, L2-normalise, weight-normalised last layer), teacher forward on the
2 unmasked globals with EMA centering, student forward on 2 masked globals + nLocal locals (batched per crop
size), DINO loss over the 2 + 2·nLocal pairs, iBOT loss at the masked patches, KoLeo per global crop, backward,
per-submodule clipping 3.0, AdamW with layer-wise lr decay 0.9, patch-embed lr x0.2, no decay on biases/norms/
LayerScale, then the EMA update. Random inputs (the crops pipeline is benchmarked separately).

Run with Debian's Python (/usr/bin/python3 sees python3-torch). Prints one JSON line:
{"images_per_sec": tiles per second (median step), "ms": [per-step ms], "params": n}.
"""
import argparse
import json
import math
import sys
import time

import torch

import os  # noqa: E402
sys.path.insert(0, os.path.dirname(__file__))
from blas_core import print_blas_core  # noqa: E402

print_blas_core("train_ref")
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
for k, v in dict(dim=192, depth=12, heads=3, patch=16, registers=4, batch=32, global_size=112, local_size=48,
                 local_crops=6, prototypes=4096, hidden=1024, bottleneck=256, steps=3, warmup=1, threads=2).items():
    p.add_argument('--' + k.replace('_', '-'), type=int, default=v)
p.add_argument('--device', default='cpu')  # 'cuda' for the GPU bench (needs torch >= 2.0 for set_default_device)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
if a.device != 'cpu':
    torch.set_default_device(a.device)
D, M = a.dim, a.global_size // a.patch


class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.norm1, s.norm2 = nn.LayerNorm(D, eps=1e-6), nn.LayerNorm(D, eps=1e-6)
        s.qkv, s.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        s.fc1, s.fc2 = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
        s.ls1, s.ls2 = nn.Parameter(torch.full((D,), 1e-5)), nn.Parameter(torch.full((D,), 1e-5))

    def forward(s, x):
        B, T, _ = x.shape
        q, k, v = s.qkv(s.norm1(x)).reshape(B, T, 3, a.heads, D // a.heads).permute(2, 0, 3, 1, 4)  # (3, B, h, T, d)
        att = torch.softmax(q @ k.transpose(-2, -1) * (D // a.heads) ** -0.5, -1)
        x = x + s.ls1 * s.proj((att @ v).transpose(1, 2).reshape(B, T, D))
        return x + s.ls2 * s.fc2(F.gelu(s.fc1(s.norm2(x))))


class ViT(nn.Module):
    def __init__(s):
        super().__init__()
        s.patch_embed = nn.Conv2d(3, D, a.patch, a.patch)
        s.cls_token = nn.Parameter(torch.randn(1, 1, D) * 1e-6)
        s.pos_embed = nn.Parameter(torch.randn(1, 1 + M * M, D) * 0.02)
        s.register_tokens = nn.Parameter(torch.randn(1, a.registers, D) * 1e-6)
        s.mask_token = nn.Parameter(torch.zeros(1, D))
        s.blocks = nn.ModuleList([Block() for _ in range(a.depth)])
        s.norm = nn.LayerNorm(D, eps=1e-6)

    def forward(s, x, masks=None):
        B, _, H, W = x.shape
        h = H // a.patch
        x = s.patch_embed(x).flatten(2).transpose(1, 2)  # (B, N, D)
        if masks is not None:
            x = torch.where(masks.unsqueeze(-1), s.mask_token.to(x.dtype).unsqueeze(0), x)
        pe = s.pos_embed[:, 1:]
        if h != M:
            pe = F.interpolate(pe.reshape(1, M, M, D).permute(0, 3, 1, 2), size=(h, h), mode='bicubic', antialias=True)
            pe = pe.permute(0, 2, 3, 1).reshape(1, h * h, D)
        x = torch.cat([(s.cls_token + s.pos_embed[:, :1]).expand(B, -1, -1), x + pe], 1)  # (B, 1 + N, D)
        x = torch.cat([x[:, :1], s.register_tokens.expand(B, -1, -1), x[:, 1:]], 1)  # (B, 1 + R + N, D)
        for b in s.blocks:
            x = b(x)
        x = s.norm(x)
        return x[:, 0], x[:, 1 + a.registers:]


class Head(nn.Module):
    def __init__(s):
        super().__init__()
        s.mlp = nn.Sequential(nn.Linear(D, a.hidden), nn.GELU(), nn.Linear(a.hidden, a.hidden), nn.GELU(), nn.Linear(a.hidden, a.bottleneck))
        last = nn.Linear(a.bottleneck, a.prototypes, bias=False)
        if hasattr(nn.utils, 'weight_norm'):
            s.last_layer = nn.utils.weight_norm(last)
            s.last_layer.weight_g.data.fill_(1)
        else:  # newer torch: the parametrization (same maths, g = original0)
            s.last_layer = nn.utils.parametrizations.weight_norm(last)
            s.last_layer.parametrizations.weight.original0.data.fill_(1)

    def forward(s, x):
        return s.last_layer(F.normalize(s.mlp(x), dim=-1, eps=1e-12))


def model():
    return nn.ModuleDict(dict(backbone=ViT(), dino_head=Head(), ibot_head=Head()))


student, teacher = model(), model()
teacher.load_state_dict(student.state_dict())
for q in teacher.parameters():
    q.requires_grad = False

groups = []
for name, q in student.named_parameters():
    lid = a.depth + 1
    if name.startswith('backbone.'):
        if any(t in name for t in ('pos_embed', 'patch_embed', 'mask_token', 'cls_token', 'register_tokens')):
            lid = 0
        elif '.blocks.' in name:
            lid = int(name.split('.')[2]) + 1
    lr_mult = 0.9 ** (a.depth + 1 - lid) * (0.2 if 'patch_embed' in name else 1)
    wd = 0.0 if name.endswith('.bias') or 'norm' in name or 'ls1' in name or 'ls2' in name else 1.0
    groups.append(dict(params=[q], lr=1e-4 * lr_mult, weight_decay=0.04 * wd))
opt = torch.optim.AdamW(groups, betas=(0.9, 0.999))

B, nL, G, L = a.batch, a.local_crops, a.global_size, a.local_size
N = M * M
center_d = torch.zeros(1, a.prototypes)
center_i = torch.zeros(1, a.prototypes)


def koleo(x):
    x = F.normalize(x, eps=1e-8, dim=-1)
    with torch.no_grad():
        dots = x @ x.t()
        dots.view(-1)[:: x.shape[0] + 1].fill_(-1)
        nn_idx = dots.argmax(1)
    d = F.pairwise_distance(x, x[nn_idx], p=2, eps=1e-8)
    return -torch.log(d + 1e-8).mean()


def step():
    global center_d, center_i
    g = torch.randn(2 * B, 3, G, G)
    loc = torch.randn(nL * B, 3, L, L)
    masks = torch.zeros(2 * B, N, dtype=torch.bool)
    for i in range(B):  # half the images masked, ratios 0.1–0.5 (random positions; the cost is the same)
        masks[i, torch.randperm(N)[: max(1, int(N * (0.1 + 0.4 * i / B)))]] = True
    flat = masks.flatten()
    w = (1 / masks.sum(-1).clamp(min=1)).unsqueeze(-1).expand_as(masks)[masks]
    tt = 0.04
    with torch.no_grad():
        tc, tp = teacher['backbone'](g)
        zd = teacher['dino_head'](tc)
        zi = teacher['ibot_head'](tp.flatten(0, 1)[flat])
        pd = F.softmax((zd - center_d) / tt, -1)
        pi = F.softmax((zi - center_i) / tt, -1)
        center_d = center_d * 0.9 + zd.mean(0, keepdim=True) * 0.1
        center_i = center_i * 0.9 + zi.mean(0, keepdim=True) * 0.1
    sc, sp = student['backbone'](g, masks)
    lc, _ = student['backbone'](loc)
    logits = student['dino_head'](torch.cat([sc, lc]))
    lsm = F.log_softmax(logits / 0.1, -1)
    lg, ll = lsm[: 2 * B], lsm[2 * B:].reshape(nL, B, -1)
    pswap = torch.cat([pd[B:], pd[:B]])
    dino = -((pswap * lg).sum() / B + (ll * (pd[:B] + pd[B:]).unsqueeze(0)).sum() / B) / (2 + 2 * nL)
    si = F.log_softmax(student['ibot_head'](sp.flatten(0, 1)[flat]) / 0.1, -1)
    ibot = -((pi * si).sum(-1) * w).sum() / (2 * B)
    ko = koleo(sc[:B]) + koleo(sc[B:])
    loss = dino + ibot + 0.1 * ko
    opt.zero_grad(set_to_none=True)
    loss.backward()
    for k in ('backbone', 'dino_head', 'ibot_head'):
        nn.utils.clip_grad_norm_(student[k].parameters(), 3.0)
    opt.step()
    with torch.no_grad():
        m = 0.995
        for ps, pt in zip(student.parameters(), teacher.parameters()):
            pt.mul_(m).add_(ps.detach(), alpha=1 - m)
    return loss.item()


ms = []
for i in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    loss = step()  # .item() waits for the device
    dt = (time.perf_counter() - t0) * 1000
    print(f'torch step {i} {dt:.0f} ms loss {loss:.4f}', file=sys.stderr)
    if i >= a.warmup:
        ms.append(dt)
med = sorted(ms)[len(ms) // 2]
print(json.dumps(dict(images_per_sec=a.batch * 1000 / med, ms=ms, params=sum(q.numel() for q in student.parameters()), device=a.device, torch=torch.__version__)))
