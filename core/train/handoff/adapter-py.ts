// The dataset adapter `dinoscope export-training` writes beside the tile list as dinoscope_tiles.py: Python
// for the official DINOv2 / DINOv3 trainers, written by us. It adds the "Dinoscope:root=<tiles.csv>" dataset
// string to their loaders' dataset-string parser (dinov2|dinov3.data.loaders._parse_dataset_str, which
// knows only their own datasets) and then calls their own train entry points unchanged. Kept as text here
// so that the bundled CLI and the packaged app carry it; handoff.test.ts runs it under /usr/bin/python3.
export const ADAPTER_FILE = 'dinoscope_tiles.py';

export const ADAPTER_PY = String.raw`"""Dinoscope's tile list as a dataset of the official DINOv2 / DINOv3 trainers.

Written by 'dinoscope export-training' beside tiles.csv, config.yaml and README.txt (which has the exact
commands). tiles.csv has one tile a row: path, level, x, y, size, region: read the square of 'region'
level-0 pixels at (x, y) of the slide 'path' and scale it to 'size' x 'size' RGB pixels. 'level' is the
pyramid level Dinoscope reads; this file picks its own reader's level by downsample (region / size), so
OpenSlide's levels and tifffile's agree with it whatever the file's layout.

Readers: "openslide" (openslide-python: every format OpenSlide reads), "tifffile" (tiled pyramidal TIFF,
SVS, OME-TIFF; needs imagecodecs for JPEG tiles), "auto" (openslide when it imports, else tifffile); PNG,
JPEG and other single images are read with Pillow. Choose with reader= in the dataset string
(Dinoscope:root=tiles.csv:reader=tifffile) or DINOSCOPE_TILE_READER.

Uses:
  torchrun ... dinoscope_tiles.py --recipe dinov2|dinov3 --config-file config.yaml --output-dir OUT
      registers the dataset, then runs the official trainer's main (dinov2.train.train / dinov3.train.train)
  python dinoscope_tiles.py submit --recipe dinov2 --nodes N ... (Slurm through dinov2/run/submit.py)
  python -m dinov3.run.submit dinoscope_tiles.py --callable-name dinov3_main ... (Slurm, DINOv3)
  python dinoscope_tiles.py check tiles.csv [--reader R] [--count N]
      reads N tiles and prints JSON (tile count, sizes, mean RGB of each): a check before a long job
"""
import csv
import json
import math
import os
import re
import sys

TOLERANCE = 1e-3  # a level at most 0.1 % coarser than wanted counts as reaching it (as in Dinoscope)


def read_tiles(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    tiles = []
    for i, r in enumerate(rows):
        try:
            tiles.append((r["path"], int(r["level"]), int(r["x"]), int(r["y"]), int(r["size"]), int(r["region"])))
        except (KeyError, ValueError) as e:
            raise ValueError(f"{path}: row {i + 2} is not a tile (path, level, x, y, size, region): {e}") from None
    return tiles


def _resize(img, size):
    from PIL import Image

    img = img.convert("RGB")
    if img.size != (size, size):
        img = img.resize((size, size), Image.BILINEAR, reducing_gap=None)
    return img


class _OpenSlideReader:
    def __init__(self, path):
        import openslide

        self.slide = openslide.OpenSlide(path)

    def read(self, x, y, region, size):
        s = self.slide
        level = s.get_best_level_for_downsample(region / size * (1 + TOLERANCE))
        d = s.level_downsamples[level]
        side = max(1, round(region / d))
        return _resize(s.read_region((x, y), level, (side, side)), size)


class _TiffReader:
    def __init__(self, path):
        import tifffile

        self.tif = tifffile.TiffFile(path)
        series = self.tif.series[0]
        self.levels = [lv.pages[0] if hasattr(lv, "pages") else lv for lv in series.levels]
        self.width0 = self.levels[0].imagewidth
        self.whole = {}

    def _region(self, page, x, y, w, h):
        import numpy as np

        samples = page.samplesperpixel
        out = np.full((h, w, samples), 255, dtype=np.uint8)
        if not page.is_tiled:
            if id(page) not in self.whole:
                self.whole[id(page)] = page.asarray().reshape(page.imagelength, page.imagewidth, -1)
            a = self.whole[id(page)]
            part = a[max(0, y):y + h, max(0, x):x + w]
            out[max(0, -y):max(0, -y) + part.shape[0], max(0, -x):max(0, -x) + part.shape[1]] = part
            return out
        tw, tl = page.tilewidth, page.tilelength
        across = math.ceil(page.imagewidth / tw)
        fh = self.tif.filehandle
        for ty in range(max(0, y // tl), min(math.ceil(page.imagelength / tl), (y + h - 1) // tl + 1)):
            for tx in range(max(0, x // tw), min(across, (x + w - 1) // tw + 1)):
                index = ty * across + tx
                if not page.databytecounts[index]:
                    continue  # sparse tile: background
                fh.seek(page.dataoffsets[index])
                data = fh.read(page.databytecounts[index])
                seg, _, _ = page.decode(data, index, jpegtables=page.jpegtables)
                seg = np.asarray(seg).reshape(tl, tw, -1)
                x0, y0 = tx * tw, ty * tl
                sx0, sy0 = max(x, x0), max(y, y0)
                sx1, sy1 = min(x + w, x0 + tw, page.imagewidth), min(y + h, y0 + tl, page.imagelength)
                out[sy0 - y:sy1 - y, sx0 - x:sx1 - x] = seg[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0]
        return out

    def read(self, x, y, region, size):
        from PIL import Image

        want = region / size
        best = 0
        for i, page in enumerate(self.levels):
            d = self.width0 / page.imagewidth
            if d <= want * (1 + TOLERANCE) and d > self.width0 / self.levels[best].imagewidth:
                best = i
        page = self.levels[best]
        d = self.width0 / page.imagewidth
        side = max(1, round(region / d))
        a = self._region(page, int(round(x / d)), int(round(y / d)), side, side)
        if a.shape[2] == 1:
            a = a[:, :, 0]
        elif a.shape[2] > 3:
            a = a[:, :, :3]
        return _resize(Image.fromarray(a), size)


class _PillowReader:
    def __init__(self, path):
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = None
        self.image = Image.open(path)
        self.image.load()

    def read(self, x, y, region, size):
        return _resize(self.image.crop((x, y, x + region, y + region)), size)


def _is_tiff(path):
    with open(path, "rb") as f:
        head = f.read(4)
    return head[:2] in (b"II", b"MM")


def open_reader(path, reader="auto"):
    if not _is_tiff(path) and reader != "openslide":
        return _PillowReader(path)
    if reader == "auto":
        try:
            import openslide  # noqa: F401

            reader = "openslide"
        except ImportError:
            reader = "tifffile"
    if reader == "openslide":
        return _OpenSlideReader(path)
    if reader == "tifffile":
        return _TiffReader(path)
    raise ValueError(f'reader must be "auto", "openslide" or "tifffile", not "{reader}"')


class DinoscopeTiles:
    """A map-style dataset of the tiles in a Dinoscope tile list: item i is (PIL RGB image, target ())
    after the transforms, as the official trainers' datasets give them."""

    def __init__(self, root, transform=None, target_transform=None, transforms=None, reader=None, extra=None, split=None):
        self.root = root
        self.tiles = read_tiles(root)
        if not self.tiles:
            raise ValueError(f"{root}: the tile list is empty")
        self.transform = transform
        self.target_transform = target_transform
        self.transforms = transforms
        self.reader = reader or os.environ.get("DINOSCOPE_TILE_READER", "auto")
        self._open = {}  # per worker process: slides opened once

    def __len__(self):
        return len(self.tiles)

    def tile(self, i):
        path, _level, x, y, size, region = self.tiles[i]
        r = self._open.get(path)
        if r is None:
            r = self._open[path] = open_reader(path, self.reader)
        return r.read(x, y, region, size)

    def __getitem__(self, i):
        image, target = self.tile(i), ()
        if self.transforms is not None:
            return self.transforms(image, target)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_targets(self):
        return [()] * len(self.tiles)


def install(recipe):
    """Teaches the official make_dataset the "Dinoscope:root=<tiles.csv>[:reader=R]" dataset string."""
    import importlib

    loaders = importlib.import_module(f"{recipe}.data.loaders")
    if getattr(loaders._parse_dataset_str, "dinoscope", False):
        return
    official = loaders._parse_dataset_str

    def parse(dataset_str):
        if not dataset_str.startswith("Dinoscope:"):
            return official(dataset_str)
        # The root is a path, which may hold ':' itself: only a trailing ':reader=R' is split off.
        m = re.fullmatch(r"Dinoscope:root=(.+?)(?::reader=(auto|openslide|tifffile))?", dataset_str)
        if not m:
            raise ValueError(f'"{dataset_str}" is not Dinoscope:root=<tiles.csv>[:reader=auto|openslide|tifffile]')
        kwargs = {"root": m.group(1)}
        if m.group(2):
            kwargs["reader"] = m.group(2)
        return DinoscopeTiles, kwargs

    parse.dinoscope = True
    loaders._parse_dataset_str = parse


def dinov3_main(argv):
    """The callable for 'python -m dinov3.run.submit dinoscope_tiles.py --callable-name dinov3_main ...'."""
    install("dinov3")
    from dinov3.train.train import main

    return main(argv)


class Dinov2Job:
    """dinov2/run/train/train.py's Trainer with the dataset registered in the Slurm job itself."""

    def __init__(self, args):
        self.args = args

    def __call__(self):
        install("dinov2")
        from dinov2.run.train.train import Trainer

        Trainer(self.args)()

    def checkpoint(self):
        import submitit

        return submitit.helpers.DelayedSubmission(type(self)(self.args))


def _recipe(argv):
    if "--recipe" not in argv:
        raise SystemExit("dinoscope_tiles.py: give --recipe dinov2 or --recipe dinov3")
    i = argv.index("--recipe")
    recipe = argv[i + 1] if i + 1 < len(argv) else ""
    if recipe not in ("dinov2", "dinov3"):
        raise SystemExit(f'dinoscope_tiles.py: --recipe must be dinov2 or dinov3, not "{recipe}"')
    return recipe, argv[:i] + argv[i + 2:]


def _check(argv):
    import argparse

    p = argparse.ArgumentParser("dinoscope_tiles.py check")
    p.add_argument("tiles")
    p.add_argument("--reader", default=None)
    p.add_argument("--count", type=int, default=8)
    a = p.parse_args(argv)
    ds = DinoscopeTiles(a.tiles, reader=a.reader)
    step = max(1, len(ds) // max(1, a.count))
    checked = []
    for i in list(range(0, len(ds), step))[: a.count]:
        img = ds.tile(i)
        px = list(img.getdata())
        mean = [sum(p[c] for p in px) / len(px) for c in range(3)]
        checked.append({"index": i, "size": list(img.size), "mode": img.mode, "mean": mean})
    print(json.dumps({"tiles": len(ds), "checked": checked}))


def main(argv):
    if argv and argv[0] == "check":
        return _check(argv[1:])
    if argv and argv[0] == "submit":
        recipe, rest = _recipe(argv[1:])
        if recipe != "dinov2":
            raise SystemExit("dinoscope_tiles.py submit is for dinov2; DINOv3 submits with: python -m dinov3.run.submit "
                             "dinoscope_tiles.py --callable-name dinov3_main ... (see README.txt)")
        sys.argv = [sys.argv[0]] + rest
        import dinoscope_tiles  # this file by its module name, so the Slurm job can unpickle its Dinov2Job
        from dinov2.logging import setup_logging
        from dinov2.run.submit import get_args_parser, submit_jobs
        from dinov2.train import get_args_parser as get_train_args_parser

        args = get_args_parser(description="Dinoscope tiles on DINOv2", parents=[get_train_args_parser(add_help=False)]).parse_args(rest)
        setup_logging()
        return submit_jobs(dinoscope_tiles.Dinov2Job, args, name="dinov2:train")
    recipe, rest = _recipe(argv)
    install(recipe)
    sys.argv = [sys.argv[0]] + rest
    if recipe == "dinov2":
        from dinov2.train.train import get_args_parser, main as train_main

        return train_main(get_args_parser(add_help=True).parse_args(rest))
    from dinov3.train.train import main as train_main

    return train_main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
`;
