#!/usr/bin/env python3
"""Reference scorer for `skyscript-build split OUT --scores FILE[,NAME]`: the CLIP
similarity of each image and its caption, as SkyScript filtered its training set (its top
30% / 50% files, "filtered_by_CLIP_openai"). Needs PyTorch, open_clip_torch, pandas and PIL
(not needed to build or test skyscript-build; nothing here runs in its tests).

    python3 tools/clip_scores.py OUT -o OUT/clip_openai.csv [--model ViT-L-14 --pretrained openai]
        [--caption-key title] [--batch-size 64] [--device cuda]
    skyscript-build split OUT --scores OUT/clip_openai.csv,CLIP_openai

Reads every row of OUT's SkyScript_train_unfiltered.csv, SkyScript_val.csv and
SkyScript_test.csv and writes `filepath,score` rows (score = cosine similarity of the
normalised image and text embeddings).
"""
import argparse
import csv
import os

import open_clip
import pandas as pd
import torch
from PIL import Image


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--model", default="ViT-L-14")
    p.add_argument("--pretrained", default="openai")
    p.add_argument("--caption-key", default="title")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()

    model, _, preprocess = open_clip.create_model_and_transforms(args.model, pretrained=args.pretrained, device=args.device)
    tokenizer = open_clip.get_tokenizer(args.model)
    model.eval()
    frames = [pd.read_csv(os.path.join(args.out, name)) for name in
              ("SkyScript_train_unfiltered.csv", "SkyScript_val.csv", "SkyScript_test.csv")
              if os.path.exists(os.path.join(args.out, name))]
    rows = pd.concat(frames)[["filepath", args.caption_key]].values.tolist()
    tmp = args.output + ".partial"
    with open(tmp, "w", newline="", encoding="utf-8") as f, torch.no_grad():
        w = csv.writer(f)
        w.writerow(["filepath", "score"])
        for start in range(0, len(rows), args.batch_size):
            batch = rows[start:start + args.batch_size]
            images = torch.stack([preprocess(Image.open(os.path.join(args.out, path)).convert("RGB")) for path, _ in batch])
            texts = tokenizer([str(caption) for _, caption in batch])
            img = model.encode_image(images.to(args.device))
            txt = model.encode_text(texts.to(args.device))
            img = img / img.norm(dim=-1, keepdim=True)
            txt = txt / txt.norm(dim=-1, keepdim=True)
            for (path, _), score in zip(batch, (img * txt).sum(dim=-1).tolist()):
                w.writerow([path, "%.6f" % score])
    os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
