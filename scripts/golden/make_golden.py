"""PyTorch side of the parity fixtures.

For each case under test/fixtures/golden/<case>/ it reads config.json and inputs.safetensors
(initial weights and a batch, written by make-inputs.ts), builds the reference TabularResNet
(and MFP heads) in PyTorch, and records in expected.safetensors the loss, every parameter
gradient, every parameter and buffer after one AdamW step, the AdamW moments, and the
eval-mode loss after the step. Randomness is off on both sides: no noise, no swaps, no
dropout, MFP masks given.

Run with Debian's PyTorch:  /usr/bin/python3 scripts/golden/make_golden.py
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

GOLDEN_DIR = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'golden')

DTYPES = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32, 'U8': np.uint8, 'BOOL': np.bool_}
CODES = {np.dtype(v): k for k, v in DTYPES.items() if k != 'U8'}


def load_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        start, end = entry['data_offsets']
        arr = np.frombuffer(data[8 + n + start:8 + n + end], dtype=DTYPES[entry['dtype']]).reshape(entry['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        arr = np.ascontiguousarray(t.detach().cpu().numpy())
        raw = arr.tobytes()
        header[name] = {'dtype': CODES[arr.dtype], 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header)
    text += ' ' * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)


class Block(nn.Module):
    def __init__(self, d, p):
        super().__init__()
        self.fc1 = nn.Linear(d, d)
        self.bn1 = nn.BatchNorm1d(d)
        self.fc2 = nn.Linear(d, d)
        self.bn2 = nn.BatchNorm1d(d)
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        h = self.dropout(F.relu(self.bn1(self.fc1(x))))
        h = self.bn2(self.fc2(h))
        return self.dropout(F.relu(h + x))


class Heads(nn.Module):
    def __init__(self, d, cards, n_num):
        super().__init__()
        self.cat_heads = nn.ModuleList([nn.Linear(d, c) for c in cards])
        self.num_head = nn.Linear(d, n_num) if n_num > 0 else None


class Model(nn.Module):
    """The reference TabularResNet (embedding mode), optionally with MFP heads."""

    def __init__(self, m, with_heads):
        super().__init__()
        d = m['dModel']
        self.embeddings = nn.ModuleList([nn.Embedding(c, d // 4) for c in m['cardinalities']])
        self.numerical_projection = nn.Linear(m['numNumerical'], d // 2)
        self.initial_projection = nn.Linear((d // 4) * len(m['cardinalities']) + d // 2, d)
        self.initial_bn = nn.BatchNorm1d(d)
        self.blocks = nn.ModuleList([Block(d, m['dropout']) for _ in range(m['numBlocks'])])
        self.final_norm = nn.LayerNorm(d)
        if with_heads:
            self.mfp_heads = Heads(d, m['cardinalities'], m['numNumerical'])

    def forward(self, num, cat):
        parts = [emb(cat[:, i]) for i, emb in enumerate(self.embeddings)]
        parts.append(self.numerical_projection(num))
        x = F.relu(self.initial_bn(self.initial_projection(torch.cat(parts, dim=1))))
        for block in self.blocks:
            x = block(x)
        return self.final_norm(x)


def nt_xent(z1, z2, tau):
    b = z1.size(0)
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    sim = z @ z.T / tau
    sim = sim.masked_fill(torch.eye(2 * b, dtype=torch.bool), float('-inf'))
    labels = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)])
    return F.cross_entropy(sim, labels)


def mfp(model, num, cat, num_mask, cat_mask, cards, weight):
    mask_ids = torch.tensor([c - 1 for c in cards])
    z = model(num.masked_fill(num_mask, 0.0), torch.where(cat_mask, mask_ids.expand_as(cat), cat))
    col_losses = []
    for i, head in enumerate(model.mfp_heads.cat_heads):
        m = cat_mask[:, i]
        if m.any():
            col_losses.append(F.cross_entropy(head(z)[m], cat[m, i]))
    cat_loss = torch.stack(col_losses).mean() if col_losses else z.sum() * 0
    mf = num_mask.float()
    num_loss = ((model.mfp_heads.num_head(z) - num) ** 2 * mf).sum() / mf.sum().clamp(min=1)
    return cat_loss + weight * num_loss


def objective(model, cfg, batch):
    o = cfg['objective']
    num, cat = batch['batch.numerical'], batch['batch.categorical']
    total = 0
    if o['kind'] in ('contrastive', 'both'):
        loss = nt_xent(model(num, cat), model(num, cat), o['temperature'])
        total = total + (o['contrastiveWeight'] * loss if o['kind'] == 'both' else loss)
    if o['kind'] in ('mfp', 'both'):
        loss = mfp(model, num, cat, batch['batch.numerical_mask'], batch['batch.categorical_mask'],
                   cfg['model']['cardinalities'], o['numericalWeight'])
        total = total + (o['mfpWeight'] * loss if o['kind'] == 'both' else loss)
    return total


def run_case(case_dir):
    meta = json.load(open(os.path.join(case_dir, 'config.json')))
    cfg, lr = meta['config'], meta['lr']
    inputs = load_safetensors(os.path.join(case_dir, 'inputs.safetensors'))
    model = Model(cfg['model'], cfg['objective']['kind'] != 'contrastive')
    state = {k: v for k, v in inputs.items() if not k.startswith('batch.')}
    missing = set(model.state_dict().keys()) ^ set(state.keys())
    if missing:
        raise SystemExit(f'{case_dir}: names differ between PyTorch and the fixture: {sorted(missing)}')
    model.load_state_dict(state)
    opt_cfg = cfg['optimizer']
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if opt_cfg['decay'] == 'all' or p.dim() >= 2 else no_decay).append(p)
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': opt_cfg['weightDecay']},
                             {'params': no_decay, 'weight_decay': 0.0}],
                            lr=lr, betas=(opt_cfg['beta1'], opt_cfg['beta2']), eps=opt_cfg['eps'])
    model.train()
    loss = objective(model, cfg, inputs)
    opt.zero_grad()
    loss.backward()
    out = {'loss': loss.detach().reshape([])}
    for name, p in model.named_parameters():
        out[f'grad.{name}'] = p.grad.detach().clone()
    if opt_cfg['clipNorm'] is not None:
        out['grad_norm'] = torch.nn.utils.clip_grad_norm_(model.parameters(), opt_cfg['clipNorm']).reshape([])
    opt.step()
    for name, t in model.state_dict().items():
        out[name] = t.detach().clone()
    for name, p in model.named_parameters():
        st = opt.state[p]
        out[f'optim.{name}.exp_avg'] = st['exp_avg'].clone()
        out[f'optim.{name}.exp_avg_sq'] = st['exp_avg_sq'].clone()
    model.eval()
    with torch.no_grad():
        out['eval_loss_after'] = objective(model, cfg, inputs).reshape([])
    save_safetensors(os.path.join(case_dir, 'expected.safetensors'), out)
    print(f'{case_dir}: loss {loss.item():.6f}, eval after step {out["eval_loss_after"].item():.6f}')


def main():
    torch.set_num_threads(1)
    cases = sys.argv[1:] or sorted(os.listdir(GOLDEN_DIR))
    for case in cases:
        run_case(os.path.join(GOLDEN_DIR, case))


if __name__ == '__main__':
    main()
