"""PyTorch's examples/mnist_rnn, as written there: an LSTM reads each image row by row; BatchNorm1d,
Dropout2d (on 2-D activations, elementwise with a warning, as in PyTorch), Adadelta and StepLR.

`python tests/programs/mnist_rnn.py --quick` runs it with this framework, `--real` with PyTorch. The last
line printed is the test accuracy.
"""

import argparse
import warnings

from tinygrad_maas.data.datasets import load_mnist

parser = argparse.ArgumentParser(description="PyTorch MNIST Example using RNN")
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--test-batch-size", type=int, default=1000)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--gamma", type=float, default=0.7)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--log-interval", type=int, default=10)
parser.add_argument("--quick", action="store_true", help="3 epochs at lr 1.0 (the example's mnist lr)")
parser.add_argument("--real", action="store_true", help="run with PyTorch itself")
args = parser.parse_args()

if args.real:
    import torch
else:
    import tinygrad_maas as torch
nn, F, optim = torch.nn, torch.nn.functional, torch.optim
StepLR = torch.optim.lr_scheduler.StepLR
DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset
warnings.filterwarnings("ignore", message=".*dropout2d.*")  # the example gives Dropout2d 2-D inputs


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.rnn = nn.LSTM(input_size=28, hidden_size=64, batch_first=True)
        self.batchnorm = nn.BatchNorm1d(64)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, input):
        # Shape of input is (batch_size,1, 28, 28)
        # converting shape of input to (batch_size, 28, 28)
        # as required by RNN when batch_first is set True
        input = input.reshape(-1, 28, 28)
        output, hidden = self.rnn(input)

        # RNN output shape is (seq_len, batch, input_size)
        # Get last output of RNN
        output = output[:, -1, :]
        output = self.batchnorm(output)
        output = self.dropout1(output)
        output = self.fc1(output)
        output = F.relu(output)
        output = self.dropout2(output)
        output = self.fc2(output)
        output = F.log_softmax(output, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(
                "Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                    epoch,
                    batch_idx * len(data),
                    len(train_loader.dataset),
                    100.0 * batch_idx / len(train_loader),
                    loss.item(),
                )
            )


def test(args, model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    print(
        "\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n".format(
            test_loss, correct, len(test_loader.dataset), 100.0 * correct / len(test_loader.dataset)
        )
    )
    return correct / len(test_loader.dataset)


def main():
    torch.manual_seed(args.seed)
    device = torch.device("cpu")
    (x_train, y_train), (x_test, y_test) = load_mnist("train"), load_mnist("test")
    if args.quick:
        args.epochs, args.lr = 3, 1.0
        x_test, y_test = x_test[:500], y_test[:500]
    images = lambda x: torch.from_numpy(((x - 0.1307) / 0.3081)[:, None].astype("float32"))  # noqa: E731
    train_loader = DataLoader(
        TensorDataset(images(x_train), torch.from_numpy(y_train)), batch_size=args.batch_size, shuffle=True
    )
    test_loader = DataLoader(TensorDataset(images(x_test), torch.from_numpy(y_test)), batch_size=args.test_batch_size)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        accuracy = test(args, model, device, test_loader)
        scheduler.step()
    print(f"METRIC accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
