"""What numba lacks for register-blocked kernels: a buffer LLVM keeps in vector registers, and the CPU's
int8 dot-product instruction.

numba has no vector types. A kernel that keeps a block of sums in registers (the direct convolution, the
int8 product) declares them as `carray(stack_buffer(size, like), size)`: an array on the kernel's own stack
(an LLVM alloca) of a size fixed at compile time. Nothing else can point to an alloca, so once the loops
over the buffer are unrolled LLVM promotes it to registers; the machine code has no stack traffic in the
inner loop (docs/kernels.md, "Direct convolution").

`float32_from_bits` reads an int32 as the float32 with those bits (NumPy's `.view` of one scalar):
integer max reductions over a float row's magnitude bits vectorise where float ones do not (LLVM will not
reorder a float max, for its nan rules, without fast-math), and non-negative floats order as their bits.

`add_byte_products` is one AVX-512 VNNI `vpdpbusd`: 64 multiply-adds of unsigned by signed bytes into 16
int32 sums, where LLVM, given the same arithmetic in scalar code, emits int16 multiply-adds (`vpmaddwd`)
and a quarter of the work per instruction. Only call it where `HAS_VNNI` is true: on a CPU without VNNI
the instruction does not exist.
"""

import llvmlite.binding as llvm
import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# numba compiles for this CPU unless told otherwise (NUMBA_CPU_NAME / NUMBA_CPU_FEATURES, say "generic" for a
# cache shared between machines): then the instruction may not exist where the code runs.
HAS_VNNI = (
    numba.config.CPU_NAME in (None, "host")
    and numba.config.CPU_FEATURES is None
    and bool(llvm.get_host_cpu_features().get("avx512vnni"))
)


@intrinsic
def stack_buffer(typingctx, count, like):
    """A pointer to `count` (a compile-time constant) elements of `like`'s dtype on the calling function's
    stack, allocated once at its entry."""
    if not isinstance(count, types.IntegerLiteral) or not isinstance(like, types.Array):
        return None
    size = count.literal_value

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, context.get_value_type(like.dtype), size=size)

    return types.CPointer(like.dtype)(count, like), codegen


@intrinsic
def add_byte_products(typingctx, sums, at, word, weights, start):
    """sums[at + l] += sum over t < 4 of byte t of `word` (unsigned) * weights[start + 4 l + t] (signed),
    for the 16 lanes l: `word` is 4 activation bytes given to every lane, weights 64 consecutive int8.
    sums is int32, weights int8 (both 1-D, C-contiguous)."""
    if sums != types.Array(types.int32, 1, "C") or weights != types.Array(types.int8, 1, "C"):
        return None

    def codegen(context, builder, signature, args):
        sums_array = context.make_array(signature.args[0])(context, builder, args[0])
        weights_array = context.make_array(signature.args[3])(context, builder, args[3])
        vector = ir.VectorType(ir.IntType(32), 16)
        sums_pointer = builder.bitcast(builder.gep(sums_array.data, [args[1]]), vector.as_pointer())
        weights_pointer = builder.bitcast(builder.gep(weights_array.data, [args[4]]), vector.as_pointer())
        word = builder.trunc(args[2], ir.IntType(32)) if args[2].type != ir.IntType(32) else args[2]
        every_lane = builder.insert_element(ir.Constant(vector, None), word, ir.Constant(ir.IntType(32), 0))
        every_lane = builder.shuffle_vector(every_lane, ir.Constant(vector, None), ir.Constant(vector, [0] * 16))
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(vector, [vector] * 3), "llvm.x86.avx512.vpdpbusd.512"
        )
        total = builder.call(
            function, [builder.load(sums_pointer, align=4), every_lane, builder.load(weights_pointer, align=1)]
        )
        builder.store(total, sums_pointer, align=4)
        return context.get_dummy_value()

    return types.void(sums, at, word, weights, start), codegen


@intrinsic
def float32_from_bits(typingctx, bits):
    """The float32 whose bit pattern is the low 32 bits of the integer `bits`."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        low = builder.trunc(args[0], ir.IntType(32)) if bits.bitwidth > 32 else args[0]
        return builder.bitcast(low, ir.FloatType())

    return types.float32(bits), codegen
