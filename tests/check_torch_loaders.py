#!/usr/bin/python3
"""Loads a skyscript-build output folder (built with --format both or all) through real torch
DataLoaders, with Debian's python3-torch and python3-torchvision:

    /usr/bin/python3 tests/check_torch_loaders.py OUT

- CSV, as SkyScript trains (its OpenCLIP fork's CsvDataset): pd.read_csv(sep=","), `filepath`
  joined to OUT, Image.open, then Resize(224), CenterCrop(224), ToTensor(), Normalize(CLIP's
  mean and std); caption_key `title`, then `title_multi_objects`. A torch Dataset, through
  DataLoader(batch_size=8, num_workers=2, shuffle=False), for SkyScript_train_unfiltered.csv,
  SkyScript_val.csv and SkyScript_test.csv: every row comes out exactly once, from a worker,
  as a float32 3x224x224 tensor without NaN or inf and the caption python's csv module reads
  in that row (pandas turning a caption into NaN is a failure); the count is the CSV's rows.
- WebDataset shards, as webdataset's pipeline reads them: an IterableDataset that gives each
  DataLoader worker its shards (urls[worker::workers], webdataset's split_by_worker), reads
  each tar with tarfile, groups members by base_plus_ext's key rule (a new sample when the
  key changes or an extension repeats), decodes jpg with PIL and the same transform, txt as
  the caption and json with json.loads, and batches with webdataset's default collation.
  Every sample is seen exactly once, by the worker its shard belongs to; a split's keys are
  the stems of its CSV's filepaths, its json names that filepath, its txt is the CSV's title
  and its image the same tensor as the CSV's image.
- The meta pickles (OUT/metaK/STEM.pickle), loaded with pickle in the DataLoader's workers:
  one per CSV row, first keys box (tuple of 4 floats), time (tuple of 5 ints), center_tags
  (dict of str), surrounding_tags (list of such dicts, at most 50), equal to meta.jsonl's.
An empty split (a CSV of no rows, no shards) loads as nothing. Prints one "ok ..." line, or
the problems on stderr and exit 1. Deterministic: no shuffling, no random transform.
"""
import collections
import csv
import gc
import glob
import hashlib
import io
import json
import math
import os
import pickle
import re
import sys
import tarfile

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info
from torchvision import transforms

SPLITS = (("train", "SkyScript_train_unfiltered.csv"), ("val", "SkyScript_val.csv"), ("test", "SkyScript_test.csv"))
CAPTION_KEYS = ("title", "title_multi_objects")
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # open_clip.constants.OPENAI_DATASET_MEAN
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
BATCH, WORKERS = 8, 2
META_TYPES = (("box", tuple), ("time", tuple), ("center_tags", dict), ("surrounding_tags", list))

problems = []


def transform():
    return transforms.Compose([
        transforms.Resize(224),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(mean=CLIP_MEAN, std=CLIP_STD),
    ])


def worker_id():
    info = get_worker_info()
    return -1 if info is None else info.id


class CsvDataset(Dataset):
    """SkyScript's src/training/data.py CsvDataset, with the caption as text (no tokenizer)."""

    def __init__(self, input_filename, transforms, img_key, caption_key, sep=",", root_data_dir=None):
        df = pd.read_csv(input_filename, sep=sep)
        if root_data_dir is not None:
            df[img_key] = df[img_key].apply(lambda x: os.path.join(root_data_dir, x))
        self.images = df[img_key].tolist()
        self.captions = df[caption_key].tolist()
        self.transforms = transforms

    def __len__(self):
        return len(self.captions)

    def __getitem__(self, idx):
        images = self.transforms(Image.open(str(self.images[idx])))
        texts = str(self.captions[idx])
        return images, texts


class Traced(Dataset):
    """A dataset's item with its index and the worker that made it."""

    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, idx):
        return idx, worker_id(), self.ds[idx]


def base_plus_ext(path):
    """webdataset.tariterators.base_plus_ext."""
    match = re.match(r"^((?:.*/|)[^.]+)[.]([^/]*)$", path)
    if not match:
        return None, None
    return match.group(1), match.group(2)


class WebDatasetShards(IterableDataset):
    """webdataset's WebDataset(urls).decode("pil").to_tuple(...).map(transform), by hand."""

    def __init__(self, urls, transform):
        self.urls = urls
        self.transform = transform

    def samples(self, url):
        """tar_file_expander + group_by_keys: a new sample when the key changes or a suffix repeats."""
        current = None
        with tarfile.open(url) as tar:
            for member in tar:
                if not member.isreg():
                    continue
                prefix, suffix = base_plus_ext(member.name)
                if prefix is None:
                    yield {"__key__": None, "__name__": member.name, "__url__": url}  # webdataset drops it: say so
                    continue
                suffix = suffix.lower()
                if current is None or prefix != current["__key__"] or suffix in current:
                    if current is not None:
                        yield current
                    current = {"__key__": prefix, "__url__": url}
                current[suffix] = tar.extractfile(member).read()
        if current is not None:
            yield current

    def __iter__(self):
        info = get_worker_info()
        urls = self.urls if info is None else self.urls[info.id::info.num_workers]  # split_by_worker
        for url in urls:
            for sample in self.samples(url):
                if sample["__key__"] is None or sorted(k for k in sample if not k.startswith("__")) != ["jpg", "json", "txt"]:
                    parts = sorted(k for k in sample if not k.startswith("__"))
                    yield (sample["__key__"] or sample["__name__"], url, worker_id(), torch.zeros(0), None, {"__parts__": parts})
                    continue
                image = self.transform(Image.open(io.BytesIO(sample["jpg"])))
                yield (sample["__key__"], url, worker_id(), image, sample["txt"].decode("utf-8"), json.loads(sample["json"]))


def collate(samples):
    """webdataset.filters.default_collation_fn: a batch of tuples into a tuple of columns."""
    columns = []
    for column in zip(*samples):
        if isinstance(column[0], (int, float)):
            columns.append(np.array(column))
        elif isinstance(column[0], torch.Tensor) and all(c.shape == column[0].shape for c in column):
            columns.append(torch.stack(column))
        else:
            columns.append(list(column))
    return tuple(columns)


class PickleMeta(Dataset):
    """SkyScript's metadata: one pickle per image, loaded in the worker."""

    def __init__(self, root, paths):
        self.root, self.paths = root, paths

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, idx):
        with open(os.path.join(self.root, self.paths[idx]), "rb") as f:
            return idx, worker_id(), pickle.load(f)


def as_list(batch):
    return batch


def loader(ds, collate_fn=None):
    return DataLoader(ds, batch_size=BATCH, num_workers=WORKERS, shuffle=False, collate_fn=collate_fn, timeout=120)


def batches(name, dl):
    """The loader's batches; a worker's exception is one problem, not a traceback."""
    try:
        return list(dl)
    except Exception as e:  # the DataLoader re-raises a worker's error with its traceback in the message
        last = [line for line in str(e).strip().splitlines() if line.strip()]
        problems.append("%s: the DataLoader failed: %s" % (name, last[-1] if last else type(e).__name__))
    # The failed iterator is in a reference cycle with the traceback: end its workers now, in
    # this process, not when a later loader's forked worker collects it.
    gc.collect()
    return None


def check_images(name, images, expected_batch):
    if not isinstance(images, torch.Tensor):
        problems.append("%s: images of different shapes in one batch: %r" % (name, sorted({tuple(i.shape) for i in images})))
        return
    if tuple(images.shape) != (expected_batch, 3, 224, 224) or images.dtype != torch.float32:
        problems.append("%s: a batch of %s %s, not %d x 3 x 224 x 224 float32" % (name, tuple(images.shape), images.dtype, expected_batch))
    elif not torch.isfinite(images).all():
        problems.append("%s: NaN or inf in the image tensors" % name)


def check_workers(name, ids, units, what="batches"):
    """Every item from a worker; all workers busy when there are enough batches (shards) to share."""
    ids = set(ids)
    if -1 in ids:
        problems.append("%s: items made in the main process, not in a DataLoader worker" % name)
    if units >= WORKERS and ids != set(range(WORKERS)):
        problems.append("%s: %d %s came from workers %r, not from all %d" % (name, units, what, sorted(ids), WORKERS))


def digest(tensor):
    return hashlib.sha1(tensor.contiguous().numpy().tobytes()).hexdigest()


def check_csv(out, csv_name):
    """Returns the rows (dicts of python's csv module) with the loaded image's digest, None without the CSV."""
    path = os.path.join(out, csv_name)
    if not os.path.isfile(path):
        problems.append("%s: missing" % csv_name)
        return None
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for i, row in enumerate(rows):
        fp = row.get("filepath") or ""
        if os.path.isabs(fp) or ".." in fp.split("/") or not os.path.isfile(os.path.join(out, fp)):
            problems.append("%s row %d: filepath %r is no file under OUT" % (csv_name, i + 1, fp))
    for key in CAPTION_KEYS:
        name = "%s (%s)" % (csv_name, key)
        try:
            ds = CsvDataset(path, transform(), img_key="filepath", caption_key=key, sep=",", root_data_dir=out)
        except Exception as e:
            problems.append("%s: CsvDataset failed: %s: %s" % (name, type(e).__name__, e))
            continue
        if len(ds) != len(rows):
            problems.append("%s: CsvDataset has %d rows, the CSV %d" % (name, len(ds), len(rows)))
        got = batches(name, loader(Traced(ds)))
        if got is None:
            continue  # the shards and pickles are still checked against python's csv reading
        seen, workers = collections.Counter(), []
        for b, (idx, wid, (images, captions)) in enumerate(got):
            idx, wid = idx.tolist(), wid.tolist()
            seen.update(idx)
            workers += wid
            check_images("%s batch %d" % (name, b), images, len(idx))
            for i, caption, image in zip(idx, captions, images):
                expected = rows[i][key] if i < len(rows) else None
                if not isinstance(caption, str) or caption != expected or not caption:
                    problems.append("%s row %d: caption %r, the CSV holds %r" % (name, i + 1, caption, expected))
                if key == "title" and i < len(rows):
                    rows[i]["__digest__"] = digest(image)
        if sorted(seen) != list(range(len(rows))):
            twice = sorted(i for i, n in seen.items() if n > 1)
            problems.append("%s: %d items for %d rows (twice: %r, missing: %d)" %
                            (name, sum(seen.values()), len(rows), twice[:5], len(set(range(len(rows))) - set(seen))))
        check_workers(name, workers, len(got))
    return rows


def check_shards(out, split, rows):
    d = os.path.join(out, "webdataset", split)
    if not os.path.isdir(d):
        problems.append("webdataset/%s: missing" % split)
        return 0, 0
    urls = sorted(glob.glob(os.path.join(d, "*.tar")))
    name = "webdataset/" + split
    got = batches(name, loader(WebDatasetShards(urls, transform()), collate_fn=collate))
    if got is None:
        return 0, len(urls)
    by_stem = {os.path.splitext(os.path.basename(r["filepath"]))[0]: r for r in rows or []}
    seen, workers = collections.Counter(), []
    for b, (keys, batch_urls, wids, images, captions, metas) in enumerate(got):
        wids = [int(w) for w in wids]
        workers += wids
        for key, url, wid, caption, meta in zip(keys, batch_urls, wids, captions, metas):
            seen[key] += 1
            shard = os.path.basename(url)
            if wid != urls.index(url) % WORKERS:
                problems.append("%s/%s: read by worker %d, split_by_worker gives it to worker %d" % (name, shard, wid, urls.index(url) % WORKERS))
            if caption is None:
                problems.append("%s/%s: sample %s has members %r, not jpg, json, txt" % (name, shard, key, meta["__parts__"]))
                continue
            row = by_stem.get(key)
            if row is None:
                continue  # counted below, with the keys
            if caption != row["title"] or meta.get("title") != caption:
                problems.append("%s/%s: %s.txt is %r, its json's title %r, the CSV's %r" % (name, shard, key, caption, meta.get("title"), row["title"]))
            if meta.get("filepath") != row["filepath"] or meta.get("title_multi_objects") != row["title_multi_objects"]:
                problems.append("%s/%s: %s.json names %r, differs from the CSV's row" % (name, shard, key, meta.get("filepath")))
        if isinstance(images, torch.Tensor) and images.shape[1:] == (3, 224, 224):
            for key, image in zip(keys, images):
                row = by_stem.get(key)
                if row is not None and "__digest__" in row and digest(image) != row["__digest__"]:
                    problems.append("%s: %s.jpg is not the image %s names" % (name, key, row["filepath"]))
        if all(c is not None for c in captions):  # a malformed sample is named above
            check_images("%s batch %d" % (name, b), images, len(keys))
    twice = sorted(k for k, n in seen.items() if n > 1)
    if twice:
        problems.append("%s: samples seen more than once: %r" % (name, twice[:5]))
    if rows is not None and set(seen) != set(by_stem):
        problems.append("%s: keys not in the CSV %r, CSV stems not in the shards %r" %
                        (name, sorted(set(seen) - set(by_stem))[:5], sorted(set(by_stem) - set(seen))[:5]))
    check_workers(name, workers, len(urls), "shards")
    return sum(seen.values()), len(urls)


def is_tag_dict(v):
    return isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())


def check_pickles(out, filepaths):
    paths = sorted(os.path.relpath(p, out) for p in glob.glob(os.path.join(out, "meta*", "*.pickle")))
    expected = sorted(re.sub(r"^images(\d+)/(.*)\.jpg$", r"meta\1/\2.pickle", fp) for fp in filepaths)
    if paths != expected:
        problems.append("pickles: %r without a CSV row, %r CSV rows without a pickle" %
                        (sorted(set(paths) - set(expected))[:5], sorted(set(expected) - set(paths))[:5]))
    jsonl = {}
    if os.path.isfile(os.path.join(out, "meta.jsonl")):
        with open(os.path.join(out, "meta.jsonl"), encoding="utf-8") as f:
            for line in f.read().split("\n"):
                if line:
                    record = json.loads(line)
                    jsonl[re.sub(r"^images(\d+)/(.*)\.jpg$", r"meta\1/\2.pickle", record["filepath"])] = record
    got = batches("pickles", loader(PickleMeta(out, paths), collate_fn=as_list))
    if got is None:
        return 0
    seen, workers = collections.Counter(), []
    for batch in got:
        for idx, wid, record in batch:
            seen[idx] += 1
            workers.append(wid)
            path = paths[idx]
            if not isinstance(record, dict) or tuple(list(record)[:4]) != tuple(k for k, _ in META_TYPES):
                problems.append("%s: keys %r, not box, time, center_tags, surrounding_tags first" % (path, list(record)[:4] if isinstance(record, dict) else type(record)))
                continue
            for key, kind in META_TYPES:
                if type(record[key]) is not kind:
                    problems.append("%s: %s is a %s, not a %s" % (path, key, type(record[key]).__name__, kind.__name__))
            box, time, center, surrounding = (record[k] for k, _ in META_TYPES)
            if len(box) != 4 or not all(type(x) is float and math.isfinite(x) for x in box):
                problems.append("%s: box %r is not 4 floats" % (path, box))
            if len(time) != 5 or not all(type(x) is int for x in time):
                problems.append("%s: time %r is not 5 ints" % (path, time))
            if not is_tag_dict(center):
                problems.append("%s: center_tags %r is not a dict of str" % (path, center))
            if not isinstance(surrounding, list) or len(surrounding) > 50 or not all(is_tag_dict(t) for t in surrounding):
                problems.append("%s: surrounding_tags is not a list of at most 50 dicts of str" % path)
            j = jsonl.get(path)
            if jsonl and (j is None or [list(box), list(time), center, surrounding] != [j.get(k) for k, _ in META_TYPES]):
                problems.append("%s: differs from meta.jsonl's record" % path)
    if sorted(seen) != list(range(len(paths))):
        problems.append("pickles: %d loaded for %d files" % (sum(seen.values()), len(paths)))
    check_workers("pickles", workers, len(got))
    return sum(seen.values())


def main():
    out = sys.argv[1]
    torch.set_num_threads(1)
    rows_by_split, summary = {}, []
    for split, csv_name in SPLITS:
        rows_by_split[split] = check_csv(out, csv_name)
    csv_rows = sum(len(r) for r in rows_by_split.values() if r is not None)
    summary.append("csv %d rows (%s) x %d captions" %
                   (csv_rows, ", ".join("%s %s" % (s, "-" if r is None else len(r)) for s, r in rows_by_split.items()), len(CAPTION_KEYS)))
    samples = shards = 0
    for split, _ in SPLITS:
        n, s = check_shards(out, split, rows_by_split[split])
        samples, shards = samples + n, shards + s
    summary.append("webdataset %d samples in %d shards" % (samples, shards))
    filepaths = [r["filepath"] for rows in rows_by_split.values() if rows for r in rows]
    summary.append("%d pickles" % check_pickles(out, filepaths))
    if samples != csv_rows:
        problems.append("webdataset: %d samples, the CSVs %d rows" % (samples, csv_rows))
    if problems:
        sys.stderr.write("\n".join(problems[:30]) + ("\n... %d more\n" % (len(problems) - 30) if len(problems) > 30 else "\n"))
        sys.exit(1)
    print("ok torch %s DataLoader(batch_size=%d, num_workers=%d): %s" % (torch.__version__, BATCH, WORKERS, ", ".join(summary)))


if __name__ == "__main__":
    main()
