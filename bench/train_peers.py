#!/usr/bin/python3
"""One network trained on Fashion-MNIST by a peer of runner, timed per epoch.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/train_peers.py torch cnn THREADS EPOCHS
    OPENBLAS_NUM_THREADS=T /usr/bin/python3 bench/train_peers.py numpy relu5 T EPOCHS
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/train_peers.py torch-sweep THREADS

Prints one line: `epoch_seconds S1 S2 ...` (training steps only, no
evaluation, as runner's epoch_seconds), then `test_accuracy A`.

Networks (the same as configs/mnist_*.yaml, batch 100):
  mlp2   784-100-10 sigmoid, SGD lr 0.1
  relu5  5 x 100 ReLU (He init), Adam lr 1e-3
  cnn    conv 30 5x5, ReLU, maxpool 2x2, affine 100, ReLU, affine 10, Adam lr 1e-3

PyTorch: float32, torch.set_num_threads(THREADS). It multiplies matrices with
OpenBLAS, whose own thread pool torch.set_num_threads does not limit, so the
caller sets OPENBLAS_NUM_THREADS=1 before Python starts (bench/train.sh does).
numpy: the textbook's layers (Affine, Sigmoid, Relu, SoftmaxWithLoss, im2col
Convolution and Pooling, SGD, Adam) in float32; its matrix products use
OpenBLAS with OPENBLAS_NUM_THREADS threads.
"""
import gzip
import os
import sys
import time

import numpy as np

DATA = os.environ.get("RUNNER_BENCH_DATA", "/usr/share/datasets/fashion-mnist")  # bench/scaling.py says when
BATCH = 100


def idx(name):
    path = os.path.join(DATA, name)
    opener = gzip.open if os.path.exists(path + ".gz") else open
    with opener(path + ".gz" if os.path.exists(path + ".gz") else path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load():
    x = idx("train-images-idx3-ubyte").astype(np.float32) / 255.0
    y = idx("train-labels-idx1-ubyte").astype(np.int64)
    tx = idx("t10k-images-idx3-ubyte").astype(np.float32) / 255.0
    ty = idx("t10k-labels-idx1-ubyte").astype(np.int64)
    return x, y, tx, ty


# ---- PyTorch -----------------------------------------------------------------

def relu5_hidden(nn):
    """5 hidden layers of 100 ReLU units, He-initialised as runner's `init: he`."""
    layers, width = [], 784
    for _ in range(5):
        lin = nn.Linear(width, 100)
        nn.init.kaiming_normal_(lin.weight)
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.ReLU()]
        width = 100
    return layers


def torch_run(net, threads, epochs):
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y, tx, ty = load()
    if net == "cnn":
        model = nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(4320, 100), nn.ReLU(), nn.Linear(100, 10))
        x, tx = x[:, None], tx[:, None]
    elif net == "relu5":
        model = nn.Sequential(nn.Flatten(), *relu5_hidden(nn), nn.Linear(100, 10))
    else:
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.Sigmoid(), nn.Linear(100, 10))
    opt = (torch.optim.SGD(model.parameters(), lr=0.1) if net == "mlp2"
           else torch.optim.Adam(model.parameters(), lr=1e-3))
    lossf = nn.CrossEntropyLoss()
    X, Y = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        order = torch.randperm(len(X))
        for b in range(0, len(X), BATCH):
            i = order[b:b + BATCH]
            opt.zero_grad()
            loss = lossf(model(X[i]), Y[i])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        acc = (model(torch.from_numpy(np.ascontiguousarray(tx))).argmax(1) == torch.from_numpy(ty)).float().mean()
    return times, float(acc)


# ---- numpy, the textbook's way --------------------------------------------------

def im2col(x, fh, fw):
    n, c, h, w = x.shape
    oh, ow = h - fh + 1, w - fw + 1
    col = np.empty((n, c, fh, fw, oh, ow), dtype=x.dtype)
    for i in range(fh):
        for j in range(fw):
            col[:, :, i, j] = x[:, :, i:i + oh, j:j + ow]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)


class Affine:
    def __init__(self, rng, i, o, std):
        self.W = (rng.standard_normal((i, o)) * std).astype(np.float32)
        self.b = np.zeros(o, np.float32)

    def forward(self, x):
        self.shape = x.shape
        self.x = x.reshape(len(x), -1)
        return self.x @ self.W + self.b

    def backward(self, d):
        self.dW, self.db = self.x.T @ d, d.sum(0)
        return (d @ self.W.T).reshape(self.shape)

    def params(self):
        return [(self.W, "dW"), (self.b, "db")]


class Conv:
    def __init__(self, rng, f, c, k):
        self.W = (rng.standard_normal((f, c, k, k)) * np.sqrt(2.0 / (c * k * k))).astype(np.float32)
        self.b = np.zeros(f, np.float32)
        self.k = k

    def forward(self, x):
        n, _, h, w = x.shape
        oh, ow = h - self.k + 1, w - self.k + 1
        self.col = im2col(x, self.k, self.k)
        self.Wc = self.W.reshape(len(self.W), -1).T
        self.out_shape = (n, oh, ow, -1)
        return (self.col @ self.Wc + self.b).reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)

    def backward(self, d):  # first layer: no dx
        d = d.transpose(0, 2, 3, 1).reshape(-1, len(self.W))
        self.db = d.sum(0)
        self.dW = (self.col.T @ d).T.reshape(self.W.shape)
        return None

    def params(self):
        return [(self.W, "dW"), (self.b, "db")]


class MaxPool2:
    def forward(self, x):
        n, c, h, w = x.shape
        v = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
        self.arg = v.argmax(-1)
        self.shape = x.shape
        return v.max(-1)

    def backward(self, d):
        n, c, h, w = self.shape
        dv = np.zeros(d.shape + (4,), np.float32)
        np.put_along_axis(dv, self.arg[..., None], d[..., None], -1)
        return dv.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(self.shape)


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, d):
        d = d.copy()
        d[self.mask] = 0
        return d


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, d):
        return d * (1.0 - self.out) * self.out


def softmax_loss_grad(s, t):
    s = s - s.max(1, keepdims=True)
    e = np.exp(s)
    p = e / e.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(len(t)), t] + 1e-7).mean()
    p[np.arange(len(t)), t] -= 1
    return loss, p / len(t)


def numpy_run(net, epochs):
    rng = np.random.default_rng(0)
    x, y, tx, ty = load()
    if net == "cnn":
        layers = [Conv(rng, 30, 1, 5), Relu(), MaxPool2(), Affine(rng, 4320, 100, np.sqrt(2 / 4320)), Relu(),
                  Affine(rng, 100, 10, np.sqrt(2 / 100))]
        x, tx = x[:, None], tx[:, None]
    elif net == "relu5":
        layers, width = [], 784
        for _ in range(5):
            layers += [Affine(rng, width, 100, np.sqrt(2 / width)), Relu()]
            width = 100
        layers.append(Affine(rng, 100, 10, np.sqrt(2 / 100)))
    else:
        layers = [Affine(rng, 784, 100, np.sqrt(1 / 784)), Sigmoid(), Affine(rng, 100, 10, np.sqrt(1 / 100))]
    params = [(layer, p, g) for layer in layers if hasattr(layer, "params") for p, g in layer.params()]
    m = [np.zeros_like(p) for _, p, _ in params]
    v = [np.zeros_like(p) for _, p, _ in params]
    step = 0
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(x))
        for b in range(0, len(x), BATCH):
            i = order[b:b + BATCH]
            h = x[i]
            for layer in layers:
                h = layer.forward(h)
            _, d = softmax_loss_grad(h, y[i])
            for layer in reversed(layers):
                d = layer.backward(d)
            step += 1
            for k, (layer, p, g) in enumerate(params):
                grad = getattr(layer, g)
                if net == "mlp2":
                    p -= np.float32(0.1) * grad
                else:  # Adam, lr 1e-3, torch's form
                    m[k] *= np.float32(0.9)
                    m[k] += np.float32(0.1) * grad
                    v[k] *= np.float32(0.999)
                    v[k] += np.float32(0.001) * grad * grad
                    mhat = m[k] / np.float32(1 - 0.9 ** step)
                    vhat = v[k] / np.float32(1 - 0.999 ** step)
                    p -= np.float32(1e-3) * mhat / (np.sqrt(vhat) + np.float32(1e-8))
        times.append(time.perf_counter() - t0)
    h = tx
    for layer in layers:
        h = layer.forward(h)
    return times, float((h.argmax(1) == ty).mean())


def torch_sweep(threads):
    """configs/mnist_optimizers.yaml in PyTorch: four trainings one after the
    other, 2000 steps at batch 128 each, with the evaluation runner does (train
    and test accuracy and loss before training and after every epoch)."""
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    x, y, tx, ty = load()
    X, Y = torch.from_numpy(x.reshape(len(x), -1)), torch.from_numpy(y)
    TX, TY = torch.from_numpy(tx.reshape(len(tx), -1)), torch.from_numpy(ty)
    lossf = nn.CrossEntropyLoss()

    def evaluate(model):
        with torch.no_grad():
            for xs, ys in ((X, Y), (TX, TY)):
                for b in range(0, len(xs), 128):
                    s = model(xs[b:b + 128])
                    lossf(s, ys[b:b + 128]), (s.argmax(1) == ys[b:b + 128]).sum()

    accs = []
    for name in ("sgd", "momentum", "adagrad", "adam"):
        torch.manual_seed(0)
        model = nn.Sequential(*relu5_hidden(nn), nn.Linear(100, 10))
        opt = {"sgd": lambda p: torch.optim.SGD(p, lr=0.01),
               "momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
               "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.01),
               "adam": lambda p: torch.optim.Adam(p, lr=0.001)}[name](model.parameters())
        evaluate(model)
        step = 0
        while step < 2000:
            order = torch.randperm(len(X))
            for b in range(0, len(X), 128):
                if step == 2000:
                    break
                i = order[b:b + 128]
                opt.zero_grad()
                lossf(model(X[i]), Y[i]).backward()
                opt.step()
                step += 1
            evaluate(model)
        with torch.no_grad():
            accs.append(float((model(TX).argmax(1) == TY).float().mean()))
    return accs


if __name__ == "__main__":
    if sys.argv[1] == "torch-sweep":
        accs = torch_sweep(int(sys.argv[2]))
        print("test_accuracy " + " ".join(f"{a:.4f}" for a in accs))
        sys.exit(0)
    peer, net, threads, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    times, acc = torch_run(net, threads, epochs) if peer == "torch" else numpy_run(net, epochs)
    print("epoch_seconds " + " ".join(f"{t:.4f}" for t in times))
    print(f"test_accuracy {acc:.4f}")
