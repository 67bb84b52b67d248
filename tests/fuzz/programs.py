"""The generator of random *valid* `.arch` programs (for tests/fuzz/valid.py and, through
tests/strategies.py, the hypothesis-driven differential tests).

`generate(c)` writes a whole file (blocks with parameters, then one network) and returns it as
an `Arch`: the text, the input shape, the output shape the generator expects and the set of
features it used. `c` makes every choice: `c.int(lo, hi)` and `c.pick(options)`, from a seeded
`random.Random` (`RandomChoices`, `program(seed, index)`) or from hypothesis (which then
shrinks a failing program). Programs are valid by construction, never filtered: the generator tracks
every tensor's shape with its own copy of PyTorch's size arithmetic and draws each layer's
arguments from ranges that keep every dimension >= 1 (so no `assume()`, no health-check noise).

Shapes are kept small (a few channels, spatial sizes up to 16) so torch runs each program in
milliseconds. Kernels are written in every form the language takes (`3`, `3x3`, `1x3`,
`(1, 3)`), as are paddings (`pad=1`, `p=(0, 1)`, `pad="same"`, `padding="valid"`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_CH = 12  # channels a drawn layer may produce
MAX_ELEMS = 3000  # elements of one activation (one sample)
ACTIVATIONS = ("relu", "relu6", "tanh", "sigmoid", "gelu", 'gelu(approximate="tanh")',
               "leaky_relu(0.2)", "identity", "relu(inplace=true)", "relu6(inplace=true)",
               "leaky_relu(0.1, inplace=true)",
               # issue 12's
               "silu", "swish", "hardswish", "hardsigmoid", "mish", "selu", "elu(0.5)", "celu",
               "softplus(2)", "softplus(beta=0.5, threshold=20)", "hardtanh(-2, 2)", "prelu",
               "prelu(init=0.1)", "silu(inplace=true)", "hardswish(inplace=true)",
               "hardsigmoid(inplace=true)", "mish(inplace=true)", "selu(inplace=true)",
               "elu(inplace=true)", "celu(2, inplace=true)", "hardtanh(inplace=true)")


@dataclass(frozen=True)
class Arch:
    text: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    features: frozenset[str]


# ---------------------------------------------------------------- PyTorch's size arithmetic
def conv_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def pool_size(n: int, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> int:
    """torch's pooling_output_shape: ceil mode drops a last window starting in the padding."""
    span = n + 2 * p - d * (k - 1) - 1
    if not ceil:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= n + p:
        out -= 1
    return out


def down(n: int, s: int) -> int:
    """Size after an odd kernel with pad k//2 at stride s (ResNet's and GoogLeNet's reductions)."""
    return (n - 1) // s + 1


# ---------------------------------------------------------------- text helpers
def _dims(c, values: tuple[int, ...], allow_int=True) -> str:
    """A size per spatial dimension, written as `3`, `3x3` or `(3, 3)`."""
    same = len(set(values)) == 1
    forms = ["tuple"]
    if len(values) > 1:
        forms.append("dims")
    if same and allow_int:
        forms.append("int")
    form = c.pick(forms)
    if form == "int":
        return str(values[0])
    if form == "dims":
        return "x".join(map(str, values))
    return "(" + ", ".join(map(str, values)) + ")" if len(values) > 1 else f"({values[0]},)"


class Gen:
    """Writes one program; every method returns (item text, output shape)."""

    def __init__(self, c, rank: int):
        self.c = c
        self.rank = rank  # spatial rank of the network's input (0: a vector)
        self.names = 0
        self.features: set[str] = set()
        self.blocks: list[BlockTemplate] = []
        self.in_repeat = False  # in a repetition, copies after the first see other inputs
        self.depth = 0  # merges nested around the current item

    def flag(self, p_true: float = 0.5) -> bool:
        return self.c.int(0, 999) < p_true * 1000

    def label(self, p: float = 0.3) -> str:
        if not self.flag(p):
            return ""
        self.names += 1
        return f"n{self.names}: "

    def labelled(self, text: str, p: float = 0.2) -> str:
        """`text`, sometimes with a label (never a second one)."""
        return text if re.match(r"n\d+: ", text) else self.label(p) + text

    def fresh(self, prefix="v") -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    def channels(self, lo=1, hi=MAX_CH) -> int:
        return self.c.int(lo, hi)

    # ------------------------------------------------------------ single layers
    def conv(self, shape, *, preserve=False, stride=None, out_ch=None):
        """A conv; `preserve` keeps the spatial size; `stride` forces the `down()` size."""
        c, sp = shape[0], shape[1:]
        n = len(sp)
        groups = 1
        if out_ch is None:
            if c > 1 and not self.in_repeat and self.flag(0.25):
                groups = self.c.pick([g for g in range(1, c + 1) if c % g == 0])
                out_ch = groups * self.c.int(1, max(1, MAX_CH // groups))
                self.features.add("groups")
            else:
                out_ch = self.channels()
        # the current tensor's channels where they are the output's (no draw: the programs of
        # a seed stay what they were); copies of a repetition may see other inputs
        args = ["x.channels" if out_ch == c and not self.in_repeat else str(out_ch)]
        if args[0] != str(out_ch):
            self.features.add("current_tensor")
        if stride is not None or preserve:
            s = stride or 1
            ks = tuple(self.c.pick([1, 3, 5]) for _ in range(n))
            if self.flag(0.3):
                ks = (ks[0],) * n
            if s == 1 and self.flag(0.3):
                # "same" also takes even kernels: PyTorch pads the odd extra at the end
                ks = tuple(self.c.int(1, 4) for _ in range(n))
                d = self.c.int(1, 2)
                args += [_dims(self.c, ks), 'pad="same"'] + ([f"dilation={d}"] if d > 1 else [])
                self.features.add("pad_same")
            else:
                args += [_dims(self.c, ks)]
                pads = tuple(k // 2 for k in ks)
                if any(pads) or self.flag(0.3):
                    args.append(f"{self.c.pick(['pad', 'p', 'padding'])}="
                                + _dims(self.c, pads))
                if s != 1:
                    args.append(f"stride={s}")
            out = tuple(down(x, s) for x in sp)
        else:
            ss = tuple(self.c.int(1, 3) for _ in range(n))
            ds = tuple(self.c.pick([1, 1, 1, 2, 3]) for _ in range(n))
            ps = tuple(self.c.int(0, 3) for _ in range(n))
            square = self.flag(0.4)
            if square:
                ss, ds, ps = (ss[0],) * n, (ds[0],) * n, (ps[0],) * n
            # the largest kernel that still leaves one output: D*(F-1) <= W + 2P - 1
            ks = tuple(self.c.int(1, min(7, (x + 2 * p - 1) // dd + 1))
                       for x, p, dd in zip(sp, ps, ds, strict=True))
            if square:
                ks = (min(ks),) * n
            args.append(_dims(self.c, ks))
            if any(s != 1 for s in ss) or self.flag(0.2):
                args.append(f"{self.c.pick(['stride', 's'])}=" + _dims(self.c, ss))
            if any(ps):
                args.append("pad=" + _dims(self.c, ps))
            elif self.flag(0.2):
                args.append('pad="valid"')
            if any(x != 1 for x in ds):
                args.append("dilation=" + _dims(self.c, ds))
                self.features.add("dilation")
            out = tuple(conv_size(x, k, s, p, dd) for x, k, s, p, dd in
                        zip(sp, ks, ss, ps, ds, strict=True))
            if len(set(ks)) > 1:
                self.features.add("non_square")
        if groups != 1:
            args.append(f"groups={groups}")
        if self.flag(0.3):
            args.append("bias=false")
        self.features.add(f"conv{n}d")
        return f"conv({', '.join(args)})", (out_ch, *out)

    def literal_conv(self, shape):
        """A fixed kernel from the file: one level of brackets per spatial dimension."""
        n = len(shape) - 1
        ks = [self.c.int(1, min(3, x)) for x in shape[1:]]

        def nest(level):
            if level == n:
                return str(self.c.int(-2, 2))
            return "[" + ", ".join(nest(level + 1) for _ in range(ks[level])) + "]"

        extra = ", trainable=true" if self.flag(0.3) else ""
        self.features.add("literal_kernel")
        out = tuple(x - k + 1 for x, k in zip(shape[1:], ks, strict=True))
        return f"conv({nest(0)}{extra})", (shape[0], *out)

    def pool(self, shape, *, preserve=False, stride=None):
        kind = self.c.pick(["maxpool", "avgpool"])
        c, sp = shape[0], shape[1:]
        n = len(sp)
        if stride is not None or preserve:
            # odd window, pad k//2: the same size arithmetic as a same-padded conv
            s = stride or 1
            k = self.c.pick([1, 3, 5])
            if kind == "avgpool" and n == 3:  # torch's avg_pool3d: window <= unpadded input
                k = 1 if min(sp) < 3 or self.in_repeat else k if min(sp) >= k else 3
            args = [_dims(self.c, (k,) * n), f"stride={s}"]
            if k > 1:
                args.append(f"pad={k // 2}")
            self.features.add(kind)
            return f"{kind}({', '.join(args)})", (c, *(down(x, s) for x in sp))
        ds = tuple(self.c.pick([1, 1, 2]) if kind == "maxpool" else 1 for _ in sp)
        square = self.flag(0.5)
        if square:
            ds = (ds[0],) * n
        ks = tuple(self.c.int(1, min(5, (x - 1) // dd + 1)) for x, dd in
                   zip(sp, ds, strict=True))
        if square:
            ks = (min(ks),) * n
        ss = None if self.flag(0.3) else tuple(self.c.int(1, 3) for _ in sp)
        ps = tuple(self.c.int(0, min(3, k // 2)) for k in ks)
        ceil = self.flag(0.4)
        args = [_dims(self.c, ks)]
        if ss is not None:
            args.append(f"{self.c.pick(['stride', 's'])}=" + _dims(self.c, ss))
        if any(ps):
            args.append("pad=" + _dims(self.c, ps))
        if any(x != 1 for x in ds):
            args.append("dilation=" + _dims(self.c, ds))
            self.features.add("pool_dilation")
        if ceil:
            args.append(self.c.pick(["ceil=true", "ceil_mode=true"]))
            self.features.add("ceil")
        if kind == "avgpool" and self.flag(0.2):
            args.append("count_include_pad=false")
        ss = ss or ks
        out = tuple(pool_size(x, k, s, p, dd, ceil) for x, k, s, p, dd in
                    zip(sp, ks, ss, ps, ds, strict=True))
        self.features.add(kind)
        return f"{kind}({', '.join(args)})", (c, *out)

    def elementwise(self, shape):
        """A layer that keeps the shape exactly."""
        opts = ["act", "act", "dropout", "batchnorm", "softmax", "norm", "regulariser", "scale"]
        if len(shape) >= 2:
            opts += ["lrn", "channel_shuffle"]
        what = self.c.pick(opts)
        self.features.add(what)
        if what in ("norm", "regulariser", "scale", "channel_shuffle"):
            return getattr(self, what)(shape), shape
        if what == "act":
            return self.c.pick(ACTIVATIONS), shape
        if what == "dropout":
            return self.c.pick(["dropout", "dropout(0.1)", "dropout(p=0.3)",
                                           "dropout(0.2, inplace=true)"]), shape
        if what == "batchnorm":
            extra = self.c.pick(["", "(affine=false)", "(track=false)",
                                            "(eps=0.001, momentum=0.2)"])
            return f"batchnorm{extra}", shape
        if what == "lrn":
            return self.c.pick(["lrn", "lrn(3)", "lrn(size=2, alpha=0.001)",
                                           "local_response_norm(5, beta=0.5, k=2)"]), shape
        dim = self.c.int(-len(shape), len(shape) - 1)
        kind = self.c.pick(["softmax", "log_softmax"])
        return (f"{kind}({dim})" if dim or self.flag() else kind), shape

    # ------------------------------------------------------------ issue 12's shape keepers
    def _divisor(self, n: int) -> int:
        return self.c.pick([g for g in range(1, n + 1) if n % g == 0])

    def norm(self, shape):
        # in a repetition a later copy may see a 1x1 map: group and instance norms need more
        opts = ["layernorm", "layernorm_channels", "prelu_channel"]
        positions = math.prod(shape[1:])
        if not self.in_repeat and (positions > 1 or shape[0] > 1):
            opts.append("groupnorm")
        if 2 <= len(shape) <= 4 and positions > 1 and not self.in_repeat:
            opts.append("instancenorm")
        what = self.c.pick(opts)
        self.features.add(what)
        if what == "groupnorm":
            g = self.c.pick([g for g in range(1, shape[0] + 1)
                             if shape[0] % g == 0 and shape[0] // g * positions > 1])
            return f"groupnorm({g}" + self.c.pick([")", ", eps=0.001)", ", affine=false)"])
        if what == "layernorm":
            k = self.c.int(1, len(shape))
            return self.c.pick(["layernorm", f"layernorm(dims={k})",
                                f"layernorm(dims={k}, bias=false)",
                                "layernorm(elementwise_affine=false)"])
        if what == "layernorm_channels":
            return 'layernorm(over="channels")' if len(shape) >= 2 else "layernorm"
        if what == "prelu_channel":
            # a count of slopes holds for one channel count only: not in a repetition
            return self.c.pick(["prelu(per_channel=true)"] + (
                [] if self.in_repeat else [f"prelu(num_parameters={shape[0]})"]))
        # a tracked instance norm is refused by ONNX (E0601), so seldom
        return self.c.pick(["instancenorm", "instancenorm(affine=true)",
                            "instancenorm(eps=0.001, momentum=0.2)"]
                           + (["instancenorm(track=true)"] if self.flag(0.2) else []))

    def regulariser(self, shape):
        opts = ["alpha_dropout(0.2)", "alpha_dropout(p=0.1, inplace=true)",
                "stochastic_depth(0.2)", 'stochastic_depth(0.5, mode="batch")']
        if 2 <= len(shape) <= 4:
            kind = f"dropout{len(shape) - 1}d"
            opts += [kind, f"{kind}(0.3)", f"{kind}(0.2, inplace=true)"] * (len(shape) - 1)
            # 1-D and 3-D maps are rare: favour their kind
            if len(shape) in (2, 4) and self.flag(0.6):
                return self.c.pick(opts[-3:])
        return self.c.pick(opts)

    def scale(self, shape):
        # in a repetition a later copy may see another size: only the per-channel default
        k = 0 if self.in_repeat else self.c.int(0, len(shape))
        if k == 0:
            return self.c.pick(["scale", "scale(1e-6)", "layer_scale(0.5)"])
        pshape = tuple(x if self.flag() else 1 for x in shape[len(shape) - k:])
        return f"scale(0.1, shape={_dims(self.c, pshape)})"

    def channel_shuffle(self, shape):
        # a group count holds for the channels it divides: in a repetition, only 1
        return f"channel_shuffle({1 if self.in_repeat else self._divisor(shape[0])})"

    def reshaping(self, shape):
        """Issue 12's layers that change a map's shape: transposed conv, pixel (un)shuffle,
        padding, adaptive max pooling, glu, and round trips through channels-last (permute,
        linear over the last dimension, permute back), a vector (flatten, unflatten) or a
        mean."""
        c, sp = shape[0], shape[1:]
        n = len(sp)
        opts = ["conv_transpose", "pad", "adaptive_maxpool", "glu", "channels_last",
                "unflatten", "mean", "transpose"]
        if n == 2:
            opts += ["pixel_shuffle", "pixel_unshuffle"]
        what = self.c.pick(opts)
        self.features.add(what)
        if what == "conv_transpose":
            s = tuple(self.c.int(1, 2) for _ in sp)
            k = tuple(self.c.int(1, 3) for _ in sp)
            d = tuple(self.c.pick([1, 1, 2]) for _ in sp)
            op = tuple(self.c.int(0, max(a, b) - 1) for a, b in zip(s, d, strict=True))
            p = tuple(self.c.int(0, ((w - 1) * ss + dd * (kk - 1) + o) // 2)
                      for w, ss, dd, kk, o in zip(sp, s, d, k, op, strict=True))
            out = tuple((w - 1) * ss - 2 * pp + dd * (kk - 1) + o + 1
                        for w, ss, pp, dd, kk, o in zip(sp, s, p, d, k, op, strict=True))
            f = self.channels(1, 8)
            args = [str(f), _dims(self.c, k)]
            if any(x != 1 for x in s):
                args.append("stride=" + _dims(self.c, s))
            if any(p):
                args.append("pad=" + _dims(self.c, p))
            if any(op):
                args.append("output_pad=" + _dims(self.c, op))
            if any(x != 1 for x in d):
                args.append("dilation=" + _dims(self.c, d))
            if c % 2 == 0 and f % 2 == 0 and self.flag(0.2):
                args.append("groups=2")
            if self.flag(0.2):
                args.append("bias=false")
            return f"conv_transpose({', '.join(args)})", (f, *out)
        if what == "pixel_shuffle":
            r = self.c.int(1, 2)
            if c % (r * r):
                return f"conv({r * r * c}, 1); pixel_shuffle({r})", (c, sp[0] * r, sp[1] * r)
            return f"pixel_shuffle({r})", (c // (r * r), sp[0] * r, sp[1] * r)
        if what == "pixel_unshuffle":
            r = self.c.pick([r for r in (1, 2, 3) if sp[0] % r == 0 and sp[1] % r == 0])
            return f"pixel_unshuffle({r})", (c * r * r, sp[0] // r, sp[1] // r)
        if what == "pad":
            mode = self.c.pick(["constant", "constant", "reflect", "replicate", "circular"])
            hi = {"constant": 2, "replicate": 2}.get(mode)
            amounts = []
            for j in range(2 * n):
                size = sp[n - 1 - j // 2]
                top = hi if hi is not None else min(2, size - 1 if mode == "reflect" else size)
                amounts.append(self.c.int(0, top))
            out = list(shape)
            for j in range(n):
                out[len(out) - 1 - j] += amounts[2 * j] + amounts[2 * j + 1]
            if mode == "constant" and len(set(amounts)) == 1 and self.flag():
                return f"pad({amounts[0]})", tuple(out)
            extra = "" if mode == "constant" else f', mode="{mode}"'
            if mode == "constant" and self.flag(0.3):
                extra = ", value=0.5"
            return f"pad({_dims(self.c, tuple(amounts), allow_int=False)}{extra})", tuple(out)
        if what == "adaptive_maxpool":
            size = tuple(self.c.pick([d for d in range(1, min(x, 4) + 1) if x % d == 0])
                         for x in sp)  # divisors: ONNX exports those
            return f"adaptive_maxpool({_dims(self.c, size)})", (c, *size)
        if what == "glu":
            d = self.c.pick([i for i, x in enumerate(shape) if x % 2 == 0] or [None])
            if d is None:
                return f"conv({2 * c}, 1); glu(0)", shape
            out = tuple(x // 2 if i == d else x for i, x in enumerate(shape))
            return (f"glu({d - len(shape)})" if d == len(shape) - 1 and self.flag()
                    else f"glu({d})"), out
        if what == "channels_last":
            f = self.channels(1, 8)
            to = (*range(1, n + 1), 0)
            back = (n, *range(n))
            mid = self.c.pick(["", "layernorm; ", "gelu; "])
            return (f"permute({to}); {mid}linear({f}); permute({back})",
                    (f, *sp))
        if what == "unflatten":
            if self.flag():
                return f"flatten; unflatten({_dims(self.c, shape, allow_int=False)})", shape
            return f"reshape({_dims(self.c, shape[::-1], allow_int=False)})", shape[::-1]
        if what == "mean":
            d = self.c.int(1, n)
            return f"mean({d}, keepdim=true)", tuple(1 if i == d else x
                                                       for i, x in enumerate(shape))
        a, b = self.c.int(0, n), self.c.int(0, n)
        out = list(shape)
        out[a], out[b] = out[b], out[a]
        return f"transpose({a}, {b})", tuple(out)

    def spatial_layer(self, shape):
        """Any one layer on a CxL / CxHxW / CxDxHxW input."""
        what = self.c.pick(["conv", "conv", "conv", "pool", "pool", "elementwise",
                                       "elementwise", "global", "adaptive", "literal",
                                       "reshaping", "reshaping"])
        if len(shape) == 4 and self.flag(0.15):  # 3-D maps are rare: their channel dropout
            self.features.add("regulariser")
            return self.regulariser(shape), shape
        if what == "conv":
            return self.conv(shape)
        if what == "reshaping":
            return self.reshaping(shape)
        if what == "pool":
            return self.pool(shape)
        if what == "global":
            kind = self.c.pick(["maxpool", "avgpool"])
            self.features.add("global_pool")
            return f"{kind}(global=true)", (shape[0],) + (1,) * (len(shape) - 1)
        if what == "adaptive":
            if self.flag(0.7):  # a divisor of the input size: ONNX can export those
                size = tuple(self.c.pick([d for d in range(1, min(x, 4) + 1) if x % d == 0])
                             for x in shape[1:])
            else:
                size = tuple(self.c.int(1, 4) for _ in shape[1:])
            self.features.add("adaptive")
            return f"adaptive_avgpool({_dims(self.c, size)})", (shape[0], *size)
        if what == "literal":
            return self.literal_conv(shape)
        return self.elementwise(shape)

    def unit(self, shape, stride=1, out_ch=None):
        """A layer (or two) reaching spatial `down(n, stride)`; `out_ch` forces the channels."""
        if out_ch is None and self.flag(0.35):
            text, shape = self.pool(shape, stride=stride)
            return text, shape
        if out_ch is None and stride == 1 and self.flag(0.3):
            return self.elementwise(shape)
        if out_ch is None and stride == 1 and self.depth < 2 and self.flag(0.08):
            return (self.concat if self.flag() else self.add)(shape, 1)  # a nested merge
        return self.conv(shape, stride=stride, out_ch=out_ch)

    # ------------------------------------------------------------ structure
    def chain(self, shape, length, stride=1, out_ch=None):
        """`length` units; the first applies the stride, the last (if any) fixes the channels."""
        items = []
        for i in range(length):
            last = i == length - 1
            text, shape = self.unit(shape, stride if i == 0 else 1, out_ch if last else None)
            items.append(text)
        return items, shape

    def concat(self, shape, stride=None):
        self.depth += 1
        try:
            return self._concat(shape, stride)
        finally:
            self.depth -= 1

    def add(self, shape, stride=None):
        self.depth += 1
        try:
            return self._add(shape, stride)
        finally:
            self.depth -= 1

    def _concat(self, shape, s):
        s = s or self.c.pick([1, 1, 2])
        branches, chans = [], 0
        for _ in range(self.c.int(1, 3)):
            if s == 1 and self.flag(0.15):
                branches.append("{}")
                chans += shape[0]
                continue
            items, out = self.chain(shape, self.c.int(1, 3), stride=s)
            branches.append("{ " + "; ".join(self.labelled(t) for t in items) + " }")
            chans += out[0]
        self.features.add("concat")
        spatial = tuple(down(x, s) for x in shape[1:])
        return self._merge("concat", branches), (chans, *spatial)

    def _add(self, shape, s):
        s = s or self.c.pick([1, 1, 2])
        c = shape[0] if self.flag(0.4) else self.channels()
        branches = []
        for i in range(self.c.int(2, 3)):
            if s == 1 and c == shape[0] and not self.in_repeat and (i == 1 or self.flag(0.2)):
                branches.append(self.c.pick(["{}", "{ identity }"]))
                continue
            items, _ = self.chain(shape, self.c.int(1, 3), stride=s, out_ch=c)
            branches.append("{ " + "; ".join(self.labelled(t) for t in items) + " }")
        self.features.add("add")
        return self._merge("add", branches), (c, *(down(x, s) for x in shape[1:]))

    def _merge(self, kind, branches):
        label = self.label(0.3)
        inner = "\n        ".join(branches)
        return f"{label}{kind} {{\n        {inner}\n    }}"

    def skip(self, shape):
        """Named values: `a = ...; ...; b = ...; add(a, b)` (or concat), a hand-wired DAG."""
        a, b = self.fresh(), self.fresh()
        first, shape_a = self.conv(shape, preserve=True)
        items = [f"{a} = {first}"]
        mid, shape_m = self.chain(shape_a, self.c.int(0, 2))
        items += mid
        merge = self.c.pick(["add", "concat"])
        dim = self.c.int(-len(shape_a), len(shape_a) - 1) if self.flag(0.3) else 0
        out_ch = shape_a[0] if merge == "add" or dim else None
        last, shape_b = self.conv(shape_m, preserve=True, out_ch=out_ch)
        if shape_b[1:] != shape_a[1:]:
            return "; ".join([*items, last]), shape_b  # spatial drifted: no merge
        items.append(f"{b} = {last}")
        order = [a, b] if self.flag() else [b, a]
        self.features.add("skip_" + merge)
        if merge == "add":
            return "; ".join([*items, f"add({', '.join(order)})"]), shape_a
        if dim:  # along a spatial dimension (equal channels), or dim=0 spelled -rank
            self.features.add("concat_dim")
            axis = dim % len(shape_a)
            out = tuple(x * 2 if i == axis else x for i, x in enumerate(shape_a))
            return "; ".join([*items, f"concat({', '.join(order)}, dim={dim})"]), out
        chans = shape_a[0] + shape_b[0]
        return "; ".join([*items, f"concat({', '.join(order)})"]), (chans, *shape_a[1:])

    def dead(self, shape):
        """`a = relu; b = conv(...); a`: `b` feeds nothing, yet its module must exist."""
        a = self.fresh()
        first, shape = self.elementwise(shape)
        branch, _ = self.chain(shape, self.c.int(1, 2))
        self.features.add("dead_branch")
        return "; ".join([f"{a} = {first}", *branch, a]), shape

    def repeat(self, shape):
        """`{ conv(c, 3, pad=1); relu } * N` (each copy a numbered scope)."""
        times = self.c.int(0, 3)
        s = self.c.pick([1, 1, 2])
        c = self.channels()
        self.in_repeat = True
        items, out = self.chain(shape, self.c.int(1, 2), stride=s, out_ch=c)
        self.in_repeat = False
        out = shape
        for _ in range(times):
            out = (c, *(down(x, s) for x in out[1:]))
        self.features.add("repeat_group")
        return self.label(0.5) + "{ " + "; ".join(items) + f" }} * {times}", out

    def list_repeat(self, shape):
        """`[conv(c, 3, stride=s, pad=1), relu] * N`: the list written N times, flat in the
        scope (VGG's `make_layers`)."""
        times = self.c.int(1, 3)
        s = self.c.pick([1, 1, 2])
        c = self.channels()
        self.in_repeat = True
        first, out = self.conv(shape, stride=s, out_ch=c)
        items = [first]
        for _ in range(self.c.int(0, 2)):
            text, out = self.elementwise(out)
            items.append(text)
        self.in_repeat = False
        out = shape
        for _ in range(times):
            out = (c, *(down(x, s) for x in out[1:]))
        self.features.add("repeat_list")
        return self.label(0.5) + "[" + ", ".join(items) + f"] * {times}", out

    # ------------------------------------------------------------ issue 12's structure
    def structure(self, shape):
        """A broadcasting merge, an upsample, a crop, or a chunk/split put back together."""
        what = self.c.pick(["gate", "upsample", "crop", "pieces"])
        return getattr(self, "_" + what)(shape)

    @staticmethod
    def _tuple(values) -> str:
        return "(" + ", ".join(map(str, values)) + ("," if len(values) == 1 else "") + ")"

    def _gate(self, shape):
        """`a = ...; g = { a; avgpool((H, 1)); sigmoid }; mul(a, g)`: CxHxW with Cx1xW..."""
        a, g = self.fresh(), self.fresh()
        first, shape = self.elementwise(shape)
        kernel = tuple(n if self.flag() else 1 for n in shape[1:])
        kind = self.c.pick(["mul", "mul", "sub", "div", "max", "min", "add"])
        order = [a, g] if kind == "div" or self.flag() else [g, a]
        extra = ", broadcast=true" if kind == "add" else ""
        more = f", {a}" if kind in ("mul", "max", "min") and self.flag(0.2) else ""
        self.features.add("merge_" + kind)
        return (f"{a} = {first}; {g} = {{ {a}; avgpool({self._tuple(kernel)}); sigmoid }}; "
                f"{self.label(0.2)}{kind}({', '.join(order)}{more}{extra})"), shape

    def _upsample(self, shape):
        rank = len(shape) - 1
        linear = {1: "linear", 2: "bilinear", 3: "trilinear"}[rank]
        modes = ["nearest", linear, "nearest-exact"] + (["bicubic"] if rank == 2 else [])
        mode = self.c.pick(modes)
        align = ""
        if mode in ("linear", "bilinear", "bicubic", "trilinear") and self.flag(0.5):
            align = f", align_corners={self.c.pick(['true', 'false'])}"
        how = self.c.pick(["scale", "size", "like"])
        self.features.add("upsample_" + how)
        if how == "scale":
            scales = tuple(self.c.int(1, 2) for _ in range(rank))
            arg = str(scales[0]) if len(set(scales)) == 1 and self.flag() else \
                self._tuple(scales)
            out = (shape[0], *(n * s for n, s in zip(shape[1:], scales, strict=True)))
            return f'upsample({arg}, mode="{mode}"{align})', out
        if how == "size":
            size = tuple(self.c.int(1, 8) for _ in range(rank))
            return f'upsample(size={self._tuple(size)}, mode="{mode}"{align})', (shape[0], *size)
        a = self.fresh()
        down_k = tuple(2 if n >= 2 else 1 for n in shape[1:])
        return (f"{a} = identity; {{ {a}; avgpool({self._tuple(down_k)}); "
                f'upsample(like={a}, mode="{mode}"{align}) }}'), shape

    def _crop(self, shape):
        size = tuple(self.c.int(1, n) for n in shape[1:])
        out = (shape[0], *size)
        self.features.add("crop")
        if self.flag():
            return f"crop({self._tuple(size)})", out
        p, a = self.fresh(), self.fresh()
        self.features.add("crop_like")
        return f"{p} = identity; {a} = crop({self._tuple(size)}); {p}; crop(like={a})", out

    def _pieces(self, shape):
        """`[a, b] = chunk(2, dim=d)` (or split), then concat(b, a, dim=d): the shape again."""
        dim = self.c.int(0, len(shape) - 1)
        n = shape[dim]
        if n < 2:
            return "identity", shape
        if self.flag():
            k = self.c.int(2, min(n, 4))
            step = -(-n // k)
            count, call = -(-n // step), f"chunk({k}{self._dim(dim, len(shape))})"
        elif self.flag():
            first = self.c.int(1, n - 1)
            count, call = 2, f"split(({first}, {n - first}){self._dim(dim, len(shape))})"
        else:
            step = self.c.int(1, n - 1)
            count, call = -(-n // step), f"split({step}{self._dim(dim, len(shape))})"
        if count > 5:
            return "identity", shape
        names = [self.fresh("p") for _ in range(count)]
        self.features.add("pieces")
        back = list(reversed(names))
        return (f"[{', '.join(names)}] = {call}; "
                f"concat({', '.join(back)}{self._dim(dim, len(shape))})"), shape

    def _dim(self, dim: int, rank: int) -> str:
        if dim == 0 and self.flag():
            return ""
        return f", dim={dim - rank if self.flag(0.3) else dim}"

    def block_call(self, shape):
        if not self.blocks:
            return self.spatial_layer(shape)
        tmpl = self.c.pick(self.blocks)
        text, out = tmpl.call(self, shape)
        self.features.add("block")
        return text, out

    def spatial_item(self, shape):
        what = self.c.pick(["layer"] * 6 + ["concat", "add", "skip", "repeat", "list_repeat",
                            "block", "block", "dead", "structure", "structure"])
        if what == "layer":
            text, out = self.spatial_layer(shape)
            return self.label() + text, out
        return getattr(self, what if what != "block" else "block_call")(shape)

    def head(self, shape, classes_param: bool):
        items = []
        if len(shape) > 1:
            if self.flag(0.5):
                text, shape = self.c.pick([
                    ("avgpool(global=true)", (shape[0],) + (1,) * (len(shape) - 1)),
                    ("adaptive_avgpool(1)", (shape[0],) + (1,) * (len(shape) - 1)),
                ])
                items.append(text)
            items.append(self.label() + "flatten")
            shape = (math.prod(shape),)
        for _ in range(self.c.int(0, 3)):
            if self.flag(0.5):
                f = self.channels(1, 16)
                bias = ", bias=false" if self.flag(0.2) else ""
                items.append(self.label() + f"linear({f}{bias})")
                shape = (f,)
            else:
                text, shape = self.elementwise(shape)
                items.append(self.label() + text)
        items.append(self.label(0.5) + ("linear(classes)" if classes_param else "linear(3)"))
        self.features.add("linear")
        return items, (5,) if classes_param else (3,)


# ---------------------------------------------------------------- blocks with parameters
class BlockTemplate:
    """A block definition and how to call it; `call` returns (text, output shape)."""

    def __init__(self, gen: Gen, name: str):
        self.name = name
        self.rank = gen.rank

    def call(self, gen: Gen, shape):
        raise NotImplementedError


class Residual(BlockTemplate):
    """`add { main path; shortcut: if stride != 1 or in.channels != e*width { projection } }`."""

    def __init__(self, gen, name):
        super().__init__(gen, name)
        self.k = gen.c.pick([1, 3, 5])
        self.expansion = gen.c.pick([1, 1, 2])
        self.depth = gen.c.int(1, 3)
        self.act = gen.c.pick(ACTIVATIONS)
        self.grouped = gen.flag(0.3)
        k, p = self.k, self.k // 2
        main = [f"conv(width, {k}, stride=stride, pad={p}, bias=false)", "batchnorm", self.act]
        for i in range(1, self.depth):
            last = i == self.depth - 1
            width = f"{self.expansion} * width" if last else "width"
            groups = ", groups=width" if self.grouped and not last else ""
            main += [f"c{i}: conv({width}, 3, pad=\"same\"{groups})", f"bn{i}: batchnorm"]
        out = "width" if self.depth == 1 or self.expansion == 1 else f"{self.expansion} * width"
        if self.depth == 1:
            self.expansion = 1
        self.text = (
            f"block {name}(width, stride = 1) {{\n"
            f"    add {{\n        {{ {'; '.join(main)} }}\n"
            f"        shortcut: if stride != 1 or in.channels != {out} {{\n"
            f"            conv({out}, 1, stride=stride, bias=false); batchnorm\n"
            f"        }}{' else { identity }' if gen.flag(0.3) else ''}\n    }}\n"
            f"    {self.act}\n}}\n")

    def call(self, gen, shape):
        width = gen.channels(1, 8)
        stride = gen.c.pick([1, 1, 2])
        times = gen.c.pick([1, 1, 2, 3])
        args = f"{width}" + (f", stride={stride}" if stride != 1 or gen.flag(0.2) else "")
        out = shape
        for _ in range(times):
            out = (self.expansion * width, *(down(x, stride) for x in out[1:]))
        text = f"{self.name}({args})" + (f" * {times}" if times > 1 else "")
        if gen.flag(0.3):  # a list, as ResNet's stages are written
            tail = gen.c.int(1, 2)
            text = f"[{self.name}({width}, stride={stride}), {self.name}({width}) * {tail}]"
            out = (self.expansion * width, *(down(x, stride) for x in shape[1:]))
        return gen.label(0.5) + text, out


class Inception(BlockTemplate):
    """`concat` of 1x1, reduced kxk, and pool-projection branches; channels from parameters."""

    def __init__(self, gen, name):
        super().__init__(gen, name)
        self.k = gen.c.pick([3, 5])
        # (3-D average pooling refuses a window larger than its unpadded input)
        self.pool = gen.c.pick(["maxpool", "avgpool"]) if gen.rank < 3 else "maxpool"
        self.has_pool = gen.flag(0.7)
        branches = ["b1: { conv(a, 1); relu }",
                    f"b2: {{ conv(b // 2 + 1, 1); relu; conv(b, {self.k}, pad={self.k // 2}) }}"]
        if self.has_pool:
            branches.append(f"b3: {{ {self.pool}(3, stride=1, pad=1); "
                            "conv(if in.channels > 4 then 4 else in.channels, 1) }")
        self.text = (f"block {name}(a, b = 4) {{\n    concat {{\n        "
                     + "\n        ".join(branches) + "\n    }\n}\n")

    def call(self, gen, shape):
        a = gen.channels(1, 6)
        b = gen.channels(1, 6) if gen.flag() else None
        args = f"{a}" + (f", b={b}" if b is not None else "")
        c = a + (b or 4) + (min(shape[0], 4) if self.has_pool else 0)
        return gen.label(0.5) + f"{self.name}({args})", (c, *shape[1:])


TEMPLATES = (Residual, Inception)


# ---------------------------------------------------------------- the whole program
def generate(c, max_items: int = 7) -> Arch:
    """A random valid `.arch` file: blocks, then `network gen(...)` with an input and a body.
    `c` makes the choices (`RandomChoices`, or `tests.strategies`' hypothesis draws)."""
    rank = c.pick([2] * 6 + [1] * 2 + [3, 0])
    if rank == 0:
        input_shape = (c.int(1, 24),)
    elif rank == 3:
        input_shape = (c.int(1, 3), *(c.int(1, 6) for _ in range(3)))
    else:
        hi = 16 if rank == 2 else 24
        input_shape = (c.int(1, 4), *(c.int(1, hi) for _ in range(rank)))
    gen = Gen(c, rank)
    for i in range(c.int(0, 2) if rank else 0):
        gen.blocks.append(c.pick(TEMPLATES)(gen, f"blk{i}"))
    items: list[str] = []
    shape = input_shape
    if rank:
        for _ in range(c.int(1, max_items)):
            text, new = gen.spatial_item(shape)
            if math.prod(new) > MAX_ELEMS:
                break
            items.append(text)
            shape = new
    classes_param = c.int(0, 1) == 1
    if c.int(0, 4) or rank == 0:
        several = rank > 0 and c.int(0, 5) == 0  # `return main, aux`
        if several:
            items.append("aux_out = identity")
        head, shape = gen.head(shape, classes_param)
        items += head
        if several:
            items += ["main_out = identity", "return main_out, aux_out"]
            gen.features.add("several_outputs")
    elif not items:
        items.append("identity")
    params = "(classes = 5)" if classes_param else ""
    input_text = ("input(" + str(input_shape[0]) + ")" if rank == 0
                  else "input " + "x".join(map(str, input_shape)))
    body = "\n    ".join([input_text, *items])
    text = "".join(b.text + "\n" for b in gen.blocks) + f"network gen{params} {{\n    {body}\n}}\n"
    gen.features.add(f"rank{rank}")
    return Arch(text, input_shape, shape, frozenset(gen.features))


class RandomChoices:
    """Choices from a `random.Random`: what the runner (`python -m tests.fuzz.valid`) uses, so
    program N of seed S is the same program on every machine."""

    def __init__(self, rng):
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def pick(self, options):
        return self.rng.choice(list(options))


def program(seed: int, index: int) -> Arch:
    """Program `index` of the run seeded `seed`."""
    import random

    return generate(RandomChoices(random.Random(f"archdsl-valid:{seed}:{index}")))
