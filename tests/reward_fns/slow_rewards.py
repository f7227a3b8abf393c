"""Slow, obvious loop implementations of the batch rewards: the references the fast ones must match.

Written straight from the equations with Python floats and ``math.erf``; no vectorisation, no
shared code with ``reward_fns`` beyond the documented missing-prediction policy.
"""

import math


def phi(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _stats(preds, valid, ddof=1):
    means, variances, counts = [], [], []
    for row, mask in zip(preds, valid):
        values = [float(p) for p, ok in zip(row, mask) if ok and not math.isnan(p)]
        n = len(values)
        mean = sum(values) / n if n else 0.0
        var = sum((v - mean) ** 2 for v in values) / (n - ddof) if n > ddof else 0.0
        means.append(mean)
        variances.append(var)
        counts.append(n)
    return means, variances, counts


def _is_valid(p, ok):
    return bool(ok) and not math.isnan(float(p))


def rank_reward_loop(preds, valid, gt, gamma=1e-6, tie=1.0, ddof=1, fidelity_eps=0.0):
    n = len(preds)
    mu, var, count = _stats(preds, valid, ddof)
    out = []
    for i in range(n):
        row = []
        for k in range(len(preds[i])):
            if not _is_valid(preds[i][k], valid[i][k]):
                row.append(0.0)
                continue
            total, m = 0.0, 0
            for j in range(n):
                if j == i or count[j] == 0:
                    continue
                p = phi((preds[i][k] - mu[j]) / math.sqrt(var[i] + var[j] + gamma))
                pc = 1.0 if gt[i] > gt[j] else (0.0 if gt[i] < gt[j] else tie)
                total += math.sqrt(pc * p + fidelity_eps) + math.sqrt((1 - pc) * (1 - p) + fidelity_eps)
                m += 1
            row.append(total / m if m else 0.0)
        out.append(row)
    return out


def consistency_reward_loop(preds, valid, gt, tau=0.1):
    n = len(preds)
    mu, _, count = _stats(preds, valid)
    out = []
    for i in range(n):
        row = []
        for k in range(len(preds[i])):
            if not _is_valid(preds[i][k], valid[i][k]):
                row.append(0.0)
                continue
            num = den = 0.0
            for j in range(n):
                if j == i or count[j] == 0:
                    continue
                d = float(gt[i]) - float(gt[j])
                sign = (d > 0) - (d < 0)
                kappa = 1.0 / (1.0 + math.exp(-sign * (preds[i][k] - mu[j]) / tau))
                num += abs(d) * kappa
                den += abs(d)
            row.append(num / den if den > 0 else 0.0)
        out.append(row)
    return out
