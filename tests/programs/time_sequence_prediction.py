"""PyTorch's examples/time_sequence_prediction, as written there: two LSTMCells in double precision learn
sine waves and predict their future, trained with LBFGS and a closure.

The data are generated as the example's generate_sine_wave.py does (100 waves of length 1000, random
phase). `--quick` uses 20 waves of length 150 and 4 LBFGS steps; `--real` runs PyTorch. The last line
printed is the test loss (mean squared error; a model that predicts 0 scores about 0.5).
"""

import argparse

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=15, help="steps to run")
parser.add_argument("--quick", action="store_true", help="20 waves of length 150, 4 steps")
parser.add_argument("--real", action="store_true", help="run with PyTorch itself")
opt = parser.parse_args()

if opt.real:
    import torch
else:
    import tinygrad_maas as torch
nn, optim = torch.nn, torch.optim


class Sequence(nn.Module):
    def __init__(self):
        super(Sequence, self).__init__()
        self.lstm1 = nn.LSTMCell(1, 51)
        self.lstm2 = nn.LSTMCell(51, 51)
        self.linear = nn.Linear(51, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):  # if we should predict the future
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


def generate_sine_wave(waves, length, period=20):
    np.random.seed(2)
    x = np.empty((waves, length), "int64")
    x[:] = np.array(range(length)) + np.random.randint(-4 * period, 4 * period, waves).reshape(waves, 1)
    return np.sin(x / 1.0 / period).astype("float64")


if __name__ == "__main__":
    waves, length = (20, 150) if opt.quick else (100, 1000)
    steps = 4 if opt.quick else opt.steps
    data = generate_sine_wave(waves, length)
    # set random seed to 0
    np.random.seed(0)
    torch.manual_seed(0)
    # load data and make training set
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])
    # build the model
    seq = Sequence()
    seq.double()
    criterion = nn.MSELoss()
    # use LBFGS as optimizer since we can load the whole data to train
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8)
    # begin to train
    for i in range(steps):
        print("STEP: ", i)

        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            print("loss:", loss.item())
            loss.backward()
            return loss

        optimizer.step(closure)
        # begin to predict, no need to track gradient here
        with torch.no_grad():
            future = 100
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            print("test loss:", loss.item())
    print(f"METRIC loss {loss.item():.6f}")
