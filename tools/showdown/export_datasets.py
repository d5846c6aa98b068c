#!/usr/bin/env python3
"""Export the classification datasets that Debian's python3-sklearn bundles offline into committed, gzipped CSV.

Run once (the output is committed): /usr/bin/python3 tools/showdown/export_datasets.py
Writes bench/showdown/data/{wine,breast_cancer,digits}.csv.gz: one row per sample, the feature columns under
sklearn's feature names, then `target` (integer class). gzip with mtime 0 so the bytes are reproducible.
Sources and licences: bench/showdown/data/SOURCE.md.
"""
import csv
import gzip
import io
import os

import sklearn
import sklearn.datasets as ds

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'bench', 'showdown', 'data')


def export(name, bunch):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator='\n')
    fn = getattr(bunch, 'feature_names', None)
    names = [str(n) for n in fn] if fn is not None else [f'x{i}' for i in range(bunch.data.shape[1])]
    w.writerow(names + ['target'])
    for row, t in zip(bunch.data, bunch.target):
        w.writerow([repr(float(v)) for v in row] + [int(t)])
    path = os.path.join(OUT, f'{name}.csv.gz')
    with open(path, 'wb') as f:
        with gzip.GzipFile(filename='', mode='wb', fileobj=f, mtime=0, compresslevel=9) as gz:
            gz.write(buf.getvalue().encode('utf-8'))
    print(f'{path}: {bunch.data.shape[0]} rows x {bunch.data.shape[1]} features, {len(set(bunch.target))} classes')


def main():
    os.makedirs(OUT, exist_ok=True)
    print('scikit-learn', sklearn.__version__)
    export('wine', ds.load_wine())
    export('breast_cancer', ds.load_breast_cancer())
    export('digits', ds.load_digits())


if __name__ == '__main__':
    main()
