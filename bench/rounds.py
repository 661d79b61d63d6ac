#!/usr/bin/env python3
"""How many rounds bench/run.sh needs: reads the saved output of several
full runs and prints, for each case with a bar, how far one run's paired
ratio moves from run to run, and how often a run of N rounds would read
below the bar if the true ratio were where these runs put it.

    bench/run.sh | tee run1.txt     # several times, same library
    bench/rounds.py run1.txt run2.txt run3.txt

For each case and baseline (plain, and Go when present):
  runs        how many runs had the case
  mean        the mean of the runs' paired ratios (the verdicts' figure)
  between-SD  the standard deviation of those ratios across runs
  SD@N        the same, predicted by resampling N rounds from all the
              runs' per-round ratios pooled (a bootstrap)
  miss@N      the share of those resampled medians below the bar

When between-SD is close to SD@rounds-per-run, runs differ by the
sampling of their rounds (more rounds help); when it is much larger, by
conditions that last a whole run (more rounds would not). The bootstrap
assumes the pooled runs measured one library.
"""
import random
import re
import statistics
import sys

METRIC = {"pingpong": "rtt_per_s", "stream": "mib_per_s", "churn": "conns_per_s"}
# The bars of bench/run.sh: gonet / plain at least this; gonet / go above 1.
BARS = {"pingpong": 0.95, "stream": 0.95, "churn": 0.90}
ROUNDS = (31, 61, 91)
RESAMPLES = 4000


def parse(path):
    """{case: [{impl: value}, ...]}, one dict per complete round."""
    cases, case, workload, pending = {}, None, None, {}
    with open(path) as f:
        text = f.read()
    if "run failed:" in text:
        # A round with a missing run would pair values across rounds.
        sys.exit(f"rounds.py: {path} has a failed run; leave it out")
    # Every round runs each implementation once.
    impls = len(set(re.findall(r"^impl=(gonet|go|plain|plain-again) workload=(?:pingpong|stream|churn)",
                               text, re.M)))
    for line in text.splitlines():
        header = re.match(r"== (\S+): (?:taskset -c \S+ )?(\S+)", line)
        if header:
            case, workload, pending = header.group(1), header.group(2), {}
            cases[case] = []
            continue
        if case is None or workload not in METRIC or not line.startswith("impl="):
            continue
        impl = re.match(r"impl=(\S+)", line).group(1)
        value = re.search(METRIC[workload] + r"=([0-9.]+)", line)
        if value:
            pending[impl] = float(value.group(1))
        if len(pending) == impls:
            cases[case].append(pending)
            pending = {}
    return cases


def main(paths):
    if len(paths) < 2:
        print(__doc__.strip())
        return 2
    runs = [parse(p) for p in paths]
    names = []
    for r in runs:
        names += [c for c in r if c not in names]
    rng = random.Random(1)
    print(f"{'case':16s} {'vs':5s} {'runs':>4s} {'mean':>6s} {'between-SD':>10s}  "
          + "  ".join(f"SD@{n:<3d} miss@{n:<3d}" for n in ROUNDS))
    for name in names:
        workload = next((w for w in METRIC if name.startswith(w)), None)
        if workload is None:
            continue
        # churn-1-ka has no bar of its own (see bench/run.sh).
        plain_bar = None if name.endswith("-ka") else BARS[workload]
        for baseline, bar in (("plain", plain_bar), ("go", 1.0)):
            per_run = [[r["gonet"] / r[baseline] for r in run.get(name, [])
                        if baseline in r and r[baseline] > 0] for run in runs]
            per_run = [r for r in per_run if len(r) >= 5]
            if len(per_run) < 2:
                continue
            medians = [statistics.median(r) for r in per_run]
            pooled = [x for r in per_run for x in r]
            cells = []
            for n in ROUNDS:
                boot = [statistics.median(rng.choices(pooled, k=n)) for _ in range(RESAMPLES)]
                miss = "-" if bar is None else f"{sum(m < bar for m in boot) / RESAMPLES:.3f}"
                cells.append(f"{statistics.stdev(boot):6.4f} {miss:>8s}")
            print(f"{name:16s} {baseline:5s} {len(per_run):4d} {statistics.mean(medians):6.3f} "
                  f"{statistics.stdev(medians):10.4f}  " + "  ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
