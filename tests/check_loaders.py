#!/usr/bin/python3
"""Reads a skyscript-build output folder the way its two usual consumers do, with Debian's
python3-pandas, python3-pil and numpy:

    /usr/bin/python3 tests/check_loaders.py OUT CSV...

- SkyScript's training code (its OpenCLIP fork's CsvDataset): pd.read_csv(sep=","), the
  `filepath` column joined to --root-data-dir (OUT), Image.open, captions from `title` and
  `title_multi_objects`;
- torchgeo's SkyScript dataset, through the README's subclass recipe (image_dirs = the
  imagesK folders present, caption_files = our CSV names): _verify's folder check, then
  pd.read_csv, `self.captions.iloc[index][:2]` (the first two columns by position),
  Image.open(os.path.join(root, filepath)), np.array(img, dtype=float32) rearranged
  'h w c -> c h w' (which needs 3 channels).
Each CSV given (relative to OUT) is read by both; every row must give a 3-channel image
and a non-empty caption. Prints "ok N rows" or the problems, exit 1.
"""
import glob
import os
import sys

import numpy as np
import pandas as pd
from PIL import Image

out, csv_names = sys.argv[1], sys.argv[2:]
problems = []


class CsvDataset:
    """The reading part of SkyScript's src/training/data.py CsvDataset."""

    def __init__(self, input_filename, img_key, caption_key, sep=",", root_data_dir=None):
        df = pd.read_csv(input_filename, sep=sep)
        if root_data_dir is not None:
            df[img_key] = df[img_key].apply(lambda x: os.path.join(root_data_dir, x))
        self.images = df[img_key].tolist()
        self.captions = df[caption_key].tolist()

    def __len__(self):
        return len(self.captions)

    def __getitem__(self, idx):
        image = Image.open(str(self.images[idx]))
        return image.convert("RGB"), str(self.captions[idx]), image.mode


class TorchgeoSkyScript:
    """torchgeo.datasets.SkyScript's file handling (without torch: the array before torch.from_numpy)."""

    image_dirs = tuple(f"images{i}" for i in range(2, 8))
    caption_files = {
        "train": "SkyScript_train_top30pct_filtered_by_CLIP_openai.csv",
        "val": "SkyScript_val_5K_filtered_by_CLIP_openai.csv",
        "test": "SkyScript_test_30K_filtered_by_CLIP_openai.csv",
    }

    def __init__(self, root, split):
        assert split in self.caption_files
        self.root = root
        for directory in self.image_dirs:
            if not os.path.isdir(os.path.join(root, directory)):
                raise RuntimeError("dataset not found: no " + directory)
        self.captions = pd.read_csv(os.path.join(self.root, self.caption_files[split]))

    def __len__(self):
        return len(self.captions)

    def __getitem__(self, index):
        filepath, title = self.captions.iloc[index][:2]
        with Image.open(os.path.join(self.root, filepath)) as img:
            array = np.array(img, dtype=np.float32)
            array = np.transpose(array, (2, 0, 1))  # einops 'h w c -> c h w' fails unless 3-D
        return {"image": array, "caption": title}


# The README's recipe: our part folders and CSV names.
class OurSkyScript(TorchgeoSkyScript):
    image_dirs = tuple(sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "images*"))))


total = 0
for name in csv_names:
    for key in ("title", "title_multi_objects"):
        ds = CsvDataset(os.path.join(out, name), "filepath", key, sep=",", root_data_dir=out)
        for i in range(len(ds)):
            image, caption, mode = ds[i]
            if mode != "RGB" or len(image.getbands()) != 3 or not caption or caption == "nan":
                problems.append("%s row %d: CsvDataset gave mode %s, caption %r" % (name, i, mode, caption))
    OurSkyScript.caption_files = {"train": name}
    ds = OurSkyScript(out, "train")
    for i in range(len(ds)):
        sample = ds[i]
        if sample["image"].ndim != 3 or sample["image"].shape[0] != 3 or not isinstance(sample["caption"], str) or not sample["caption"]:
            problems.append("%s row %d: torchgeo reader gave %r, %r" % (name, i, sample["image"].shape, sample["caption"]))
    total += len(ds)
    if len(problems) > 20:
        break

if problems:
    print("\n".join(problems[:20]))
    sys.exit(1)
print("ok %d rows" % total)
