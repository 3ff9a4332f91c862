#!/usr/bin/python3
"""One DINOv3 distillation step in PyTorch, the reference `npm run bench -- distill` times ours against.

As core/train/distill does (shared/reference/dino-recipes.md §7): a frozen teacher ViT with its DINO and iBOT
heads runs once on the 2B unmasked global crops; Sinkhorn-Knopp (3 iterations, tau_t 0.07) turns its CLS
logits and its patch logits at the sampled slots into targets; then each student (smaller ViT, same patch size
and registers, separate heads with the teacher's K) runs forward on the UNMASKED globals and the locals, DINO
loss over the 2 + 2·nLocal pairs, iBOT at the same slots, KoLeo per global crop, backward, per-submodule
clipping 3.0, AdamW with layer-wise decay 0.9 and patch-embed x0.2, then the student's EMA. DINOv2-style blocks
(learned pos-embed, LayerScale, exact GELU), weight-normalised last layers. Random inputs.

Prints one JSON line: {"images_per_sec": tiles per second (median step), "ms": [...], "teacher_ms": [...]}.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from blas_core import print_blas_core  # noqa: E402

print_blas_core("distill_ref")
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

p = argparse.ArgumentParser()
for k, v in dict(patch=16, registers=4, batch=8, global_size=112, local_size=48, local_crops=6, prototypes=4096,
                 hidden=1024, bottleneck=256, steps=3, warmup=1, threads=2).items():
    p.add_argument('--' + k.replace('_', '-'), type=int, default=v)
p.add_argument('--teacher', default='384,12,6', help='dim,depth,heads')
p.add_argument('--students', default='192,12,3', help='dim,depth,heads[;dim,depth,heads…]')
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
M = a.global_size // a.patch
B, nL, G, L = a.batch, a.local_crops, a.global_size, a.local_size
N = M * M


class Block(nn.Module):
    def __init__(s, D, H):
        super().__init__()
        s.D, s.H = D, H
        s.norm1, s.norm2 = nn.LayerNorm(D, eps=1e-6), nn.LayerNorm(D, eps=1e-6)
        s.qkv, s.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        s.fc1, s.fc2 = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
        s.ls1, s.ls2 = nn.Parameter(torch.full((D,), 1.0)), nn.Parameter(torch.full((D,), 1.0))

    def forward(s, x):
        Bx, T, D = x.shape
        q, k, v = s.qkv(s.norm1(x)).reshape(Bx, T, 3, s.H, D // s.H).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-2, -1) * (D // s.H) ** -0.5, -1)
        x = x + s.ls1 * s.proj((att @ v).transpose(1, 2).reshape(Bx, T, D))
        return x + s.ls2 * s.fc2(F.gelu(s.fc1(s.norm2(x))))


class ViT(nn.Module):
    def __init__(s, D, depth, H):
        super().__init__()
        s.D = D
        s.patch_embed = nn.Conv2d(3, D, a.patch, a.patch)
        s.cls_token = nn.Parameter(torch.randn(1, 1, D) * 1e-6)
        s.pos_embed = nn.Parameter(torch.randn(1, 1 + M * M, D) * 0.02)
        s.register_tokens = nn.Parameter(torch.randn(1, a.registers, D) * 1e-6)
        s.blocks = nn.ModuleList([Block(D, H) for _ in range(depth)])
        s.norm = nn.LayerNorm(D, eps=1e-6)

    def forward(s, x):
        Bx, _, H, W = x.shape
        h = H // a.patch
        D = s.D
        x = s.patch_embed(x).flatten(2).transpose(1, 2)
        pe = s.pos_embed[:, 1:]
        if h != M:
            pe = F.interpolate(pe.reshape(1, M, M, D).permute(0, 3, 1, 2), size=(h, h), mode='bicubic', antialias=True)
            pe = pe.permute(0, 2, 3, 1).reshape(1, h * h, D)
        x = torch.cat([(s.cls_token + s.pos_embed[:, :1]).expand(Bx, -1, -1), x + pe], 1)
        x = torch.cat([x[:, :1], s.register_tokens.expand(Bx, -1, -1), x[:, 1:]], 1)
        for b in s.blocks:
            x = b(x)
        x = s.norm(x)
        return x[:, 0], x[:, 1 + a.registers:]


class Head(nn.Module):
    def __init__(s, D):
        super().__init__()
        s.mlp = nn.Sequential(nn.Linear(D, a.hidden), nn.GELU(), nn.Linear(a.hidden, a.hidden), nn.GELU(), nn.Linear(a.hidden, a.bottleneck))
        s.last_layer = nn.utils.weight_norm(nn.Linear(a.bottleneck, a.prototypes, bias=False))
        s.last_layer.weight_g.data.fill_(1)

    def forward(s, x):
        return s.last_layer(F.normalize(s.mlp(x), dim=-1, eps=1e-12))


def model(spec):
    D, depth, H = (int(x) for x in spec.split(','))
    return nn.ModuleDict(dict(backbone=ViT(D, depth, H), dino_head=Head(D), ibot_head=Head(D))), depth


teacher, _ = model(a.teacher)
for q in teacher.parameters():
    q.requires_grad = False
students = []
for spec in a.students.split(';'):
    st, depth = model(spec)
    ema, _ = model(spec)
    ema.load_state_dict(st.state_dict())
    for q in ema.parameters():
        q.requires_grad = False
    groups = []
    for name, q in st.named_parameters():
        lid = depth + 1
        if name.startswith('backbone.'):
            if any(t in name for t in ('pos_embed', 'patch_embed', 'cls_token', 'register_tokens')):
                lid = 0
            elif '.blocks.' in name:
                lid = int(name.split('.')[2]) + 1
        lr_mult = 0.9 ** (depth + 1 - lid) * (0.2 if 'patch_embed' in name else 1)
        wd = 0.0 if name.endswith('.bias') or 'norm' in name or 'ls1' in name or 'ls2' in name else 1.0
        groups.append(dict(params=[q], lr=1e-4 * lr_mult, weight_decay=0.04 * wd))
    students.append((st, ema, torch.optim.AdamW(groups, betas=(0.9, 0.999))))


def sinkhorn(z, tt, w=None):
    q = torch.exp((z - z.max()) / tt).t()  # (K, n)
    if w is not None:
        q = q * (w > 0).float().unsqueeze(0)
    n = q.shape[1] if w is None else (w > 0).sum()
    q /= q.sum()
    for _ in range(3):
        q /= q.sum(1, keepdim=True)
        q /= q.shape[0]
        q /= q.sum(0, keepdim=True).clamp(min=1e-30)
        q /= n
    return (q * n).t()


def koleo(x):
    x = F.normalize(x, eps=1e-8, dim=-1)
    with torch.no_grad():
        dots = x @ x.t()
        dots.view(-1)[:: x.shape[0] + 1].fill_(-1)
        nn_idx = dots.argmax(1)
    return -torch.log(F.pairwise_distance(x, x[nn_idx], p=2, eps=1e-8) + 1e-8).mean()


def step():
    g = torch.randn(2 * B, 3, G, G)
    loc = torch.randn(nL * B, 3, L, L)
    slots = torch.zeros(2 * B, N, dtype=torch.bool)
    for i in range(B):  # half the crops get iBOT slots, 10–50 % of their patches
        slots[i, torch.randperm(N)[: max(1, int(N * (0.1 + 0.4 * i / B)))]] = True
    flat = slots.flatten()
    w = (1 / slots.sum(-1).clamp(min=1)).unsqueeze(-1).expand_as(slots)[slots]
    t0 = time.perf_counter()
    with torch.no_grad():
        tc, tp = teacher['backbone'](g)
        pd = sinkhorn(teacher['dino_head'](tc), 0.07)
        pi = sinkhorn(teacher['ibot_head'](tp.flatten(0, 1)[flat]), 0.07, w)
    t_ms = (time.perf_counter() - t0) * 1000
    losses = []
    for st, ema, opt in students:
        sc, sp = st['backbone'](g)  # unmasked
        lc, _ = st['backbone'](loc)
        lsm = F.log_softmax(st['dino_head'](torch.cat([sc, lc])) / 0.1, -1)
        lg, ll = lsm[: 2 * B], lsm[2 * B:].reshape(nL, B, -1)
        pswap = torch.cat([pd[B:], pd[:B]])
        dino = -((pswap * lg).sum() / B + (ll * (pd[:B] + pd[B:]).unsqueeze(0)).sum() / B) / (2 + 2 * nL)
        si = F.log_softmax(st['ibot_head'](sp.flatten(0, 1)[flat]) / 0.1, -1)
        ibot = -((pi * si).sum(-1) * w).sum() / (2 * B)
        loss = dino + ibot + 0.1 * (koleo(sc[:B]) + koleo(sc[B:]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for k in ('backbone', 'dino_head', 'ibot_head'):
            nn.utils.clip_grad_norm_(st[k].parameters(), 3.0)
        opt.step()
        with torch.no_grad():
            for ps, pe in zip(st.parameters(), ema.parameters()):
                pe.mul_(0.995).add_(ps.detach(), alpha=0.005)
        losses.append(loss.item())
    return losses, t_ms


ms, tms = [], []
for i in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    losses, t_ms = step()
    dt = (time.perf_counter() - t0) * 1000
    print(f'torch step {i} {dt:.0f} ms (teacher {t_ms:.0f} ms) losses {" ".join(f"{x:.4f}" for x in losses)}', file=sys.stderr)
    if i >= a.warmup:
        ms.append(dt)
        tms.append(t_ms)
med = sorted(ms)[len(ms) // 2]
print(json.dumps(dict(images_per_sec=a.batch * 1000 / med, ms=ms, teacher_ms=tms, torch=torch.__version__)))
