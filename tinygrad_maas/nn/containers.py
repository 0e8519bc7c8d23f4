"""Sequential, ModuleList and ModuleDict: modules that hold other modules, as in PyTorch."""

from collections import OrderedDict

from . import fusion
from .module import Module


class _NumberedModules(Module):
    """What Sequential and ModuleList share: children kept in order, counted, iterated and appended
    under the next number as their name."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def __setitem__(self, index, module):
        """model[i] = module replaces the i-th child in its place (negative indices count from the end)."""
        kind = type(self).__name__
        if not isinstance(module, Module):
            raise TypeError(f"{kind} items must be Modules, got {type(module).__name__}")
        name = list(self._modules)[_checked_index(index, len(self._modules), kind)]
        self._modules[name] = module


class Sequential(_NumberedModules):
    """Calls its modules in order, each on the previous one's output. Sequential(a, b) or
    Sequential(OrderedDict(name=module)); children are named "0", "1", ... (or by the dict's keys)."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def forward(self, input):
        if fusion.enabled:  # a Conv2d, ReLU, MaxPool2d(2) run as one op (nn/fusion.py)
            return fusion.run(list(self._modules.values()), input)
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return modules[_checked_index(index, len(modules), "Sequential")]


class ModuleList(_NumberedModules):
    """A list of modules whose parameters the owner module sees. It has no forward of its own."""

    def __init__(self, modules=None):
        super().__init__()
        for module in modules or []:
            self.append(module)

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[_checked_index(index, len(modules), "ModuleList")]

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self


class ModuleDict(Module):
    """A dict of modules whose parameters the owner module sees, in insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        for name, module in (modules or {}).items():
            self[name] = module

    def __getitem__(self, name):
        return self._modules[name]

    def __setitem__(self, name, module):
        self.add_module(name, module)

    def __delitem__(self, name):
        del self._modules[name]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, name):
        return name in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()


def _checked_index(index, length, container):
    if not -length <= index < length:
        raise IndexError(f"{container} index {index} is out of range for {length} modules")
    return index % length
