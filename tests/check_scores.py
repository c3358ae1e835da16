#!/usr/bin/python3
"""Checks the CLIP-score filtered files of `split --scores SCORES,NAME` against the scores
file and the split's own CSVs, computed independently:

    /usr/bin/python3 tests/check_scores.py OUT SCORES NAME P1,P2,...

- SkyScript_train_top{P}pct_filtered_by_NAME.csv: header of the train CSV + similarity_NAME;
  the round(P% of the scored train images) best scores (ties in CSV order), in CSV order,
  each row the train row plus its score as the scores file wrote it;
- SkyScript_{val,test}_filtered_by_NAME.csv: the scored val/test rows scoring at least the
  first P's lowest kept score.
Prints "ok" and the row counts, or the problems, exit 1.
"""
import csv
import math
import os
import sys

out, scores_path, name, pcts = sys.argv[1], sys.argv[2], sys.argv[3], [int(p) for p in sys.argv[4].split(",")]
scores = {}
with open(scores_path, newline="", encoding="utf-8") as f:
    for row in csv.reader(f):
        if row and row[0] != "filepath":
            scores[row[0]] = row[1].strip()


def read(csv_name):
    with open(os.path.join(out, csv_name), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


problems, counts = [], []
header, train = read("SkyScript_train_unfiltered.csv")
scored = [r for r in train if r[0] in scores]
ranked = sorted(range(len(scored)), key=lambda i: -float(scores[scored[i][0]]))  # sorted() is stable: ties in CSV order
threshold = None
for n, p in enumerate(pcts):
    k = int(math.floor(len(scored) * p / 100 + 0.5))
    keep = sorted(ranked[:k])
    expected = [scored[i] + [scores[scored[i][0]]] for i in keep]
    h, rows = read("SkyScript_train_top%dpct_filtered_by_%s.csv" % (p, name))
    if h != header + ["similarity_" + name]:
        problems.append("top%d: header %r" % (p, h))
    if rows != expected:
        problems.append("top%d: %d rows, expected %d (first difference %r)" %
                        (p, len(rows), len(expected), next((a for a, b in zip(rows, expected) if a != b), None)))
    if n == 0 and k > 0:
        threshold = float(scores[scored[ranked[k - 1]][0]])
    counts.append("top%d %d" % (p, len(rows)))
for split in ("val", "test"):
    _, rows = read("SkyScript_%s.csv" % split)
    expected = [r + [scores[r[0]]] for r in rows if r[0] in scores and threshold is not None and float(scores[r[0]]) >= threshold]
    _, got = read("SkyScript_%s_filtered_by_%s.csv" % (split, name))
    if got != expected:
        problems.append("%s filtered: %d rows, expected %d" % (split, len(got), len(expected)))
    counts.append("%s %d" % (split, len(got)))
if problems:
    print("\n".join(problems[:20]))
    sys.exit(1)
print("ok " + ", ".join(counts))
